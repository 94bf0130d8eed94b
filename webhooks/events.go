// Package webhooks verifies and decodes the webhooks DoubleTick sends about
// WhatsApp groups and what an integration does around them, and serves them
// as an [http.Handler].
//
// DoubleTick reports group state only through webhooks: a group exists once
// GROUP_CREATED arrives, and members join, leave and are removed by
// GROUP_PARTICIPANT_* events. What an integration's own calls cause comes
// the same way: the delivery status of each message sent
// ([MessageStatusUpdate]), template reviews ([TemplateUpdate]), notes,
// chat assignment, conversations opened and closed, their cost and SLA
// escalations. [Parse] turns a body into one typed event; [NewHandler]
// verifies each request with a [Verifier], decodes it, drops redeliveries,
// and calls your callbacks.
//
// DoubleTick documents two payload formats for group events, and Parse
// accepts both: the newer one names its type in "event" and carries "orgId"
// and "integrationId"; the older one carries no type field in its samples,
// so its type is read from "eventType" when present and otherwise inferred
// from its timestamp field. Group messages come in their own shape,
// recognised by "type": "wa_group".
//
// Several other payloads name no type at all (MESSAGE_STATUS_UPDATE,
// CHAT_ASSIGNED_TO_AGENT, CHAT_UNASSIGNED, CONVERSATION_OPENED,
// CLOSE_CONVERSATION, CONVERSATION_COST_DEDUCTED): DoubleTick conveys it
// only by where the webhook was registered. This package never guesses it
// from a payload's shape. Register one URL per such event and tell the
// [Handler] which type each path receives ([WithPathType]), or decode with
// [ParseAs]; without that they come as [*Unknown].
//
// Decoding is strict so that the verified bytes, the typed event and
// [Event.RawJSON] always agree: JSON object keys match field names exactly
// (case-sensitively), a key that appears twice in one object is refused, and
// every field the documentation marks as required must be present with its
// documented type. Fields this package does not know stay in RawJSON.
package webhooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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

// The event types DoubleTick's webhook registration API documents
// (https://docs.doubletick.io/reference/register-webhook), for
// [github.com/doubletick-go/doubletick.WebhookRegistration]'s Events. It documents no group event:
// group webhooks are subscribed in DoubleTick's dashboard (Settings →
// Webhooks → WhatsApp Group Webhooks). Parse decodes these into types of
// their own: MESSAGE_STATUS_UPDATE, TEMPLATE_UPDATE, CUSTOMER_NOTE_CREATED,
// _UPDATED and _DELETED, CHAT_ASSIGNED_TO_AGENT, CHAT_UNASSIGNED,
// CONVERSATION_OPENED and CLOSE_CONVERSATION; the others come as
// [*Unknown].
const (
	TypeMessageReceived               Type = "MESSAGE_RECEIVED"
	TypeMessageStatusUpdate           Type = "MESSAGE_STATUS_UPDATE"
	TypeChatAssignedToAgent           Type = "CHAT_ASSIGNED_TO_AGENT"
	TypeAssignedAgentStatusChanged    Type = "ASSIGNED_AGENT_STATUS_CHANGED"
	TypeChatUnassigned                Type = "CHAT_UNASSIGNED"
	TypeUpdateCustomerCustomField     Type = "UPDATE_CUSTOMER_CUSTOM_FIELD"
	TypeWidgetLeadReceived            Type = "WIDGET_LEAD_RECEIVED"
	TypeVerifiedWidgetLeadReceived    Type = "VERIFIED_WIDGET_LEAD_RECEIVED"
	TypeNewLead                       Type = "NEW_LEAD"
	TypeRawCloudAPIWebhook            Type = "RAW_CLOUD_API_WEBHOOK"
	TypeCloseConversation             Type = "CLOSE_CONVERSATION"
	TypeTemplateUpdate                Type = "TEMPLATE_UPDATE"
	TypeAddTag                        Type = "ADD_TAG"
	TypeRemoveTag                     Type = "REMOVE_TAG"
	TypeCallToWhatsAppMessageReceived Type = "CALL_TO_WHATSAPP_MESSAGE_RECEIVED"
	TypeConversationOpened            Type = "CONVERSATION_OPENED"
	TypeCustomerBusinessChatOpen      Type = "CUSTOMER_BUSINESS_CHAT_OPEN"
	TypeCustomerNoteCreated           Type = "CUSTOMER_NOTE_CREATED"
	TypeCustomerNoteUpdated           Type = "CUSTOMER_NOTE_UPDATED"
	TypeCustomerNoteDeleted           Type = "CUSTOMER_NOTE_DELETED"
	TypePostCallDisposition           Type = "POST_CALL_DISPOSITION"
	TypeCallIncomingInitiated         Type = "CALL_INCOMING_INITIATED"
	TypeCallOutgoingInitiated         Type = "CALL_OUTGOING_INITIATED"
	TypeCallAccepted                  Type = "CALL_ACCEPTED"
	TypeCallEnded                     Type = "CALL_ENDED"
	TypeCallRejected                  Type = "CALL_REJECTED"
	TypeCallMissed                    Type = "CALL_MISSED"
	TypeCallNotPicked                 Type = "CALL_NOT_PICKED"
	TypeStandbyMessageReceived        Type = "STANDBY_MESSAGE_RECEIVED"
	TypeMessagingHandover             Type = "MESSAGING_HANDOVER"
)

// RegistrationTypes returns the event types DoubleTick's registration API
// documents (https://docs.doubletick.io/reference/register-webhook), in its
// order: what a registration's Events may name. The group events and
// [TypeConversationCostDeducted] and [TypeSLAEscalated] are not among them:
// they are subscribed in DoubleTick's dashboard.
func RegistrationTypes() []Type {
	return []Type{TypeMessageReceived, TypeMessageStatusUpdate, TypeChatAssignedToAgent, TypeAssignedAgentStatusChanged,
		TypeChatUnassigned, TypeUpdateCustomerCustomField, TypeWidgetLeadReceived, TypeVerifiedWidgetLeadReceived, TypeNewLead,
		TypeRawCloudAPIWebhook, TypeCloseConversation, TypeTemplateUpdate, TypeAddTag, TypeRemoveTag,
		TypeCallToWhatsAppMessageReceived, TypeConversationOpened, TypeCustomerBusinessChatOpen, TypeCustomerNoteCreated,
		TypeCustomerNoteUpdated, TypeCustomerNoteDeleted, TypePostCallDisposition, TypeCallIncomingInitiated,
		TypeCallOutgoingInitiated, TypeCallAccepted, TypeCallEnded, TypeCallRejected, TypeCallMissed, TypeCallNotPicked,
		TypeStandbyMessageReceived, TypeMessagingHandover}
}

// The event types DoubleTick delivers that its registration API cannot
// subscribe to: they are set up in its dashboard (Settings → Webhooks),
// as the group events are.
const (
	// TypeConversationCostDeducted is "Conversation Cost Webhooks"
	// (https://docs.doubletick.io/reference/conversation-cost-webhooks).
	TypeConversationCostDeducted Type = "CONVERSATION_COST_DEDUCTED"
	// TypeSLAEscalated is ON_SLA_ESCALATED_PUBLIC
	// (https://docs.doubletick.io/reference/sla-webhooks).
	TypeSLAEscalated Type = "ON_SLA_ESCALATED_PUBLIC"
)

// ErrMalformedPayload matches every error [Parse] returns: the body is empty,
// not JSON or form data, repeats a key, lacks a required field, or a
// documented field has the wrong type.
var ErrMalformedPayload = errors.New("webhooks: malformed payload")

// FieldError is a documented field that is missing or has the wrong type.
// It matches [ErrMalformedPayload].
type FieldError struct {
	// Field is the field's path in the payload, e.g. "customerPhone" or
	// "message.type".
	Field string
	// Problem says what is wrong with it, e.g. "is required".
	Problem string
}

// Error names the field and its problem.
func (e *FieldError) Error() string {
	return ErrMalformedPayload.Error() + ": " + e.Field + " " + e.Problem
}

// Is makes a FieldError match [ErrMalformedPayload].
func (e *FieldError) Is(target error) bool { return target == ErrMalformedPayload }

func missing(field string) error { return &FieldError{Field: field, Problem: "is required"} }

// Event is one decoded webhook. Use a type switch on the event types
// (*GroupCreated, *ParticipantJoined, …, *MessageStatusUpdate, …) and
// *Unknown.
type Event interface {
	// Type returns the event's type: the name it is subscribed by, which
	// for a template review or a note differs from the name its payload
	// carries (TypeTemplateUpdate for "TEMPLATE_STATUS_UPDATE",
	// TypeCustomerNoteCreated for "note-created").
	Type() Type
	// Group returns the group's ID as the group API knows it, or "" when the
	// payload has none (it may be null while a group is being created, group
	// messages carry only Meta's group ID, see GroupMessageReceived, and the
	// other families name no group).
	Group() string
	// Time returns when the event happened, by the sender's clock; the zero
	// time for an event whose payload carries no time.
	Time() time.Time
	// DedupKey returns a key that is the same for every delivery of one
	// event and differs between different events. DoubleTick's payloads
	// carry no event ID, so it is derived from what identifies the event:
	// for group events the type, group, participant and event time (and,
	// while the group ID is null, the whole body); for messages the message
	// ID; for a status update the message ID and status; for unknown
	// events, a hash of the body.
	//
	// It is "" for an event whose payload carries neither an ID nor a time
	// (a template review, chat assignment, a conversation opened or
	// closed, an SLA escalation): a second assignment of one chat to one
	// agent reads exactly as a redelivery of the first, so such events are
	// never deduplicated. Handle them idempotently.
	DedupKey() string
	// RawJSON returns the payload as JSON, with every field, known or not.
	RawJSON() json.RawMessage
}

// GroupEvent holds the fields shared by the group lifecycle and membership events.
type GroupEvent struct {
	// OrgID and IntegrationID are opaque routing IDs of the newer format.
	OrgID         string `json:"orgId"`
	IntegrationID string `json:"integrationId"`
	// GroupID is the group's ID, "" when the payload has null.
	GroupID string `json:"groupId"`
	// GroupName is the group's subject, "" when the payload has null.
	GroupName string `json:"groupName"`

	raw json.RawMessage
}

// Group returns the group's ID.
func (c *GroupEvent) Group() string { return c.GroupID }

// RawJSON returns the payload as JSON.
func (c *GroupEvent) RawJSON() json.RawMessage { return c.raw }

// dedupKey derives the key of a group event. While the group ID is null the
// other fields may not tell two groups apart, so the body's hash is added.
func (c *GroupEvent) dedupKey(t Type, participant string, at time.Time) string {
	fields := []string{string(t), c.GroupID, participant, at.UTC().Format(time.RFC3339Nano)}
	if c.GroupID == "" {
		fields = append(fields, bodyHash(c.raw))
	}
	return joinKey(fields...)
}

// keyEscaper escapes the separator and the escape of a key's fields.
var keyEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`)

// joinKey joins a dedup key's fields with "|", escaping "|" and "\" inside
// them, so that two different lists of fields never make one key (a group
// ID "a|b" with participant "c", and "a" with "b|c", did). Fields without
// either character are written as they are.
func joinKey(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('|')
		}
		if strings.ContainsAny(f, `|\`) {
			f = keyEscaper.Replace(f)
		}
		b.WriteString(f)
	}
	return b.String()
}

// GroupCreated says a group now exists: Meta confirmed its creation.
type GroupCreated struct {
	GroupEvent
	// InviteLink lets anyone join the group: treat it as a credential and
	// keep it out of logs. "" when not generated yet (null).
	InviteLink string `json:"inviteLink"`
	// CreatedAt is when the group was created.
	CreatedAt time.Time `json:"groupCreatedAt"`
}

// Type returns TypeGroupCreated.
func (e *GroupCreated) Type() Type { return TypeGroupCreated }

// Time returns when the group was created.
func (e *GroupCreated) Time() time.Time { return e.CreatedAt }

// DedupKey returns a key derived from the type, group and creation time.
func (e *GroupCreated) DedupKey() string { return e.dedupKey(TypeGroupCreated, "", e.CreatedAt) }

// Phone is a participant's phone number as sent, and in E.164 form.
type Phone struct {
	// Raw is the number exactly as the payload carried it.
	Raw string
	// E164 is the number as "+" and digits, e.g. "+919876543210"; "" when
	// Raw is not a phone number.
	E164 string
}

// UnmarshalJSONFrom reads a phone number from a JSON string; null reads as
// no number.
func (p *Phone) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		*p = Phone{}
	case '"':
		*p = newPhone(tok.String())
	default:
		return fmt.Errorf("want a string, got %s", tok.Kind())
	}
	return nil
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

// ParticipantJoined says a participant joined a group, added by an admin or
// through the invite link.
type ParticipantJoined struct{ MembershipEvent }

// Type returns TypeParticipantJoined.
func (e *ParticipantJoined) Type() Type { return TypeParticipantJoined }

// DedupKey returns a key derived from the type, group, participant and time.
func (e *ParticipantJoined) DedupKey() string {
	return e.dedupKey(TypeParticipantJoined, e.Phone.String(), e.At)
}

// ParticipantLeft says a participant left a group of their own accord.
type ParticipantLeft struct{ MembershipEvent }

// Type returns TypeParticipantLeft.
func (e *ParticipantLeft) Type() Type { return TypeParticipantLeft }

// DedupKey returns a key derived from the type, group, participant and time.
func (e *ParticipantLeft) DedupKey() string {
	return e.dedupKey(TypeParticipantLeft, e.Phone.String(), e.At)
}

// ParticipantRemoved says an admin removed a participant from a group.
type ParticipantRemoved struct{ MembershipEvent }

// Type returns TypeParticipantRemoved.
func (e *ParticipantRemoved) Type() Type { return TypeParticipantRemoved }

// DedupKey returns a key derived from the type, group, participant and time.
func (e *ParticipantRemoved) DedupKey() string {
	return e.dedupKey(TypeParticipantRemoved, e.Phone.String(), e.At)
}

// GroupMessageReceived is a message sent in a group your workspace knows. It
// reuses the base fields of DoubleTick's MESSAGE_RECEIVED webhook.
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
	Contact Sender `json:"contact"`
	// IntegrationType is e.g. "WHATSAPP".
	IntegrationType string `json:"integrationType"`
	// Message is the content.
	Message Message `json:"message"`
	// DTLastMessageID is DoubleTick's ID of the chat's previous message, ""
	// when this is the first (null).
	DTLastMessageID string `json:"dtLastMessageId"`
	// LastMessageOrigin is one of USER (a DoubleTick agent), CUSTOMER,
	// SYSTEM, REMINDER; "" when null.
	LastMessageOrigin string `json:"lastMessageOrigin"`
	// IsAgentOffline reports whether the assigned agent was offline; false
	// when the chat is unassigned.
	IsAgentOffline bool `json:"isAgentOffline"`
	// DTCustomerID identifies the sending participant; CustomerID is its
	// legacy alias.
	CustomerID   string `json:"customerId"`
	DTCustomerID string `json:"dtCustomerId"`
	// CallbackData is the custom data of the outbound message this one
	// replies to, "" when none.
	CallbackData string `json:"callbackData"`
	// The template this message replies to, when it replies to one.
	DTPairedTemplateID       TemplateID `json:"dtPairedTemplateId"`
	DTPairedTemplateName     string     `json:"dtPairedTemplateName"`
	DTPairedTemplateLanguage string     `json:"dtPairedTemplateLanguage"`
	// DTPairedMessageMetadata is the paired message's metadata object, nil
	// when null or absent.
	DTPairedMessageMetadata jsontext.Value `json:"dtPairedMessageMetadata"`
	// Present only when Meta's Cloud API provides them.
	UserID                  string `json:"userId"`
	ParentUserID            string `json:"parentUserId"`
	Username                string `json:"username"`
	MetaBusinessPortfolioID string `json:"metaBusinessPortfolioId"`

	raw json.RawMessage
}

// Sender is the profile of a group message's sender.
type Sender struct {
	// Name is the sender's display name.
	Name string `json:"name"`
}

// TemplateID is a template's ID. DoubleTick's sample sends it as a JSON
// number and documents no type, so a number and a string are both read, and
// the digits kept as written.
type TemplateID string

// UnmarshalJSONFrom reads a string, a number or null.
func (id *TemplateID) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		*id = ""
	case '"':
		*id = TemplateID(tok.String())
	case '0':
		*id = TemplateID(tok.String())
	default:
		return fmt.Errorf("want a string or a number, got %s", tok.Kind())
	}
	return nil
}

// Message is a message's content: a group message's, a status update's
// (the message you sent), or an assignment's text. Which fields are set
// depends on Type, one of the types DoubleTick documents:
//
//	TEXT                        Text
//	IMAGE, VIDEO                URL, Caption
//	AUDIO, STICKER              URL
//	DOCUMENT                    URL, FileName, Caption
//	LOCATION                    Latitude, Longitude, Name, Address
//	CONTACTS                    Contacts
//	BUTTON                      Text, Payload, ID
//	FLOW                        FlowResponse
//
// A media URL must be fetched with your API key. Raw holds the whole object,
// for fields of types this package does not know.
type Message struct {
	// Type is the message type, e.g. "TEXT".
	Type string `json:"type"`
	// Text is the text of a TEXT message, or a BUTTON's label.
	Text string `json:"text"`
	// URL is where the media of an IMAGE, VIDEO, AUDIO, STICKER or
	// DOCUMENT message is.
	URL string `json:"url"`
	// Caption is the caption of an IMAGE, VIDEO or DOCUMENT.
	Caption string `json:"caption"`
	// FileName is a DOCUMENT's file name.
	FileName string `json:"fileName"`
	// Latitude, Longitude, Name and Address describe a LOCATION.
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
	// Contacts are the cards of a CONTACTS message.
	Contacts []SharedContact `json:"contacts"`
	// Payload is the value of the BUTTON pressed: route on it. ID is the
	// button's identifier.
	Payload string `json:"payload"`
	ID      string `json:"id"`
	// FlowResponse holds the answers of a FLOW message.
	FlowResponse []FlowAnswer `json:"flowResponse"`
	// Context names the message this one replies to, if any.
	Context MessageContext `json:"context"`
	// Raw is the whole message object.
	Raw jsontext.Value `json:"-"`
}

// MessageContext names the message a message replies to; both fields are ""
// when it replies to none.
type MessageContext struct {
	// From is who sent the message replied to.
	From string `json:"from"`
	// ID is DoubleTick's ID of the message replied to.
	ID string `json:"id"`
}

// SharedContact is one contact card of a CONTACTS message.
type SharedContact struct {
	Name   ContactName    `json:"name"`
	Phones []ContactPhone `json:"phones"`
	Emails []ContactEmail `json:"emails"`
}

// ContactName is a shared contact's name.
type ContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
}

// ContactPhone is one phone number of a shared contact.
type ContactPhone struct {
	Phone string `json:"phone"`
	Type  string `json:"type"`
}

// ContactEmail is one email address of a shared contact.
type ContactEmail struct {
	Email string `json:"email"`
	Type  string `json:"type"`
}

// FlowAnswer is one answer of a FLOW message. DoubleTick does not document
// the type of a value, so it is kept as JSON.
type FlowAnswer struct {
	ID    string         `json:"id"`
	Value jsontext.Value `json:"value"`
}

// UnmarshalJSON keeps the whole object in Raw as well as its typed fields.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	if err := jsonv2.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	m.Raw = bytes.Clone(b)
	return nil
}

// Type returns TypeGroupMessageReceived.
func (e *GroupMessageReceived) Type() Type { return TypeGroupMessageReceived }

// Group returns "": a message carries Meta's group ID (To), not the group
// API's.
func (e *GroupMessageReceived) Group() string { return "" }

// Time returns when the message was received.
func (e *GroupMessageReceived) Time() time.Time { return e.ReceivedAt }

// DedupKey returns the type, group and message ID (or DoubleTick's, when
// WhatsApp's is missing).
func (e *GroupMessageReceived) DedupKey() string {
	if e.MessageID == "" {
		return joinKey(string(TypeGroupMessageReceived), e.To, "dt", e.DTMessageID)
	}
	return joinKey(string(TypeGroupMessageReceived), e.To, e.MessageID)
}

// RawJSON returns the payload as JSON.
func (e *GroupMessageReceived) RawJSON() json.RawMessage { return e.raw }

// Unknown is an event this package does not know, passed on rather than
// refused so that a new event type never breaks a receiver.
type Unknown struct {
	typ     Type
	groupID string
	raw     json.RawMessage
}

// Type returns the type the payload named, "" when it named none.
func (e *Unknown) Type() Type { return e.typ }

// Group returns the payload's groupId, if it has one.
func (e *Unknown) Group() string { return e.groupID }

// Time returns the zero time: an unknown event's time field is unknown.
func (e *Unknown) Time() time.Time { return time.Time{} }

// DedupKey returns a hash of the payload.
func (e *Unknown) DedupKey() string {
	return joinKey("unknown", string(e.typ), bodyHash(e.raw))
}

// RawJSON returns the payload.
func (e *Unknown) RawJSON() json.RawMessage { return e.raw }

func bodyHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// optional is a string field whose presence is checked: a documented
// "string | null" field must be there, even when null.
type optional struct {
	s       string
	present bool
	null    bool
}

// UnmarshalJSONFrom reads a string or null.
func (o *optional) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	o.present = true
	switch tok.Kind() {
	case 'n':
		o.null = true
	case '"':
		o.s = tok.String()
	default:
		return fmt.Errorf("want a string or null, got %s", tok.Kind())
	}
	return nil
}

// wire is every field of the lifecycle and membership events, and the type
// fields of every format, so that those bodies are decoded once. A group
// message, a payload of another family, is decoded again into its own type.
type wire struct {
	Event         optional `json:"event"`
	EventType     Type     `json:"eventType"`
	Type          string   `json:"type"`
	OrgID         optional `json:"orgId"`
	IntegrationID optional `json:"integrationId"`
	// form:"null" marks the fields the newer format documents as
	// "string | null": form data, which has no null, leaves them out.
	GroupID       optional `json:"groupId" form:"null"`
	GroupName     optional `json:"groupName" form:"null"`
	InviteLink    optional `json:"inviteLink" form:"null"`
	CustomerPhone optional `json:"customerPhone"`

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
		if w.GroupCreatedAt.IsZero() {
			return nil, missing("groupCreatedAt")
		}
		// inviteLink is "string | null, required" in the newer format and
		// "if available" in the older one.
		if w.Event.present && !w.InviteLink.present {
			return nil, missing("inviteLink")
		}
		return &GroupCreated{GroupEvent: c, InviteLink: w.InviteLink.s, CreatedAt: w.GroupCreatedAt}, nil
	}},
	TypeParticipantJoined: {func(w *wire) bool { return !w.ParticipantJoinedAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		m, err := membership(w, c, "participantJoinedAt", w.ParticipantJoinedAt)
		if err != nil {
			return nil, err
		}
		return &ParticipantJoined{m}, nil
	}},
	TypeParticipantLeft: {func(w *wire) bool { return !w.ParticipantLeftAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		m, err := membership(w, c, "participantLeftAt", w.ParticipantLeftAt)
		if err != nil {
			return nil, err
		}
		return &ParticipantLeft{m}, nil
	}},
	TypeParticipantRemoved: {func(w *wire) bool { return !w.ParticipantRemovedAt.IsZero() }, func(w *wire, c GroupEvent) (Event, error) {
		m, err := membership(w, c, "participantRemovedAt", w.ParticipantRemovedAt)
		if err != nil {
			return nil, err
		}
		return &ParticipantRemoved{m}, nil
	}},
	TypeGroupMessageReceived: {func(w *wire) bool { return w.Type == "wa_group" }, func(_ *wire, c GroupEvent) (Event, error) {
		return parseMessage(c.raw)
	}},
}

// inferOrder is the order in which older-format payloads are recognised.
var inferOrder = []Type{TypeGroupMessageReceived, TypeGroupCreated, TypeParticipantJoined, TypeParticipantLeft, TypeParticipantRemoved}

// membership builds a membership event; customerPhone and the time are
// required in both formats: without them two changes would share one key.
func membership(w *wire, c GroupEvent, timeField string, at time.Time) (MembershipEvent, error) {
	switch {
	case !w.CustomerPhone.present || w.CustomerPhone.null || w.CustomerPhone.s == "":
		return MembershipEvent{}, missing("customerPhone")
	case at.IsZero():
		return MembershipEvent{}, missing(timeField)
	}
	return MembershipEvent{GroupEvent: c, Phone: newPhone(w.CustomerPhone.s), At: at}, nil
}

func parseMessage(raw json.RawMessage) (Event, error) {
	var m struct {
		GroupMessageReceived
		From *string `json:"from"`
	}
	if err := jsonv2.Unmarshal(raw, &m); err != nil {
		return nil, malformed(err)
	}
	e := &m.GroupMessageReceived
	switch {
	case e.To == "":
		return nil, missing("to")
	case m.From == nil || *m.From == "":
		return nil, missing("from")
	case e.MessageID == "" && e.DTMessageID == "":
		return nil, missing("messageId")
	case e.ReceivedAt.IsZero():
		return nil, missing("receivedAt")
	case e.Message.Type == "":
		return nil, missing("message.type")
	case e.CustomerID == "" && e.DTCustomerID == "":
		return nil, missing("dtCustomerId")
	}
	if string(e.DTPairedMessageMetadata) == "null" {
		e.DTPairedMessageMetadata = nil
	}
	e.From = newPhone(*m.From)
	e.raw = raw
	return e, nil
}

func newPhone(raw string) Phone {
	e164, _ := phone.E164(raw)
	return Phone{Raw: raw, E164: e164}
}

// malformed wraps a decoding error; its text names the field's JSON path.
func malformed(err error) error {
	return fmt.Errorf("%w: %v", ErrMalformedPayload, err)
}

// Parse decodes a JSON webhook body into its typed event: the body of a
// webhook registered with bodyFormat JSON. Use [ParseContent] for form data.
//
// An event of a type this package does not know, or of a payload that names
// no type (see [ParseAs]), is returned as *Unknown, not as an error. Every
// error matches [ErrMalformedPayload].
func Parse(body []byte) (Event, error) {
	return parseJSON(body, "")
}

// ParseAs is [Parse] for a body delivered to a URL registered for events of
// type t: a body that names no type of its own is decoded as t. A body that
// names its type is decoded as that type, whatever t is: a URL may be
// registered for several events.
//
// DoubleTick's status updates, chat assignments and conversation events
// carry no type field; it is known only from the registration the delivery
// came through.
func ParseAs(t Type, body []byte) (Event, error) {
	return parseJSON(body, t)
}

// payloadNames are the type names payloads carry where they differ from the
// names the events are subscribed by
// (https://docs.doubletick.io/reference/template-webhooks,
// https://docs.doubletick.io/reference/customer-notes-webhooks-1).
var payloadNames = map[Type]Type{
	"TEMPLATE_STATUS_UPDATE": TypeTemplateUpdate,
	"note-created":           TypeCustomerNoteCreated,
	"note-updated":           TypeCustomerNoteUpdated,
	"note-deleted":           TypeCustomerNoteDeleted,
}

// typeOf returns the type of a body decoded into w: the type it names, or
// the older group format's inferred from its timestamp, or else given, the
// type of the URL it came to.
func typeOf(w *wire, given Type) Type {
	t := Type(w.Event.s)
	if t == "" {
		t = w.EventType
	}
	if subscribed, ok := payloadNames[t]; ok {
		return subscribed
	}
	if t != "" {
		return t
	}
	for _, candidate := range inferOrder {
		if registry[candidate].inferred(w) {
			return candidate
		}
	}
	return given
}

func parseJSON(body []byte, given Type) (Event, error) {
	if !startsWith(body, '{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedPayload)
	}
	w, err := decodeWire(body)
	if err != nil {
		return nil, err
	}
	return parseWire(w, typeOf(w, given), body)
}

// decodeWire decodes a JSON object's type fields and group event fields.
func decodeWire(body []byte) (*wire, error) {
	var w wire
	if err := jsonv2.Unmarshal(body, &w); err != nil {
		return nil, malformed(err)
	}
	return &w, nil
}

// parseWire builds the event of type t from body, already decoded into w.
func parseWire(w *wire, t Type, body []byte) (Event, error) {
	raw := json.RawMessage(bytes.Clone(body))
	if f, ok := families[t]; ok {
		return f.parse(t, raw)
	}
	k, ok := registry[t]
	if !ok {
		return &Unknown{typ: t, groupID: w.GroupID.s, raw: raw}, nil
	}
	if t == TypeGroupMessageReceived {
		return k.build(w, GroupEvent{raw: raw})
	}
	if err := checkCommon(w); err != nil {
		return nil, err
	}
	c := GroupEvent{OrgID: w.OrgID.s, IntegrationID: w.IntegrationID.s, GroupID: w.GroupID.s, GroupName: w.GroupName.s, raw: raw}
	return k.build(w, c)
}

// checkCommon checks the fields every lifecycle and membership event
// carries. In the newer format (the one with "event") orgId and
// integrationId are required strings and groupId and groupName required but
// nullable; the older format documents only groupId and groupName.
func checkCommon(w *wire) error {
	if w.Event.present {
		if !w.OrgID.present || w.OrgID.null {
			return missing("orgId")
		}
		if !w.IntegrationID.present || w.IntegrationID.null {
			return missing("integrationId")
		}
	}
	if !w.GroupID.present {
		return missing("groupId")
	}
	if !w.GroupName.present && w.Event.present {
		return missing("groupName")
	}
	return nil
}
