package doubleticktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/internal/phone"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// PayloadFormat picks which of DoubleTick's two documented webhook formats a
// receiver gets.
type PayloadFormat int

const (
	// FormatCurrent is the newer format: "event", "orgId", "integrationId",
	// customerPhone with "+".
	FormatCurrent PayloadFormat = iota
	// FormatLegacy is the older format: no type field, no routing IDs,
	// customerPhone without "+".
	FormatLegacy
)

// BodyFormat is how a receiver's body is encoded, as in DoubleTick's
// webhook registration.
type BodyFormat = webhooks.BodyFormat

// The body formats DoubleTick's webhook registration offers. FORM_DATA is
// sent URL-encoded as the webhooks package reads it (DoubleTick does not
// document its encoding): nested keys as a[b], list items as a[0], a null
// field left out, booleans and numbers as their JSON text.
const (
	BodyJSON     = webhooks.BodyJSON
	BodyFormData = webhooks.BodyFormData
)

// Authorization is the authorization a receiver was registered with:
// Type "BASIC" (Payload "user:password") or "BEARER" (Payload the token).
// It is the webhooks package's, so that one value configures the fake's
// deliveries and the receiver's verifier ([webhooks.Authorization.Verifier]).
type Authorization = webhooks.Authorization

// Receiver is a webhook registration. Only URL is required.
type Receiver struct {
	URL           string
	Method        string // default POST
	BodyFormat    BodyFormat
	Headers       map[string]string
	Query         map[string]string
	Authorization *Authorization
	Format        PayloadFormat
	// HMACHeader, HMACSecret and HMACEncoding sign the body as a signing
	// proxy would; StandardSecret ("whsec_…") signs it the Standard
	// Webhooks way. DoubleTick itself signs nothing.
	HMACHeader     string
	HMACSecret     []byte
	HMACEncoding   webhooks.Encoding
	StandardSecret string
	// Events are the events it gets. For a receiver added with
	// AddReceiver, as DoubleTick's dashboard adds one (Settings →
	// Webhooks), nil means the group events (GROUP_CREATED, …,
	// WA_GROUP_MESSAGE_RECEIVED); name others to get them too, e.g.
	// CONVERSATION_COST_DEDUCTED, which only the dashboard subscribes
	// to. A registration through the subscription API gets exactly the
	// events it was accepted for.
	Events []webhooks.Type

	// subscribed is true for a receiver registered through the
	// subscription API: nil Events is then no event.
	subscribed bool
}

// wants reports whether r gets events of type t.
func (r *Receiver) wants(t webhooks.Type) bool {
	if r.subscribed || len(r.Events) > 0 {
		return slices.Contains(r.Events, t)
	}
	return slices.Contains(groupEvents, string(t))
}

// SentWebhook is one webhook the fake sent, or tried to send, to one receiver.
type SentWebhook struct {
	Receiver string        // the receiver's URL
	Event    webhooks.Type // the event type
	Body     []byte        // the body as sent
	Attempts int
	Status   int   // the last answer's status; 0 when none came
	Err      error // the last transport error, if any
	OK       bool  // a 2xx answer arrived
}

// delivery is a queued webhook.
type delivery struct {
	receiver *Receiver
	event    webhooks.Type
	body     []byte
	ctype    string
}

// AddReceiver registers a webhook receiver, as DoubleTick's dashboard
// does: every later event of its Events (by default, the group events) is
// delivered to it.
func (s *Server) AddReceiver(r Receiver) error {
	u, err := url.Parse(r.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("doubleticktest: receiver URL %q is not absolute", r.URL)
	}
	if r.Method == "" {
		r.Method = http.MethodPost
	}
	if r.BodyFormat == "" {
		r.BodyFormat = BodyJSON
	}
	if a := r.Authorization; a != nil && a.Type != "BASIC" && a.Type != "BEARER" {
		return fmt.Errorf("doubleticktest: authorization type %q is not BASIC or BEARER", a.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receivers = append(s.receivers, &r)
	return nil
}

// Deliveries returns the deliveries that have finished, in the order they
// finished.
func (s *Server) Deliveries() []SentWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.done)
}

// WaitDeliveries waits until n deliveries have finished (delivered or given
// up), or ctx ends.
func (s *Server) WaitDeliveries(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, changed := len(s.done), s.doneChanged
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("doubleticktest: %d of %d deliveries finished: %w", got, n, ctx.Err())
		}
	}
}

// SendMessage delivers WA_GROUP_MESSAGE_RECEIVED for a text message sent by
// from in a group.
func (s *Server) SendMessage(groupID, from, text string) error {
	e164, ok := phone.E164(from)
	if !ok {
		return fmt.Errorf("doubleticktest: %q is not a phone number", from)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.readyGroup(s.ctx, groupID)
	if err != nil {
		return err
	}
	var lastID any // the previous message's DoubleTick ID, null for the first
	if len(g.messages) > 0 {
		lastID = g.messages[len(g.messages)-1].dtID
	}
	name := ""
	for _, m := range g.members {
		if m.phone == e164 {
			name = m.name
		}
	}
	s.nextID++
	msg := message{phone: e164, at: s.now().UTC(), dtID: fmt.Sprintf("dt_%08d", s.nextID)}
	g.messages = append(g.messages, msg)
	digits := strings.TrimPrefix(e164, "+")
	s.emit(webhooks.TypeGroupMessageReceived, g, map[string]any{
		"to": metaGroupID(g.GroupID), "from": digits,
		"messageId": fmt.Sprintf("wamid.%08d", s.nextID), "dtMessageId": msg.dtID,
		"receivedAt": msg.at.Format(time.RFC3339Nano), "contact": map[string]any{"name": name},
		"integrationType": "WHATSAPP", "type": "wa_group",
		"message":         map[string]any{"type": "TEXT", "text": text, "context": map[string]any{}},
		"dtLastMessageId": lastID, "lastMessageOrigin": "CUSTOMER", "isAgentOffline": false,
		"customerId": "customer_" + digits, "dtCustomerId": "customer_" + digits,
	})
	return nil
}

// metaGroupID makes a stable Meta-style numeric group ID: DoubleTick
// documents no mapping from its group IDs to Meta's.
func metaGroupID(groupID string) string {
	h := fnv.New64a()
	io.WriteString(h, groupID)
	return fmt.Sprintf("120363%012d", h.Sum64()%1_000_000_000_000)
}

// emitMembership queues a membership event. The caller holds s.mu.
func (s *Server) emitMembership(t webhooks.Type, g *groupState, m *member, at time.Time) {
	field := map[webhooks.Type]string{
		webhooks.TypeParticipantJoined:  "participantJoinedAt",
		webhooks.TypeParticipantLeft:    "participantLeftAt",
		webhooks.TypeParticipantRemoved: "participantRemovedAt",
	}[t]
	s.emit(t, g, map[string]any{"customerPhone": m.phone, field: at.Format(time.RFC3339Nano)})
}

// emitCreated queues GROUP_CREATED. The caller holds s.mu.
func (s *Server) emitCreated(g *groupState) {
	fields := map[string]any{
		"inviteLink": "https://chat.whatsapp.com/" + g.GroupID, "groupCreatedAt": g.CreatedAt.Format(time.RFC3339Nano),
	}
	if s.earlyNulls {
		fields["groupId"], fields["groupName"], fields["inviteLink"] = nil, nil, nil
	}
	s.emit(webhooks.TypeGroupCreated, g, fields)
}

// emit queues a group event for every receiver that wants it, in the
// receiver's payload format, and returns how many do. The caller holds
// s.mu.
func (s *Server) emit(t webhooks.Type, g *groupState, fields map[string]any) int {
	return s.emitEach(t, func(r *Receiver) map[string]any {
		payload := map[string]any{}
		if t != webhooks.TypeGroupMessageReceived {
			payload["groupId"], payload["groupName"] = g.GroupID, g.Subject
			if r.Format == FormatCurrent {
				payload["event"], payload["orgId"], payload["integrationId"] = string(t), "org_doubleticktest", "int_doubleticktest"
			}
		}
		for k, v := range fields {
			if k == "customerPhone" && r.Format == FormatLegacy {
				v = strings.TrimPrefix(v.(string), "+")
			}
			payload[k] = v
		}
		return payload
	})
}

// emitPayload queues an event of one of the other families, the same
// payload for every receiver that wants it, and returns how many do. The
// caller holds s.mu.
func (s *Server) emitPayload(t webhooks.Type, payload map[string]any) int {
	return s.emitEach(t, func(*Receiver) map[string]any { return payload })
}

// emitEach queues an event of type t, with the payload build makes, for
// every receiver that wants it, and returns how many do. The caller holds
// s.mu.
func (s *Server) emitEach(t webhooks.Type, build func(*Receiver) map[string]any) int {
	n := 0
	for _, r := range s.receivers {
		if !r.wants(t) {
			continue
		}
		n++
		body, ctype, err := webhookstest.Encode(r.BodyFormat, build(r))
		if err != nil {
			continue // unreachable: the fake's payloads are strings, numbers, booleans and nulls
		}
		d := &delivery{receiver: r, event: t, body: body, ctype: ctype}
		copies := 1
		if s.duplicate {
			copies = 2
		}
		for range copies {
			if s.holding {
				s.held = append(s.held, d)
			} else {
				s.enqueue(d)
			}
		}
	}
	return n
}

// enqueue hands d to the senders. The caller holds s.mu; the queue grows
// as needed, so an event never waits for a slow receiver.
func (s *Server) enqueue(d *delivery) {
	if s.closed {
		return
	}
	s.queue = append(s.queue, d)
	s.queued.Signal()
}

// Hold keeps every later webhook back until Release, to test a receiver
// against deliveries that arrive out of order.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding = true
}

// Release sends the webhooks held since Hold, in reverse order when reverse
// is true, and stops holding.
func (s *Server) Release(reverse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reverse {
		slices.Reverse(s.held)
	}
	for _, d := range s.held {
		s.enqueue(d)
	}
	s.held, s.holding = nil, false
}

// DuplicateWebhooks makes every later webhook be delivered twice when on.
func (s *Server) DuplicateWebhooks(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duplicate = on
}

// sender sends queued deliveries until the server closes.
func (s *Server) sender() {
	defer s.senders.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.queued.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		d := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		s.deliver(d)
	}
}

// deliver sends d, retrying non-2xx answers and transport errors with
// doubling back-off, up to the configured attempts.
func (s *Server) deliver(d *delivery) {
	out := SentWebhook{Receiver: d.receiver.URL, Event: d.event, Body: d.body}
	wait := s.retryBase
	for out.Attempts < s.maxAttempts {
		out.Attempts++
		out.Status, out.Err = s.send(d)
		if out.OK = out.Status >= 200 && out.Status < 300; out.OK {
			break
		}
		if out.Attempts < s.maxAttempts {
			select {
			case <-time.After(wait):
			case <-s.stop:
				out.Attempts = s.maxAttempts
			}
			wait *= 2
		}
	}
	s.mu.Lock()
	s.done = append(s.done, out)
	close(s.doneChanged)
	s.doneChanged = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) send(d *delivery) (int, error) {
	r := d.receiver
	u, _ := url.Parse(r.URL)
	q := u.Query()
	for k, v := range r.Query {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(s.ctx, r.Method, u.String(), bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", d.ctype)
	req.Header.Set("User-Agent", "doubleticktest-webhooks")
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if a := r.Authorization; a != nil {
		if a.Type == "BASIC" {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Payload)))
		} else {
			req.Header.Set("Authorization", "Bearer "+a.Payload)
		}
	}
	if r.HMACHeader != "" {
		req.Header.Set(r.HMACHeader, webhookstest.SignHMAC(r.HMACSecret, r.HMACEncoding, d.body))
	}
	if r.StandardSecret != "" {
		id := fmt.Sprintf("msg_%x", sha256.Sum256(d.body))[:24]
		if err := webhookstest.Standard(r.StandardSecret, id, s.now())(req, d.body); err != nil {
			return 0, err
		}
	}
	resp, err := s.webhookClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}
