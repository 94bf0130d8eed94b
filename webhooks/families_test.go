package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

func phone(raw, e164 string) webhooks.Phone { return webhooks.Phone{Raw: raw, E164: e164} }

var (
	waba     = phone("+919000000000", "+919000000000")
	agent    = phone("+919111222333", "+919111222333")
	customer = phone("+919876543210", "+919876543210")
	rohan    = phone("+919111222333", "+919111222333")
)

// Every documented sample of every family decodes to its typed event, with
// the type it is subscribed by, as a receiver registered for it reads it.
func TestParseFamilySamples(t *testing.T) {
	text := func(s string) webhooks.Message { return webhooks.Message{Type: "TEXT", Text: s} }
	note := func(text, agentName string, when string) webhooks.NoteEvent {
		return webhooks.NoteEvent{NoteID: "note_01HX9abc123", WABANumber: waba, CustomerPhone: customer, CustomerName: "John Doe",
			DTCustomerID: "customer_pvgpZUh3wg", Note: text, Agent: agentName, AgentNumber: agent, At: at(when)}
	}
	conversation := webhooks.ConversationEvent{CustomerName: "Rohan Mehta", CustomerPhone: rohan, DTCustomerID: "customer_pvgpZUh3wg",
		From: rohan, To: waba}
	const edited = "Customer prefers Hindi. @David confirmed follow-up scheduled."
	cases := []struct {
		file     string
		as       webhooks.Type
		want     webhooks.Event
		dedupKey string
	}{
		{"s13_status_sent.json", webhooks.TypeMessageStatusUpdate, &webhooks.MessageStatusUpdate{MessageID: "dt_message_id",
			Status: webhooks.MessageSent, StatusAt: at("2026-06-04T11:48:14.000Z"), To: phone("919999999999", "+919999999999"),
			WABANumber: waba, CustomerName: "John Doe", DTCustomerID: "customer_pvgpZUh3wg", SentBy: "agent_01HX9abc123",
			AssignedTo: "agent_01HX9abc123", Message: text("Hello")}, "MESSAGE_STATUS_UPDATE|dt_message_id|SENT"},
		{"s13_status_delivered.json", webhooks.TypeMessageStatusUpdate, &webhooks.MessageStatusUpdate{MessageID: "dt_message_id",
			Status: webhooks.MessageDelivered, StatusAt: at("2026-06-04T11:48:16.000Z"), To: phone("919999999999", "+919999999999")},
			"MESSAGE_STATUS_UPDATE|dt_message_id|DELIVERED"},
		{"s13_status_read.json", webhooks.TypeMessageStatusUpdate, &webhooks.MessageStatusUpdate{MessageID: "dt_message_id",
			Status: webhooks.MessageRead, StatusAt: at("2026-06-04T11:49:02.000Z"), To: phone("919999999999", "+919999999999")},
			"MESSAGE_STATUS_UPDATE|dt_message_id|READ"},
		{"s13_status_failed.json", webhooks.TypeMessageStatusUpdate, &webhooks.MessageStatusUpdate{MessageID: "dt_message_id",
			Status: webhooks.MessageFailed, StatusAt: at("2026-06-04T11:48:14.000Z"), To: phone("919999999999", "+919999999999"),
			Message: text("Hello"), FailMessage: "Message delivery failed"}, "MESSAGE_STATUS_UPDATE|dt_message_id|FAILED"},
		// A type in the body needs no path type.
		{"s87_template_approved.json", "", &webhooks.TemplateUpdate{WABANumber: waba, TemplateName: "order_confirmation",
			TemplateLanguage: "en", NewStatus: "APPROVED", OldStatus: "PENDING", AgentName: "James Smith", AgentNumber: agent}, ""},
		{"s87_template_rejected.json", "", &webhooks.TemplateUpdate{WABANumber: waba, TemplateName: "promo_offer",
			TemplateLanguage: "en", NewStatus: "REJECTED", OldStatus: "PENDING", AgentName: "James Smith", AgentNumber: agent,
			RejectedReason: "The template was rejected for promotional content that does not match its declared category."}, ""},
		{"s46_note_created.json", "", &webhooks.CustomerNoteCreated{note("Customer prefers Hindi. @David please follow up.",
			"James Smith", "2024-01-15T10:30:00.000Z")}, "CUSTOMER_NOTE_CREATED|note_01HX9abc123|2024-01-15T10:30:00Z"},
		{"s46_note_updated.json", "", &webhooks.CustomerNoteUpdated{note(edited, "James Smith", "2024-01-15T11:30:00.000Z")},
			"CUSTOMER_NOTE_UPDATED|note_01HX9abc123|2024-01-15T11:30:00Z"},
		{"s46_note_deleted.json", "", &webhooks.CustomerNoteDeleted{note(edited, "James Smith", "2024-01-15T12:00:00.000Z")},
			"CUSTOMER_NOTE_DELETED|note_01HX9abc123|2024-01-15T12:00:00Z"},
		{"s45_chat_assigned.json", webhooks.TypeChatAssignedToAgent, &webhooks.ChatAssignedToAgent{ChatID: "chat_abc123",
			AssignedUserID: "user_xyz789", AssignedUserName: "John Doe", AssignedUserPhone: customer, AssignedUserEmail: "john@company.com",
			AssignedUserOrgRole: "Sales Manager", AssignedUserWABARole: "Agent", AssignedUserWABANumber: waba, CustomerPhone: rohan,
			DTCustomerID: "customer_pvgpZUh3wg", Message: webhooks.Message{Text: "John Doe assigned conversation to self"}}, ""},
		{"s45_chat_unassigned.json", webhooks.TypeChatUnassigned, &webhooks.ChatUnassigned{ChatID: "chat_abc123",
			DTCustomerID: "customer_pvgpZUh3wg", CustomerPhone: rohan, WABANumber: waba}, ""},
		{"s45_conversation_opened.json", webhooks.TypeConversationOpened, &webhooks.ConversationOpened{conversation}, ""},
		{"s45_close_conversation.json", webhooks.TypeCloseConversation, &webhooks.CloseConversation{conversation}, ""},
		{"s88_conversation_cost.json", webhooks.TypeConversationCostDeducted, &webhooks.ConversationCostDeducted{
			ConversationID: "conv_01HX9abc123def456", CustomerName: "James Smith", CustomerPhone: customer, WABANumber: waba,
			ConversationType: "USER_INITIATED", CountryCode: "IN", Cost: 0.0058}, "CONVERSATION_COST_DEDUCTED|conv_01HX9abc123def456"},
		{"s89_sla_escalated.json", "", &webhooks.SLAEscalated{EscalationLevel: 1, CustomerPhone: customer, WABANumber: waba,
			SLAName: "Standard Response SLA", ResponseTime: 15 * time.Minute}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body := sample(t, tc.file)
			ev, err := webhooks.ParseAs(tc.as, body)
			require.NoError(t, err)
			assert.IsType(t, tc.want, ev)
			assert.Equal(t, tc.want.Type(), ev.Type())
			assert.Equal(t, tc.dedupKey, ev.DedupKey())
			assert.Empty(t, ev.Group(), "no family names a group")
			assert.True(t, tc.want.Time().Equal(ev.Time()))
			assert.JSONEq(t, string(body), string(ev.RawJSON()))
			assert.Equal(t, strip(t, tc.want), strip(t, ev))
			// A type in the body wins over the path's.
			if tc.as == "" {
				again, err := webhooks.ParseAs(webhooks.TypeMessageStatusUpdate, body)
				require.NoError(t, err)
				assert.Equal(t, tc.want.Type(), again.Type())
			}
		})
	}
}

// A payload that names no type is never typed by its shape: without the
// path's type it is Unknown, with an empty type and a key of its own.
func TestUntypedPayloadsAreNotGuessed(t *testing.T) {
	for _, file := range []string{"s13_status_sent.json", "s45_chat_assigned.json", "s45_chat_unassigned.json",
		"s45_conversation_opened.json", "s45_close_conversation.json", "s88_conversation_cost.json"} {
		ev, err := webhooks.Parse(sample(t, file))
		require.NoError(t, err, file)
		assert.IsType(t, &webhooks.Unknown{}, ev, file)
		assert.Equal(t, webhooks.Type(""), ev.Type(), file)
		assert.NotEmpty(t, ev.DedupKey(), file)
	}
	// A type this package does not decode, named by the path, is the
	// Unknown's type.
	ev, err := webhooks.ParseAs(webhooks.TypeMessageReceived, []byte(`{"messageId":"m","to":"919000000000"}`))
	require.NoError(t, err)
	assert.Equal(t, webhooks.TypeMessageReceived, ev.Type())
	assert.IsType(t, &webhooks.Unknown{}, ev)
}

// Form data of each family reads as its JSON does; numbers and flags keep
// their documented types, and a template's absent oldStatus is its null.
func TestFamiliesFromFormData(t *testing.T) {
	form := func(v url.Values) []byte { return []byte(v.Encode()) }
	cases := []struct {
		as       webhooks.Type
		form     []byte
		jsonFile string
	}{
		{webhooks.TypeMessageStatusUpdate, form(url.Values{"messageId": {"dt_message_id"}, "to": {"919999999999"},
			"status": {"FAILED"}, "statusTimestamp": {"2026-06-04T11:48:14.000Z"}, "failMessage": {"Message delivery failed"},
			"message[type]": {"TEXT"}, "message[text]": {"Hello"}}), "s13_status_failed.json"},
		{webhooks.TypeConversationCostDeducted, form(url.Values{"conversationId": {"conv_01HX9abc123def456"},
			"customerName": {"James Smith"}, "customerPhone": {"+919876543210"}, "wabaNumber": {"+919000000000"},
			"conversationType": {"USER_INITIATED"}, "countryCode": {"IN"}, "cost": {"0.0058"}}), "s88_conversation_cost.json"},
		{webhooks.TypeConversationOpened, form(url.Values{"customerName": {"Rohan Mehta"}, "customerPhone": {"+919111222333"},
			"from": {"+919111222333"}, "to": {"+919000000000"}, "dtCustomerId": {"customer_pvgpZUh3wg"},
			"conversationOpened": {"true"}}), "s45_conversation_opened.json"},
		{"", form(url.Values{"customerPhone": {"+919876543210"}, "wabaNumber": {"+919000000000"},
			"slaName": {"Standard Response SLA"}, "responseTime": {"900"}, "escalationLevel": {"1"},
			"eventType": {"ON_SLA_ESCALATED_PUBLIC"}}), "s89_sla_escalated.json"},
	}
	for _, tc := range cases {
		fromForm, err := webhooks.ParseContentAs(tc.as, "application/x-www-form-urlencoded", tc.form)
		require.NoError(t, err, tc.jsonFile)
		fromJSON, err := webhooks.ParseAs(tc.as, sample(t, tc.jsonFile))
		require.NoError(t, err)
		assert.Equal(t, strip(t, fromJSON), strip(t, fromForm), tc.jsonFile)
		assert.Equal(t, fromJSON.DedupKey(), fromForm.DedupKey())
	}

	ev, err := webhooks.ParseContent("application/x-www-form-urlencoded", form(url.Values{"event": {"TEMPLATE_STATUS_UPDATE"},
		"wabaPhoneNumber": {"+919000000000"}, "templateName": {"t"}, "templateLanguage": {"en"}, "newStatus": {"PENDING"}}))
	require.NoError(t, err)
	assert.Empty(t, ev.(*webhooks.TemplateUpdate).OldStatus)
	assert.Contains(t, string(ev.RawJSON()), `"oldStatus":null`)
	ev, err = webhooks.ParseContentAs(webhooks.TypeMessageStatusUpdate, "application/x-www-form-urlencoded",
		form(url.Values{"messageId": {"m"}, "status": {"SENT"}, "statusTimestamp": {"2026-06-04T11:48:14.000Z"}}))
	require.NoError(t, err)
	assert.NotContains(t, string(ev.RawJSON()), "groupId", "no group field is made up for another family")
}

// A known type with a missing or mistyped field is refused, naming the
// field; a value outside a documented list is kept.
func TestFamiliesRefuseWhatTheirPagesForbid(t *testing.T) {
	sent := string(sample(t, "s13_status_sent.json"))
	cases := []struct {
		name  string
		as    webhooks.Type
		body  string
		field string // "" when the error is the JSON decoder's, which names the path
		path  string
	}{
		{"status without messageId", webhooks.TypeMessageStatusUpdate, strings.Replace(sent, `"messageId": "dt_message_id",`, "", 1), "messageId", ""},
		{"status without time", webhooks.TypeMessageStatusUpdate, `{"messageId":"m","status":"SENT"}`, "statusTimestamp", ""},
		{"messageId a number", webhooks.TypeMessageStatusUpdate, strings.Replace(sent, `"dt_message_id"`, "42", 1), "", "messageId"},
		{"phone a number", webhooks.TypeMessageStatusUpdate, strings.Replace(sent, `"919999999999"`, "919999999999", 1), "", "to"},
		{"template without oldStatus", "", `{"event":"TEMPLATE_STATUS_UPDATE","wabaPhoneNumber":"+919000000000","templateName":"t","templateLanguage":"en","newStatus":"APPROVED"}`, "oldStatus", ""},
		{"note without its agent", "", strings.Replace(string(sample(t, "s46_note_updated.json")), `"updatedByAgent": "James Smith",`, "", 1), "updatedByAgent", ""},
		{"note created without its time", "", strings.Replace(string(sample(t, "s46_note_created.json")), `"createdAt": "2024-01-15T10:30:00.000Z",`, "", 1), "createdAt", ""},
		{"assignment without message.text", webhooks.TypeChatAssignedToAgent, strings.Replace(string(sample(t, "s45_chat_assigned.json")), `"text"`, `"note"`, 1), "message.text", ""},
		{"unassignment without chatId", webhooks.TypeChatUnassigned, `{"dtCustomerId":"c"}`, "chatId", ""},
		// A closing delivered to the URL of openings: two untyped events
		// on one URL cannot be told apart, and this one is not an opening.
		{"a closing at the openings' URL", webhooks.TypeConversationOpened, string(sample(t, "s45_close_conversation.json")), "conversationOpened", ""},
		{"cost without cost", webhooks.TypeConversationCostDeducted, strings.Replace(string(sample(t, "s88_conversation_cost.json")), `, "cost": 0.0058`, "", 1), "cost", ""},
		{"cost a string", webhooks.TypeConversationCostDeducted, strings.Replace(string(sample(t, "s88_conversation_cost.json")), `0.0058`, `"0.0058"`, 1), "", "cost"},
		{"SLA level 0", "", `{"escalationLevel":0,"eventType":"ON_SLA_ESCALATED_PUBLIC"}`, "escalationLevel", ""},
		{"SLA without level", "", `{"eventType":"ON_SLA_ESCALATED_PUBLIC"}`, "escalationLevel", ""},
		{"SLA response time too long", "", `{"escalationLevel":1,"responseTime":1e300,"eventType":"ON_SLA_ESCALATED_PUBLIC"}`, "responseTime", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := webhooks.ParseAs(tc.as, []byte(tc.body))
			require.ErrorIs(t, err, webhooks.ErrMalformedPayload)
			assert.Nil(t, ev)
			if tc.field != "" {
				var fe *webhooks.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tc.field, fe.Field)
			} else {
				assert.Contains(t, err.Error(), tc.path)
			}
		})
	}

	ev, err := webhooks.ParseAs(webhooks.TypeMessageStatusUpdate, []byte(strings.Replace(sent, `"SENT"`, `"QUEUED_AT_META"`, 1)))
	require.NoError(t, err, "an undocumented status is not an error")
	assert.Equal(t, "QUEUED_AT_META", ev.(*webhooks.MessageStatusUpdate).Status)
}

// A receiver registered one URL per untyped event tells the handler which
// path gets which type; each typed callback runs. Events without a key run
// every time, even with a deduplicator: a second unassignment is not a
// redelivery to drop.
func TestHandlerTypesByPath(t *testing.T) {
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 100)
	require.NoError(t, err)
	var statuses, unassigned, other atomic.Int32
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithDeduplicator(dedup),
		webhooks.WithPathType("/hooks/status", webhooks.TypeMessageStatusUpdate),
		webhooks.WithPathType("/hooks/unassigned", webhooks.TypeChatUnassigned),
		webhooks.OnMessageStatusUpdate(func(_ context.Context, e *webhooks.MessageStatusUpdate) error {
			statuses.Add(1)
			return nil
		}),
		webhooks.OnChatUnassigned(func(_ context.Context, e *webhooks.ChatUnassigned) error {
			unassigned.Add(1)
			return nil
		}),
		webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error {
			if _, ok := e.(*webhooks.Unknown); ok {
				other.Add(1)
			}
			return nil
		}))
	require.NoError(t, err)
	send := func(path, file string) int {
		r, err := webhookstest.NewRequest("http://127.0.0.1"+path, sample(t, file), webhookstest.Bearer(token))
		require.NoError(t, err)
		return serve(t, h, r).Code
	}
	for range 2 {
		assert.Equal(t, http.StatusOK, send("/hooks/status", "s13_status_sent.json"))
		assert.Equal(t, http.StatusOK, send("/hooks/unassigned", "s45_chat_unassigned.json"))
	}
	assert.Equal(t, http.StatusOK, send("/hooks/elsewhere", "s13_status_sent.json"))
	assert.Equal(t, http.StatusBadRequest, send("/hooks/unassigned", "s13_status_delivered.json"),
		"a status update at the unassignments' URL lacks chatId")
	assert.Equal(t, int32(1), statuses.Load(), "the redelivered status update is absorbed")
	assert.Equal(t, int32(2), unassigned.Load(), "an event without a key always runs")
	assert.Equal(t, int32(1), other.Load(), "at a path of no type it is Unknown")

	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/status", sample(t, "s13_status_read.json"), webhookstest.Bearer(token))
	require.NoError(t, err)
	d, err := h.Receive(httptest.NewRecorder(), r)
	require.NoError(t, err)
	assert.Equal(t, webhooks.TypeMessageStatusUpdate, d.PathType)
	again, err := webhooks.ParseContentAs(d.PathType, d.ContentType, d.Body)
	require.NoError(t, err)
	assert.Equal(t, d.Event.DedupKey(), again.DedupKey(), "the delivery decodes again as it was received")
}

func TestWithPathTypeRefusesWhatItCannotUse(t *testing.T) {
	for _, opts := range [][]webhooks.HandlerOption{
		{webhooks.WithPathType("hooks/status", webhooks.TypeMessageStatusUpdate)},
		{webhooks.WithPathType("/hooks/status", "")},
		{webhooks.WithPathType("/hooks", webhooks.TypeMessageStatusUpdate), webhooks.WithPathType("/hooks", webhooks.TypeChatUnassigned)},
	} {
		_, err := webhooks.NewHandler(bearer(t), opts...)
		assert.ErrorContains(t, err, "WithPathType")
	}
	_, err := webhooks.Middleware(bearer(t), webhooks.WithPathType("/hooks", webhooks.TypeMessageStatusUpdate))
	assert.ErrorContains(t, err, "WithPathType belong to NewHandler")
	_, err = webhooks.NewHandler(bearer(t), webhooks.OnMessageStatusUpdate(nil))
	assert.True(t, err != nil && !errors.Is(err, webhooks.ErrMalformedPayload))
}
