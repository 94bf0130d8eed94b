package doubleticktest_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// subscriber registers a receiver through the subscription API for events,
// one URL per event (as a receiver must for the events that name no type),
// and collects what arrives, decoded by the SDK's Handler.
type subscriber struct {
	mu     sync.Mutex
	events []webhooks.Event
}

func subscribe(t *testing.T, c *doubletick.Client, events ...webhooks.Type) *subscriber {
	t.Helper()
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	sub := &subscriber{}
	opts := []webhooks.HandlerOption{webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		sub.events = append(sub.events, e)
		return nil
	})}
	for _, e := range events {
		opts = append(opts, webhooks.WithPathType("/"+string(e), e))
	}
	col := newCollector(t, bearer, opts...)
	for _, e := range events {
		res, _, err := c.Webhooks.Register(context.Background(), &doubletick.WebhookRegistration{URL: col.srv.URL + "/" + string(e),
			Name: string(e), Events: []webhooks.Type{e}, WABANumbers: []string{waba},
			Authorization: &webhooks.Authorization{Type: "BEARER", Payload: "hook-token"}})
		require.NoError(t, err)
		require.Len(t, res.ValidWebhooks, 1)
	}
	return sub
}

func (s *subscriber) all() []webhooks.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhooks.Event(nil), s.events...)
}

// After each send the subscribers of MESSAGE_STATUS_UPDATE get SENT,
// DELIVERED and READ, typed, joined to the send by its message ID; a group
// send's carry no "to". The status API agrees.
func TestSendsReportTheirStatuses(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithWebhookSenders(1))
	defer fake.Close()
	c := fake.Client()
	ctx := context.Background()
	sub := subscribe(t, c, webhooks.TypeMessageStatusUpdate)
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S", GroupID: "g1"})
	require.NoError(t, err)

	toGroup, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{GroupID: "g1"}, Text: "hi all"})
	require.NoError(t, err)
	toCustomer, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{To: "+919876543210"}, Text: "hi"})
	require.NoError(t, err)
	wait(t, fake, 6)

	statuses := map[string][]string{}
	for _, e := range sub.all() {
		st, ok := e.(*webhooks.MessageStatusUpdate)
		require.True(t, ok, "typed: %T", e)
		statuses[st.MessageID] = append(statuses[st.MessageID], st.Status)
		if st.MessageID == toGroup.MessageID {
			assert.Empty(t, st.To.Raw, "a group send names no recipient")
		} else {
			assert.Equal(t, "+919876543210", st.To.E164)
		}
		if st.Status == webhooks.MessageSent {
			assert.Equal(t, "+"+waba, st.WABANumber.E164)
			assert.Equal(t, "TEXT", st.Message.Type)
		}
	}
	for _, id := range []string{toGroup.MessageID, toCustomer.MessageID} {
		assert.ElementsMatch(t, []string{"SENT", "DELIVERED", "READ"}, statuses[id], id)
	}
	st, _, err := c.Messages.GetStatus(ctx, toCustomer.MessageID)
	require.NoError(t, err)
	assert.False(t, st.DeliveredAt.IsZero())
	assert.False(t, st.ReadAt.IsZero())
	assert.True(t, st.FailedAt.IsZero())
}

// A failure picked by FailNextMessages is reported FAILED, with its reason,
// and nothing else; the delays hold DELIVERED and READ back.
func TestFailedSendsAndStatusDelays(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithWABANumbers(waba), doubleticktest.WithMessageStatusDelays(time.Hour, time.Hour))
	defer fake.Close()
	c := fake.Client()
	ctx := context.Background()
	sub := subscribe(t, c, webhooks.TypeMessageStatusUpdate)
	fake.FailNextMessages(1, "Recipient is not on WhatsApp")
	failed, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{To: "+919876543210"}, Text: "hi"})
	require.NoError(t, err, "the send itself is answered as usual")
	held, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{To: "+919876543210"}, Text: "hi"})
	require.NoError(t, err)
	wait(t, fake, 2)

	got := sub.all()
	require.Len(t, got, 2)
	byID := map[string]*webhooks.MessageStatusUpdate{}
	for _, e := range got {
		byID[e.(*webhooks.MessageStatusUpdate).MessageID] = e.(*webhooks.MessageStatusUpdate)
	}
	assert.Equal(t, webhooks.MessageFailed, byID[failed.MessageID].Status)
	assert.Equal(t, "Recipient is not on WhatsApp", byID[failed.MessageID].FailMessage)
	assert.Equal(t, webhooks.MessageSent, byID[held.MessageID].Status, "DELIVERED waits an hour")
	st, _, err := c.Messages.GetStatus(ctx, failed.MessageID)
	require.NoError(t, err)
	assert.False(t, st.FailedAt.IsZero())
	assert.Equal(t, "Recipient is not on WhatsApp", st.FailedReason)
}

// Notes and assignment of a customer's chat, and template reviews, reach
// their subscribers typed; a group's notes and assignment send nothing (each
// of those payloads requires a customer); a status that does not change
// sends nothing.
func TestOperationsCauseTheirEvents(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithWebhookSenders(1))
	defer fake.Close()
	c := fake.Client()
	ctx := context.Background()
	sub := subscribe(t, c, webhooks.TypeCustomerNoteCreated, webhooks.TypeCustomerNoteUpdated, webhooks.TypeCustomerNoteDeleted,
		webhooks.TypeChatAssignedToAgent, webhooks.TypeChatUnassigned, webhooks.TypeTemplateUpdate)
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, fake.Join("vip", "+919876543210", "Asha"))

	customer := doubletick.NoteChat{From: "+" + waba, To: "+919876543210"}
	n, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: customer, Note: "prefers Hindi"})
	require.NoError(t, err)
	_, _, err = c.Notes.Update(ctx, n.ID, &doubletick.UpdateNoteRequest{Note: "prefers Hindi; call after 5"})
	require.NoError(t, err)
	_, err = c.Notes.Delete(ctx, n.ID)
	require.NoError(t, err)
	_, _, err = c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "vip"}, Note: "group note"})
	require.NoError(t, err)

	chat := doubletick.ChatRef{CustomerPhoneNumber: "+919876543210", WABANumber: "+" + waba}
	for range 2 { // the second changes nothing
		_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: chat, AssignedUserPhoneNumber: "919000000002"})
		require.NoError(t, err)
	}
	_, err = c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: chat})
	require.NoError(t, err)
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{GroupID: "vip"}, AssignedUserPhoneNumber: "919000000002"})
	require.NoError(t, err)

	allow := false
	_, err = c.Templates.Create(ctx, &doubletick.TemplateDraft{Name: "reminder", Language: "en", Category: doubletick.TemplateUtility,
		AllowCategoryUpdate: &allow, Components: &doubletick.TemplateDefinition{Body: &doubletick.TemplateTextDefinition{Text: "Hi"}},
		WABANumbers: []string{"+" + waba}})
	require.NoError(t, err)
	list, _, err := c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Name: "reminder", Status: "ALL"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	id := 0
	require.NoError(t, json.Unmarshal([]byte(list[0].ID), &id))
	require.NoError(t, fake.SetTemplateStatus(id, "REJECTED", "promotional"))
	require.NoError(t, fake.SetTemplateStatus(id, "REJECTED", "promotional"), "no change, no event")
	wait(t, fake, 7)

	var summary []string
	for _, e := range sub.all() {
		switch e := e.(type) {
		case *webhooks.CustomerNoteCreated:
			summary = append(summary, "created "+e.Note+" by "+e.Agent)
			assert.Equal(t, "+919876543210", e.CustomerPhone.E164)
		case *webhooks.CustomerNoteUpdated:
			summary = append(summary, "updated "+e.Note)
		case *webhooks.CustomerNoteDeleted:
			summary = append(summary, "deleted "+e.Note)
			assert.Equal(t, n.ID, e.NoteID)
		case *webhooks.ChatAssignedToAgent:
			summary = append(summary, "assigned "+e.AssignedUserName)
		case *webhooks.ChatUnassigned:
			summary = append(summary, "unassigned "+e.CustomerPhone.E164)
		case *webhooks.TemplateUpdate:
			summary = append(summary, "template "+e.OldStatus+">"+e.NewStatus+" "+e.RejectedReason)
		default:
			t.Errorf("untyped %T %s", e, e.RawJSON())
		}
	}
	assert.ElementsMatch(t, []string{"created prefers Hindi by Asha Owner", "updated prefers Hindi; call after 5",
		"deleted prefers Hindi; call after 5", "assigned Ravi Agent", "unassigned +919876543210",
		"template >PENDING ", "template PENDING>REJECTED promotional"}, summary)
}

// Trigger sends each typed event, realistic and authenticated, to the
// receivers that get it: a registration's events, or a dashboard
// receiver's (by default the group events; CONVERSATION_COST_DEDUCTED only
// when named, as only the dashboard subscribes to it).
func TestTriggerSendsEveryTypedEvent(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithWABANumbers(waba), doubleticktest.WithControlAPI())
	defer fake.Close()
	c := fake.Client()
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	auth := &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}
	dashboard := newCollector(t, bearer)
	require.NoError(t, fake.AddReceiver(doubleticktest.Receiver{URL: dashboard.srv.URL, Authorization: auth}))
	costs := newCollector(t, bearer, webhooks.WithBodyFormat(webhooks.BodyFormData), webhooks.WithPathType("/", webhooks.TypeConversationCostDeducted))
	require.NoError(t, fake.AddReceiver(doubleticktest.Receiver{URL: costs.srv.URL, Authorization: auth, BodyFormat: doubleticktest.BodyFormData,
		Events: []webhooks.Type{webhooks.TypeConversationCostDeducted}}))
	subscribable := []webhooks.Type{webhooks.TypeMessageStatusUpdate, webhooks.TypeTemplateUpdate, webhooks.TypeCustomerNoteCreated,
		webhooks.TypeChatAssignedToAgent, webhooks.TypeChatUnassigned, webhooks.TypeConversationOpened, webhooks.TypeCloseConversation}
	sub := subscribe(t, c, subscribable...)

	want := 0
	for _, typ := range webhookstest.PayloadTypes() {
		n, err := fake.Trigger(typ)
		require.NoError(t, err, typ)
		want += n
	}
	wait(t, fake, want)
	assert.Equal(t, []webhooks.Type{webhooks.TypeConversationCostDeducted}, costs.types())
	assert.ElementsMatch(t, []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined, webhooks.TypeParticipantLeft,
		webhooks.TypeParticipantRemoved, webhooks.TypeGroupMessageReceived}, dashboard.types())
	var got []webhooks.Type
	for _, e := range sub.all() {
		got = append(got, e.Type())
		assert.NotEqual(t, webhooks.TypeUnknownToObserver, webhooks.ObservedType(e))
	}
	assert.ElementsMatch(t, subscribable, got)

	n, err := fake.Trigger(webhooks.TypeSLAEscalated)
	require.NoError(t, err)
	assert.Zero(t, n, "nobody gets SLA escalations")
	_, err = fake.Trigger("MESSAGE_RECEIVED")
	assert.ErrorContains(t, err, `doubleticktest: Trigger: no payload for "MESSAGE_RECEIVED"; want one of`)

	status, body := control(t, fake, "POST", "trigger", `{"event":"GROUP_CREATED"}`)
	assert.Equal(t, 200, status)
	assert.JSONEq(t, `{"receivers":1}`, body)
	status, body = control(t, fake, "POST", "trigger", `{"event":"NOPE"}`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "no payload for")
}
