package doubleticktest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Chats, their notes and their assignment to team members (create-note,
// list-notes, get-note, update-note, delete-note,
// assign-team-member-to-chat, unassign-team-member-from-chat,
// get-chat-list under https://docs.doubletick.io/reference/), answered as
// those pages document them.
//
// The fake's chats are its groups (once created) and, for each WABA
// number, the 1:1 chats of the customers who have been in one of its
// groups (customers.go). Where the pages are silent: a note or an assignment for a group
// that does not exist is answered as for a customer who does not exist
// (404 for notes, 400 for an assignment), and assigning a chat someone
// has, without reassign, is a 400.

// chatKey names a chat: "group:<groupId>" or "customer:<waba>:<digits>".
type chatKey string

func groupChat(id string) chatKey             { return chatKey("group:" + id) }
func customerChat(waba, phone string) chatKey { return chatKey("customer:" + waba + ":" + phone) }

// note is a note the fake holds.
type note struct {
	id, text         string
	chat             chatKey
	createdBy        string
	created, updated time.Time
}

func (n *note) json() map[string]any {
	return map[string]any{"id": n.id, "note": n.text, "createdBy": n.createdBy, "updatedBy": n.createdBy,
		"dateCreated": n.created.Format("2006-01-02T15:04:05.000Z07:00"), "dateUpdated": n.updated.Format("2006-01-02T15:04:05.000Z07:00")}
}

// customerKnown reports whether a customer has a record (see customers.go)
// and waba is one of the fake's channels. The caller holds s.mu.
func (s *Server) customerKnown(waba, digits string) bool {
	return s.channelOf(waba) != nil && s.customerByPhone(digits) != nil
}

// chatOf resolves the chat a notes request names, or returns the message
// of the 404. The caller holds s.mu.
func (s *Server) chatOf(groupID, from, to string) (chatKey, string) {
	if groupID != "" {
		if g, ok := s.groups[groupID]; !ok || g.pending {
			return "", "Chat not found for group " + groupID
		}
		return groupChat(groupID), ""
	}
	waba, customer := phoneDigits(from), phoneDigits(to)
	if s.channelOf(waba) == nil {
		return "", "WABA with phone number +" + waba + " does not exist"
	}
	if !s.customerKnown(waba, customer) {
		return "", "Customer with phone number +" + customer + " does not exist"
	}
	return customerChat(waba, customer), ""
}

// checkNoteChat checks groupId, or from and to (10 to 15 characters each).
func checkNoteChat(c *checks, groupID, from, to string) {
	switch {
	case groupID != "" && (from != "" || to != ""):
		c.msgs = append(c.msgs, "Use either groupId or from and to")
	case groupID == "" && (from == "" || to == ""):
		c.msgs = append(c.msgs, "from and to are required when not using groupId")
	case groupID == "":
		for name, v := range map[string]string{"from": from, "to": to} {
			if n := len([]rune(v)); n < 10 || n > 15 {
				c.msgs = append(c.msgs, name+" must be longer than or equal to 10 and shorter than or equal to 15 characters")
			}
		}
	}
}

// handleCreateNote answers create-note.
func (s *Server) handleCreateNote(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	text := c.str("note", true, 0)
	groupID, from, to := c.str("groupId", false, 0), c.str("from", false, 0), c.str("to", false, 0)
	checkNoteChat(&c, groupID, from, to)
	if raw, ok := b["entities"]; ok {
		var entities []struct{ Type, ID string }
		if json.Unmarshal(raw, &entities) != nil {
			c.msgs = append(c.msgs, "entities must be an array")
		}
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, missing := s.chatOf(groupID, from, to)
	if missing != "" {
		writeBareError(w, http.StatusNotFound, missing)
		return
	}
	now := s.now().UTC().Truncate(time.Millisecond) // as the answers write it, so that cursors compare exactly
	n := &note{id: s.newUUID(), text: text, chat: chat, createdBy: s.keyOwner().Name, created: now, updated: now}
	s.notes = append(s.notes, n)
	s.emitNote(webhooks.TypeCustomerNoteCreated, n, now)
	writeJSON(w, http.StatusCreated, n.json())
}

// handleListNotes answers list-notes: newest first, limit 30 by default
// and 100 at most, the cursor lastNoteId with lastNoteDate.
func (s *Server) handleListNotes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := checks{}
	groupID, from, to := q.Get("groupId"), q.Get("from"), q.Get("to")
	checkNoteChat(&c, groupID, from, to)
	limit := 30
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			c.msgs = append(c.msgs, "limit must not be greater than 100", "limit must be a number")
		}
		limit = n
	}
	var after time.Time
	afterID := q.Get("lastNoteId")
	if d := q.Get("lastNoteDate"); d != "" {
		t, err := time.Parse(time.RFC3339Nano, d)
		if err != nil {
			c.msgs = append(c.msgs, "lastNoteDate must be a valid ISO 8601 date string")
		}
		after = t
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, missing := s.chatOf(groupID, from, to)
	if missing != "" {
		if groupID == "" {
			missing = fmt.Sprintf("Chat not found for customer +%s and WABA +%s", phoneDigits(to), phoneDigits(from))
		}
		writeBareError(w, http.StatusNotFound, missing)
		return
	}
	var all []*note
	for _, n := range s.notes {
		if n.chat == chat {
			all = append(all, n)
		}
	}
	// Newest first; a note is past the cursor when it sorts after it.
	newer := func(a, b *note) bool {
		return a.created.After(b.created) || (a.created.Equal(b.created) && a.id > b.id)
	}
	slices.SortFunc(all, func(a, b *note) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	start := 0
	if afterID != "" {
		cursor := &note{id: afterID, created: after}
		for start < len(all) && !newer(cursor, all[start]) {
			start++
		}
	}
	page := all[start:min(start+limit, len(all))]
	out := make([]map[string]any, len(page))
	for i, n := range page {
		out[i] = n.json()
	}
	more := start+limit < len(all)
	var lastID, lastDate any
	if more && len(page) > 0 {
		last := page[len(page)-1]
		lastID, lastDate = last.id, last.created.Format("2006-01-02T15:04:05.000Z07:00")
	}
	writeJSON(w, http.StatusOK, map[string]any{"notes": out, "hasMore": more, "lastNoteId": lastID, "lastNoteDate": lastDate, "totalCount": len(all)})
}

// noteByID returns a note. The caller holds s.mu.
func (s *Server) noteByID(id string) *note {
	for _, n := range s.notes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// handleGetNote answers get-note.
func (s *Server) handleGetNote(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "id should not be empty")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.noteByID(id)
	if n == nil {
		writeBareError(w, http.StatusNotFound, "Note not found")
		return
	}
	writeJSON(w, http.StatusOK, n.json())
}

// handleUpdateNote answers update-note: 201 with the note.
func (s *Server) handleUpdateNote(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	id, text := c.str("id", true, 0), c.str("note", true, 0)
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.noteByID(id)
	if n == nil {
		writeBareError(w, http.StatusNotFound, "Note not found")
		return
	}
	n.text, n.updated = text, s.now().UTC().Truncate(time.Millisecond)
	s.emitNote(webhooks.TypeCustomerNoteUpdated, n, n.updated)
	writeJSON(w, http.StatusCreated, n.json())
}

// handleDeleteNote answers delete-note: 201 with an empty object.
func (s *Server) handleDeleteNote(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	id := c.str("id", true, 0)
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.notes, func(n *note) bool { return n.id == id })
	if i < 0 {
		writeBareError(w, http.StatusNotFound, "Note not found")
		return
	}
	s.emitNote(webhooks.TypeCustomerNoteDeleted, s.notes[i], s.now().UTC())
	s.notes = slices.Delete(s.notes, i, i+1)
	writeJSON(w, http.StatusCreated, map[string]any{})
}

// assignmentChat resolves the chat an assign or unassign body names, or
// returns the 400's message. The caller holds s.mu.
func (s *Server) assignmentChat(groupID, customer, waba string) (chatKey, string) {
	if groupID != "" {
		if g, ok := s.groups[groupID]; !ok || g.pending {
			return "", "groupId must be the groupId of an existing group"
		}
		return groupChat(groupID), ""
	}
	customer, waba = phoneDigits(customer), phoneDigits(waba)
	if waba == "" && len(s.channels) == 1 {
		waba = s.channels[0].waba
	}
	if !s.customerKnown(waba, customer) {
		return "", "customerPhoneNumber must be a customer of the wabaNumber"
	}
	return customerChat(waba, customer), ""
}

// handleAssignChat answers assign-team-member-to-chat: 201 without a body.
func (s *Server) handleAssignChat(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	customer, groupID := c.str("customerPhoneNumber", false, 0), c.str("groupId", false, 0)
	agent, waba := c.str("assignedUserPhoneNumber", true, 0), c.str("wabaNumber", false, 0)
	var reassign bool
	if raw, ok := b["reassign"]; ok && json.Unmarshal(raw, &reassign) != nil {
		c.msgs = append(c.msgs, "reassign must be a boolean value")
	}
	if (customer == "") == (groupID == "") {
		c.msgs = append(c.msgs, "Exactly one of customerPhoneNumber or groupId must be provided")
	}
	for name, v := range map[string]string{"customerPhoneNumber": customer, "assignedUserPhoneNumber": agent, "wabaNumber": waba} {
		if n := len([]rune(v)); v != "" && (n < 7 || n > 15) {
			c.msgs = append(c.msgs, name+" must be longer than or equal to 7 and shorter than or equal to 15 characters")
		}
	}
	if !c.ok(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	agent = phoneDigits(agent)
	if s.teamMember(agent) == nil {
		writeBareError(w, http.StatusUnprocessableEntity, "User is not a member of the team")
		return
	}
	chat, bad := s.assignmentChat(groupID, customer, waba)
	if bad == "" && s.assigned[chat] != "" && s.assigned[chat] != agent && !reassign {
		bad = "The chat is already assigned: send reassign to assign it again"
	}
	if bad != "" {
		writeInvalid(w, bad)
		return
	}
	if s.assigned[chat] != agent {
		s.assigned[chat] = agent
		s.emitAssignment(chat, s.teamMember(agent))
	}
	w.WriteHeader(http.StatusCreated)
}

// handleUnassignChat answers unassign-team-member-from-chat.
func (s *Server) handleUnassignChat(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	customer, groupID, waba := c.str("customerPhoneNumber", false, 0), c.str("groupId", false, 0), c.str("wabaNumber", false, 0)
	if (customer == "") == (groupID == "") {
		c.msgs = append(c.msgs, "Either customerPhoneNumber or groupId must be provided")
	}
	if !c.ok(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, bad := s.assignmentChat(groupID, customer, waba)
	if bad != "" {
		writeInvalid(w, bad)
		return
	}
	if _, had := s.assigned[chat]; had {
		delete(s.assigned, chat)
		s.emitAssignment(chat, nil)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"success": true})
}

// chatRow is a chat of the list, with what it sorts and pages by.
type chatRow struct {
	id      string // the cursor's nextChatId
	updated int64  // epoch ms
	json    map[string]any
}

// chatRows returns every chat, newest first. The caller holds s.mu.
func (s *Server) chatRows() []chatRow {
	var rows []chatRow
	row := func(key chatKey, typ, name string, phone any, waba string, updated time.Time, tags []string) chatRow {
		var assignedName, assignedNumber any
		if a := s.assigned[key]; a != "" {
			assignedNumber = a
			if m := s.teamMember(a); m != nil {
				assignedName = m.Name
			}
		}
		if tags == nil {
			tags = []string{}
		}
		display := any(nil)
		if c := s.channelOf(waba); c != nil {
			display = c.displayName
		}
		ms := updated.UnixMilli()
		return chatRow{id: "chat_" + strings.ReplaceAll(string(key), ":", "_"), updated: ms, json: map[string]any{
			"chatType": typ, "name": name, "phoneNumber": phone, "imageUrl": nil, "unreadCount": 0, "isDone": false,
			"optIn": true, "chatUpdatedTime": ms, "lastMessageTime": ms, "wabaNumber": waba, "wabaPhoneName": display,
			"wabaDisplayName": display, "assignedUserName": assignedName, "assignedUserNumber": assignedNumber,
			"tagNames": tags, "customFields": []any{}, "lastMessage": map[string]any{}, "isSlaActive": false,
			"slaDueDate": nil, "slaBreachLevel": nil, "eligibleMessageTypes": []string{"ANY"},
			"isReminderTriggered": false, "providerType": nil,
		}}
	}
	customers := map[chatKey]chatRow{}
	for _, id := range s.order {
		g := s.groups[id]
		if g.pending {
			continue
		}
		waba := phoneDigits(g.WABANumber)
		updated := g.CreatedAt
		for _, m := range g.messages {
			updated = later(updated, m.at)
		}
		rows = append(rows, row(groupChat(id), "WA_GROUP", g.Subject, nil, waba, updated, g.Tags))
		for _, m := range g.members {
			digits := phoneDigits(m.phone)
			key := customerChat(waba, digits)
			if _, seen := customers[key]; !seen {
				customers[key] = row(key, "INDIVIDUAL", m.name, digits, waba, m.joined, nil)
			}
		}
	}
	for _, r := range customers {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b chatRow) int {
		return cmp.Or(cmp.Compare(b.updated, a.updated), strings.Compare(a.id, b.id))
	})
	return rows
}

// commaList splits a comma-separated query value, each item through norm
// when given; nil for an empty value.
func commaList(v string, norm func(string) string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if norm != nil {
			x = norm(x)
		}
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// handleListChats answers get-chat-list.
func (s *Server) handleListChats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var c checks
	limit := 10
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			c.msgs = append(c.msgs, "limit must not be less than 1", "limit must not be greater than 100")
		}
		limit = n
	}
	status := q.Get("status")
	c.enum("status", status, false, "all", "unread", "unresolved", "done", "waiting_for_response", "open", "open_cart")
	var cursorTS int64
	if ts := q.Get("nextChatTimestamp"); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			c.msgs = append(c.msgs, "nextChatTimestamp must be a number")
		}
		cursorTS = n
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	tags, numbers := commaList(q.Get("tags"), nil), commaList(q.Get("wabaNumbers"), phoneDigits)
	assignee := phoneDigits(q.Get("assignedUserPhone"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []chatRow
	for _, row := range s.chatRows() {
		j := row.json
		switch {
		case status == "done" || q.Get("instagramHandles") != "", // every chat of the fake is open, and on WhatsApp
			numbers != nil && !slices.Contains(numbers, j["wabaNumber"].(string)),
			tags != nil && !slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(j["tagNames"].([]string), t) }),
			assignee == "null" && j["assignedUserNumber"] != nil,
			assignee != "" && assignee != "null" && j["assignedUserNumber"] != assignee:
			continue
		}
		rows = append(rows, row)
	}
	start := 0
	if id := q.Get("nextChatId"); id != "" {
		start = len(rows)
		for i, row := range rows {
			if row.id == id && row.updated == cursorTS {
				start = i + 1
				break
			}
		}
	}
	page := rows[start:min(start+limit, len(rows))]
	out := make([]map[string]any, len(page))
	for i, row := range page {
		out[i] = row.json
	}
	more := start+limit < len(rows)
	pagination := map[string]any{"hasMoreChats": more, "nextChatId": nil, "nextChatTimestamp": nil}
	if more && len(page) > 0 {
		pagination["nextChatId"], pagination["nextChatTimestamp"] = page[len(page)-1].id, page[len(page)-1].updated
	}
	writeJSON(w, http.StatusOK, map[string]any{"chats": out, "paginationOptions": pagination})
}
