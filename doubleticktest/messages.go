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

// Messaging, as DoubleTick's send pages
// (https://docs.doubletick.io/reference/outgoing-messages-whatsapp-text and
// the others) document it. Where they are silent:
//
//   - a send with both or neither of groupId and to, or to a group the fake
//     does not hold, is 400 ("Incorrect payload" is the only documented
//     failure besides 401);
//   - a group send answers the guides' 201 {status: "SENT", recipient:
//     groupId, messageId}.
//
// Each send's delivery status is reported by MESSAGE_STATUS_UPDATE, as the
// messaging webhooks page documents it
// (https://docs.doubletick.io/reference/messaging-webhooks-1), to the
// receivers subscribed to it: SENT at once, then DELIVERED and READ after
// the delays of [WithMessageStatusDelays] (none by default); a send
// [Server.FailNextMessages] picks is reported FAILED instead. Where the page
// is silent: a send to a group is reported too, once, with no "to" (whether
// DoubleTick reports group sends, and to whom, is not documented); the
// message's customData is spread at the payload's root, as the template
// send pages say.

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
	// CustomData is the send's customData, if any.
	CustomData map[string]string
	// SentAt is when the fake received it.
	SentAt time.Time
	// Status is the last status reported: SENT, DELIVERED, READ or
	// FAILED. DeliveredAt, ReadAt and FailedAt are when it reached each,
	// zero until then.
	Status                        string
	DeliveredAt, ReadAt, FailedAt time.Time
	// FailMessage is why it FAILED.
	FailMessage string
}

// WithMessageStatusDelays makes the fake report a send DELIVERED after
// delivered, and READ after read more (both 0 or more; 0 by default, at
// once).
func WithMessageStatusDelays(delivered, read time.Duration) Option {
	return func(s *Server) {
		if delivered < 0 || read < 0 {
			s.refuse("WithMessageStatusDelays(%v, %v): delays are 0 or more", delivered, read)
		}
		s.deliveredDelay, s.readDelay = delivered, read
	}
}

// FailNextMessages makes the next n messages sent be answered as usual and
// then reported FAILED, with failMessage ("Message delivery failed" when
// empty) as the reason.
func (s *Server) FailNextMessages(n int, failMessage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failMessages, s.failMessage = n, cmp.Or(failMessage, "Message delivery failed")
}

// reportStatuses reports the statuses of sent message i. The caller holds
// s.mu.
func (s *Server) reportStatuses(i int) {
	if s.failMessages > 0 {
		s.failMessages--
		s.setStatus(i, webhooks.MessageFailed)
		return
	}
	s.setStatus(i, webhooks.MessageSent)
	s.later(s.deliveredDelay, func() {
		s.setStatus(i, webhooks.MessageDelivered)
		s.later(s.readDelay, func() { s.setStatus(i, webhooks.MessageRead) })
	})
}

// later runs f with s.mu held after d, or now, when d is 0 (the caller
// then holds s.mu). Nothing runs once the server is closed.
func (s *Server) later(d time.Duration, f func()) {
	if d == 0 {
		f()
		return
	}
	time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			f()
		}
	})
}

// setStatus records that message i reached status and reports it. The
// caller holds s.mu.
func (s *Server) setStatus(i int, status string) {
	m := &s.sent[i]
	now := s.now().UTC()
	m.Status = status
	switch status {
	case webhooks.MessageDelivered:
		m.DeliveredAt = now
	case webhooks.MessageRead:
		m.ReadAt = now
	case webhooks.MessageFailed:
		m.FailedAt, m.FailMessage = now, s.failMessage
	}
	p := map[string]any{"messageId": m.MessageID, "status": status, "statusTimestamp": now.Format(time.RFC3339Nano)}
	for k, v := range m.CustomData {
		p[k] = v
	}
	if m.To != "" {
		p["to"] = phoneDigits(m.To)
	}
	if status == webhooks.MessageSent || status == webhooks.MessageFailed {
		content := map[string]any{"type": strings.ToUpper(m.Type)}
		var c struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(m.Content, &c) == nil && c.Text != "" {
			content["text"] = c.Text
		}
		p["message"] = content
	}
	switch status {
	case webhooks.MessageSent:
		if waba := s.sendingNumber(m); waba != "" {
			p["wabaNumber"] = "+" + phoneDigits(waba)
		}
		if m.To != "" {
			p["dtCustomerId"] = "customer_" + phoneDigits(m.To)
		}
		p["sentBy"] = "api"
	case webhooks.MessageFailed:
		p["failMessage"] = m.FailMessage
	}
	s.emitPayload(webhooks.TypeMessageStatusUpdate, p)
}

// Sent returns the messages sent so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// readAddressing checks the addressing fields every send page shares:
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
		m := s.record(kind, groupID, to, from, messageID, b["content"], b["customData"])
		writeJSON(w, http.StatusCreated, map[string]any{"status": "SENT", "recipient": groupID + to, "messageId": m.MessageID})
	}
}

// record keeps a sent message and reports its statuses. The caller holds
// s.mu.
func (s *Server) record(kind, groupID, to, from, messageID string, content, customData json.RawMessage) SentMessage {
	if messageID == "" {
		messageID = s.newUUID()
	}
	m := SentMessage{Type: kind, GroupID: groupID, To: to, From: from, MessageID: messageID, Content: content, SentAt: s.now().UTC()}
	_ = json.Unmarshal(customData, &m.CustomData) // checked by the send's rules, when present
	s.sent = append(s.sent, m)
	s.reportStatuses(len(s.sent) - 1)
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
			writeInvalid(w, "messages should not be empty")
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
				writeInvalid(w, fmt.Sprintf("messages.%d: %s", i, msg))
				return
			}
		}
		for i, it := range items {
			m := s.record("template", it.groupID, it.to, it.from, it.messageID, req.Messages[i]["content"], req.Messages[i]["customData"])
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

// handleStatus serves GET /whatsapp/message/status (get-message-status).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("messageId")
	if !uuidPattern.MatchString(id) {
		writeInvalid(w, "messageId must be a UUID")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.sent, func(m SentMessage) bool { return m.MessageID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "No message found with this messageId")
		return
	}
	m := s.sent[i]
	answer := map[string]any{"messageId": id, "sentAt": m.SentAt.Format(time.RFC3339Nano),
		"deliveredAt": timeOrNull(m.DeliveredAt), "readAt": timeOrNull(m.ReadAt), "repliedAt": nil, "failedAt": timeOrNull(m.FailedAt)}
	if m.FailMessage != "" {
		answer["failedReason"] = m.FailMessage
	}
	writeJSON(w, http.StatusOK, answer)
}

// sendingNumber is the WABA number m went out from: its from, its group's,
// or the first channel's. The caller holds s.mu.
func (s *Server) sendingNumber(m *SentMessage) string {
	if m.From != "" {
		return m.From
	}
	if g := s.groups[m.GroupID]; g != nil {
		return g.WABANumber
	}
	if len(s.channels) > 0 {
		return s.channels[0].waba
	}
	return ""
}

// timeOrNull is t in RFC 3339, or null when zero.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// maxUpload is the upload limit upload-media documents.
const maxUpload = 16_777_216

// handleUpload serves POST /media/upload: it streams the file part through
// without keeping it, so that a test of a large upload stays small.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		writeInvalid(w, "file should not be empty")
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
		writeInvalid(w, "file should not be empty")
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
