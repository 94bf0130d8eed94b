package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBodySize is the largest body a [Handler] reads: 1 MiB.
const DefaultMaxBodySize = 1 << 20

// Handler receives DoubleTick's webhooks: it verifies each request, decodes
// it, drops redeliveries, and runs your callbacks. It answers
//
//   - 405 to a method it was not told to accept (POST by default),
//   - 413 to a body over the size limit,
//   - 401 when the [Verifier] refuses the request,
//   - 415 when the Content-Type is not that of the body format the webhook
//     was registered with ([WithBodyFormat]; JSON by default),
//   - 400 when the body is not a webhook payload,
//   - 503 with Retry-After when the request ends (its context) while
//     another delivery of the same event is still being handled (with a
//     [Deduplicator]; until then the request waits for that delivery),
//   - 500 when a callback returns an error or panics, or the Deduplicator
//     fails,
//   - 200 once every callback has returned nil, or when the event was
//     already handled that way.
//
// DoubleTick documents no retry of a failed delivery: its only retry setting
// is retryOnTimeout, and nothing says a 500 is sent again. An event whose
// callback fails here may therefore be lost. Where that matters, store each
// delivery durably before acknowledging it and run the callbacks from the
// store (the inbox module of this SDK does that).
//
// It is safe for concurrent use.
type Handler struct {
	verifier Verifier
	methods  []string
	maxBody  int64
	format   BodyFormat
	paths    map[string]Type // WithPathType's
	dedup    Deduplicator
	typed    map[Type]func(context.Context, Event) error
	any      []func(context.Context, Event) error
	logger   *slog.Logger
	observer Observer
	// orgs and orgID: a Handler of many organisations (NewOrgHandler).
	orgs  OrgLookup
	orgID func(*http.Request) string
}

// HandlerOption configures a [Handler].
type HandlerOption func(*Handler) error

// WithMethods sets the HTTP methods the handler accepts. DoubleTick lets the
// registrant choose the method of each webhook; POST is the default.
func WithMethods(methods ...string) HandlerOption {
	return func(h *Handler) error {
		if len(methods) == 0 {
			return errors.New("webhooks: WithMethods: no method")
		}
		h.methods = make([]string, len(methods))
		for i, m := range methods {
			h.methods[i] = strings.ToUpper(m)
		}
		return nil
	}
}

// WithMaxBodySize sets the largest body the handler reads (default
// [DefaultMaxBodySize]); a larger one is answered 413 without being read.
func WithMaxBodySize(n int64) HandlerOption {
	return func(h *Handler) error {
		if n <= 0 {
			return fmt.Errorf("webhooks: WithMaxBodySize: need a positive size, got %d", n)
		}
		h.maxBody = n
		return nil
	}
}

// WithBodyFormat sets the body format the webhook was registered with
// (default [BodyJSON]). Requests whose Content-Type does not belong to it
// are answered 415 and never parsed: no signature covers the Content-Type,
// so it must not choose how a signed body is read (see [ParseContent]).
// DoubleTick does not document the Content-Type it sends; the handler
// expects application/json for JSON, and application/x-www-form-urlencoded
// or multipart/form-data for FORM_DATA, and logs every 415 at Warn.
func WithBodyFormat(f BodyFormat) HandlerOption {
	return func(h *Handler) error {
		if f != BodyJSON && f != BodyFormData {
			return fmt.Errorf("webhooks: WithBodyFormat: unknown format %q, want %q or %q", f, BodyJSON, BodyFormData)
		}
		h.format = f
		return nil
	}
}

// WithPathType tells the handler that requests to path (the request URL's
// path, as the handler sees it) are deliveries of a webhook registered for
// events of type t, so that a body naming no type of its own is decoded as
// t (see [ParseAs]): DoubleTick's status updates, chat assignments,
// conversation events and cost events carry no type field, and this package
// never guesses one from a payload's shape. Register each such event at a
// URL of its own. A body that names its type is decoded as that type.
// Without it, such bodies come as [*Unknown] with an empty Type. A type
// this package does not decode gives an *Unknown of that Type.
func WithPathType(path string, t Type) HandlerOption {
	return func(h *Handler) error {
		switch {
		case !strings.HasPrefix(path, "/"):
			return fmt.Errorf("webhooks: WithPathType: path %q does not start with /", path)
		case t == "":
			return fmt.Errorf("webhooks: WithPathType: no type for %s", path)
		case h.paths[path] != "" && h.paths[path] != t:
			return fmt.Errorf("webhooks: WithPathType: %s is given both %s and %s", path, h.paths[path], t)
		}
		if h.paths == nil {
			h.paths = map[string]Type{}
		}
		h.paths[path] = t
		return nil
	}
}

// WithDeduplicator makes the handler acknowledge a redelivered event without
// running its callbacks again (see [Event.DedupKey]; an event whose key is
// "" always runs them). A delivery that
// arrives while an earlier one of the same event is still being handled
// waits for it, since DoubleTick retries no delivery answered with an
// error: it is answered 200 once that one's callbacks have all returned
// nil, and runs them itself if they failed. Only an event whose callbacks
// all returned nil is acknowledged as a duplicate; a request that ends while
// it waits is answered 503 with "Retry-After: 5".
func WithDeduplicator(d Deduplicator) HandlerOption {
	return func(h *Handler) error {
		if d == nil {
			return errors.New("webhooks: WithDeduplicator: nil Deduplicator")
		}
		h.dedup = d
		return nil
	}
}

// WithLogger sets where the handler logs the requests it refuses and the
// callbacks that fail, at Warn, and those that panic, at Error with their
// stack. By default it logs nothing.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(h *Handler) error {
		if l == nil {
			return errors.New("webhooks: WithLogger: nil logger")
		}
		h.logger = l
		return nil
	}
}

// OnEvent adds a callback run for every event, *Unknown ones included,
// after the typed callback of its type.
func OnEvent(f func(context.Context, Event) error) HandlerOption {
	return func(h *Handler) error {
		if f == nil {
			return errors.New("webhooks: OnEvent: nil callback")
		}
		h.any = append(h.any, f)
		return nil
	}
}

// OnGroupCreated sets the callback for GROUP_CREATED.
func OnGroupCreated(f func(context.Context, *GroupCreated) error) HandlerOption {
	return on(TypeGroupCreated, f)
}

// OnParticipantJoined sets the callback for GROUP_PARTICIPANT_JOINED.
func OnParticipantJoined(f func(context.Context, *ParticipantJoined) error) HandlerOption {
	return on(TypeParticipantJoined, f)
}

// OnParticipantLeft sets the callback for GROUP_PARTICIPANT_LEFT.
func OnParticipantLeft(f func(context.Context, *ParticipantLeft) error) HandlerOption {
	return on(TypeParticipantLeft, f)
}

// OnParticipantRemoved sets the callback for GROUP_PARTICIPANT_REMOVED.
func OnParticipantRemoved(f func(context.Context, *ParticipantRemoved) error) HandlerOption {
	return on(TypeParticipantRemoved, f)
}

// OnGroupMessageReceived sets the callback for WA_GROUP_MESSAGE_RECEIVED.
func OnGroupMessageReceived(f func(context.Context, *GroupMessageReceived) error) HandlerOption {
	return on(TypeGroupMessageReceived, f)
}

// OnMessageStatusUpdate sets the callback for MESSAGE_STATUS_UPDATE.
func OnMessageStatusUpdate(f func(context.Context, *MessageStatusUpdate) error) HandlerOption {
	return on(TypeMessageStatusUpdate, f)
}

// OnTemplateUpdate sets the callback for TEMPLATE_UPDATE.
func OnTemplateUpdate(f func(context.Context, *TemplateUpdate) error) HandlerOption {
	return on(TypeTemplateUpdate, f)
}

// OnCustomerNoteCreated sets the callback for CUSTOMER_NOTE_CREATED.
func OnCustomerNoteCreated(f func(context.Context, *CustomerNoteCreated) error) HandlerOption {
	return on(TypeCustomerNoteCreated, f)
}

// OnCustomerNoteUpdated sets the callback for CUSTOMER_NOTE_UPDATED.
func OnCustomerNoteUpdated(f func(context.Context, *CustomerNoteUpdated) error) HandlerOption {
	return on(TypeCustomerNoteUpdated, f)
}

// OnCustomerNoteDeleted sets the callback for CUSTOMER_NOTE_DELETED.
func OnCustomerNoteDeleted(f func(context.Context, *CustomerNoteDeleted) error) HandlerOption {
	return on(TypeCustomerNoteDeleted, f)
}

// OnChatAssignedToAgent sets the callback for CHAT_ASSIGNED_TO_AGENT.
func OnChatAssignedToAgent(f func(context.Context, *ChatAssignedToAgent) error) HandlerOption {
	return on(TypeChatAssignedToAgent, f)
}

// OnChatUnassigned sets the callback for CHAT_UNASSIGNED.
func OnChatUnassigned(f func(context.Context, *ChatUnassigned) error) HandlerOption {
	return on(TypeChatUnassigned, f)
}

// OnConversationOpened sets the callback for CONVERSATION_OPENED.
func OnConversationOpened(f func(context.Context, *ConversationOpened) error) HandlerOption {
	return on(TypeConversationOpened, f)
}

// OnCloseConversation sets the callback for CLOSE_CONVERSATION.
func OnCloseConversation(f func(context.Context, *CloseConversation) error) HandlerOption {
	return on(TypeCloseConversation, f)
}

// OnConversationCostDeducted sets the callback for CONVERSATION_COST_DEDUCTED.
func OnConversationCostDeducted(f func(context.Context, *ConversationCostDeducted) error) HandlerOption {
	return on(TypeConversationCostDeducted, f)
}

// OnSLAEscalated sets the callback for ON_SLA_ESCALATED_PUBLIC.
func OnSLAEscalated(f func(context.Context, *SLAEscalated) error) HandlerOption {
	return on(TypeSLAEscalated, f)
}

func on[T Event](t Type, f func(context.Context, T) error) HandlerOption {
	return func(h *Handler) error {
		if f == nil {
			return fmt.Errorf("webhooks: nil callback for %s", t)
		}
		h.typed[t] = func(ctx context.Context, e Event) error { return f(ctx, e.(T)) }
		return nil
	}
}

// NewHandler returns a Handler that checks every request with v.
func NewHandler(v Verifier, opts ...HandlerOption) (*Handler, error) {
	if v == nil {
		return nil, errors.New("webhooks: NewHandler: nil Verifier; every webhook must be verified")
	}
	h := newHandler()
	h.verifier = v
	return h.apply(opts)
}

// newHandler returns a Handler with the defaults, and no verifier.
func newHandler() *Handler {
	return &Handler{
		methods: []string{http.MethodPost},
		maxBody: DefaultMaxBodySize,
		format:  BodyJSON,
		typed:   map[Type]func(context.Context, Event) error{},
		logger:  slog.New(slog.DiscardHandler),
	}
}

// apply applies opts to h and returns it.
func (h *Handler) apply(opts []HandlerOption) (*Handler, error) {
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Delivery is one webhook request that [Handler.Receive] verified and
// decoded.
type Delivery struct {
	// Event is the decoded event.
	Event Event
	// Body is the request body as received, and ContentType its header.
	Body        []byte
	ContentType string
	// PathType is the type [WithPathType] gave the request's path, ""
	// when none: decode Body again with [ParseContentAs](PathType,
	// ContentType, Body) to get Event back.
	PathType Type
	// Org is the ID of the organisation the request was addressed to, for
	// a Handler made by [NewOrgHandler]; "" for one of one organisation.
	Org string
}

// DedupKey is the event's dedup key in its organisation's namespace
// ([OrgDedupKey]): what the Handler's Deduplicator and the inbox remember.
func (d Delivery) DedupKey() string { return OrgDedupKey(d.Org, d.Event.DedupKey()) }

// Refusal is why [Handler.Receive] refused a request, with the status to
// answer it with.
type Refusal struct {
	// Status is the HTTP status: 400, 401, 404 (an organisation the
	// Handler does not serve), 405, 413 or 415; 500 when an organisation's
	// lookup failed.
	Status int
	// Err is the reason, for logs; it is never sent to the client.
	Err error
	// Org is the ID of the organisation the request was addressed to, when
	// the Handler serves many and knew it; "" otherwise.
	Org string
}

// refusal returns a Refusal with status and err.
func refusal(status int, err error) *Refusal { return &Refusal{Status: status, Err: err} }

// Error gives the status and the reason.
func (r *Refusal) Error() string {
	return fmt.Sprintf("webhooks: refused with %d: %v", r.Status, r.Err)
}

// Unwrap returns the reason.
func (r *Refusal) Unwrap() error { return r.Err }

// ServeHTTP handles one webhook delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The observer's context goes to the callbacks, the log and the
	// observer, not into r: a copy of the request for each delivery would
	// cost more than the rest of the observing.
	ctx := r.Context()
	if h.observer.Start != nil {
		if started := h.observer.Start(ctx); started != nil {
			ctx = started
		}
	}
	d, err := h.Receive(w, r)
	if err != nil {
		h.refuse(ctx, w, err, start)
		return
	}
	ev := d.Event
	if d.Org != "" {
		ctx = ContextWithOrg(ctx, d.Org)
	}
	info := DeliveryInfo{EventType: ObservedType(ev), Status: http.StatusOK, Verdict: VerdictHandled, Org: d.Org}
	switch dup, err := h.handle(ctx, d); {
	case errors.Is(err, errInFlight):
		info.Status, info.Verdict = http.StatusServiceUnavailable, VerdictInFlight
		w.Header().Set("Retry-After", inFlightRetryAfter)
		http.Error(w, "this event is being handled; retry later", info.Status)
	case err != nil:
		info.Status, info.Verdict = http.StatusInternalServerError, VerdictFailed
		h.logFailure(ctx, ev, err)
		http.Error(w, "webhook not handled", info.Status)
	default:
		if dup {
			info.Verdict = VerdictDuplicate
		}
		w.WriteHeader(http.StatusOK)
	}
	if h.observer.Delivery != nil {
		info.Duration = time.Since(start)
		h.observer.Delivery(ctx, info)
	}
}

// Receive checks a request, reads its body and decodes it, as ServeHTTP
// does before it runs the callbacks: the method, the organisation (for a
// Handler of many), the body size, the credential (before the body is
// read, for a [RequestVerifier]), the Content-Type against the body
// format, and the payload. Every error is a *[Refusal]; answer it with
// [Handler.Refuse]. Use Receive to store deliveries before handling them.
func (h *Handler) Receive(w http.ResponseWriter, r *http.Request) (Delivery, error) {
	if ref := h.checkMethod(r); ref != nil {
		return Delivery{}, ref
	}
	org, ref := h.resolveOrg(r)
	if ref != nil {
		return Delivery{}, ref
	}
	d, ref := h.receive(w, r, org)
	if ref != nil {
		ref.Org = org.ID
		return Delivery{}, ref
	}
	return d, nil
}

// receive reads, verifies and decodes a request to org.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request, org Org) (Delivery, *Refusal) {
	body, ref := h.read(w, r, org.Verifier)
	if ref != nil {
		return Delivery{}, ref
	}
	ct := r.Header.Get("Content-Type")
	mediaType, params, _ := mime.ParseMediaType(ct)
	if !org.Format.accepts(mediaType) {
		return Delivery{}, refusal(http.StatusUnsupportedMediaType, fmt.Errorf("Content-Type %q is not of body format %s", ct, org.Format))
	}
	given := h.pathType(r)
	ev, err := parseMedia(mediaType, params, body, given)
	if err != nil {
		return Delivery{}, refusal(http.StatusBadRequest, err)
	}
	return Delivery{Event: ev, Body: body, ContentType: ct, PathType: given, Org: org.ID}, nil
}

// pathType is the type WithPathType gave r's path, or the path of the
// ServeMux pattern that routed r ("POST /hooks/{org}/status" gives
// "/hooks/{org}/status"); "" when none.
func (h *Handler) pathType(r *http.Request) Type {
	if len(h.paths) == 0 {
		return ""
	}
	if t := h.paths[r.URL.Path]; t != "" || r.Pattern == "" {
		return t
	}
	if i := strings.IndexByte(r.Pattern, '/'); i >= 0 {
		return h.paths[r.Pattern[i:]]
	}
	return ""
}

// Refuse logs a refusal from [Handler.Receive] at Warn and answers it with
// its status and a short text that names no secret.
func (h *Handler) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	h.refuse(r.Context(), w, err, time.Time{})
}

// refuse answers a refusal and reports it, with its duration when start is
// known.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, err error, start time.Time) {
	ref, ok := errors.AsType[*Refusal](err)
	if !ok {
		ref = refusal(http.StatusInternalServerError, err)
	}
	if ref.Org != "" {
		h.logger.WarnContext(ctx, "webhook refused", "org", ref.Org, "status", ref.Status, "error", ref.Err)
	} else {
		h.logger.WarnContext(ctx, "webhook refused", "status", ref.Status, "error", ref.Err)
	}
	switch ref.Status {
	case http.StatusMethodNotAllowed, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusNotFound:
		// The body may be unread, and an unverified sender may trickle
		// it: closing the connection keeps net/http from reading the
		// rest before it answers.
		w.Header().Set("Connection", "close")
		if ref.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", strings.Join(h.methods, ", "))
		}
	}
	text := http.StatusText(ref.Status)
	if ref.Status == http.StatusBadRequest {
		text = "malformed webhook payload"
	}
	http.Error(w, text, ref.Status)
	if h.observer.Delivery != nil {
		info := DeliveryInfo{Status: ref.Status, Verdict: VerdictRefused, Reason: refusalReason(ref.Status), Org: ref.Org}
		if ref.Status == http.StatusInternalServerError {
			info.Verdict, info.Reason = VerdictFailed, ""
		}
		if !start.IsZero() {
			info.Duration = time.Since(start)
		}
		h.observer.Delivery(ctx, info)
	}
}

// checkMethod refuses a method the handler does not accept.
func (h *Handler) checkMethod(r *http.Request) *Refusal {
	if !slices.Contains(h.methods, r.Method) {
		return refusal(http.StatusMethodNotAllowed, fmt.Errorf("method %s", r.Method))
	}
	return nil
}

// read checks the credential with v when it needs no body, reads the body
// within the limit and verifies it.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, v Verifier) ([]byte, *Refusal) {
	rv, headersOnly := v.(RequestVerifier)
	if headersOnly {
		if err := rv.VerifyRequest(r); err != nil {
			return nil, refusal(http.StatusUnauthorized, err)
		}
	}
	if r.ContentLength > h.maxBody {
		return nil, refusal(http.StatusRequestEntityTooLarge, fmt.Errorf("Content-Length %d over %d", r.ContentLength, h.maxBody))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, refusal(http.StatusRequestEntityTooLarge, err)
		}
		return nil, refusal(http.StatusBadRequest, fmt.Errorf("reading the body: %w", err))
	}
	if !headersOnly {
		if err := v.Verify(r, body); err != nil {
			return nil, refusal(http.StatusUnauthorized, err)
		}
	}
	return body, nil
}

// inFlightRetryAfter is the Retry-After, in seconds, of a delivery that
// arrives while another delivery of its event is being handled.
const inFlightRetryAfter = "5"

// errInFlight says another delivery of the event holds its claim.
var errInFlight = errors.New("webhooks: event is being handled")

// handle runs the callbacks of d's event once per event; dup reports that
// they had run already, for an earlier delivery.
func (h *Handler) handle(ctx context.Context, d Delivery) (dup bool, err error) {
	ev := d.Event
	if h.dedup == nil {
		return false, h.dispatch(ctx, ev)
	}
	key := d.DedupKey()
	if key == "" {
		return false, h.dispatch(ctx, ev)
	}
	state, err := h.dedup.Claim(ctx, key)
	// Another delivery of the event is running its callbacks. DoubleTick
	// retries no delivery answered with an error, so this one waits for
	// that one rather than answer an error: once it is done, this one is
	// answered 200; if its callbacks failed (the claim was released), this
	// one runs them. The wait ends with the request's context.
	for wait := 5 * time.Millisecond; err == nil && state == Held; wait = min(2*wait, 500*time.Millisecond) {
		select {
		case <-ctx.Done():
			return false, errInFlight
		case <-time.After(wait):
		}
		state, err = h.dedup.Claim(ctx, key)
	}
	switch {
	case err != nil:
		return false, fmt.Errorf("de-duplication: %w", err)
	case state == Done:
		return true, nil
	}
	if err := h.dispatch(ctx, ev); err != nil {
		if relErr := h.dedup.Release(ctx, key); relErr != nil {
			return false, errors.Join(err, fmt.Errorf("releasing the de-duplication claim: %w", relErr))
		}
		return false, err
	}
	if err := h.dedup.Complete(ctx, key); err != nil {
		return false, fmt.Errorf("de-duplication: %w", err)
	}
	return false, nil
}

// PanicError is a callback's panic, recovered by [Handler.Dispatch].
type PanicError struct {
	// Value is what the callback panicked with.
	Value any
	// Stack is the goroutine's stack where it panicked.
	Stack []byte
}

// Error says what the callback panicked with.
func (e *PanicError) Error() string { return fmt.Sprintf("webhooks: callback panicked: %v", e.Value) }

// Dispatch runs the callbacks for ev, as ServeHTTP does once a delivery is
// received: the typed callback of its type, then every OnEvent callback,
// stopping at the first error. A callback that panics is recovered, and its
// panic returned as a *[PanicError].
//
// For a Handler of many organisations ([NewOrgHandler]), ctx names the
// event's organisation ([ContextWithOrg]); one that names none, or one the
// Handler's OrgLookup no longer knows, runs nothing and returns an error
// matching [ErrUnknownOrg].
func (h *Handler) Dispatch(ctx context.Context, ev Event) error {
	if err := h.checkDispatchOrg(ctx); err != nil {
		return err
	}
	return h.dispatch(ctx, ev)
}

// dispatch runs the callbacks of an event whose organisation, if any, is
// known to be served.
func (h *Handler) dispatch(ctx context.Context, ev Event) (err error) {
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
		if h.observer.Callbacks != nil {
			h.observer.Callbacks(ctx, CallbackInfo{EventType: ObservedType(ev), Duration: time.Since(start), ErrorType: CallbackErrorType(err), Org: OrgFromContext(ctx)})
		}
	}()
	if f := h.typed[ev.Type()]; f != nil {
		if _, unknown := ev.(*Unknown); !unknown {
			if err := f(ctx, ev); err != nil {
				return err
			}
		}
	}
	for _, f := range h.any {
		if err := f(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// logFailure logs a failed callback at Warn, or a panic at Error with its
// stack.
func (h *Handler) logFailure(ctx context.Context, ev Event, err error) {
	attrs := []any{"type", ev.Type(), "group", ev.Group()}
	if org := OrgFromContext(ctx); org != "" {
		attrs = append([]any{"org", org}, attrs...)
	}
	if p, ok := errors.AsType[*PanicError](err); ok {
		h.logger.ErrorContext(ctx, "webhook callback panicked", append(attrs, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))...)
		return
	}
	h.logger.WarnContext(ctx, "webhook callback failed", append(attrs, "error", err)...)
}

// Middleware returns a middleware that verifies each request with v, within
// the handler options' method and body limits, and hands it to next with its
// body restored, or answers 405, 413 or 401 itself. It decodes nothing and
// runs no callback: given a callback option (OnEvent, OnGroupCreated, …),
// WithDeduplicator or WithPathType, which would have no effect here, it
// returns an error; use [NewHandler] for those.
func Middleware(v Verifier, opts ...HandlerOption) (func(http.Handler) http.Handler, error) {
	h, err := NewHandler(v, opts...)
	if err != nil {
		return nil, err
	}
	if len(h.typed) > 0 || len(h.any) > 0 || h.dedup != nil || len(h.paths) > 0 {
		return nil, errors.New("webhooks: Middleware runs no callback: callback options, WithDeduplicator and WithPathType belong to NewHandler")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ref := h.checkMethod(r)
			var body []byte
			if ref == nil {
				body, ref = h.read(w, r, h.verifier)
			}
			if ref != nil {
				h.Refuse(w, r, ref)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		})
	}, nil
}

// Deduplicator remembers which events were handled. Implementations must be
// safe for concurrent use; to share it among replicas, back it with a shared
// store, and let a Held claim expire after a while, so that the claim of a
// replica that died does not hold its event forever.
type Deduplicator interface {
	// Claim claims key for a delivery about to run its callbacks. It
	// returns Claimed when no other claim holds key, Held while an earlier
	// claim has neither completed nor been released, and Done once one
	// has completed. Two concurrent claims of one key must not both return
	// Claimed.
	Claim(ctx context.Context, key string) (ClaimState, error)
	// Complete marks a claim whose callbacks all returned nil: from then
	// on, key is Done.
	Complete(ctx context.Context, key string) error
	// Release forgets a claim whose callbacks failed, so that the next
	// delivery runs them again.
	Release(ctx context.Context, key string) error
}

// ClaimState is what [Deduplicator.Claim] found.
type ClaimState int

// The states of a claim.
const (
	// Claimed: the key was free and is now claimed by the caller.
	Claimed ClaimState = iota + 1
	// Held: another delivery holds the key and is running its callbacks.
	Held
	// Done: the key's callbacks already ran to success.
	Done
)

// MemoryDeduplicator is an in-process [Deduplicator] that remembers keys for
// a time, and at most a number of them, forgetting the oldest first.
type MemoryDeduplicator struct {
	ttl   time.Duration
	max   int
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]entry
	order []claim // oldest first
}

type entry struct {
	at   time.Time
	done bool
}

type claim struct {
	key string
	at  time.Time
}

// NewMemoryDeduplicator returns a MemoryDeduplicator that remembers each key
// for ttl and at most max keys. DoubleTick documents no redelivery schedule:
// pick a ttl longer than the longest gap you expect between two deliveries of
// one event. A claim held longer than ttl is forgotten too.
func NewMemoryDeduplicator(ttl time.Duration, max int) (*MemoryDeduplicator, error) {
	if ttl <= 0 || max <= 0 {
		return nil, fmt.Errorf("webhooks: NewMemoryDeduplicator: need a positive ttl and max, got %s and %d", ttl, max)
	}
	return &MemoryDeduplicator{ttl: ttl, max: max, now: time.Now, seen: map[string]entry{}}, nil
}

// Claim claims key unless it is held or done.
func (d *MemoryDeduplicator) Claim(_ context.Context, key string) (ClaimState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expire(now)
	if e, ok := d.seen[key]; ok {
		if e.done {
			return Done, nil
		}
		return Held, nil
	}
	d.seen[key] = entry{at: now}
	d.order = append(d.order, claim{key, now})
	return Claimed, nil
}

// Complete marks key as done.
func (d *MemoryDeduplicator) Complete(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.seen[key]; ok {
		e.done = true
		d.seen[key] = e
	}
	return nil
}

// Release forgets key.
func (d *MemoryDeduplicator) Release(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}

// size returns how many keys are remembered.
func (d *MemoryDeduplicator) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

// expire forgets the keys older than the ttl, and the oldest ones past max.
// The caller holds d.mu.
func (d *MemoryDeduplicator) expire(now time.Time) {
	drop := 0
	for drop < len(d.order) {
		c := d.order[drop]
		if now.Sub(c.at) < d.ttl && len(d.seen) < d.max && len(d.order) <= 2*d.max {
			break
		}
		// A key released and claimed again has a newer time: keep that one.
		if e, ok := d.seen[c.key]; ok && e.at.Equal(c.at) {
			delete(d.seen, c.key)
		}
		drop++
	}
	if drop > 0 {
		d.order = slices.Delete(d.order, 0, drop)
	}
}
