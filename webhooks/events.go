// Package webhooks verifies and decodes the webhooks DoubleTick sends about
// WhatsApp groups, and serves them as an [http.Handler].
//
// DoubleTick reports group state only through webhooks: a group exists once
// GROUP_CREATED arrives, and members join, leave and are removed by
// GROUP_PARTICIPANT_* events. [Parse] turns a body into one typed event;
// [NewHandler] verifies each request with a [Verifier], decodes it, drops
// redeliveries, and calls your callbacks.
//
// DoubleTick documents two payload formats, and Parse accepts both: the newer
// one names its type in "event" and carries "orgId" and "integrationId"; the
// older one carries no type field in its samples, so its type is read from
// "eventType" when present and otherwise inferred from its timestamp field.
// Group messages come in their own shape, recognised by "type": "wa_group".
package webhooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/doubletick-go/doubletick/internal/phone"
)

// Type is the type of a webhook event.
type Type string

// The event types DoubleTick documents for WhatsApp groups.
const (
	TypeGroupCreated         Type = "GROUP_CREATED"
	TypeParticipantJoined    Type = "GROUP_PARTICIPANT_JOINED"
	TypeParticipantLeft      Type = "GROUP_PARTICIPANT_LEFT"
	TypeParticipantRemoved   Type = "GROUP_PARTICIPANT_REMOVED"
	TypeGroupMessageReceived Type = "WA_GROUP_MESSAGE_RECEIVED"
)

// ErrMalformedPayload matches every error [Parse] returns: the body is empty,
// not JSON or form data, or a documented field has the wrong type.
var ErrMalformedPayload = errors.New("webhooks: malformed payload")

// Event is one decoded webhook. Use a type switch on *GroupCreated,
// *ParticipantJoined, *ParticipantLeft, *ParticipantRemoved,
// *GroupMessageReceived and *Unknown.
type Event interface {
	// Type returns the event's type.
	Type() Type
	// Group returns the group's ID as the group API knows it, or "" when the
	// payload has none (it may be null while a group is being created, and
	// group messages carry only Meta's group ID; see GroupMessageReceived).
	Group() string
	// Time returns when the event happened, by the sender's clock.
	Time() time.Time
	// DedupKey returns a key that is the same for every delivery of one
	// event. Group payloads carry no event ID, so for them it is derived
	// from the type, group, participant and event time; for messages it is
	// the message ID; for unknown events, a hash of the body.
	DedupKey() string
	// RawJSON returns the payload as JSON, with every field, known or not.
	RawJSON() json.RawMessage
}

// GroupEvent holds the fields shared by the group lifecycle and membership events.
type GroupEvent struct {
	// Event is the event type. The older format has no type field; Parse
	// fills it in there.
	Event Type `json:"event"`
	// OrgID and IntegrationID are opaque routing IDs of the newer format.
	OrgID         string `json:"orgId"`
	IntegrationID string `json:"integrationId"`
	// GroupID is the group's ID, "" when the payload has null.
	GroupID string `json:"groupId"`
	// GroupName is the group's subject, "" when the payload has null.
	GroupName string `json:"groupName"`

	raw json.RawMessage
}

// Type returns the event type.
func (c *GroupEvent) Type() Type { return c.Event }

// Group returns the group's ID.
func (c *GroupEvent) Group() string { return c.GroupID }

// RawJSON returns the payload as JSON.
func (c *GroupEvent) RawJSON() json.RawMessage { return c.raw }

// GroupCreated says a group now exists: Meta confirmed its creation.
type GroupCreated struct {
	GroupEvent
	// InviteLink lets anyone join the group: treat it as a credential and
	// keep it out of logs. "" when not generated yet.
	InviteLink string `json:"inviteLink"`
	// CreatedAt is when the group was created.
	CreatedAt time.Time `json:"groupCreatedAt"`
}

// Time returns when the group was created.
func (e *GroupCreated) Time() time.Time { return e.CreatedAt }

// DedupKey returns a key derived from the type, group and creation time.
func (e *GroupCreated) DedupKey() string { return dedupKey(e.Event, e.GroupID, "", e.CreatedAt) }

// Phone is a participant's phone number as sent, and in E.164 form.
type Phone struct {
	// Raw is the number exactly as the payload carried it.
	Raw string
	// E164 is the number as "+" and digits, e.g. "+919876543210"; "" when
	// Raw is not a phone number.
	E164 string
}

// String returns the E.164 form, or the raw value when there is none.
func (p Phone) String() string {
	if p.E164 != "" {
		return p.E164
	}
	return p.Raw
}

// MembershipEvent holds the fields of the three membership events.
type MembershipEvent struct {
	GroupEvent
	// Phone is the participant's number (customerPhone): DoubleTick sends it
	// with and without the leading "+".
	Phone Phone
	// At is when the participant joined, left or was removed.
	At time.Time
}

// Time returns when the membership changed.
func (e *MembershipEvent) Time() time.Time { return e.At }

// DedupKey returns a key derived from the type, group, participant and time.
func (e *MembershipEvent) DedupKey() string {
	return dedupKey(e.Event, e.GroupID, e.Phone.String(), e.At)
}

// ParticipantJoined says a participant joined a group, added by an admin or
// through the invite link.
type ParticipantJoined struct{ MembershipEvent }

// ParticipantLeft says a participant left a group of their own accord.
type ParticipantLeft struct{ MembershipEvent }

// ParticipantRemoved says an admin removed a participant from a group.
type ParticipantRemoved struct{ MembershipEvent }

// GroupMessageReceived is a message sent in a group your workspace knows.
//
// It has no "event" field and no group API ID: To is Meta's numeric ID of the
// group (up to 20 digits; not a phone number), and DoubleTick documents no
// mapping from it to the GroupID of the other events.
type GroupMessageReceived struct {
	// To is Meta's ID of the group.
	To string `json:"to"`
	// From is the sender's phone number.
	From Phone `json:"-"`
	// MessageID is WhatsApp's message ID; DTMessageID is DoubleTick's.
	MessageID   string `json:"messageId"`
	DTMessageID string `json:"dtMessageId"`
	// ReceivedAt is when the message was received.
	ReceivedAt time.Time `json:"receivedAt"`
	// Contact is the sender's profile.
	Contact struct {
		Name string `json:"name"`
	} `json:"contact"`
	// IntegrationType is e.g. "WHATSAPP".
	IntegrationType string `json:"integrationType"`
	// Message is the content.
	Message Message `json:"message"`
	// LastMessageOrigin is one of USER, CUSTOMER, SYSTEM, REMINDER.
	LastMessageOrigin string `json:"lastMessageOrigin"`
	// IsAgentOffline reports whether the assigned agent was offline.
	IsAgentOffline bool `json:"isAgentOffline"`
	// CustomerID and DTCustomerID identify the sending participant.
	CustomerID   string `json:"customerId"`
	DTCustomerID string `json:"dtCustomerId"`

	raw json.RawMessage
}

// Message is the content of a group message. Text is set for TEXT messages;
// the other types (IMAGE, VIDEO, AUDIO, STICKER, DOCUMENT, LOCATION,
// CONTACTS, BUTTON, FLOW) are in Raw.
type Message struct {
	// Type is the message type, e.g. "TEXT".
	Type string `json:"type"`
	// Text is the text of a TEXT message.
	Text string `json:"text"`
	// Context names the message this one replies to, if any.
	Context struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	// Raw is the whole message object.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the whole object in Raw as well as its typed fields.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	if err := json.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	m.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Type returns TypeGroupMessageReceived.
func (e *GroupMessageReceived) Type() Type { return TypeGroupMessageReceived }

// Group returns "": a message carries Meta's group ID (To), not the group
// API's.
func (e *GroupMessageReceived) Group() string { return "" }

// Time returns when the message was received.
func (e *GroupMessageReceived) Time() time.Time { return e.ReceivedAt }

// DedupKey returns the type and message ID (or DoubleTick's, when WhatsApp's
// is missing).
func (e *GroupMessageReceived) DedupKey() string {
	id := e.MessageID
	if id == "" {
		id = "dt:" + e.DTMessageID
	}
	return string(TypeGroupMessageReceived) + "|" + e.To + "|" + id
}

// RawJSON returns the payload as JSON.
func (e *GroupMessageReceived) RawJSON() json.RawMessage { return e.raw }

// Unknown is an event this package does not know, passed on rather than
// refused so that a new event type never breaks a receiver.
type Unknown struct {
	// EventType is the type the payload named, "" when it named none.
	EventType Type
	groupID   string
	raw       json.RawMessage
}

// Type returns the type the payload named.
func (e *Unknown) Type() Type { return e.EventType }

// Group returns the payload's groupId, if it has one.
func (e *Unknown) Group() string { return e.groupID }

// Time returns the zero time: an unknown event's time field is unknown.
func (e *Unknown) Time() time.Time { return time.Time{} }

// DedupKey returns a hash of the payload.
func (e *Unknown) DedupKey() string {
	sum := sha256.Sum256(e.raw)
	return "unknown|" + string(e.EventType) + "|" + hex.EncodeToString(sum[:])
}

// RawJSON returns the payload.
func (e *Unknown) RawJSON() json.RawMessage { return e.raw }

func dedupKey(t Type, group, participant string, at time.Time) string {
	return string(t) + "|" + group + "|" + participant + "|" + at.UTC().Format(time.RFC3339Nano)
}

// wire is every field of the lifecycle and membership events, and the type
// fields of every format, so that those bodies are decoded once. A group
// message, a payload of another family, is decoded again into its own type.
type wire struct {
	Event         Type   `json:"event"`
	EventType     Type   `json:"eventType"`
	Type          string `json:"type"`
	OrgID         string `json:"orgId"`
	IntegrationID string `json:"integrationId"`
	GroupID       string `json:"groupId"`
	GroupName     string `json:"groupName"`
	InviteLink    string `json:"inviteLink"`
	CustomerPhone string `json:"customerPhone"`

	GroupCreatedAt       time.Time `json:"groupCreatedAt"`
	ParticipantJoinedAt  time.Time `json:"participantJoinedAt"`
	ParticipantLeftAt    time.Time `json:"participantLeftAt"`
	ParticipantRemovedAt time.Time `json:"participantRemovedAt"`
}

// kind is one entry of the registry: how to recognise an older-format
// payload of the type, and how to build its event.
type kind struct {
	inferred func(w *wire) bool
	build    func(w *wire, c GroupEvent) (Event, error)
}

// registry maps every known type to its decoder. A new event type is one
// entry here (and its fields in wire).
var registry = map[Type]kind{
	TypeGroupCreated: {func(w *wire) bool { return !w.GroupCreatedAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		return &GroupCreated{GroupEvent: c, InviteLink: w.InviteLink, CreatedAt: w.GroupCreatedAt}, nil
	}},
	TypeParticipantJoined: {func(w *wire) bool { return !w.ParticipantJoinedAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		return &ParticipantJoined{membership(w, c, w.ParticipantJoinedAt)}, nil
	}},
	TypeParticipantLeft: {func(w *wire) bool { return !w.ParticipantLeftAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		return &ParticipantLeft{membership(w, c, w.ParticipantLeftAt)}, nil
	}},
	TypeParticipantRemoved: {func(w *wire) bool { return !w.ParticipantRemovedAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		return &ParticipantRemoved{membership(w, c, w.ParticipantRemovedAt)}, nil
	}},
	TypeGroupMessageReceived: {func(w *wire) bool { return w.Type == "wa_group" }, func(_ *wire, c GroupEvent) (Event, error) {
		var m struct {
			GroupMessageReceived
			From string `json:"from"`
		}
		if err := json.Unmarshal(c.raw, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
		}
		m.GroupMessageReceived.From = newPhone(m.From)
		m.raw = c.raw
		return &m.GroupMessageReceived, nil
	}},
}

// inferOrder is the order in which older-format payloads are recognised.
var inferOrder = []Type{TypeGroupMessageReceived, TypeGroupCreated, TypeParticipantJoined, TypeParticipantLeft, TypeParticipantRemoved}

func membership(w *wire, c GroupEvent, at time.Time) MembershipEvent {
	return MembershipEvent{GroupEvent: c, Phone: newPhone(w.CustomerPhone), At: at}
}

func newPhone(raw string) Phone {
	e164, _ := phone.E164(raw)
	return Phone{Raw: raw, E164: e164}
}

// Parse decodes a JSON webhook body into its typed event. A body that is not
// JSON is read as URL-encoded form data (bodyFormat FORM_DATA); use
// [ParseContent] when you know the Content-Type, for multipart bodies.
//
// An event of a type this package does not know is returned as *Unknown,
// not as an error. Every error matches [ErrMalformedPayload].
func Parse(body []byte) (Event, error) {
	return ParseContent("", body)
}

func parseJSON(body []byte) (Event, error) {
	if !startsWith(body, '{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedPayload)
	}
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
	}
	t := w.Event
	if t == "" {
		t = w.EventType
	}
	if t == "" {
		for _, candidate := range inferOrder {
			if registry[candidate].inferred(&w) {
				t = candidate
				break
			}
		}
	}
	raw := json.RawMessage(bytes.Clone(body))
	k, ok := registry[t]
	if !ok {
		return &Unknown{EventType: t, groupID: w.GroupID, raw: raw}, nil
	}
	c := GroupEvent{Event: t, OrgID: w.OrgID, IntegrationID: w.IntegrationID, GroupID: w.GroupID, GroupName: w.GroupName, raw: raw}
	return k.build(&w, c)
}
