package webhooks

import (
	"encoding/json"
	"reflect"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// family decodes the events of one type outside the group events' registry:
// wire is the Go type its JSON is decoded into (its fields type form data,
// see formSchema), and parse builds the event of type t from raw.
type family struct {
	wire  reflect.Type
	parse func(t Type, raw json.RawMessage) (Event, error)
}

// families maps each typed event outside the group events to its decoder.
// A new family is one entry here.
var families = map[Type]family{
	TypeMessageStatusUpdate:      {reflect.TypeFor[MessageStatusUpdate](), parseStatusUpdate},
	TypeTemplateUpdate:           {reflect.TypeFor[templateWire](), parseTemplateUpdate},
	TypeCustomerNoteCreated:      {reflect.TypeFor[noteWire](), parseNote},
	TypeCustomerNoteUpdated:      {reflect.TypeFor[noteWire](), parseNote},
	TypeCustomerNoteDeleted:      {reflect.TypeFor[noteWire](), parseNote},
	TypeChatAssignedToAgent:      {reflect.TypeFor[ChatAssignedToAgent](), parseChatAssigned},
	TypeChatUnassigned:           {reflect.TypeFor[ChatUnassigned](), parseChatUnassigned},
	TypeConversationOpened:       {reflect.TypeFor[conversationWire](), parseConversation},
	TypeCloseConversation:        {reflect.TypeFor[conversationWire](), parseConversation},
	TypeConversationCostDeducted: {reflect.TypeFor[costWire](), parseCost},
	TypeSLAEscalated:             {reflect.TypeFor[slaWire](), parseSLA},
}

// decode unmarshals raw into a new T.
func decode[T any](raw json.RawMessage) (*T, error) {
	v := new(T)
	if err := jsonv2.Unmarshal(raw, v); err != nil {
		return nil, malformed(err)
	}
	return v, nil
}

// firstMissing takes field names and values in pairs, and returns the
// FieldError of the first name whose value is "".
func firstMissing(nameValues ...string) error {
	for i := 0; i+1 < len(nameValues); i += 2 {
		if nameValues[i+1] == "" {
			return missing(nameValues[i])
		}
	}
	return nil
}

// The delivery statuses of a message, as MessageStatusUpdate.Status
// carries them. Another value is kept as sent.
const (
	MessageSent      = "SENT"
	MessageDelivered = "DELIVERED"
	MessageRead      = "READ"
	MessageFailed    = "FAILED"
)

// MessageStatusUpdate says the delivery status of a message you sent
// changed: MESSAGE_STATUS_UPDATE
// (https://docs.doubletick.io/reference/messaging-webhooks-1). Join it to
// the send by MessageID, the ID the send returned, and to a template send
// also by its customData, which DoubleTick spreads at the payload's root
// (read it from RawJSON).
//
// The payload names no type: decode it with [WithPathType] or [ParseAs].
// DoubleTick documents it for messages to a customer; whether it fires for
// a send to a group, once or per participant, and what To then holds, is
// not documented.
type MessageStatusUpdate struct {
	// MessageID is DoubleTick's ID of the message. Required.
	MessageID string `json:"messageId"`
	// Status is MessageSent, MessageDelivered, MessageRead or MessageFailed.
	// Required.
	Status string `json:"status"`
	// StatusAt is when the message reached Status. Required.
	StatusAt time.Time `json:"statusTimestamp"`
	// To is the customer's number (not the WABA number).
	To Phone `json:"to"`
	// WABANumber is the number that sent the message.
	WABANumber Phone `json:"wabaNumber"`
	// CustomerName and DTCustomerID are the customer's, when DoubleTick
	// sends them.
	CustomerName string `json:"customerName"`
	DTCustomerID string `json:"dtCustomerId"`
	// SentBy and AssignedTo are opaque IDs of the agent or system that sent
	// the message and of the chat's agent.
	SentBy     string `json:"sentBy"`
	AssignedTo string `json:"assignedTo"`
	// Message is the content, with SENT and FAILED only.
	Message Message `json:"message"`
	// FailMessage says why a FAILED message failed.
	FailMessage string `json:"failMessage"`

	raw json.RawMessage
}

func parseStatusUpdate(_ Type, raw json.RawMessage) (Event, error) {
	e, err := decode[MessageStatusUpdate](raw)
	if err != nil {
		return nil, err
	}
	if err := firstMissing("messageId", e.MessageID, "status", e.Status); err != nil {
		return nil, err
	}
	if e.StatusAt.IsZero() {
		return nil, missing("statusTimestamp")
	}
	e.raw = raw
	return e, nil
}

// Type returns TypeMessageStatusUpdate.
func (e *MessageStatusUpdate) Type() Type { return TypeMessageStatusUpdate }

// Group returns "": the payload names no group.
func (e *MessageStatusUpdate) Group() string { return "" }

// Time returns when the message reached its status.
func (e *MessageStatusUpdate) Time() time.Time { return e.StatusAt }

// DedupKey returns the type, message ID and status: a message reaches
// each status once.
func (e *MessageStatusUpdate) DedupKey() string {
	return joinKey(string(TypeMessageStatusUpdate), e.MessageID, e.Status)
}

// RawJSON returns the payload as JSON.
func (e *MessageStatusUpdate) RawJSON() json.RawMessage { return e.raw }

// TemplateUpdate says a template's review status changed: subscribed as
// TEMPLATE_UPDATE, delivered with "event": "TEMPLATE_STATUS_UPDATE"
// (https://docs.doubletick.io/reference/template-webhooks). A repeated
// report of an unchanged status is not sent; transitions arrive in order.
// The payload carries no template ID: a template is its name and language
// on its WABA number.
type TemplateUpdate struct {
	// WABANumber is the template's number. Required.
	WABANumber Phone `json:"wabaPhoneNumber"`
	// TemplateName and TemplateLanguage name the template. Required.
	TemplateName     string `json:"templateName"`
	TemplateLanguage string `json:"templateLanguage"`
	// NewStatus is APPROVED, REJECTED, PENDING or PAUSED (the
	// doubletick.Template… constants); another value is kept. Required.
	NewStatus string `json:"newStatus"`
	// OldStatus is the status before, "" when there was none (null).
	// Required, and may be null.
	OldStatus string `json:"oldStatus"`
	// RejectedReason is the reviewer's text for a REJECTED template, ""
	// otherwise. The page marks it required yet says it is present only
	// when rejected; it is not required here.
	RejectedReason string `json:"rejectedReason"`
	// AgentName and AgentNumber are who submitted the template (not who
	// reviewed it), when known.
	AgentName   string `json:"agentName"`
	AgentNumber Phone  `json:"agentNumber"`

	raw json.RawMessage
}

// templateWire checks that oldStatus is there, even when null.
type templateWire struct {
	TemplateUpdate
	Event     string   `json:"event"`
	OldStatus optional `json:"oldStatus" form:"null"`
}

func parseTemplateUpdate(_ Type, raw json.RawMessage) (Event, error) {
	w, err := decode[templateWire](raw)
	if err != nil {
		return nil, err
	}
	e := &w.TemplateUpdate
	if err := firstMissing("event", w.Event, "wabaPhoneNumber", e.WABANumber.Raw, "templateName", e.TemplateName,
		"templateLanguage", e.TemplateLanguage, "newStatus", e.NewStatus); err != nil {
		return nil, err
	}
	if !w.OldStatus.present {
		return nil, missing("oldStatus")
	}
	e.OldStatus, e.raw = w.OldStatus.s, raw
	return e, nil
}

// Type returns TypeTemplateUpdate.
func (e *TemplateUpdate) Type() Type { return TypeTemplateUpdate }

// Group returns "": templates belong to a number, not a group.
func (e *TemplateUpdate) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *TemplateUpdate) Time() time.Time { return time.Time{} }

// DedupKey returns "": the payload has no ID or time, and a template may
// go from PAUSED to APPROVED twice in a day, so a redelivery cannot be told
// from a new review. Apply NewStatus idempotently.
func (e *TemplateUpdate) DedupKey() string { return "" }

// RawJSON returns the payload as JSON.
func (e *TemplateUpdate) RawJSON() json.RawMessage { return e.raw }

// NoteEvent holds what the three note events carry
// (https://docs.doubletick.io/reference/customer-notes-webhooks-1), every
// field required. Notes are on a customer's conversation: the pages do not
// say whether a group's notes fire these.
type NoteEvent struct {
	// NoteID is the note's stable ID.
	NoteID string `json:"noteId"`
	// WABANumber is the conversation's number.
	WABANumber Phone `json:"wabaNumber"`
	// CustomerPhone, CustomerName and DTCustomerID are the customer's.
	CustomerPhone Phone  `json:"customerPhone"`
	CustomerName  string `json:"customerName"`
	DTCustomerID  string `json:"dtCustomerId"`
	// Note is the note's whole text, after the change (and the text
	// deleted); mentions come as display names.
	Note string `json:"note"`
	// Agent, AgentNumber and At are who created, updated or deleted it,
	// and when: the payload's createdByAgent, createdByAgentNumber and
	// createdAt, or its updated… or deleted… fields.
	Agent       string    `json:"-"`
	AgentNumber Phone     `json:"-"`
	At          time.Time `json:"-"`

	raw json.RawMessage
}

// noteWire is every field of the three note payloads.
type noteWire struct {
	NoteEvent
	Event                string    `json:"event"`
	CreatedByAgent       string    `json:"createdByAgent"`
	CreatedByAgentNumber Phone     `json:"createdByAgentNumber"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedByAgent       string    `json:"updatedByAgent"`
	UpdatedByAgentNumber Phone     `json:"updatedByAgentNumber"`
	UpdatedAt            time.Time `json:"updatedAt"`
	DeletedByAgent       string    `json:"deletedByAgent"`
	DeletedByAgentNumber Phone     `json:"deletedByAgentNumber"`
	DeletedAt            time.Time `json:"deletedAt"`
}

func parseNote(t Type, raw json.RawMessage) (Event, error) {
	w, err := decode[noteWire](raw)
	if err != nil {
		return nil, err
	}
	n := &w.NoteEvent
	if err := firstMissing("event", w.Event, "noteId", n.NoteID, "wabaNumber", n.WABANumber.Raw, "customerPhone", n.CustomerPhone.Raw,
		"customerName", n.CustomerName, "note", n.Note, "dtCustomerId", n.DTCustomerID); err != nil {
		return nil, err
	}
	// The agent and time fields of t: "createdByAgent", "createdByAgentNumber", "createdAt", ….
	verb, agent, number, at := "created", w.CreatedByAgent, w.CreatedByAgentNumber, w.CreatedAt
	switch t {
	case TypeCustomerNoteUpdated:
		verb, agent, number, at = "updated", w.UpdatedByAgent, w.UpdatedByAgentNumber, w.UpdatedAt
	case TypeCustomerNoteDeleted:
		verb, agent, number, at = "deleted", w.DeletedByAgent, w.DeletedByAgentNumber, w.DeletedAt
	}
	if err := firstMissing(verb+"ByAgent", agent, verb+"ByAgentNumber", number.Raw); err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, missing(verb + "At")
	}
	n.Agent, n.AgentNumber, n.At, n.raw = agent, number, at, raw
	switch t {
	case TypeCustomerNoteUpdated:
		return &CustomerNoteUpdated{*n}, nil
	case TypeCustomerNoteDeleted:
		return &CustomerNoteDeleted{*n}, nil
	}
	return &CustomerNoteCreated{*n}, nil
}

// Group returns "": the payload names no group.
func (e *NoteEvent) Group() string { return "" }

// Time returns when the note was created, updated or deleted.
func (e *NoteEvent) Time() time.Time { return e.At }

// RawJSON returns the payload as JSON.
func (e *NoteEvent) RawJSON() json.RawMessage { return e.raw }

// CustomerNoteCreated says an agent added a note: CUSTOMER_NOTE_CREATED,
// delivered with "event": "note-created".
type CustomerNoteCreated struct{ NoteEvent }

// Type returns TypeCustomerNoteCreated.
func (e *CustomerNoteCreated) Type() Type { return TypeCustomerNoteCreated }

// DedupKey returns the type, note ID and time.
func (e *CustomerNoteCreated) DedupKey() string { return e.dedupKey(TypeCustomerNoteCreated) }

// CustomerNoteUpdated says an agent changed a note: CUSTOMER_NOTE_UPDATED,
// delivered with "event": "note-updated". Each edit is an event of its own.
type CustomerNoteUpdated struct{ NoteEvent }

// Type returns TypeCustomerNoteUpdated.
func (e *CustomerNoteUpdated) Type() Type { return TypeCustomerNoteUpdated }

// DedupKey returns the type, note ID and time.
func (e *CustomerNoteUpdated) DedupKey() string { return e.dedupKey(TypeCustomerNoteUpdated) }

// CustomerNoteDeleted says an agent removed a note: CUSTOMER_NOTE_DELETED,
// delivered with "event": "note-deleted".
type CustomerNoteDeleted struct{ NoteEvent }

// Type returns TypeCustomerNoteDeleted.
func (e *CustomerNoteDeleted) Type() Type { return TypeCustomerNoteDeleted }

// DedupKey returns the type, note ID and time.
func (e *CustomerNoteDeleted) DedupKey() string { return e.dedupKey(TypeCustomerNoteDeleted) }

func (e *NoteEvent) dedupKey(t Type) string {
	return joinKey(string(t), e.NoteID, e.At.UTC().Format(time.RFC3339Nano))
}
