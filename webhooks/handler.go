package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
//   - 400 when the body is not a webhook payload,
//   - 500 when a callback or the [Deduplicator] fails, so that the sender
//     retries,
//   - 200 once every callback has returned nil, or when the event was
//     already handled.
//
// It is safe for concurrent use.
type Handler struct {
	verifier Verifier
	methods  []string
	maxBody  int64
	dedup    Deduplicator
	typed    map[Type]func(context.Context, Event) error
	any      []func(context.Context, Event) error
	logger   *slog.Logger
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

// WithDeduplicator makes the handler acknowledge a redelivered event without
// running its callbacks again (see [Event.DedupKey]).
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
// callbacks that fail, at Warn. By default it logs nothing.
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

// OnGroupMessage sets the callback for WA_GROUP_MESSAGE_RECEIVED.
func OnGroupMessage(f func(context.Context, *GroupMessageReceived) error) HandlerOption {
	return on(TypeGroupMessageReceived, f)
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
	h := &Handler{
		verifier: v,
		methods:  []string{http.MethodPost},
		maxBody:  DefaultMaxBodySize,
		typed:    map[Type]func(context.Context, Event) error{},
		logger:   slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP handles one webhook delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, status := h.read(w, r)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	ev, err := ParseContent(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.logger.WarnContext(r.Context(), "webhook refused", "status", 400, "error", err)
		http.Error(w, "malformed webhook payload", http.StatusBadRequest)
		return
	}
	if err := h.handle(r.Context(), ev); err != nil {
		h.logger.WarnContext(r.Context(), "webhook callback failed", "type", ev.Type(), "group", ev.Group(), "error", err)
		http.Error(w, "webhook not handled", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// read checks the method, reads the body within the limit and verifies it.
// It returns the status to answer with when the request is refused.
func (h *Handler) read(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	if !slices.Contains(h.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(h.methods, ", "))
		return nil, http.StatusMethodNotAllowed
	}
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	if err := h.verifier.Verify(r, body); err != nil {
		h.logger.WarnContext(r.Context(), "webhook refused", "status", 401, "error", err)
		return nil, http.StatusUnauthorized
	}
	return body, 0
}

// handle runs the callbacks of ev once per event.
func (h *Handler) handle(ctx context.Context, ev Event) error {
	if h.dedup != nil {
		key := ev.DedupKey()
		first, err := h.dedup.Claim(ctx, key)
		if err != nil {
			return fmt.Errorf("de-duplication: %w", err)
		}
		if !first {
			return nil
		}
		if err := h.run(ctx, ev); err != nil {
			if relErr := h.dedup.Release(ctx, key); relErr != nil {
				return errors.Join(err, fmt.Errorf("releasing the de-duplication claim: %w", relErr))
			}
			return err
		}
		return nil
	}
	return h.run(ctx, ev)
}

func (h *Handler) run(ctx context.Context, ev Event) error {
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

// Middleware returns a middleware that verifies each request with v, within
// the handler options' method and body limits, and hands it to next with its
// body restored, or answers 405, 413 or 401 itself. Callback options have no
// effect here.
func Middleware(v Verifier, opts ...HandlerOption) (func(http.Handler) http.Handler, error) {
	h, err := NewHandler(v, opts...)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, status := h.read(w, r)
			if status != 0 {
				http.Error(w, http.StatusText(status), status)
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
// store.
type Deduplicator interface {
	// Claim records key and reports whether this is its first claim. Two
	// concurrent claims of one key must not both report true.
	Claim(ctx context.Context, key string) (bool, error)
	// Release forgets a claim whose callbacks failed, so that the sender's
	// next delivery runs them again.
	Release(ctx context.Context, key string) error
}

// MemoryDeduplicator is an in-process [Deduplicator] that remembers keys for
// a time, and at most a number of them, forgetting the oldest first.
type MemoryDeduplicator struct {
	ttl   time.Duration
	max   int
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]time.Time
	order []claim // oldest first
}

type claim struct {
	key string
	at  time.Time
}

// NewMemoryDeduplicator returns a MemoryDeduplicator that remembers each key
// for ttl and at most max keys. DoubleTick documents no redelivery schedule:
// pick a ttl longer than the longest gap you expect between two deliveries of
// one event.
func NewMemoryDeduplicator(ttl time.Duration, max int) (*MemoryDeduplicator, error) {
	if ttl <= 0 || max <= 0 {
		return nil, fmt.Errorf("webhooks: NewMemoryDeduplicator: need a positive ttl and max, got %s and %d", ttl, max)
	}
	return &MemoryDeduplicator{ttl: ttl, max: max, now: time.Now, seen: map[string]time.Time{}}, nil
}

// Claim records key and reports whether this is its first claim.
func (d *MemoryDeduplicator) Claim(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expire(now)
	if _, ok := d.seen[key]; ok {
		return false, nil
	}
	d.seen[key] = now
	d.order = append(d.order, claim{key, now})
	return true, nil
}

// Release forgets key.
func (d *MemoryDeduplicator) Release(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, key)
	return nil
}

// Len returns how many keys are remembered.
func (d *MemoryDeduplicator) Len() int {
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
		if at, ok := d.seen[c.key]; ok && at.Equal(c.at) {
			delete(d.seen, c.key)
		}
		drop++
	}
	if drop > 0 {
		d.order = slices.Delete(d.order, 0, drop)
	}
}
