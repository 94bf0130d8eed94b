package membership

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/internal/phone"
	"github.com/doubletick-go/doubletick/webhooks"
)

// Tracker applies webhook events, and what the participants endpoint says,
// to a [Store]. It is safe for concurrent use, and several Trackers (in
// several processes) may share one SQL store.
//
// Plug it into a webhook handler with [webhooks.OnEvent]:
//
//	handler, err := webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle))
type Tracker struct {
	store        Store
	participants ParticipantLister
	now          func() time.Time
	maxSkew      time.Duration
	log          *slog.Logger
}

// DefaultMaxSkew is how far ahead of the Tracker's clock a change may be
// dated: a change dated later would decide its member's state until that
// time came, whatever happened meanwhile.
const DefaultMaxSkew = 5 * time.Minute

// ParticipantLister reads a group's participants from the API, as
// [doubletick.ParticipantsService] does: pass a Client's Participants.
type ParticipantLister interface {
	All(ctx context.Context, groupID string, opts *doubletick.ListParticipantsOptions) iter.Seq2[*doubletick.Participant, error]
}

// Option configures a Tracker.
type Option func(*Tracker) error

// WithParticipants sets where [Tracker.Reconcile] reads participants from,
// normally a Client's Participants service.
func WithParticipants(p ParticipantLister) Option {
	return func(t *Tracker) error {
		if p == nil {
			return errors.New("membership: WithParticipants: nil lister")
		}
		t.participants = p
		return nil
	}
}

// WithLogger sets where [Tracker.Handle] logs the events it cannot apply;
// by default, nowhere.
func WithLogger(l *slog.Logger) Option {
	return func(t *Tracker) error {
		if l == nil {
			return errors.New("membership: WithLogger: nil logger")
		}
		t.log = l
		return nil
	}
}

// WithClock sets the clock that stamps [AuditEntry.AppliedAt] and that
// change times are checked against ([WithMaxSkew]); by default, time.Now.
func WithClock(now func() time.Time) Option {
	return func(t *Tracker) error {
		if now == nil {
			return errors.New("membership: WithClock: nil clock")
		}
		t.now = now
		return nil
	}
}

// WithMaxSkew sets how far ahead of the clock a change may be dated
// (default [DefaultMaxSkew]); a change dated later is refused with an
// [InvalidChangeError], which [Tracker.Handle] logs and acknowledges.
func WithMaxSkew(d time.Duration) Option {
	return func(t *Tracker) error {
		if d <= 0 {
			return fmt.Errorf("membership: WithMaxSkew: need a positive duration, got %s", d)
		}
		t.maxSkew = d
		return nil
	}
}

// NewTracker returns a Tracker that applies changes to store.
func NewTracker(store Store, opts ...Option) (*Tracker, error) {
	if store == nil {
		return nil, errors.New("membership: NewTracker: nil store")
	}
	t := &Tracker{store: store, now: time.Now, maxSkew: DefaultMaxSkew, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Outcome says what [Tracker.Apply] did with an event.
type Outcome int

// The outcomes of Apply.
const (
	// Ignored: the event says nothing about membership (GROUP_CREATED, a
	// message, an unknown type).
	Ignored Outcome = iota
	// Duplicate: the store had applied the same change before; nothing
	// changed.
	Duplicate
	// Applied: the change was new and is in the audit log. It may still
	// leave the state as it was, when the store knew of a later change.
	Applied
)

// String returns "ignored", "duplicate" or "applied".
func (o Outcome) String() string {
	switch o {
	case Ignored:
		return "ignored"
	case Duplicate:
		return "duplicate"
	case Applied:
		return "applied"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is what Apply did: its outcome, and for Applied the audit entry.
type Result struct {
	Outcome Outcome
	Entry   AuditEntry
}

// ChangeOf returns the change a membership event stands for, and false for
// any other event. The change may be invalid (see [Change.Validate]): a
// payload's groupId may be null, and its phone not a number.
func ChangeOf(ev webhooks.Event) (Change, bool) {
	var (
		m     *webhooks.MembershipEvent
		state State
	)
	switch e := ev.(type) {
	case *webhooks.ParticipantJoined:
		m, state = &e.MembershipEvent, Joined
	case *webhooks.ParticipantLeft:
		m, state = &e.MembershipEvent, Left
	case *webhooks.ParticipantRemoved:
		m, state = &e.MembershipEvent, Removed
	default:
		return Change{}, false
	}
	return Change{GroupID: m.GroupID, Phone: m.Phone.E164, State: state, At: m.At, Source: SourceWebhook}, true
}

// Apply applies one webhook event. An event that is not about membership is
// Ignored; one that cannot be applied (see [Change.Validate]) returns an
// error matching [ErrInvalidChange]; an error of the store is returned as
// it is, and nothing was applied.
func (t *Tracker) Apply(ctx context.Context, ev webhooks.Event) (Result, error) {
	c, ok := ChangeOf(ev)
	if !ok {
		return Result{Outcome: Ignored}, nil
	}
	return t.apply(ctx, c)
}

func (t *Tracker) apply(ctx context.Context, c Change) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	now := t.now()
	if ahead := c.At.Sub(now); ahead > t.maxSkew {
		return Result{}, &InvalidChangeError{Field: "At", Rule: fmt.Sprintf("is %s ahead of the clock, more than the %s allowed", ahead.Round(time.Second), t.maxSkew)}
	}
	e, fresh, err := t.store.Apply(ctx, c, now)
	switch {
	case err != nil:
		return Result{}, fmt.Errorf("membership: applying %s of %s to group %q: %w", c.State, c.Phone, c.GroupID, err)
	case !fresh:
		return Result{Outcome: Duplicate}, nil
	}
	return Result{Outcome: Applied, Entry: e}, nil
}

// Handle applies ev for a [webhooks.Handler]: pass it to [webhooks.OnEvent].
// A store error is returned, so that the handler answers 500 and never
// acknowledges an event it did not store (DoubleTick documents no retry of a
// non-2xx answer: [Tracker.Reconcile] repairs what is lost). An event that can never be applied, such as one
// whose groupId is null, is logged and acknowledged, since a redelivery
// would carry the same payload; [Tracker.Reconcile] repairs what it missed.
func (t *Tracker) Handle(ctx context.Context, ev webhooks.Event) error {
	_, err := t.Apply(ctx, ev)
	if errors.Is(err, ErrInvalidChange) {
		t.log.WarnContext(ctx, "membership: event not applied", "type", ev.Type(), "group", ev.Group(), "error", err)
		return nil
	}
	return err
}

// ErrNoParticipants is returned by [Tracker.Reconcile] when the Tracker was
// built without [WithParticipants].
var ErrNoParticipants = errors.New("membership: Reconcile needs WithParticipants")

// Report is what one [Tracker.Reconcile] found.
type Report struct {
	GroupID string
	// Listed is how many participants the API listed, past ones included.
	Listed int
	// Applied are the changes the store had not seen, in the order they were
	// applied: webhooks that were lost or are still on their way. They are
	// in the audit log with source SourceReconcile.
	Applied []AuditEntry
	// Unlisted are members the store holds as current that the API did not
	// list at all. The API gives no time for their leaving, so they are
	// reported, not changed.
	Unlisted []Member
	// Skipped counts listed participants whose phone number is not one.
	Skipped int
}

// Changed returns the applied entries that moved a participant to another
// state.
func (r *Report) Changed() []AuditEntry {
	var out []AuditEntry
	for _, e := range r.Applied {
		if e.Changed() {
			out = append(out, e)
		}
	}
	return out
}

// Reconcile pages through a group's participants and applies, as changes
// from SourceReconcile, every join, leave and removal date the store has not
// seen. It is idempotent and safe to run while webhooks arrive, for example
// on a time.Ticker. The calls go through the Client's limiter.
//
// On an error the report holds what was applied before it.
func (t *Tracker) Reconcile(ctx context.Context, groupID string) (*Report, error) {
	if t.participants == nil {
		return nil, ErrNoParticipants
	}
	r := &Report{GroupID: groupID}
	listed := make(map[string]bool)
	for p, err := range t.participants.All(ctx, groupID, nil) {
		if err != nil {
			return r, fmt.Errorf("membership: reconciling group %q: %w", groupID, err)
		}
		r.Listed++
		e164, ok := phone.E164(p.PhoneNumber)
		if !ok {
			r.Skipped++
			continue
		}
		listed[e164] = true
		for _, d := range stamps(p.DateJoined, p.DateLeft, p.DateRemoved) {
			if d.at.IsZero() {
				continue
			}
			res, err := t.apply(ctx, Change{GroupID: groupID, Phone: e164, State: d.state, At: d.at, Source: SourceReconcile})
			if err != nil {
				return r, err
			}
			if res.Outcome == Applied {
				r.Applied = append(r.Applied, res.Entry)
			}
		}
	}
	members, err := t.store.Members(ctx, groupID)
	if err != nil {
		return r, fmt.Errorf("membership: reconciling group %q: %w", groupID, err)
	}
	for _, m := range members {
		if m.Current() && !listed[m.Phone] {
			r.Unlisted = append(r.Unlisted, m)
		}
	}
	return r, nil
}
