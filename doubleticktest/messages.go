package doubleticktest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Messaging and webhook subscriptions, as DoubleTick's send pages
// (https://docs.doubletick.io/reference/outgoing-messages-whatsapp-text and
// the others) and subscription pages (register-webhook, edit-webhooks,
// get-webhooks, delete-webhooks) document them. Where they are silent:
//
//   - a send with both or neither of groupId and to, or to a group the fake
//     does not hold, is 400 ("Incorrect payload" is the only documented
//     failure besides 401);
//   - a group send answers the guides' 201 {status: "SENT", recipient:
//     groupId, messageId};
//   - a registration may name the group events (GROUP_*,
//     WA_GROUP_MESSAGE_RECEIVED), which the documented enum lacks, so that
//     tests can register group receivers from code; they come back in
//     validWebhooks unless [WithStrictWebhookEvents];
//   - an edit replaces the whole registration; an unknown webhookId at edit
//     is 400 "Invalid request format"; at deregister it is 201 {}.

// SentMessage is a message sent through the fake's send endpoints.
type SentMessage struct {
	// Type is the message type: text, image, video, audio, document,
	// location or template.
	Type string
	// GroupID or To is where it went; From is the WABA number, if given.
	GroupID, To, From string
	// MessageID is its ID, the client's or one the fake made.
	MessageID string
	// Content is the message's content object, as sent.
	Content json.RawMessage
	// SentAt is when the fake received it.
	SentAt time.Time
}

// Sent returns the messages sent so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// WithStrictWebhookEvents makes the subscription API refuse the group
// events, which DoubleTick's documented event enum does not list: they come
// back in invalidWebhooks.
func WithStrictWebhookEvents() Option { return func(s *Server) { s.strictEvents = true } }

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

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// readAddressing checks the shared addressing fields of a send (A.2):
// to and from 10 to 15 characters, messageId 36, content required.
func readAddressing(c *checks, withMessageID bool) (groupID, to, from, messageID string) {
	groupID = c.str("groupId", false, 0)
	to = c.length("to", 10, 15)
	from = c.length("from", 10, 15)
	if withMessageID {
		messageID = c.length("messageId", 36, 36)
	}
	if _, ok := c.b["content"]; !ok {
		c.msgs = append(c.msgs, "content should not be empty")
	}
	return groupID, to, from, messageID
}

// length reads an optional string of min to max characters.
func (c *checks) length(name string, min, max int) string {
	v := c.str(name, false, max)
	if v != "" && utf8.RuneCountInString(v) < min {
		c.msgs = append(c.msgs, fmt.Sprintf("%s must be longer than or equal to %d characters", name, min))
	}
	return v
}

// target checks that exactly one of groupId and to is set, and that the
// group exists. The caller holds s.mu.
func (s *Server) target(groupID, to string) string {
	switch {
	case groupID == "" && to == "":
		return "one of groupId and to is required"
	case groupID != "" && to != "":
		return "groupId and to are mutually exclusive"
	case groupID != "":
		if g, ok := s.groups[groupID]; !ok || g.pending {
			return notFound
		}
	}
	return ""
}

// handleSend serves the text, image, video, audio, document and location
// sends.
func (s *Server) handleSend(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, ok := decodeRequest(w, r)
		if !ok {
			return
		}
		c := checks{b: b}
		groupID, to, from, messageID := readAddressing(&c, true)
		if !c.ok(w) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if msg := s.target(groupID, to); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		m := s.record(kind, groupID, to, from, messageID, b["content"])
		writeJSON(w, http.StatusCreated, map[string]any{"status": "SENT", "recipient": groupID + to, "messageId": m.MessageID})
	}
}

// record keeps a sent message. The caller holds s.mu.
func (s *Server) record(kind, groupID, to, from, messageID string, content json.RawMessage) SentMessage {
	if messageID == "" {
		messageID = s.newUUID()
	}
	m := SentMessage{Type: kind, GroupID: groupID, To: to, From: from, MessageID: messageID, Content: content, SentAt: s.now().UTC()}
	s.sent = append(s.sent, m)
	return m
}

// newUUID makes a UUID v4 from the fake's counter: unique, not random. The
// caller holds s.mu.
func (s *Server) newUUID() string {
	s.nextID++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.nextID)
}

// handleTemplate serves both template sends: v1 takes a messageId per item
// and answers the guides' object (an array for several), v2 answers its
// documented messages[].
func (s *Server) handleTemplate(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []body `json:"messages"`
		}
		if err := decodeBody(w, r, &req); err != nil || len(req.Messages) == 0 {
			writeError(w, http.StatusBadRequest, "messages should not be empty")
			return
		}
		type item struct{ groupID, to, from, messageID string }
		items := make([]item, len(req.Messages))
		for i, b := range req.Messages {
			c := checks{b: b}
			items[i].groupID, items[i].to, items[i].from, items[i].messageID = readAddressing(&c, !v2)
			if !c.ok(w) {
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		results := make([]map[string]any, len(items))
		for i, it := range items {
			if msg := s.target(it.groupID, it.to); msg != "" {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("messages.%d: %s", i, msg))
				return
			}
		}
		for i, it := range items {
			m := s.record("template", it.groupID, it.to, it.from, it.messageID, req.Messages[i]["content"])
			results[i] = map[string]any{"status": "SENT", "recipient": it.groupID + it.to, "messageId": m.MessageID}
		}
		switch {
		case v2:
			for _, res := range results {
				res["errorMessage"] = ""
			}
			writeJSON(w, http.StatusCreated, map[string]any{"messages": results})
		case len(results) == 1:
			writeJSON(w, http.StatusCreated, results[0])
		default:
			writeJSON(w, http.StatusCreated, results)
		}
	}
}

// handleStatus serves GET /whatsapp/message/status (A.7).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("messageId")
	if !uuidPattern.MatchString(id) {
		writeError(w, http.StatusBadRequest, "messageId must be a UUID")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.sent, func(m SentMessage) bool { return m.MessageID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "No message found with this messageId")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messageId": id, "sentAt": s.sent[i].SentAt.Format(time.RFC3339Nano),
		"deliveredAt": nil, "readAt": nil, "repliedAt": nil, "failedAt": nil})
}

// maxUpload is the documented upload limit (A.6).
const maxUpload = 16_777_216

// handleUpload serves POST /media/upload: it streams the file part through
// without keeping it, so that a test of a large upload stays small.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		writeError(w, http.StatusBadRequest, "file should not be empty")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var name string
	var size int64
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "Malformed multipart body")
			return
		}
		if part.FormName() != "file" {
			continue
		}
		name = part.FileName()
		size, err = io.Copy(io.Discard, io.LimitReader(part, maxUpload+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "Malformed multipart body")
			return
		}
		if size > maxUpload {
			writeError(w, http.StatusBadRequest, "File size is larger than the maximum allowed limit: 16777216 bytes.")
			return
		}
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "file should not be empty")
		return
	}
	s.mu.Lock()
	s.uploads++
	n := s.uploads
	s.uploadedBytes += size
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"mediaUrl": fmt.Sprintf("%s/media/%d/%s", s.URL, n, name), "expiresIn": 86400})
}

// UploadedBytes returns how many file bytes the upload endpoint received.
func (s *Server) UploadedBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploadedBytes
}

// webhook is a webhook registered through the subscription API.
type webhook struct {
	id       string
	name     string
	url      string
	events   []string
	wabas    []string
	receiver *Receiver
}

// readRegistration checks a RegisterPublicWebhookDtoV2 (B.1) and makes its
// receiver.
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
	valid, invalid, badNumbers := []any{}, []any{}, []any{}
	var events []webhooks.Type
	for _, n := range wh.wabas {
		if !s.hasIntegration(n) {
			badNumbers = append(badNumbers, n)
			continue
		}
		for _, e := range wh.events {
			entry := map[string]any{"wabaNumber": n, "webhookEventType": e}
			if slices.Contains(documentedEvents, e) || (!s.strictEvents && slices.Contains(groupEvents, e)) {
				valid = append(valid, entry)
				if !slices.Contains(events, webhooks.Type(e)) {
					events = append(events, webhooks.Type(e))
				}
			} else {
				invalid = append(invalid, entry)
			}
		}
	}
	wh.receiver.events = events
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
		events := make([]string, len(wh.receiver.events))
		for i, e := range wh.receiver.events {
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
