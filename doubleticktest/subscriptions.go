package doubleticktest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Webhook subscriptions, as DoubleTick's subscription pages
// (https://docs.doubletick.io/reference/register-webhook, edit-webhooks,
// get-webhooks, delete-webhooks) document them. A registration delivers
// exactly the events it was accepted for, and nothing when none was.
// Where the pages are silent:
//
//   - an event outside the documented webhookEvents enum, the group events
//     (GROUP_*, WA_GROUP_MESSAGE_RECEIVED) among them, is refused with 400,
//     as NestJS's enum check refuses it, listing the allowed values;
//     [WithGroupEventSubscriptions] lets tests register group receivers
//     from code;
//   - an edit replaces the whole registration; an unknown webhookId at edit
//     is 400 "Invalid request format"; at deregister it is 201 {}.

// WithGroupEventSubscriptions is a convenience: the subscription API
// accepts the group events (GROUP_CREATED, GROUP_PARTICIPANT_JOINED, …,
// WA_GROUP_MESSAGE_RECEIVED) and delivers them to the receiver registered.
// DoubleTick's documented webhookEvents enum does not list them (group
// webhooks are set up in its dashboard), so by default a registration
// naming one is refused with 400. Use it to register a test's receiver through
// Webhooks.Register rather than [Server.AddReceiver].
func WithGroupEventSubscriptions() Option {
	return func(s *Server) { s.groupEventSubscriptions = true }
}

// documentedEvents is the webhookEvents enum of
// https://docs.doubletick.io/reference/register-webhook.
var documentedEvents = strings.Fields(`MESSAGE_RECEIVED MESSAGE_STATUS_UPDATE CHAT_ASSIGNED_TO_AGENT
	ASSIGNED_AGENT_STATUS_CHANGED CHAT_UNASSIGNED UPDATE_CUSTOMER_CUSTOM_FIELD WIDGET_LEAD_RECEIVED
	VERIFIED_WIDGET_LEAD_RECEIVED NEW_LEAD RAW_CLOUD_API_WEBHOOK CLOSE_CONVERSATION TEMPLATE_UPDATE ADD_TAG
	REMOVE_TAG CALL_TO_WHATSAPP_MESSAGE_RECEIVED CONVERSATION_OPENED CUSTOMER_BUSINESS_CHAT_OPEN
	CUSTOMER_NOTE_CREATED CUSTOMER_NOTE_UPDATED CUSTOMER_NOTE_DELETED POST_CALL_DISPOSITION
	CALL_INCOMING_INITIATED CALL_OUTGOING_INITIATED CALL_ACCEPTED CALL_ENDED CALL_REJECTED CALL_MISSED
	CALL_NOT_PICKED STANDBY_MESSAGE_RECEIVED MESSAGING_HANDOVER`)

// groupEvents are the group webhooks of
// https://docs.doubletick.io/reference/whatsapp-group-webhooks.
var groupEvents = []string{string(webhooks.TypeGroupCreated), string(webhooks.TypeParticipantJoined),
	string(webhooks.TypeParticipantLeft), string(webhooks.TypeParticipantRemoved), string(webhooks.TypeGroupMessageReceived)}

// webhook is a webhook registered through the subscription API.
type webhook struct {
	id       string
	name     string
	url      string
	events   []string
	wabas    []string
	receiver *Receiver
}

// readRegistration checks a RegisterPublicWebhookDtoV2 (register-webhook)
// and makes its receiver.
func (s *Server) readRegistration(w http.ResponseWriter, r *http.Request) (*webhook, bool) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return nil, false
	}
	c := checks{b: b}
	wh := &webhook{url: c.str("url", true, 0), name: c.str("name", true, 0)}
	method := c.oneOf("method", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
	if method == "" {
		c.msgs = append(c.msgs, "method should not be empty")
	}
	format := c.oneOf("bodyFormat", "JSON", "FORM_DATA")
	wh.events = c.strings("webhookEvents")
	for _, e := range wh.events {
		if !slices.Contains(documentedEvents, e) && !(s.groupEventSubscriptions && slices.Contains(groupEvents, e)) {
			c.msgs = append(c.msgs, "each value in webhookEvents must be one of the following values: "+strings.Join(documentedEvents, ", "))
			break
		}
	}
	wh.wabas = c.strings("wabaNumbers")
	for i, n := range wh.wabas {
		if l := utf8.RuneCountInString(n); l < 10 || l > 15 {
			c.msgs = append(c.msgs, fmt.Sprintf("wabaNumbers.%d must be 10 to 15 characters", i))
		}
	}
	rec := Receiver{URL: wh.url, Method: method, BodyFormat: BodyFormat(format)}
	for _, m := range []struct {
		name string
		dst  *map[string]string
	}{{"headers", &rec.Headers}, {"query", &rec.Query}} {
		if raw, ok := b[m.name]; ok {
			if err := json.Unmarshal(raw, m.dst); err != nil {
				c.msgs = append(c.msgs, m.name+" must be an object of strings")
			}
		}
	}
	if raw, ok := b["authorization"]; ok {
		var a Authorization
		if err := json.Unmarshal(raw, &a); err != nil || (a.Type != "BASIC" && a.Type != "BEARER") || a.Payload == "" {
			c.msgs = append(c.msgs, "authorization.type must be one of the following values: BASIC, BEARER", "authorization.payload should not be empty")
		} else {
			rec.Authorization = &a
		}
	}
	if !c.ok(w) {
		return nil, false
	}
	wh.receiver = &rec
	return wh, true
}

// strings reads a required, non-empty array of strings.
func (c *checks) strings(name string) []string {
	var out []string
	raw, ok := c.b[name]
	if !ok || json.Unmarshal(raw, &out) != nil || len(out) == 0 {
		c.msgs = append(c.msgs, name+" should not be empty", name+" must be an array of strings")
		return nil
	}
	return out
}

// answerRegistration makes one entry per (number, event) and registers the
// receiver for the valid events. The caller holds s.mu.
func (s *Server) answerRegistration(w http.ResponseWriter, wh *webhook) {
	valid, invalid, badNumbers := []any{}, []any{}, []any{} // invalid stays empty: see readRegistration
	var events []webhooks.Type
	for _, n := range wh.wabas {
		if !s.hasIntegration(n) {
			badNumbers = append(badNumbers, n)
			continue
		}
		for _, e := range wh.events {
			// readRegistration refused every event outside the enum.
			valid = append(valid, map[string]any{"wabaNumber": n, "webhookEventType": e})
			if !slices.Contains(events, webhooks.Type(e)) {
				events = append(events, webhooks.Type(e))
			}
		}
	}
	wh.receiver.subscribed, wh.receiver.Events = true, events
	if wh.receiver.Method == "" {
		wh.receiver.Method = http.MethodPost
	}
	if wh.receiver.BodyFormat == "" {
		wh.receiver.BodyFormat = BodyJSON
	}
	writeJSON(w, http.StatusCreated, map[string]any{"validWebhooks": valid, "invalidWebhooks": invalid, "invalidWabaNumbers": badNumbers})
}

func (s *Server) handleRegisterWebhook(w http.ResponseWriter, r *http.Request) {
	wh, ok := s.readRegistration(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	wh.id = fmt.Sprintf("wh_%06d", s.nextID)
	s.webhooks = append(s.webhooks, wh)
	s.receivers = append(s.receivers, wh.receiver)
	s.answerRegistration(w, wh)
}

func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("webhookId")
	wh, ok := s.readRegistration(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.webhooks, func(x *webhook) bool { return x.id == id })
	if i < 0 {
		writeError(w, http.StatusBadRequest, "Invalid request format")
		return
	}
	old := s.webhooks[i]
	wh.id = id
	s.webhooks[i] = wh
	s.receivers[slices.Index(s.receivers, old.receiver)] = wh.receiver
	s.answerRegistration(w, wh)
}

// handleListWebhooks lists the registrations sorted as get-webhooks
// documents: by sortBy (name, url, createdBy or integrationCount; name by
// default) in sortDirection (ASC by default, or DESC). A value outside those
// enums is 400 "Invalid request format", as the subscription pages' 400
// sample reads.
func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sortBy, direction := cmp.Or(q.Get("sortBy"), "name"), cmp.Or(q.Get("sortDirection"), "ASC")
	if !slices.Contains([]string{"name", "url", "createdBy", "integrationCount"}, sortBy) || (direction != "ASC" && direction != "DESC") {
		writeError(w, http.StatusBadRequest, "Invalid request format")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]map[string]any, 0, len(s.webhooks))
	for _, wh := range s.webhooks {
		events := make([]string, len(wh.receiver.Events))
		for i, e := range wh.receiver.Events {
			events[i] = string(e)
		}
		list = append(list, map[string]any{"webhookId": wh.id, "url": wh.url, "eventTypes": events,
			"wabaNumbers": wh.wabas, "integrationCount": len(wh.wabas), "createdBy": "doubleticktest", "name": wh.name})
	}
	slices.SortStableFunc(list, func(a, b map[string]any) int {
		var c int
		if sortBy == "integrationCount" {
			c = cmp.Compare(a[sortBy].(int), b[sortBy].(int))
		} else {
			c = strings.Compare(a[sortBy].(string), b[sortBy].(string))
		}
		if direction == "DESC" {
			c = -c
		}
		return c
	})
	// Documented as 201, with the guide's array of webhooks.
	writeJSON(w, http.StatusCreated, list)
}

func (s *Server) handleDeregisterWebhook(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	id := c.str("webhookId", true, 0)
	if !c.ok(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.webhooks, func(x *webhook) bool { return x.id == id }); i >= 0 {
		rec := s.webhooks[i].receiver
		s.webhooks = slices.Delete(s.webhooks, i, i+1)
		s.receivers = slices.DeleteFunc(s.receivers, func(r *Receiver) bool { return r == rec })
	}
	writeJSON(w, http.StatusCreated, map[string]any{})
}
