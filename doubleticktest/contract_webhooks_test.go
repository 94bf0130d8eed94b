package doubleticktest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// The webhook payloads, by the type they are subscribed as, written from
// the field tables and samples of their pages (messaging-webhooks-1,
// template-webhooks, customer-notes-webhooks-1,
// conversation-management-webhooks, conversation-cost-webhooks,
// sla-webhooks and whatsapp-group-webhooks under
// https://docs.doubletick.io/reference/), not from the SDK's or the fake's
// types. Where a page gives samples but no table (status updates), a field
// every sample carries is required.
var webhookPayloads = func() map[webhooks.Type]schema {
	note := func(verb string) schema {
		return schema{"event": req("enum:note-" + verb), "noteId": req("string"), "wabaNumber": req("string"),
			"customerPhone": req("string"), "customerName": req("string"), "note": req("string"), "dtCustomerId": req("string"),
			verb + "ByAgent": req("string"), verb + "ByAgentNumber": req("string"), verb + "At": req("date-time")}
	}
	conversation := func(flag string) schema {
		return schema{"customerName": opt("string"), "customerPhone": opt("string"), "from": opt("string"), "to": opt("string"),
			"dtCustomerId": req("string"), flag: req("boolean")}
	}
	group := func(event string, fields schema) schema {
		s := schema{"event": req("enum:" + event), "orgId": req("string"), "integrationId": req("string"),
			"groupId": req("string|null"), "groupName": req("string|null")}
		for k, v := range fields {
			s[k] = v
		}
		return s
	}
	member := func(event, at string) schema {
		return group(event, schema{"customerPhone": req("string"), at: req("date-time")})
	}
	return map[webhooks.Type]schema{
		webhooks.TypeMessageStatusUpdate: {"messageId": req("string"), "to": opt("string"), "status": req("enum:SENT|DELIVERED|READ|FAILED"),
			"statusTimestamp": req("date-time"), "wabaNumber": opt("string"), "customerName": opt("string"), "dtCustomerId": opt("string"),
			"sentBy": opt("string"), "assignedTo": opt("string"), "failMessage": opt("string"),
			"message": {typ: "object", of: schema{"type": req("string"), "text": opt("string")}}},
		webhooks.TypeTemplateUpdate: {"event": req("enum:TEMPLATE_STATUS_UPDATE"), "wabaPhoneNumber": req("string"), "templateName": req("string"),
			"templateLanguage": req("string"), "newStatus": req("enum:APPROVED|REJECTED|PENDING|PAUSED"),
			"oldStatus": req("enum:APPROVED|REJECTED|PENDING|PAUSED|null"), "rejectedReason": req("string"),
			"agentName": opt("string"), "agentNumber": opt("string")},
		webhooks.TypeCustomerNoteCreated: note("created"),
		webhooks.TypeCustomerNoteUpdated: note("updated"),
		webhooks.TypeCustomerNoteDeleted: note("deleted"),
		webhooks.TypeChatAssignedToAgent: {"chatId": req("string"), "assignedUserId": req("string"), "assignedUserName": req("string"),
			"assignedUserPhone": req("string"), "assignedUserEmail": req("string"), "assignedUserOrgRole": opt("string"),
			"assignedUserWabaRole": opt("string"), "assignedUserWabaNumber": opt("string"), "customerPhone": req("string"),
			"dtCustomerId": req("string"), "message": {typ: "object", required: true, of: schema{"text": req("string")}}},
		webhooks.TypeChatUnassigned: {"chatId": req("string"), "dtCustomerId": req("string"), "customerPhone": opt("string"),
			"wabaNumber": opt("string")},
		webhooks.TypeConversationOpened: conversation("conversationOpened"),
		webhooks.TypeCloseConversation:  conversation("closeConversation"),
		webhooks.TypeConversationCostDeducted: {"conversationId": req("string"), "customerName": opt("string|null"),
			"customerPhone": req("string"), "wabaNumber": req("string"),
			"conversationType": req("enum:USER_INITIATED|BUSINESS_INITIATED|SERVICE|REFERRAL_CONVERSION"), "countryCode": req("string"),
			"cost": req("number")},
		webhooks.TypeSLAEscalated: {"customerPhone": req("string"), "wabaNumber": req("string"), "slaName": opt("string"),
			"responseTime": opt("number"), "escalationLevel": req("integer"), "eventType": req("enum:ON_SLA_ESCALATED_PUBLIC")},
		webhooks.TypeGroupCreated:       group("GROUP_CREATED", schema{"inviteLink": req("string|null"), "groupCreatedAt": req("date-time")}),
		webhooks.TypeParticipantJoined:  member("GROUP_PARTICIPANT_JOINED", "participantJoinedAt"),
		webhooks.TypeParticipantLeft:    member("GROUP_PARTICIPANT_LEFT", "participantLeftAt"),
		webhooks.TypeParticipantRemoved: member("GROUP_PARTICIPANT_REMOVED", "participantRemovedAt"),
		webhooks.TypeGroupMessageReceived: {"type": req("enum:wa_group"), "to": req("string"), "from": req("string"),
			"messageId": req("string"), "dtMessageId": req("string"), "receivedAt": req("date-time"),
			"contact": {typ: "object", required: true, of: schema{"name": req("string")}}, "integrationType": req("string"),
			"message": {typ: "object", required: true, of: schema{"type": req("string"), "text": opt("string"),
				"context": {typ: "object", of: schema{"from": opt("string"), "id": opt("string")}}}},
			"dtLastMessageId": req("string|null"), "lastMessageOrigin": req("string|null"), "isAgentOffline": req("boolean"),
			"customerId": req("string"), "dtCustomerId": req("string")},
	}
}()

// TestContractWebhooks checks every webhook the fake sends, from the
// operations that cause them and from Trigger, against its page's fields;
// and that every typed family is covered.
func TestContractWebhooks(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba))
	defer fake.Close()
	c := fake.Client()
	ctx := context.Background()
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer sink.Close()
	auth := &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}
	require.NoError(t, fake.AddReceiver(doubleticktest.Receiver{URL: sink.URL, Authorization: auth,
		Events: []webhooks.Type{webhooks.TypeConversationCostDeducted, webhooks.TypeSLAEscalated, webhooks.TypeGroupCreated,
			webhooks.TypeParticipantJoined, webhooks.TypeParticipantLeft, webhooks.TypeParticipantRemoved, webhooks.TypeGroupMessageReceived}}))
	var subscribable []webhooks.Type
	for typ := range webhookPayloads {
		if typ != webhooks.TypeConversationCostDeducted && typ != webhooks.TypeSLAEscalated && webhookGroupEvent(typ) == "" {
			subscribable = append(subscribable, typ)
		}
	}
	_, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: sink.URL, Name: "all", Events: subscribable,
		WABANumbers: []string{waba}, Authorization: &webhooks.Authorization{Type: "BEARER", Payload: "hook-token"}})
	require.NoError(t, err)

	// What the operations cause.
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, fake.Join("vip", "+919876543210", "Asha"))
	require.NoError(t, fake.SendMessage("vip", "+919876543210", "hello"))
	fake.FailNextMessages(1, "")
	for range 2 {
		_, _, err = c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{To: "+919876543210"}, Text: "hi"})
		require.NoError(t, err)
	}
	n, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{From: "+" + waba, To: "+919876543210"}, Note: "x"})
	require.NoError(t, err)
	_, _, err = c.Notes.Update(ctx, n.ID, &doubletick.UpdateNoteRequest{Note: "y"})
	require.NoError(t, err)
	_, err = c.Notes.Delete(ctx, n.ID)
	require.NoError(t, err)
	chat := doubletick.ChatRef{CustomerPhoneNumber: "+919876543210", WABANumber: "+" + waba}
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: chat, AssignedUserPhoneNumber: "919000000002"})
	require.NoError(t, err)
	_, err = c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: chat})
	require.NoError(t, err)
	require.NoError(t, fake.Leave("vip", "+919876543210"))
	// And every typed event on demand.
	for _, typ := range webhookstest.PayloadTypes() {
		_, err := fake.Trigger(typ)
		require.NoError(t, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitDeliveries(wctx, 29)) // 4 group events, 4 statuses, 3 notes, 2 assignments, 16 triggered

	seen := map[webhooks.Type]int{}
	for _, d := range fake.Deliveries() {
		s, ok := webhookPayloads[d.Event]
		require.True(t, ok, "a schema for %s", d.Event)
		var obj map[string]any
		require.NoError(t, json.Unmarshal(d.Body, &obj), "%s", d.Body)
		assert.Empty(t, checkObject(string(d.Event), s, obj), "%s", d.Body)
		seen[d.Event]++
	}
	for typ := range webhookPayloads {
		assert.NotZero(t, seen[typ], "no %s was sent", typ)
	}
	assert.Len(t, webhookPayloads, len(webhookstest.PayloadTypes()), "a schema per typed family")
}

// webhookGroupEvent returns t's name when it is a group event, else "".
func webhookGroupEvent(t webhooks.Type) string {
	switch t {
	case webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined, webhooks.TypeParticipantLeft, webhooks.TypeParticipantRemoved,
		webhooks.TypeGroupMessageReceived:
		return string(t)
	}
	return ""
}
