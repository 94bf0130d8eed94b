// Package membership keeps a record of who is in which WhatsApp group, built
// from DoubleTick's webhooks and repaired from its participants endpoint.
//
// DoubleTick tells a business about members only through webhooks
// (GROUP_PARTICIPANT_JOINED, _LEFT and _REMOVED) and documents no delivery
// guarantee, no ordering and no event ID. A [Tracker] turns those events into
// a [Store] that stays right anyway:
//
//   - Idempotent: a change is identified by its group, participant, state and
//     time; applying it again changes nothing.
//   - Order-tolerant: for each group and participant the store keeps the
//     latest time of each kind of change, so the member's state is that of
//     the change with the latest time, whatever order they arrived in. At the
//     same instant a removal beats a leave, and a leave beats a join.
//   - Concurrent: every store applies a change atomically, so several
//     goroutines, or with a SQL store several processes, may apply events at
//     once.
//   - Audited: every distinct change is written once to an audit log with the
//     state before and after it, and where it came from.
//
// Webhooks can be lost: [Tracker.Reconcile] reads a group's participants from
// the API and applies whatever the store had not seen.
//
// [MemoryStore] keeps everything in one process; package
// membership/sqlstore keeps it in SQLite or PostgreSQL.
package membership

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/doubletick-go/doubletick/internal/phone"
)

// State is where a participant stands in a group, and what a change puts
// them in.
type State string

// The states of a participant. The zero State means the store has seen no
// change for them.
const (
	Joined  State = "joined"
	Left    State = "left"
	Removed State = "removed"
)

// Valid reports whether s is Joined, Left or Removed.
func (s State) Valid() bool { return s == Joined || s == Left || s == Removed }

// stamp is a state and the latest time a participant was put in it.
type stamp struct {
	state State
	at    time.Time
}

// stamps pairs the three states with their times in tie-break order: at the
// same instant a later entry wins, so a removal beats a leave, and a leave
// a join.
func stamps(joined, left, removed time.Time) [3]stamp {
	return [3]stamp{{Joined, joined}, {Left, left}, {Removed, removed}}
}

// Source says where a change came from.
type Source string

// The sources of a change.
const (
	// SourceWebhook is a webhook delivered by DoubleTick.
	SourceWebhook Source = "webhook"
	// SourceReconcile is the participants endpoint, read by
	// [Tracker.Reconcile].
	SourceReconcile Source = "reconcile"
)

// Change is one thing that happened to a participant: they joined, left or
// were removed at a time. Two changes with the same group, phone, state and
// time are the same change, whatever their source.
type Change struct {
	GroupID string
	// Phone is the participant's number in E.164 form, e.g. "+919876543210".
	Phone string
	// State is Joined, Left or Removed.
	State State
	// At is when it happened, by DoubleTick's clock.
	At time.Time
	// Source is where the change came from.
	Source Source
}

// ErrInvalidChange matches every error that [Change.Validate] returns.
var ErrInvalidChange = errors.New("membership: invalid change")

// InvalidChangeError names the field of a change that cannot be applied and
// the rule it breaks.
type InvalidChangeError struct {
	Field string
	Rule  string
}

// Error returns the field and the rule.
func (e *InvalidChangeError) Error() string {
	return fmt.Sprintf("membership: invalid change: %s %s", e.Field, e.Rule)
}

// Is reports whether target is ErrInvalidChange.
func (e *InvalidChangeError) Is(target error) bool { return target == ErrInvalidChange }

// Validate returns an *InvalidChangeError when c cannot be applied: no group
// ID, a phone that is not E.164, a state that is not Joined, Left or Removed,
// or a zero time or one outside 1970 to 2262.
func (c Change) Validate() error {
	switch {
	case c.GroupID == "":
		return &InvalidChangeError{Field: "GroupID", Rule: "is required (DoubleTick may send null while a group is being created)"}
	case !isE164(c.Phone):
		return &InvalidChangeError{Field: "Phone", Rule: "must be E.164: \"+\" and 8 to 15 digits"}
	case !c.State.Valid():
		return &InvalidChangeError{Field: "State", Rule: "must be joined, left or removed"}
	case c.At.IsZero():
		return &InvalidChangeError{Field: "At", Rule: "is required"}
	case c.At.Before(minTime) || c.At.After(maxTime):
		return &InvalidChangeError{Field: "At", Rule: "must be between 1970 and 2262"}
	}
	return nil
}

// minTime and maxTime bound the times a store keeps, so that every one is a
// whole number of nanoseconds since 1970 in an int64.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

func isE164(s string) bool {
	n, ok := phone.E164(s)
	return ok && n == s
}

// Member is what a store knows of one participant of one group. The three
// times are the latest of each kind of change seen; State follows from them
// (see [Member.Merge]).
type Member struct {
	GroupID string
	// Phone is the participant's number in E.164 form.
	Phone string
	// State is Joined while the participant is in the group.
	State State
	// JoinedAt, LeftAt and RemovedAt are the latest times the participant
	// joined, left and was removed; zero when none was seen.
	JoinedAt  time.Time
	LeftAt    time.Time
	RemovedAt time.Time
}

// Current reports whether the participant is in the group now.
func (m Member) Current() bool { return m.State == Joined }

// Merge returns m with c applied: c's time becomes the latest of its kind if
// it is later, and State becomes the state of the latest change, removals
// beating leaves beating joins at the same instant. Merge is commutative,
// associative and idempotent, so any order of the same changes gives the
// same Member; stores call it inside their transaction.
func (m Member) Merge(c Change) Member {
	m.GroupID, m.Phone = c.GroupID, c.Phone
	at := c.At.UTC()
	switch c.State {
	case Joined:
		m.JoinedAt = later(m.JoinedAt, at)
	case Left:
		m.LeftAt = later(m.LeftAt, at)
	case Removed:
		m.RemovedAt = later(m.RemovedAt, at)
	}
	m.State = ""
	var latest time.Time
	for _, s := range stamps(m.JoinedAt, m.LeftAt, m.RemovedAt) {
		if !s.at.IsZero() && !s.at.Before(latest) { // a tie goes to the later entry
			m.State, latest = s.state, s.at
		}
	}
	return m
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// AuditEntry is one change as a store applied it.
type AuditEntry struct {
	// Seq orders the entries of a store in the order it applied them; a SQL
	// store's sequence has gaps.
	Seq int64
	Change
	// Before and After are the participant's state before and after the
	// change; Before is "" for a participant seen for the first time.
	Before, After State
	// AppliedAt is when the store applied it, by the applier's clock.
	AppliedAt time.Time
}

// Changed reports whether the change moved the participant to another
// state. A change older than what the store knew is recorded but changes
// nothing.
func (e AuditEntry) Changed() bool { return e.Before != e.After }

// Store keeps members and the audit log. Implementations must be safe for
// concurrent use; package membership/storetest checks one.
type Store interface {
	// Apply records c in the audit log and merges it into its member with
	// [Member.Merge], atomically. It reports false, and changes nothing,
	// when the same change was applied before.
	Apply(ctx context.Context, c Change, appliedAt time.Time) (AuditEntry, bool, error)
	// Member returns one participant, and false when the store has no
	// change for them.
	Member(ctx context.Context, groupID, phone string) (Member, bool, error)
	// Members returns every participant of a group the store has seen,
	// past ones included, sorted by phone.
	Members(ctx context.Context, groupID string) ([]Member, error)
	// Audit returns a group's audit log in the order it was applied.
	Audit(ctx context.Context, groupID string) ([]AuditEntry, error)
}
