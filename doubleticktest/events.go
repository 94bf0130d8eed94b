package doubleticktest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// The events the fake's operations cause, besides the group events and the
// status updates of sends (messages.go), each delivered to the receivers
// subscribed to it in the shape its page documents:
//
//   - a note created, updated or deleted through the API on a customer's
//     chat: CUSTOMER_NOTE_CREATED, _UPDATED, _DELETED
//     (https://docs.doubletick.io/reference/customer-notes-webhooks-1), by
//     the organization's owner, whom the API key acts as;
//   - a customer's chat assigned or unassigned: CHAT_ASSIGNED_TO_AGENT,
//     CHAT_UNASSIGNED
//     (https://docs.doubletick.io/reference/conversation-management-webhooks);
//   - a template's review status changed, by its creation (none to
//     PENDING), an edit (back to PENDING) or [Server.SetTemplateStatus]:
//     TEMPLATE_UPDATE, delivered as "TEMPLATE_STATUS_UPDATE"
//     (https://docs.doubletick.io/reference/template-webhooks).
//
// Where the pages are silent, the fake sends nothing: for a group's notes
// and a group chat's assignment (every one of those payloads requires a
// customer), and for tags and custom fields changed through the API
// (whether ADD_TAG and REMOVE_TAG fire then is not documented).
// [Server.Trigger] sends any typed event on demand.

// keyOwner is the team member the API key acts as: the organization's
// owner. It writes the API's notes and assigns chats. The caller holds s.mu.
func (s *Server) keyOwner() TeamMember {
	if i := slices.IndexFunc(s.team, func(m TeamMember) bool { return m.Owner }); i >= 0 {
		return s.team[i]
	}
	return TeamMember{Name: "API", Phone: DefaultWABANumber}
}

// customerOf returns the WABA number and customer digits of a customer's
// chat, and false for a group's.
func customerOf(chat chatKey) (waba, digits string, ok bool) {
	rest, ok := strings.CutPrefix(string(chat), "customer:")
	if !ok {
		return "", "", false
	}
	waba, digits, ok = strings.Cut(rest, ":")
	return waba, digits, ok
}

// emitNote sends a note event of a customer's chat. The caller holds s.mu.
func (s *Server) emitNote(t webhooks.Type, n *note, at time.Time) {
	waba, digits, ok := customerOf(n.chat)
	if !ok {
		return
	}
	verb := map[webhooks.Type]string{webhooks.TypeCustomerNoteCreated: "created", webhooks.TypeCustomerNoteUpdated: "updated",
		webhooks.TypeCustomerNoteDeleted: "deleted"}[t]
	owner := s.keyOwner()
	p := map[string]any{"event": "note-" + verb, "noteId": n.id, "wabaNumber": "+" + waba, "customerPhone": "+" + digits,
		"customerName": s.customerName(digits), "note": n.text, "dtCustomerId": "customer_" + digits,
		verb + "ByAgent": owner.Name, verb + "ByAgentNumber": "+" + owner.Phone, verb + "At": at.Format(time.RFC3339Nano)}
	s.emitPayload(t, p)
}

// customerName is a customer's name, or their number when they have none.
// The caller holds s.mu.
func (s *Server) customerName(digits string) string {
	if c := s.customerByPhone(digits); c != nil && c.name != "" {
		return c.name
	}
	return "+" + digits
}

// emitAssignment sends CHAT_ASSIGNED_TO_AGENT for a customer's chat, or
// CHAT_UNASSIGNED when agent is nil. The caller holds s.mu.
func (s *Server) emitAssignment(chat chatKey, agent *TeamMember) {
	waba, digits, ok := customerOf(chat)
	if !ok {
		return
	}
	p := map[string]any{"chatId": chatID(chat), "customerPhone": "+" + digits, "dtCustomerId": "customer_" + digits}
	if agent == nil {
		p["wabaNumber"] = "+" + waba
		s.emitPayload(webhooks.TypeChatUnassigned, p)
		return
	}
	by := s.keyOwner().Name
	p["assignedUserId"], p["assignedUserName"], p["assignedUserPhone"] = agent.ID, agent.Name, "+"+agent.Phone
	p["assignedUserEmail"], p["assignedUserOrgRole"], p["assignedUserWabaNumber"] = agent.Email, agent.OrgRole, "+"+waba
	p["message"] = map[string]any{"text": fmt.Sprintf("%s assigned conversation to %s", by, agent.Name)}
	s.emitPayload(webhooks.TypeChatAssignedToAgent, p)
}

// chatID is the ID a chat's webhooks carry: the chat list's rows carry
// none, so the fake makes a stable one.
func chatID(chat chatKey) string {
	return "chat_" + strings.NewReplacer("customer:", "", "group:", "", ":", "_").Replace(string(chat))
}

// emitTemplateStatus sends TEMPLATE_UPDATE when a template's status
// changed; old is "" when it had none. The caller holds s.mu.
func (s *Server) emitTemplateStatus(t *Template, old string) {
	if t.Status == old {
		return // "no-op changes are suppressed"
	}
	owner := s.keyOwner()
	var oldStatus any
	if old != "" {
		oldStatus = old
	}
	s.emitPayload(webhooks.TypeTemplateUpdate, map[string]any{"event": "TEMPLATE_STATUS_UPDATE",
		"wabaPhoneNumber": "+" + t.WABANumber, "templateName": t.Name, "templateLanguage": t.Language,
		"newStatus": t.Status, "oldStatus": oldStatus, "rejectedReason": t.RejectedReason,
		"agentName": owner.Name, "agentNumber": "+" + owner.Phone})
}

// SetTemplateStatus changes the review status of the template of this ID
// (APPROVED, REJECTED, PENDING or PAUSED; rejectedReason for REJECTED), as
// Meta's review would, and sends TEMPLATE_UPDATE when it changed.
func (s *Server) SetTemplateStatus(id int, status, rejectedReason string) error {
	if !slices.Contains([]string{"APPROVED", "REJECTED", "PENDING", "PAUSED"}, status) {
		return fmt.Errorf("status %q: want APPROVED, REJECTED, PENDING or PAUSED", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > len(s.templates) || s.templates[id-1].Status == "" {
		return fmt.Errorf("no template %d", id)
	}
	t := s.templates[id-1]
	old := t.Status
	t.Status, t.RejectedReason = status, ""
	if status == "REJECTED" {
		t.RejectedReason = rejectedReason
	}
	s.emitTemplateStatus(t, old)
	return nil
}

// Trigger sends an event of type t, as [webhookstest.Payload] makes it at
// the fake's time, to every receiver that gets events of t, and returns how
// many do. It is about nothing the fake holds: a realistic, correctly
// authenticated delivery to test a receiver with, as DoubleTick would send
// it (group events in each receiver's payload format).
func (s *Server) Trigger(t webhooks.Type) (int, error) {
	p, err := webhookstest.Payload(t, s.now())
	if err != nil {
		return 0, errors.New("doubleticktest: Trigger: " + strings.TrimPrefix(err.Error(), "webhookstest: "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(groupEvents, string(t)) {
		return s.emitPayload(t, p), nil
	}
	g := &groupState{}
	if t != webhooks.TypeGroupMessageReceived {
		g.GroupID, g.Subject = p["groupId"].(string), p["groupName"].(string)
		for _, k := range []string{"event", "orgId", "integrationId", "groupId", "groupName"} {
			delete(p, k) // emit writes them in each receiver's format
		}
	}
	return s.emit(t, g, p), nil
}
