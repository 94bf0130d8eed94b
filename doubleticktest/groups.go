package doubleticktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/internal/phone"
	"github.com/doubletick-go/doubletick/webhooks"
)

// The 404 messages DoubleTick documents for a group it does not find.
const (
	notFound          = "Group not found for the given groupId"
	notFoundOrPending = "Group not found or group creation is still pending"
)

// ErrNoGroup is returned by the simulation methods for an unknown group.
var ErrNoGroup = errors.New("doubleticktest: no such group")

// Join adds a participant to a group, as if they had followed its invite
// link. phone may be written with or without "+".
func (s *Server) Join(groupID, phoneNumber, name string) error {
	e164, ok := phone.E164(phoneNumber)
	if !ok {
		return fmt.Errorf("doubleticktest: %q is not a phone number", phoneNumber)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.readyGroup(s.ctx, groupID)
	if err != nil {
		return err
	}
	m := &member{name: name, phone: e164, joined: s.now().UTC()}
	g.members = append(g.members, m)
	s.emitMembership(webhooks.TypeParticipantJoined, g, m, m.joined)
	return nil
}

// Leave makes a current participant leave a group of their own accord.
func (s *Server) Leave(groupID, phoneNumber string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.currentMember(groupID, phoneNumber)
	if err != nil {
		return err
	}
	m.left = s.now().UTC()
	s.emitMembership(webhooks.TypeParticipantLeft, s.groups[groupID], m, m.left)
	return nil
}

// currentMember finds the current membership of a number in a group,
// waiting for a group being created. The caller holds s.mu.
func (s *Server) currentMember(groupID, phoneNumber string) (*member, error) {
	g, err := s.readyGroup(s.ctx, groupID)
	if err != nil {
		return nil, err
	}
	e164, _ := phone.E164(phoneNumber)
	for i := len(g.members) - 1; i >= 0; i-- {
		if m := g.members[i]; m.phone == e164 && m.left.IsZero() && m.removed.IsZero() {
			return m, nil
		}
	}
	return nil, fmt.Errorf("doubleticktest: %s is not a member of %s", phoneNumber, groupID)
}

// withGroup finds the group named by the groupId query parameter, or answers
// 404 with msg, and calls h with the lock held.
func (s *Server) withGroup(msg string, h func(http.ResponseWriter, *http.Request, *groupState)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("groupId")
		if id == "" {
			writeInvalid(w, "groupId should not be empty")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g, ok := s.groups[id]
		if !ok || g.pending {
			writeError(w, http.StatusNotFound, msg)
			return
		}
		h(w, r, g)
	}
}

func groupJSON(g *groupState) map[string]any {
	current := 0
	for _, m := range g.members {
		if m.left.IsZero() && m.removed.IsZero() {
			current++
		}
	}
	return map[string]any{
		"groupId": g.GroupID, "subject": g.Subject, "description": g.Description,
		"totalParticipantCount": current, "inviteLink": "https://chat.whatsapp.com/" + g.GroupID,
		"status": "ACTIVE", "groupCreatedAt": g.CreatedAt.Format(time.RFC3339Nano),
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, _ *http.Request, g *groupState) {
	writeJSON(w, http.StatusOK, groupJSON(g))
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request, g *groupState) {
	req, ok := readSettings(w, r)
	if !ok {
		return
	}
	if !sameWABA(req.wabaNumber, g.WABANumber) {
		writeError(w, http.StatusBadRequest, "Invalid fields or no integration found for the given WABA number")
		return
	}
	if req.newGroupID != "" && req.newGroupID != g.GroupID {
		if _, taken := s.groups[req.newGroupID]; taken {
			// The docs list 200, 400 and 404 here: a taken groupId is an
			// invalid field.
			writeError(w, http.StatusBadRequest, "groupId is already in use by another group")
			return
		}
		delete(s.groups, g.GroupID)
		s.order[slices.Index(s.order, g.GroupID)] = req.newGroupID
		g.GroupID = req.newGroupID
		s.groups[g.GroupID] = g
	}
	if req.subject != "" {
		g.Subject = req.subject
	}
	if req.description != "" {
		g.Description = req.description
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (s *Server) handleDelete(w http.ResponseWriter, _ *http.Request, g *groupState) {
	s.dropGroup(g)
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

// page returns one page of items, which are ordered newest first: those
// after the item for which isCursor is true, or, when no item is the cursor,
// those older than before (all of them when before is zero). It also says
// whether more follow.
func page[T any](s *Server, items []T, isCursor func(T) bool, before time.Time, at func(T) time.Time) ([]T, bool) {
	if i := slices.IndexFunc(items, isCursor); i >= 0 {
		items = items[i+1:]
	} else if !before.IsZero() {
		items = slices.DeleteFunc(slices.Clone(items), func(x T) bool { return !at(x).Before(before) })
	}
	if len(items) > s.pageSize {
		return items[:s.pageSize], true
	}
	return items, false
}

// olderThan reads the olderThanTimestamp query parameter (zero when
// absent), or answers 400 and reports false.
func olderThan(w http.ResponseWriter, r *http.Request) (time.Time, bool) {
	v := r.URL.Query().Get("olderThanTimestamp")
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		writeInvalid(w, "olderThanTimestamp must be an ISO 8601 date-time")
		return time.Time{}, false
	}
	return t, true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	waba := q.Get("wabaNumber")
	before, ok := olderThan(w, r)
	if !ok {
		return
	}
	if waba == "" || !s.hasIntegration(waba) {
		writeError(w, http.StatusBadRequest, "Missing wabaNumber or no integration found for the given WABA number")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*groupState // newest first
	for i := len(s.order) - 1; i >= 0; i-- {
		if g := s.groups[s.order[i]]; g.WABANumber == strings.TrimPrefix(waba, "+") && !g.pending {
			all = append(all, g)
		}
	}
	last := q.Get("lastGroupId")
	items, more := page(s, all, func(g *groupState) bool { return last != "" && g.GroupID == last },
		before, func(g *groupState) time.Time { return g.CreatedAt })
	out := map[string]any{"groups": []any{}, "hasMore": more, "lastGroupId": nil, "olderThanTimestamp": nil}
	groups := make([]any, len(items))
	for i, g := range items {
		groups[i] = groupJSON(g)
	}
	out["groups"] = groups
	if n := len(items); n > 0 {
		out["lastGroupId"] = items[n-1].GroupID
		out["olderThanTimestamp"] = items[n-1].CreatedAt.Format(time.RFC3339Nano)
	}
	writeJSON(w, http.StatusOK, out)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

func (s *Server) handleParticipants(w http.ResponseWriter, r *http.Request, g *groupState) {
	before, ok := olderThan(w, r)
	if !ok {
		return
	}
	newest := slices.Clone(g.members)
	slices.Reverse(newest)
	last := r.URL.Query().Get("lastPhoneNumber")
	items, more := page(s, newest, func(m *member) bool { return last != "" && m.phone == last },
		before, func(m *member) time.Time { return m.joined })
	list := make([]any, len(items))
	for i, m := range items {
		var name any
		if m.name != "" {
			name = m.name
		}
		list[i] = map[string]any{"name": name, "phoneNumber": m.phone, "dateJoined": timeOrNil(m.joined),
			"dateLeft": timeOrNil(m.left), "dateRemoved": timeOrNil(m.removed)}
	}
	out := map[string]any{"participants": list, "hasMore": more, "lastPhoneNumber": nil, "olderThanTimestamp": nil}
	if n := len(items); n > 0 {
		out["lastPhoneNumber"] = items[n-1].phone
		out["olderThanTimestamp"] = timeOrNil(items[n-1].joined)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request, g *groupState) {
	p := r.URL.Query().Get("participantPhone")
	if p == "" {
		writeInvalid(w, "participantPhone should not be empty")
		return
	}
	m, err := s.currentMember(g.GroupID, p)
	if err != nil {
		// The docs list only 200 and 404 here, and give the example
		// "+15551230000" without a rule: any way of writing a member's
		// number finds them, and a number that is not a member is 404.
		writeError(w, http.StatusNotFound, "Participant not found in the group")
		return
	}
	m.removed = s.now().UTC()
	s.emitMembership(webhooks.TypeParticipantRemoved, g, m, m.removed)
	s.nextID++
	writeJSON(w, http.StatusOK, map[string]any{"messaging_product": "whatsapp", "request_id": fmt.Sprintf("REQ%029d", s.nextID)})
}

// aiSummaryRange is the 400 message DoubleTick documents for a range that is
// inverted or longer than 7 days.
const aiSummaryRange = "endDate must be on or after startDate and at most 7 days from it"

// handleAISummary summarises a date range, both days included (UTC): its
// members are the participants who sent a message in it, as the docs
// define them, and its summaries are empty when nobody did.
func (s *Server) handleAISummary(w http.ResponseWriter, r *http.Request, g *groupState) {
	q := r.URL.Query()
	var msgs []string
	start, err := time.Parse(time.DateOnly, q.Get("startDate"))
	if err != nil {
		msgs = append(msgs, "startDate must be a valid ISO 8601 date string")
	}
	end, err := time.Parse(time.DateOnly, q.Get("endDate"))
	if err != nil {
		msgs = append(msgs, "endDate must be a valid ISO 8601 date string")
	}
	if len(msgs) > 0 {
		writeInvalid(w, msgs...)
		return
	}
	if end.Before(start) || end.Sub(start) > 6*24*time.Hour {
		writeError(w, http.StatusBadRequest, aiSummaryRange)
		return
	}
	endOfDay := end.Add(24*time.Hour - time.Millisecond)
	members := []any{}
	seen := map[string]bool{}
	count := 0
	for _, m := range g.messages {
		if m.at.Before(start) || m.at.After(endOfDay) {
			continue
		}
		count++
		if seen[m.phone] {
			continue
		}
		seen[m.phone] = true
		name := "" // the docs type it as a string, not nullable
		for _, p := range g.members {
			if p.phone == m.phone && p.name != "" {
				name = p.name
			}
		}
		members = append(members, map[string]any{"id": "customer_" + strings.TrimPrefix(m.phone, "+"), "name": name, "customerNumber": m.phone})
	}
	summaries := []any{}
	if count > 0 {
		summaries = append(summaries, map[string]any{"title": "Conversation",
			"description": fmt.Sprintf("%d messages from %d members.", count, len(members))})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"startDate": start.Format("2006-01-02T15:04:05.000Z"), "endDate": endOfDay.Format("2006-01-02T15:04:05.000Z"), "chatType": "WA_GROUP",
		"groupName": g.Subject, "memberCount": len(members), "members": members, "chatMessagesCount": count, "callsCount": 0,
		"summaries": summaries,
	})
}

func (s *Server) handleTags(assign bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			GroupID      string          `json:"groupId"`
			Tags         []string        `json:"tags"`
			CustomFields json.RawMessage `json:"customFields"`
		}
		if err := decodeBody(w, r, &req); err != nil || req.GroupID == "" {
			// The tag pages' 400 carries message as one string.
			writeError(w, http.StatusBadRequest, "groupId should not be empty")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g, ok := s.groups[req.GroupID]
		if !ok || g.pending {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Group '%s' not found", req.GroupID))
			return
		}
		done, tagErrs := []string{}, []any{}
		for _, t := range req.Tags {
			has := slices.Contains(g.Tags, t)
			switch {
			case assign && !has:
				g.Tags = append(g.Tags, t)
				done = append(done, t)
			case !assign && has:
				g.Tags = slices.DeleteFunc(g.Tags, func(x string) bool { return x == t })
				done = append(done, t)
			case assign:
				done = append(done, t) // assigning an assigned tag changes nothing and fails nothing
			default:
				tagErrs = append(tagErrs, map[string]any{"tag": t, "error": "Tag is not assigned to the group"})
			}
		}
		fieldsDone, err := applyFields(g, assign, req.CustomFields)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		key := "removed"
		if assign {
			key = "added"
		}
		writeJSON(w, http.StatusCreated, map[string]any{
			"tags":         map[string]any{key: done, "errored": tagErrs},
			"customFields": map[string]any{key: fieldsDone, "errored": []any{}},
		})
	}
}

// applyFields sets custom fields ({name, value, values}) or clears them
// (names).
func applyFields(g *groupState, assign bool, raw json.RawMessage) ([]string, error) {
	done := []string{}
	if len(raw) == 0 {
		return done, nil
	}
	if g.CustomFields == nil {
		g.CustomFields = map[string]string{}
	}
	if assign {
		var fields []doubletick.CustomField
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("customFields: %v", err)
		}
		for _, f := range fields {
			value := f.Value
			if len(f.Values) > 0 {
				value = strings.Join(f.Values, ",")
			}
			g.CustomFields[f.Name] = value
			done = append(done, f.Name)
		}
		return done, nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		return nil, fmt.Errorf("customFields: %v", err)
	}
	for _, n := range names {
		delete(g.CustomFields, n)
		done = append(done, n)
	}
	return done, nil
}

// handleCreate answers POST /whatsapp/wa-group/create: the group is pending
// until its creation resolves (see [WithCreationDelay]).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	req, ok := readCreate(w, r)
	if !ok {
		return
	}
	if !s.hasIntegration(req.wabaNumber) {
		writeError(w, http.StatusBadRequest, "No integration found for the given wabaNumber")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	id := req.groupID
	if id == "" {
		s.nextID++
		id = fmt.Sprintf("wagrp_%06d", s.nextID)
	}
	if _, taken := s.groups[id]; taken {
		// DoubleTick does not document a repeated groupId; by default the fake
		// treats it as a business rule failure (WithDuplicateGroupIDStatus).
		writeError(w, s.duplicateIDErr, "A group with this groupId already exists")
		return
	}
	g := &groupState{Group: Group{
		GroupID: id, WABANumber: strings.TrimPrefix(req.wabaNumber, "+"), Subject: req.subject,
		Description: req.description, JoinApprovalMode: doubletick.JoinApprovalMode(req.joinApprovalMode),
		CreatedAt: s.now().UTC(),
	}, pending: true, ready: make(chan struct{})}
	s.groups[id] = g
	s.order = append(s.order, id)
	if s.creationDelay == 0 {
		s.resolve(g)
	} else {
		time.AfterFunc(s.creationDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.resolve(g)
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "groupId": id, "wabaNumber": req.wabaNumber})
}

// resolve ends a group's creation: it exists from now on and GROUP_CREATED
// is sent, or, for a failed creation, it is gone without a word. The caller
// holds s.mu.
func (s *Server) resolve(g *groupState) {
	if !g.pending {
		return
	}
	g.pending = false
	defer close(g.ready)
	if s.failCreations[g.GroupID] || s.groups[g.GroupID] != g {
		s.dropGroup(g)
		return
	}
	s.emitCreated(g)
}

// dropGroup forgets a group. The caller holds s.mu.
func (s *Server) dropGroup(g *groupState) {
	if s.groups[g.GroupID] == g {
		delete(s.groups, g.GroupID)
	}
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == g.GroupID })
}

// WaitCreated waits until a group's creation has ended. It returns
// [ErrNoGroup] when the group does not exist or its creation failed.
func (s *Server) WaitCreated(ctx context.Context, groupID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.readyGroup(ctx, groupID)
	return err
}

// readyGroup returns a group once its creation has ended, waiting for a
// pending one with s.mu released. The caller holds s.mu.
func (s *Server) readyGroup(ctx context.Context, groupID string) (*groupState, error) {
	for {
		g, ok := s.groups[groupID]
		if !ok {
			return nil, ErrNoGroup
		}
		if !g.pending {
			return g, nil
		}
		s.mu.Unlock()
		select {
		case <-g.ready:
		case <-ctx.Done():
		case <-s.ctx.Done():
		}
		s.mu.Lock()
		if err := errors.Join(ctx.Err(), s.ctx.Err()); err != nil {
			return nil, fmt.Errorf("doubleticktest: waiting for %s to be created: %w", groupID, err)
		}
	}
}
