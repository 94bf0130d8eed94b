package doubleticktest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// Notes, chat assignment and the chat list, as create-note, list-notes,
// get-note, update-note, delete-note, assign-team-member-to-chat,
// unassign-team-member-from-chat and get-chat-list document them.
var chatRoutes = []string{doubletick.RouteCreateNote, doubletick.RouteListNotes, doubletick.RouteGetNote,
	doubletick.RouteUpdateNote, doubletick.RouteDeleteNote, doubletick.RouteAssignChat,
	doubletick.RouteRemoveChatAssignment, doubletick.RouteListChats}

func init() {
	// PublicNoteResponseDto: no required list.
	noteDoc := schema{"id": opt("string"), "note": opt("string"), "createdBy": opt("string"), "updatedBy": opt("string"),
		"dateCreated": opt("date-time"), "dateUpdated": opt("date-time")}
	chatItem := schema{"chatType": opt("string"), "name": opt("string"), "phoneNumber": opt("string|null"), "imageUrl": opt("string|null"),
		"unreadCount": opt("number"), "isDone": opt("boolean"), "optIn": opt("boolean"), "chatUpdatedTime": opt("number"),
		"lastMessageTime": opt("number"), "wabaNumber": opt("string|null"), "wabaPhoneName": opt("string|null"),
		"wabaDisplayName": opt("string|null"), "assignedUserName": opt("string|null"), "assignedUserNumber": opt("string|null"),
		"tagNames": arrayOf("string", false), "customFields": arrayOf(schema{"name": opt("string"), "type": opt("string"),
			"value": opt("string|null"), "values": arrayOf("map:any", false)}, false),
		"lastMessage": opt("map:any"), "isSlaActive": opt("boolean"), "slaDueDate": opt("date-time|null"),
		"slaBreachLevel": opt("string|null"), "eligibleMessageTypes": arrayOf("string", false),
		"isReminderTriggered": opt("boolean"), "providerType": opt("enum:INSTAGRAM|GENERIC_CHANNEL|null")}
	chatRef := schema{"customerPhoneNumber": opt("string"), "groupId": opt("string"), "wabaNumber": opt("string")}
	assign := schema{"assignedUserPhoneNumber": req("string"), "reassign": opt("boolean")}
	for k, f := range chatRef {
		assign[k] = f
	}
	for route, r := range map[string]struct {
		query, body   schema
		multipartFile string
	}{
		doubletick.RouteCreateNote: {body: schema{"note": req("string"), "groupId": opt("string"), "from": opt("string"), "to": opt("string"),
			"entities": arrayOf(schema{"type": opt("string"), "id": opt("string")}, false)}},
		doubletick.RouteListNotes: {query: schema{"groupId": opt("string"), "from": opt("string"), "to": opt("string"), "limit": opt("string"),
			"lastNoteId": opt("string"), "lastNoteDate": opt("date-time")}},
		doubletick.RouteGetNote:              {query: schema{"id": req("string")}},
		doubletick.RouteUpdateNote:           {body: schema{"id": req("string"), "note": req("string")}},
		doubletick.RouteDeleteNote:           {body: schema{"id": req("string")}},
		doubletick.RouteAssignChat:           {body: assign},
		doubletick.RouteRemoveChatAssignment: {body: chatRef},
		doubletick.RouteListChats: {query: schema{"limit": opt("string"), "status": opt("enum:all|unread|unresolved|done|waiting_for_response|open|open_cart"),
			"tags": opt("string"), "assignedUserPhone": opt("string"), "wabaNumbers": opt("string"), "instagramHandles": opt("string"),
			"nextChatId": opt("string"), "nextChatTimestamp": opt("string")}},
	} {
		requests[route] = r
	}
	for route, answers := range map[string]map[int]schema{
		doubletick.RouteCreateNote: {201: noteDoc},
		doubletick.RouteListNotes: {200: {"notes": arrayOf(noteDoc, false), "hasMore": opt("boolean"), "lastNoteId": opt("string|null"),
			"lastNoteDate": opt("date-time|null"), "totalCount": opt("number")}},
		doubletick.RouteGetNote:              {200: noteDoc},
		doubletick.RouteUpdateNote:           {201: noteDoc},
		doubletick.RouteDeleteNote:           {201: {}},
		doubletick.RouteRemoveChatAssignment: {201: {"success": opt("boolean")}},
		doubletick.RouteListChats: {200: {"chats": arrayOf(chatItem, false), "paginationOptions": {typ: "object", of: schema{
			"hasMoreChats": opt("boolean"), "nextChatId": opt("string|null"), "nextChatTimestamp": opt("number|null")}}}},
	} {
		responses[route] = answers
	}
	emptyAnswers[doubletick.RouteAssignChat] = map[int]bool{201: true}
	notFound := schema{"statusCode": req("integer"), "message": req("string")} // the notes pages' 404s have no error
	unprocessable := schema{"statusCode": req("integer"), "message": req("string")}
	for _, route := range []string{doubletick.RouteCreateNote, doubletick.RouteListNotes, doubletick.RouteGetNote,
		doubletick.RouteUpdateNote, doubletick.RouteDeleteNote} {
		documentedErrors[route] = map[int]string{400: "", 404: ""}
		errorShapes[route] = map[int]schema{404: notFound}
	}
	documentedErrors[doubletick.RouteUpdateNote][404] = "Note not found"
	documentedErrors[doubletick.RouteDeleteNote][404] = "Note not found"
	documentedErrors[doubletick.RouteGetNote][404] = "Note not found"
	documentedErrors[doubletick.RouteAssignChat] = map[int]string{400: "", 422: "User is not a member of the team"}
	documentedErrors[doubletick.RouteRemoveChatAssignment] = map[int]string{400: "", 422: "User is not a member of the team"}
	errorShapes[doubletick.RouteAssignChat] = map[int]schema{422: unprocessable}
	errorShapes[doubletick.RouteRemoveChatAssignment] = map[int]schema{422: unprocessable}
	documentedErrors[doubletick.RouteListChats] = map[int]string{400: ""}
}

// TestContractChats drives notes, chat assignment and the chat list
// through the SDK to each answer the fake gives, checks both sides against
// the docs, and that notes and assignments show where they should.
func TestContractChats(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithClock(tick()))
	defer fake.Close()
	c, rec := contractClient(t, fake)
	ctx := context.Background()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, fake.Join("vip", "+919876543210", "Asha"))
	rec.exchanges = nil

	group := doubletick.NoteChat{GroupID: "vip"}
	customer := doubletick.NoteChat{From: "+" + waba, To: "+919876543210"}
	n, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: group, Note: "renewal in March",
		Entities: []doubletick.NoteMention{{Type: "USER", ID: "user_agent0002"}}})
	require.NoError(t, err)
	for i := range 3 {
		_, _, err = c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: customer, Note: string(rune('a' + i))})
		require.NoError(t, err)
	}
	_, _, err = c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "nope"}, Note: "x"})
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	_, _, err = c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{From: "+" + waba, To: "+15550001111"}, Note: "x"})
	require.ErrorIs(t, err, doubletick.ErrNotFound, "notes only on a customer that exists")
	var texts []string
	for note, err := range c.Notes.All(ctx, &doubletick.ListNotesRequest{NoteChat: customer, Limit: 2}) {
		require.NoError(t, err)
		texts = append(texts, note.Note)
	}
	assert.Equal(t, []string{"c", "b", "a"}, texts, "every note, newest first, across pages")
	_, _, err = c.Notes.List(ctx, &doubletick.ListNotesRequest{NoteChat: doubletick.NoteChat{GroupID: "nope"}})
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	got, _, err := c.Notes.Get(ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, "renewal in March", got.Note)
	_, _, err = c.Notes.Update(ctx, n.ID, &doubletick.UpdateNoteRequest{Note: "renewal in April"})
	require.NoError(t, err)
	_, err = c.Notes.Delete(ctx, n.ID)
	require.NoError(t, err)
	_, _, err = c.Notes.Get(ctx, n.ID)
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	_, _, err = c.Notes.Update(ctx, n.ID, &doubletick.UpdateNoteRequest{Note: "x"})
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	_, err = c.Notes.Delete(ctx, n.ID)
	require.ErrorIs(t, err, doubletick.ErrNotFound)

	vip := doubletick.ChatRef{GroupID: "vip"}
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: vip, AssignedUserPhoneNumber: "919000000002"})
	require.NoError(t, err)
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: vip, AssignedUserPhoneNumber: "919000000001"})
	require.Error(t, err, "400: assigned already, without reassign")
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: vip, AssignedUserPhoneNumber: "15550009999"})
	require.Error(t, err, "422: not a team member")
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{CustomerPhoneNumber: "919876543210", WABANumber: waba},
		AssignedUserPhoneNumber: "+919000000001", Reassign: true})
	require.NoError(t, err)
	page, _, err := c.Chats.List(ctx, &doubletick.ListChatsOptions{AssignedUserPhone: "919000000002", Status: "all",
		WABANumbers: []string{waba}, Tags: nil, Limit: 5})
	require.NoError(t, err)
	require.Len(t, page.Chats, 1, "the assignment shows in the chat list")
	assert.Equal(t, doubletick.ChatGroup, page.Chats[0].ChatType)
	assert.Equal(t, "Ravi Agent", page.Chats[0].AssignedUserName)
	var all []doubletick.Chat
	for ch, err := range c.Chats.All(ctx, &doubletick.ListChatsOptions{Limit: 1}) {
		require.NoError(t, err)
		all = append(all, *ch)
	}
	assert.Len(t, all, 2, "the group and its member's 1:1 chat, a page each")
	_, err = c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: vip})
	require.NoError(t, err)
	_, err = c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{ChatRef: doubletick.ChatRef{GroupID: "nope"}})
	require.Error(t, err)
	unassigned, _, err := c.Chats.List(ctx, &doubletick.ListChatsOptions{Unassigned: true})
	require.NoError(t, err)
	assert.Len(t, unassigned.Chats, 1)

	seen := checkExchanges(t, rec.exchanges)
	want := map[string][]int{
		doubletick.RouteCreateNote: {201, 404}, doubletick.RouteListNotes: {200, 404}, doubletick.RouteGetNote: {200, 404},
		doubletick.RouteUpdateNote: {201, 404}, doubletick.RouteDeleteNote: {201, 404},
		doubletick.RouteAssignChat: {201, 400, 422}, doubletick.RouteRemoveChatAssignment: {201, 400}, doubletick.RouteListChats: {200},
	}
	assert.ElementsMatch(t, chatRoutes, assertStatuses(t, seen, want))
}
