package doubletick

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The route keys of the messaging endpoints, each documented on its page
// under https://docs.doubletick.io/reference/ (outgoing-messages-whatsapp-text,
// -image, -video, -audio, -document, -location, -template, -template-v2;
// upload-media; get-message-status).
const (
	RouteSendText         = "POST /whatsapp/message/text"
	RouteSendImage        = "POST /whatsapp/message/image"
	RouteSendVideo        = "POST /whatsapp/message/video"
	RouteSendAudio        = "POST /whatsapp/message/audio"
	RouteSendDocument     = "POST /whatsapp/message/document"
	RouteSendLocation     = "POST /whatsapp/message/location"
	RouteSendTemplate     = "POST /whatsapp/message/template"
	RouteSendTemplateV2   = "POST /v2/whatsapp/message/template"
	RouteUploadMedia      = "POST /media/upload"
	RouteGetMessageStatus = "GET /whatsapp/message/status"
)

// The endpoints, split from their route keys once.
var (
	epSendText         = newEndpoint(RouteSendText)
	epSendImage        = newEndpoint(RouteSendImage)
	epSendVideo        = newEndpoint(RouteSendVideo)
	epSendAudio        = newEndpoint(RouteSendAudio)
	epSendDocument     = newEndpoint(RouteSendDocument)
	epSendLocation     = newEndpoint(RouteSendLocation)
	epSendTemplate     = newEndpoint(RouteSendTemplate)
	epSendTemplateV2   = newEndpoint(RouteSendTemplateV2)
	epUploadMedia      = newEndpoint(RouteUploadMedia)
	epGetMessageStatus = newEndpoint(RouteGetMessageStatus)
)

// Documented limits of the messaging fields, from the OpenAPI schemas of the
// send pages (https://docs.doubletick.io/reference/outgoing-messages-whatsapp-text
// and the other outgoing-messages-whatsapp-* pages).
const (
	MinPhoneLength      = 10 // "to" and "from": minLength
	MaxPhoneLength      = 15 // "to" and "from": maxLength
	MaxMediaURLLength   = 2048
	MaxCaptionLength    = 3000
	MaxMediaUploadBytes = 16_777_216 // /media/upload, from its 402 example
)

// sendTemplateLanguages are the template languages the send schemas accept.
var sendTemplateLanguages = []string{"en", "en_US", "en_GB", "pt_BR", "es", "id"}

// SendTemplateLanguages returns the languages DoubleTick's template send
// schemas accept, in a slice of the caller's: 6 of the 69 a template may
// be made in ([TemplateLanguages]).
func SendTemplateLanguages() []string { return slices.Clone(sendTemplateLanguages) }

// MessagesService sends messages to WhatsApp groups and phones, uploads
// media, and reads a message's delivery status. Use it through
// [Client.Messages].
//
// A send is a POST, and DoubleTick documents no idempotency for it: what
// happens when a messageId is reused is not documented. So, like Create, a
// send is retried only when it cannot have reached the server (a connection
// that could not be made, a 429, a 503 with Retry-After), unless the Client
// was built with [WithRetryNonIdempotent]. Every send carries a messageId
// (generated when you give none) and returns it, so that you can look the
// message up with GetStatus before deciding to send it again.
type MessagesService struct {
	client *Client
}

// Target says where a message goes and under which ID: exactly one of
// GroupID (a WhatsApp group) and To (a phone number).
type Target struct {
	// GroupID is the group to send to, the groupId of the group API.
	GroupID string `json:"groupId,omitempty"`
	// To is the phone number to send to, with the country code (10 to 15
	// characters, e.g. "+919999999999").
	To string `json:"to,omitempty"`
	// From is the WABA number to send from, with the country code (10 to
	// 15 characters). The schemas do not require it; DoubleTick's guides
	// do. Leave it empty to let DoubleTick choose.
	From string `json:"from,omitempty"`
	// MessageID is the message's ID, a UUID v4 (36 characters). When empty
	// the SDK generates one and sends it; the result returns it.
	MessageID string `json:"messageId,omitempty"`
}

// check validates t; templateV2 has no messageId field.
func (t *Target) check(v *validator, prefix string, hasMessageID bool) {
	switch {
	case t.GroupID == "" && t.To == "":
		v.add(prefix+"groupId", RuleRequired, "one of groupId and to is required")
	case t.GroupID != "" && t.To != "":
		v.add(prefix+"groupId", RuleOneOf, "groupId and to are mutually exclusive: set exactly one")
	}
	if t.To != "" {
		v.phone(prefix+"to", t.To)
	}
	if t.From != "" {
		v.phone(prefix+"from", t.From)
	}
	if t.GroupID != "" {
		v.text(prefix+"groupId", t.GroupID, true, 0)
	}
	if t.MessageID != "" {
		if !hasMessageID {
			v.add(prefix+"messageId", RuleOneOf, "template v2 sends take no messageId; the response returns one")
		} else if !uuidV4.MatchString(t.MessageID) {
			v.add(prefix+"messageId", RuleFormat, "must be a UUID v4 (36 characters), got %q", t.MessageID)
		}
	}
}

// phone checks a documented phone field of the sends: 10 to 15
// characters.
func (v *validator) phone(field, value string) {
	v.phoneLength(field, value, MinPhoneLength, MaxPhoneLength)
}

// phoneLength checks a phone field whose page documents min to max
// characters.
func (v *validator) phoneLength(field, value string, min, max int) {
	if n := utf8.RuneCountInString(value); n < min || n > max {
		v.add(field, RuleLength, "must be %d to %d characters with the country code, got %d", min, max, n)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// NewMessageID returns a random UUID v4, as DoubleTick's messageId takes.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:16])
	return string(s[:])
}

// TextMessage is a text message.
type TextMessage struct {
	Target
	// Text is the text. Required.
	Text string
}

// Validate checks m against the documented rules and returns a
// *[ValidationError] listing every violation, or nil. The send methods run
// the same checks before sending anything.
func (m *TextMessage) Validate() error { return validate("TextMessage", m.check) }

func (m *TextMessage) check(v *validator) {
	if v.present(m == nil) {
		m.Target.check(v, "", true)
		v.text("content.text", m.Text, true, 0)
	}
}

// MediaMessage is an image, video or audio message.
type MediaMessage struct {
	Target
	// MediaURL is where the media is, publicly reachable, at most 2048
	// characters (see [MessagesService.UploadMedia]). Required.
	MediaURL string
	// Caption is at most 3000 characters.
	Caption string
}

// Validate checks m against the documented rules; see
// [TextMessage.Validate].
func (m *MediaMessage) Validate() error { return validate("MediaMessage", m.check) }

func (m *MediaMessage) check(v *validator) {
	if v.present(m == nil) {
		m.Target.check(v, "", true)
		v.text("content.mediaUrl", m.MediaURL, true, MaxMediaURLLength)
		v.text("content.caption", m.Caption, false, MaxCaptionLength)
	}
}

// DocumentMessage is a document message.
type DocumentMessage struct {
	MediaMessage
	// Filename is the name the document is shown with.
	Filename string
}

// Validate checks m against the documented rules; see
// [TextMessage.Validate].
func (m *DocumentMessage) Validate() error { return validate("DocumentMessage", m.check) }

func (m *DocumentMessage) check(v *validator) {
	if v.present(m == nil) {
		m.MediaMessage.check(v)
	}
}

// LocationMessage is a location message.
type LocationMessage struct {
	Target
	// Latitude and Longitude are required: 0 is a latitude, so every
	// value is sent as given, but a NaN or an infinity, which JSON cannot
	// carry, is refused.
	Latitude, Longitude float64
	// Name and Address describe the place.
	Name, Address string
}

// Validate checks m against the documented rules; see
// [TextMessage.Validate].
func (m *LocationMessage) Validate() error { return validate("LocationMessage", m.check) }

func (m *LocationMessage) check(v *validator) {
	if !v.present(m == nil) {
		return
	}
	m.Target.check(v, "", true)
	for _, c := range []struct {
		field string
		value float64
	}{{"content.latitude", m.Latitude}, {"content.longitude", m.Longitude}} {
		if math.IsNaN(c.value) || math.IsInf(c.value, 0) {
			v.add(c.field, RuleFormat, "must be a finite number, got %v", c.value)
		}
	}
}

// SendResult is DoubleTick's answer to a send. Its OpenAPI pages document a
// 201 with no body and its guides {status, recipient, messageId}: both are
// read, and MessageID is the one sent when the body has none.
type SendResult struct {
	// Status is e.g. "SENT"; "" when the answer had no body.
	Status string `json:"status"`
	// Recipient is whom the message went to, as DoubleTick reports it.
	Recipient string `json:"recipient"`
	// MessageID is the message's ID.
	MessageID string `json:"messageId"`
}

// allowsEmptyBody lets a 2xx answer without a body decode to the zero value.
func (*SendResult) allowsEmptyBody() {}

// sendBody is the JSON of every send but templates.
type sendBody struct {
	Target
	Content any `json:"content"`
}

// send sends one message, checked already, under a messageId: its own or
// a new one.
func (s *MessagesService) send(ctx context.Context, ep endpoint, t Target, content any) (*SendResult, *Response, error) {
	body := sendBody{Target: t, Content: content}
	if body.MessageID == "" {
		body.MessageID = NewMessageID()
	}
	res, resp, err := call[SendResult](ctx, s.client, ep, nil, body)
	if err != nil {
		return nil, resp, err
	}
	if res.MessageID == "" {
		res.MessageID = body.MessageID
	}
	return res, resp, nil
}

// SendText sends a text message.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-text
func (s *MessagesService) SendText(ctx context.Context, m *TextMessage) (*SendResult, *Response, error) {
	var v validator
	m.check(&v)
	if err := v.err("MessagesService.SendText"); err != nil {
		return nil, nil, err
	}
	return s.send(ctx, epSendText, m.Target, textContent{m.Text})
}

// textContent is the content of a text message.
type textContent struct {
	Text string `json:"text"`
}

// mediaContent is the content of an image, video, audio or document.
type mediaContent struct {
	MediaURL string `json:"mediaUrl"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// sendMedia sends an image, a video or an audio message for the method
// named.
func (s *MessagesService) sendMedia(ctx context.Context, ep endpoint, method string, m *MediaMessage) (*SendResult, *Response, error) {
	var v validator
	m.check(&v)
	if err := v.err(method); err != nil {
		return nil, nil, err
	}
	return s.send(ctx, ep, m.Target, mediaContent{MediaURL: m.MediaURL, Caption: m.Caption})
}

// SendImage sends an image (JPG, PNG or WEBP, by DoubleTick's guide).
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-image
func (s *MessagesService) SendImage(ctx context.Context, m *MediaMessage) (*SendResult, *Response, error) {
	return s.sendMedia(ctx, epSendImage, "MessagesService.SendImage", m)
}

// SendVideo sends a video (MP4, by DoubleTick's guide).
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-video
func (s *MessagesService) SendVideo(ctx context.Context, m *MediaMessage) (*SendResult, *Response, error) {
	return s.sendMedia(ctx, epSendVideo, "MessagesService.SendVideo", m)
}

// SendAudio sends an audio message (MP3, by DoubleTick's guide).
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-audio
func (s *MessagesService) SendAudio(ctx context.Context, m *MediaMessage) (*SendResult, *Response, error) {
	return s.sendMedia(ctx, epSendAudio, "MessagesService.SendAudio", m)
}

// SendDocument sends a document.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-document
func (s *MessagesService) SendDocument(ctx context.Context, m *DocumentMessage) (*SendResult, *Response, error) {
	var v validator
	m.check(&v)
	if err := v.err("MessagesService.SendDocument"); err != nil {
		return nil, nil, err
	}
	return s.send(ctx, epSendDocument, m.Target, mediaContent{MediaURL: m.MediaURL, Caption: m.Caption, Filename: m.Filename})
}

// SendLocation sends a location.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-location
func (s *MessagesService) SendLocation(ctx context.Context, m *LocationMessage) (*SendResult, *Response, error) {
	var v validator
	m.check(&v)
	if err := v.err("MessagesService.SendLocation"); err != nil {
		return nil, nil, err
	}
	return s.send(ctx, epSendLocation, m.Target, locationContent{m.Latitude, m.Longitude, m.Name, m.Address})
}

// locationContent is the content of a location message.
type locationContent struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// TemplateMessage is one message of a v1 template send.
type TemplateMessage struct {
	Target
	// Content names the template and fills it.
	Content TemplateContent `json:"content"`
	// CustomData is stored against the message and spread at the root of
	// its status webhooks and of the replies to it.
	CustomData map[string]string `json:"customData,omitempty"`
}

// TemplateContent names an approved template and fills its placeholders.
type TemplateContent struct {
	// TemplateName is required.
	TemplateName string `json:"templateName"`
	// Language is one of [SendTemplateLanguages]. Required.
	Language string `json:"language"`
	// TemplateData fills the template.
	TemplateData *TemplateData `json:"templateData,omitempty"`
}

// TemplateData fills a v1 template.
type TemplateData struct {
	Header  *TemplateHeader  `json:"header,omitempty"`
	Body    *TemplateBody    `json:"body,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
	// Cards fill a carousel template, as DoubleTick's schema describes them.
	Cards []json.RawMessage `json:"cards,omitempty"`
}

// TemplateHeader fills a template's header.
type TemplateHeader struct {
	// Type is TEXT, IMAGE, DOCUMENT, VIDEO or LOCATION.
	Type        string   `json:"type,omitempty"`
	Placeholder string   `json:"placeholder,omitempty"`
	MediaURL    string   `json:"mediaUrl,omitempty"`
	Filename    string   `json:"filename,omitempty"`
	Latitude    *float64 `json:"latitude,omitempty"`
	Longitude   *float64 `json:"longitude,omitempty"`
}

// TemplateBody fills a v1 template's body placeholders, in order.
type TemplateBody struct {
	Placeholders []string `json:"placeholders"`
}

// TemplateButton fills a URL button; Parameter is needed only when the URL
// is dynamic.
type TemplateButton struct {
	// Type is "URL".
	Type      string `json:"type"`
	Parameter string `json:"parameter,omitempty"`
}

// checkTemplate checks the template name and language of either version.
func checkTemplate(v *validator, prefix, name, language string) {
	v.text(prefix+"templateName", name, true, 0)
	if !slices.Contains(sendTemplateLanguages, language) {
		v.add(prefix+"language", RuleOneOf, "must be one of %v, got %q", sendTemplateLanguages, language)
	}
}

// SendTemplateRequest is the body of [MessagesService.SendTemplate]: one or
// more v1 template messages, each to a group or a phone.
type SendTemplateRequest struct {
	// Messages are the messages to send. At least one.
	Messages []TemplateMessage `json:"messages"`
}

// Validate checks r against the documented rules; see
// [TextMessage.Validate].
func (r *SendTemplateRequest) Validate() error { return validate("SendTemplateRequest", r.check) }

func (r *SendTemplateRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	if len(r.Messages) == 0 {
		v.add("messages", RuleRequired, "at least one message is required")
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		prefix := "messages[" + strconv.Itoa(i) + "]."
		m.Target.check(v, prefix, true)
		checkTemplate(v, prefix+"content.", m.Content.TemplateName, m.Content.Language)
	}
}

// SendTemplate sends v1 template messages and returns one result per
// message the answer describes. DoubleTick's guide shows a single object
// for an array request; both are read. A message without a messageId is
// sent under a new one, which its result returns.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-template
func (s *MessagesService) SendTemplate(ctx context.Context, req *SendTemplateRequest) ([]SendResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("MessagesService.SendTemplate"); err != nil {
		return nil, nil, err
	}
	body := SendTemplateRequest{Messages: slices.Clone(req.Messages)}
	for i := range body.Messages {
		if body.Messages[i].MessageID == "" {
			body.Messages[i].MessageID = NewMessageID()
		}
	}
	res, resp, err := call[templateResults](ctx, s.client, epSendTemplate, nil, &body)
	if err != nil {
		return nil, resp, err
	}
	out := []SendResult(res.oneOrMany)
	if len(out) == 0 { // no body: report what was sent
		for _, m := range body.Messages {
			out = append(out, SendResult{MessageID: m.MessageID})
		}
	}
	return out, resp, nil
}

// oneOrMany decodes a JSON array of T, or a single T as a list of one:
// where DoubleTick's OpenAPI pages and guides disagree on which they send.
type oneOrMany[T any] []T

// UnmarshalJSON reads an array, or one value as a list of one.
func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]T)(o))
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = oneOrMany[T]{one}
	return nil
}

// templateResults is the answer to a v1 template send: none (the OpenAPI's
// empty 201), one result (the guide's), or several.
type templateResults struct{ oneOrMany[SendResult] }

func (*templateResults) allowsEmptyBody() {}

// TemplateMessageV2 is one message of a v2 template send. It has no
// messageId: the answer gives one per message.
type TemplateMessageV2 struct {
	Target
	Content    TemplateContentV2 `json:"content"`
	CustomData map[string]string `json:"customData,omitempty"`
}

// TemplateContentV2 names a template and fills it, v2 style.
type TemplateContentV2 struct {
	TemplateName string          `json:"templateName"`
	Language     string          `json:"language"`
	TemplateData *TemplateDataV2 `json:"templateData,omitempty"`
}

// TemplateDataV2 fills a v2 template: body placeholders are key-value pairs.
type TemplateDataV2 struct {
	Header  *TemplateHeaderV2 `json:"header,omitempty"`
	Body    *TemplateBodyV2   `json:"body,omitempty"`
	Buttons []TemplateButton  `json:"buttons,omitempty"`
	Cards   []json.RawMessage `json:"cards,omitempty"`
}

// TemplateHeaderV2 fills a v2 template's header.
type TemplateHeaderV2 struct {
	// Type is TEXT, IMAGE, DOCUMENT or VIDEO.
	Type string `json:"type,omitempty"`
	// MediaURL is the header's media, for the media types.
	MediaURL string `json:"mediaUrl,omitempty"`
}

// TemplateBodyV2 fills a v2 template's body placeholders, each a key-value
// pair.
type TemplateBodyV2 struct {
	Placeholders []map[string]string `json:"placeholders"`
}

// TemplateResultV2 is the answer to a v2 template send: one entry per
// message.
type TemplateResultV2 struct {
	Messages []TemplateMessageResultV2 `json:"messages"`
}

// TemplateMessageResultV2 is what became of one message of a v2 template
// send.
type TemplateMessageResultV2 struct {
	// Status is SENT, FAILED or ENQUEUED.
	Status       string `json:"status"`
	Recipient    string `json:"recipient"`
	MessageID    string `json:"messageId"`
	ErrorMessage string `json:"errorMessage"`
}

// SendTemplateV2Request is the body of [MessagesService.SendTemplateV2].
type SendTemplateV2Request struct {
	// Messages are the messages to send. At least one.
	Messages []TemplateMessageV2 `json:"messages"`
	// ByPassMediaURLValidation asks DoubleTick not to check the media URLs.
	ByPassMediaURLValidation bool `json:"byPassMediaUrlValidation,omitempty"`
}

// Validate checks r against the documented rules; see
// [TextMessage.Validate].
func (r *SendTemplateV2Request) Validate() error {
	return validate("SendTemplateV2Request", r.check)
}

func (r *SendTemplateV2Request) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	if len(r.Messages) == 0 {
		v.add("messages", RuleRequired, "at least one message is required")
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		prefix := "messages[" + strconv.Itoa(i) + "]."
		m.Target.check(v, prefix, false)
		checkTemplate(v, prefix+"content.", m.Content.TemplateName, m.Content.Language)
	}
}

// SendTemplateV2 sends v2 template messages; the answer gives each its
// messageId.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/outgoing-messages-whatsapp-template-v2
func (s *MessagesService) SendTemplateV2(ctx context.Context, req *SendTemplateV2Request) (*TemplateResultV2, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("MessagesService.SendTemplateV2"); err != nil {
		return nil, nil, err
	}
	return call[TemplateResultV2](ctx, s.client, epSendTemplateV2, nil, req)
}

// MessageStatus is a message's delivery status. Each time is zero, and absent
// from the JSON this type marshals to, until the matching WhatsApp status
// arrives.
type MessageStatus struct {
	MessageID   string    `json:"messageId"`
	SentAt      time.Time `json:"sentAt,omitzero"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	ReadAt      time.Time `json:"readAt,omitzero"`
	RepliedAt   time.Time `json:"repliedAt,omitzero"`
	FailedAt    time.Time `json:"failedAt,omitzero"`
	// FailedReason and ErrorCode are set when the message failed.
	FailedReason string `json:"failedReason"`
	ErrorCode    string `json:"errorCode"`
}

// UnmarshalJSON reads errorCode as a string or a number (its example is
// "131047"); a null time stays the zero time.
func (m *MessageStatus) UnmarshalJSON(b []byte) error {
	type plain MessageStatus
	var v struct {
		plain
		ErrorCode scalarText `json:"errorCode"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = MessageStatus(v.plain)
	m.ErrorCode = string(v.ErrorCode)
	return nil
}

// scalarText reads a field DoubleTick documents with one JSON type and
// shows with another (errorCode "131047" or 131047, integrationCount 2 or
// "3"): the text of a string, the JSON of anything else, "" for null.
type scalarText string

// UnmarshalJSON keeps the value's text.
func (s *scalarText) UnmarshalJSON(b []byte) error {
	var str string
	switch {
	case string(b) == "null":
		*s = ""
	case json.Unmarshal(b, &str) == nil:
		*s = scalarText(str)
	default:
		*s = scalarText(b)
	}
	return nil
}

// GetStatus reads a message's delivery status by its messageId. DoubleTick
// allows 1 request per second per organisation here, which is this route's
// default client-side limit.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-message-status
func (s *MessagesService) GetStatus(ctx context.Context, messageID string) (*MessageStatus, *Response, error) {
	var v validator
	if !uuidV4.MatchString(messageID) {
		v.add("messageId", RuleFormat, "must be a UUID, got %q", messageID)
	}
	if err := v.err("MessagesService.GetStatus"); err != nil {
		return nil, nil, err
	}
	q := struct {
		MessageID string `url:"messageId"`
	}{messageID}
	return call[MessageStatus](ctx, s.client, epGetMessageStatus, q, nil)
}
