package doubleticktest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
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
	writeJSON(w, http.StatusOK, map[string]any{"messageId": id, "sentAt": s.sent[i].SentAt.Format(time.RFC3339Nano),
		"deliveredAt": nil, "readAt": nil, "repliedAt": nil, "failedAt": nil})
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
