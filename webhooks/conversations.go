package webhooks

import (
	"encoding/json"
	"strconv"
	"time"
)

// The conversation events
// (https://docs.doubletick.io/reference/conversation-management-webhooks,
// https://docs.doubletick.io/reference/conversation-cost-webhooks,
// https://docs.doubletick.io/reference/sla-webhooks). Each is keyed by a
// customer; the pages do not say whether a group's chat fires them.

// ChatAssignedToAgent says a chat was assigned to an agent, by hand or by a
// workflow: CHAT_ASSIGNED_TO_AGENT. The payload names no type: decode it
// with [WithPathType] or [ParseAs].
type ChatAssignedToAgent struct {
	// ChatID is the chat's ID. Required.
	ChatID string `json:"chatId"`
	// The agent assigned: ID, name, phone and email are required.
	AssignedUserID       string `json:"assignedUserId"`
	AssignedUserName     string `json:"assignedUserName"`
	AssignedUserPhone    Phone  `json:"assignedUserPhone"`
	AssignedUserEmail    string `json:"assignedUserEmail"`
	AssignedUserOrgRole  string `json:"assignedUserOrgRole"`
	AssignedUserWABARole string `json:"assignedUserWabaRole"`
	// AssignedUserWABANumber is the agent's WABA number, when sent.
	AssignedUserWABANumber Phone `json:"assignedUserWabaNumber"`
	// CustomerPhone and DTCustomerID are the customer's. Required.
	CustomerPhone Phone  `json:"customerPhone"`
	DTCustomerID  string `json:"dtCustomerId"`
	// Message.Text says who assigned it, e.g. "John Doe assigned
	// conversation to self". Required.
	Message Message `json:"message"`

	raw json.RawMessage
}

func parseChatAssigned(_ Type, raw json.RawMessage) (Event, error) {
	e, err := decode[ChatAssignedToAgent](raw)
	if err != nil {
		return nil, err
	}
	if err := firstMissing("chatId", e.ChatID, "assignedUserId", e.AssignedUserID, "assignedUserName", e.AssignedUserName,
		"assignedUserPhone", e.AssignedUserPhone.Raw, "assignedUserEmail", e.AssignedUserEmail,
		"customerPhone", e.CustomerPhone.Raw, "dtCustomerId", e.DTCustomerID, "message.text", e.Message.Text); err != nil {
		return nil, err
	}
	e.raw = raw
	return e, nil
}

// Type returns TypeChatAssignedToAgent.
func (e *ChatAssignedToAgent) Type() Type { return TypeChatAssignedToAgent }

// Group returns "": the payload names no group.
func (e *ChatAssignedToAgent) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *ChatAssignedToAgent) Time() time.Time { return time.Time{} }

// DedupKey returns "": with no ID or time, assigning a chat to the same
// agent again reads as a redelivery. Apply it idempotently.
func (e *ChatAssignedToAgent) DedupKey() string { return "" }

// RawJSON returns the payload as JSON.
func (e *ChatAssignedToAgent) RawJSON() json.RawMessage { return e.raw }

// ChatUnassigned says a chat's agent was removed: CHAT_UNASSIGNED. The
// payload names no type and no agent.
type ChatUnassigned struct {
	// ChatID and DTCustomerID are required.
	ChatID       string `json:"chatId"`
	DTCustomerID string `json:"dtCustomerId"`
	// CustomerPhone and WABANumber, when sent.
	CustomerPhone Phone `json:"customerPhone"`
	WABANumber    Phone `json:"wabaNumber"`

	raw json.RawMessage
}

func parseChatUnassigned(_ Type, raw json.RawMessage) (Event, error) {
	e, err := decode[ChatUnassigned](raw)
	if err != nil {
		return nil, err
	}
	if err := firstMissing("chatId", e.ChatID, "dtCustomerId", e.DTCustomerID); err != nil {
		return nil, err
	}
	e.raw = raw
	return e, nil
}

// Type returns TypeChatUnassigned.
func (e *ChatUnassigned) Type() Type { return TypeChatUnassigned }

// Group returns "": the payload names no group.
func (e *ChatUnassigned) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *ChatUnassigned) Time() time.Time { return time.Time{} }

// DedupKey returns "": with no ID or time, a second unassignment reads as
// a redelivery. Apply it idempotently.
func (e *ChatUnassigned) DedupKey() string { return "" }

// RawJSON returns the payload as JSON.
func (e *ChatUnassigned) RawJSON() json.RawMessage { return e.raw }

// ConversationEvent holds what a conversation opened and a conversation
// closed carry; neither names an agent.
type ConversationEvent struct {
	// CustomerName, CustomerPhone and DTCustomerID are the customer's;
	// DTCustomerID is required.
	CustomerName  string `json:"customerName"`
	CustomerPhone Phone  `json:"customerPhone"`
	DTCustomerID  string `json:"dtCustomerId"`
	// From is the customer's number, To the WABA number.
	From Phone `json:"from"`
	To   Phone `json:"to"`

	raw json.RawMessage
}

// conversationWire has the flag that tells the two payloads apart.
type conversationWire struct {
	ConversationEvent
	ConversationOpened bool `json:"conversationOpened"`
	CloseConversation  bool `json:"closeConversation"`
}

func parseConversation(t Type, raw json.RawMessage) (Event, error) {
	w, err := decode[conversationWire](raw)
	if err != nil {
		return nil, err
	}
	// The flag is always true: without it the payload is the other event's
	// (or neither's), delivered to a URL registered for this one.
	flag, set := "conversationOpened", w.ConversationOpened
	if t == TypeCloseConversation {
		flag, set = "closeConversation", w.CloseConversation
	}
	if !set {
		return nil, &FieldError{Field: flag, Problem: "must be true"}
	}
	if err := firstMissing("dtCustomerId", w.DTCustomerID); err != nil {
		return nil, err
	}
	w.raw = raw
	if t == TypeCloseConversation {
		return &CloseConversation{w.ConversationEvent}, nil
	}
	return &ConversationOpened{w.ConversationEvent}, nil
}

// Group returns "": the payload names no group.
func (e *ConversationEvent) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *ConversationEvent) Time() time.Time { return time.Time{} }

// DedupKey returns "": with no ID or time, a conversation opened again
// reads as a redelivery. Apply it idempotently.
func (e *ConversationEvent) DedupKey() string { return "" }

// RawJSON returns the payload as JSON.
func (e *ConversationEvent) RawJSON() json.RawMessage { return e.raw }

// ConversationOpened says a customer's conversation opened or reopened:
// CONVERSATION_OPENED ("conversationOpened": true), sent at most once in
// 120 seconds for one customer and number.
type ConversationOpened struct{ ConversationEvent }

// Type returns TypeConversationOpened.
func (e *ConversationOpened) Type() Type { return TypeConversationOpened }

// CloseConversation says a conversation was marked done or closed:
// CLOSE_CONVERSATION ("closeConversation": true).
type CloseConversation struct{ ConversationEvent }

// Type returns TypeCloseConversation.
func (e *CloseConversation) Type() Type { return TypeCloseConversation }

// ConversationCostDeducted says a conversation window was charged to the
// wallet: CONVERSATION_COST_DEDUCTED, one event per window, for Cloud API
// numbers only. It is subscribed in DoubleTick's dashboard, not through
// the registration API, and its payload names no type ("conveyed only
// through the webhook URL path"): decode it with [WithPathType] or
// [ParseAs].
type ConversationCostDeducted struct {
	// ConversationID is the billing window's ID. Required.
	ConversationID string `json:"conversationId"`
	// CustomerName is "" when null or absent.
	CustomerName string `json:"customerName"`
	// CustomerPhone and WABANumber are required.
	CustomerPhone Phone `json:"customerPhone"`
	WABANumber    Phone `json:"wabaNumber"`
	// ConversationType is USER_INITIATED, BUSINESS_INITIATED, SERVICE or
	// REFERRAL_CONVERSION; another value is kept. Required.
	ConversationType string `json:"conversationType"`
	// CountryCode is the customer's ISO country. Required.
	CountryCode string `json:"countryCode"`
	// Cost is what was deducted, in the wallet's currency. Required.
	Cost float64 `json:"-"`

	raw json.RawMessage
}

// costWire checks that cost is there, even when 0.
type costWire struct {
	ConversationCostDeducted
	Cost *float64 `json:"cost"`
}

func parseCost(_ Type, raw json.RawMessage) (Event, error) {
	w, err := decode[costWire](raw)
	if err != nil {
		return nil, err
	}
	e := &w.ConversationCostDeducted
	if err := firstMissing("conversationId", e.ConversationID, "customerPhone", e.CustomerPhone.Raw, "wabaNumber", e.WABANumber.Raw,
		"conversationType", e.ConversationType, "countryCode", e.CountryCode); err != nil {
		return nil, err
	}
	if w.Cost == nil {
		return nil, missing("cost")
	}
	e.Cost, e.raw = *w.Cost, raw
	return e, nil
}

// Type returns TypeConversationCostDeducted.
func (e *ConversationCostDeducted) Type() Type { return TypeConversationCostDeducted }

// Group returns "": the payload names no group.
func (e *ConversationCostDeducted) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *ConversationCostDeducted) Time() time.Time { return time.Time{} }

// DedupKey returns the type and conversation ID, which DoubleTick names as
// the key of cost events.
func (e *ConversationCostDeducted) DedupKey() string {
	return joinKey(string(TypeConversationCostDeducted), e.ConversationID)
}

// RawJSON returns the payload as JSON.
func (e *ConversationCostDeducted) RawJSON() json.RawMessage { return e.raw }

// SLAEscalated says a chat stayed unanswered through an escalation level of
// its SLA policy: ON_SLA_ESCALATED_PUBLIC, once per level. It is set up in
// DoubleTick's dashboard. The page marks customerPhone, wabaNumber and
// eventType required, yet says only escalationLevel is guaranteed: only
// that is required here.
type SLAEscalated struct {
	// EscalationLevel is 1, 2, 3, …. Required.
	EscalationLevel int `json:"-"`
	// CustomerPhone and WABANumber name the chat.
	CustomerPhone Phone `json:"customerPhone"`
	WABANumber    Phone `json:"wabaNumber"`
	// SLAName is the policy's name, "" when it has none.
	SLAName string `json:"slaName"`
	// ResponseTime is the policy's response time, 0 when unset.
	ResponseTime time.Duration `json:"-"`

	raw json.RawMessage
}

// slaWire checks that escalationLevel is there, and reads responseTime, in
// seconds.
type slaWire struct {
	SLAEscalated
	EscalationLevel *int     `json:"escalationLevel"`
	ResponseTime    *float64 `json:"responseTime"`
}

func parseSLA(_ Type, raw json.RawMessage) (Event, error) {
	w, err := decode[slaWire](raw)
	if err != nil {
		return nil, err
	}
	e := &w.SLAEscalated
	switch {
	case w.EscalationLevel == nil:
		return nil, missing("escalationLevel")
	case *w.EscalationLevel < 1:
		return nil, &FieldError{Field: "escalationLevel", Problem: "must be 1 or more, got " + strconv.Itoa(*w.EscalationLevel)}
	case w.ResponseTime != nil && (*w.ResponseTime < 0 || *w.ResponseTime > maxSeconds):
		return nil, &FieldError{Field: "responseTime", Problem: "must be 0 to " + strconv.Itoa(maxSeconds) + " seconds"}
	}
	e.EscalationLevel = *w.EscalationLevel
	if w.ResponseTime != nil {
		e.ResponseTime = time.Duration(*w.ResponseTime * float64(time.Second))
	}
	e.raw = raw
	return e, nil
}

// maxSeconds is about the longest time.Duration holds, in seconds: 292
// years.
const maxSeconds = 9_000_000_000

// Type returns TypeSLAEscalated.
func (e *SLAEscalated) Type() Type { return TypeSLAEscalated }

// Group returns "": the payload names no group.
func (e *SLAEscalated) Group() string { return "" }

// Time returns the zero time: the payload carries none.
func (e *SLAEscalated) Time() time.Time { return time.Time{} }

// DedupKey returns "": with no ID or time, the same level of a later
// breach reads as a redelivery.
func (e *SLAEscalated) DedupKey() string { return "" }

// RawJSON returns the payload as JSON.
func (e *SLAEscalated) RawJSON() json.RawMessage { return e.raw }
