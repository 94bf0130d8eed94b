// Package storetest checks that a membership.Store keeps the promises a
// Tracker relies on: idempotence, order tolerance, atomic concurrent
// application and a faithful audit log. The SDK runs it on every store it
// ships; run it on your own:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) func() membership.Store {
//			db := newEmptyDatabase(t)
//			return func() membership.Store { return mystore.New(db) }
//		})
//	}
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/webhooks"
)

// Factory makes a new, empty store for one test and returns a function that
// opens a handle on it. Each handle should be as independent as another
// process would be (for a SQL store, its own *sql.DB on the same database);
// an in-memory store returns itself every time.
type Factory func(t *testing.T) (open func() membership.Store)

// Run runs every check on stores made by f.
func Run(t *testing.T, f Factory) {
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, f(t)()) })
	t.Run("OrderTolerant", func(t *testing.T) { testOrderTolerant(t, f) })
	t.Run("Ties", func(t *testing.T) { testTies(t, f) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, f(t)()) })
	t.Run("ReadBack", func(t *testing.T) { testReadBack(t, f(t)()) })
	t.Run("ConcurrentReplay", func(t *testing.T) { testConcurrentReplay(t, f(t), 10_000, 4) })
}

var base = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func change(group, phone string, s membership.State, ms int) membership.Change {
	return membership.Change{GroupID: group, Phone: phone, State: s, At: base.Add(time.Duration(ms) * time.Millisecond), Source: membership.SourceWebhook}
}

func testIdempotent(t *testing.T, s membership.Store) {
	ctx := context.Background()
	c := change("g1", "+919876543210", membership.Joined, 0)
	e, fresh, err := s.Apply(ctx, c, base)
	require.NoError(t, err)
	assert.True(t, fresh, "a new change is applied")
	assert.Equal(t, membership.State(""), e.Before)
	assert.Equal(t, membership.Joined, e.After)

	c.Source = membership.SourceReconcile // the same change from another source
	_, fresh, err = s.Apply(ctx, c, base.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, fresh, "the same change again is a duplicate")

	audit, err := s.Audit(ctx, "g1")
	require.NoError(t, err)
	require.Len(t, audit, 1, "a duplicate is not audited again")
	assert.Equal(t, membership.SourceWebhook, audit[0].Source)
}

func testOrderTolerant(t *testing.T, f Factory) {
	const p = "+919876543210"
	joined := change("g", p, membership.Joined, 0)
	left := change("g", p, membership.Left, 1000)
	rejoined := change("g", p, membership.Joined, 2000)
	removed := change("g", p, membership.Removed, 3000)
	for _, tc := range []struct {
		name    string
		arrival []membership.Change
		want    membership.State
	}{
		{"in order", []membership.Change{joined, left}, membership.Left},
		{"left before joined", []membership.Change{left, joined}, membership.Left},
		{"rejoin before leave", []membership.Change{rejoined, joined, left}, membership.Joined},
		{"removal first", []membership.Change{removed, rejoined, left, joined}, membership.Removed},
		{"reversed", []membership.Change{rejoined, left, joined}, membership.Joined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := f(t)()
			for _, c := range tc.arrival {
				_, _, err := s.Apply(ctx, c, base)
				require.NoError(t, err)
			}
			m, ok, err := s.Member(ctx, "g", p)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, tc.want, m.State)
			assert.Equal(t, tc.want == membership.Joined, m.Current())
		})
	}
}

func testTies(t *testing.T, f Factory) {
	const p = "+919876543210"
	for _, tc := range []struct {
		a, b membership.State
		want membership.State
	}{
		{membership.Joined, membership.Left, membership.Left},
		{membership.Left, membership.Removed, membership.Removed},
		{membership.Joined, membership.Removed, membership.Removed},
	} {
		for _, order := range [][2]membership.State{{tc.a, tc.b}, {tc.b, tc.a}} {
			t.Run(fmt.Sprintf("%s then %s", order[0], order[1]), func(t *testing.T) {
				ctx := context.Background()
				s := f(t)()
				for _, st := range order {
					_, fresh, err := s.Apply(ctx, change("g", p, st, 500), base)
					require.NoError(t, err)
					require.True(t, fresh, "changes of another state at the same instant are distinct")
				}
				m, _, err := s.Member(ctx, "g", p)
				require.NoError(t, err)
				assert.Equal(t, tc.want, m.State)
			})
		}
	}
}

func testInvalid(t *testing.T, s membership.Store) {
	ctx := context.Background()
	good := change("g", "+919876543210", membership.Joined, 0)
	for field, c := range map[string]membership.Change{
		"GroupID": func(c membership.Change) membership.Change { c.GroupID = ""; return c }(good),
		"Phone":   func(c membership.Change) membership.Change { c.Phone = "919876543210"; return c }(good),
		"State":   func(c membership.Change) membership.Change { c.State = "banned"; return c }(good),
		"At":      func(c membership.Change) membership.Change { c.At = time.Time{}; return c }(good),
	} {
		_, fresh, err := s.Apply(ctx, c, base)
		require.ErrorIs(t, err, membership.ErrInvalidChange, field)
		var ice *membership.InvalidChangeError
		require.ErrorAs(t, err, &ice)
		assert.Equal(t, field, ice.Field)
		assert.False(t, fresh)
	}
	ms, err := s.Members(ctx, "g")
	require.NoError(t, err)
	assert.Empty(t, ms, "nothing invalid is stored")
}

func testReadBack(t *testing.T, s membership.Store) {
	ctx := context.Background()
	// Nanoseconds and a zone other than UTC must survive the round trip.
	at := time.Date(2026, 2, 1, 12, 30, 45, 123456789, time.FixedZone("IST", 5*3600+1800))
	changes := []membership.Change{
		{GroupID: "g", Phone: "+15551230000", State: membership.Joined, At: at, Source: membership.SourceReconcile},
		{GroupID: "g", Phone: "+15551230000", State: membership.Removed, At: at.Add(time.Minute), Source: membership.SourceWebhook},
		{GroupID: "g", Phone: "+14445550000", State: membership.Joined, At: at, Source: membership.SourceWebhook},
		{GroupID: "other", Phone: "+14445550000", State: membership.Left, At: at, Source: membership.SourceWebhook},
	}
	applied := base.Add(42 * time.Second)
	for _, c := range changes {
		_, _, err := s.Apply(ctx, c, applied)
		require.NoError(t, err)
	}

	ms, err := s.Members(ctx, "g")
	require.NoError(t, err)
	require.Len(t, ms, 2, "past members are listed too")
	assert.Equal(t, "+14445550000", ms[0].Phone, "sorted by phone")
	assert.Equal(t, membership.Member{GroupID: "g", Phone: "+14445550000", State: membership.Joined, JoinedAt: at.UTC()}, ms[0])
	assert.Equal(t, membership.Member{GroupID: "g", Phone: "+15551230000", State: membership.Removed,
		JoinedAt: at.UTC(), RemovedAt: at.Add(time.Minute).UTC()}, ms[1])

	_, ok, err := s.Member(ctx, "g", "+10000000000")
	require.NoError(t, err)
	assert.False(t, ok, "an unknown participant is not found")
	m, ok, err := s.Member(ctx, "other", "+14445550000")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, membership.Left, m.State)

	audit, err := s.Audit(ctx, "g")
	require.NoError(t, err)
	require.Len(t, audit, 3)
	for i, e := range audit {
		want := changes[i]
		want.At = want.At.UTC()
		assert.Equal(t, want, e.Change)
		assert.True(t, applied.Equal(e.AppliedAt), "AppliedAt %v", e.AppliedAt)
		if i > 0 {
			assert.Greater(t, e.Seq, audit[i-1].Seq, "in the order applied")
		}
	}
	assert.Equal(t, [2]membership.State{membership.Joined, membership.Removed}, [2]membership.State{audit[1].Before, audit[1].After})
	assert.True(t, audit[1].Changed())
}

// event is one distinct membership change of the replay.
type event struct {
	group, phone string
	state        membership.State
	at           time.Time
}

var webhookType = map[membership.State]string{
	membership.Joined:  "GROUP_PARTICIPANT_JOINED",
	membership.Left:    "GROUP_PARTICIPANT_LEFT",
	membership.Removed: "GROUP_PARTICIPANT_REMOVED",
}

var timeField = map[membership.State]string{
	membership.Joined:  "participantJoinedAt",
	membership.Left:    "participantLeftAt",
	membership.Removed: "participantRemovedAt",
}

// body is e as DoubleTick delivers it, with or without the phone's "+".
func (e event) body(plus bool) []byte {
	p := e.phone
	if !plus {
		p = strings.TrimPrefix(p, "+")
	}
	return fmt.Appendf(nil, `{"event":%q,"orgId":"org_1","integrationId":"int_1","groupId":%q,"groupName":"Support","customerPhone":%q,%q:%q}`,
		webhookType[e.state], e.group, p, timeField[e.state], e.at.Format(time.RFC3339Nano))
}

// replayEvents makes n distinct membership changes over a few groups and
// participants, with some at the same instant as another of the same
// participant.
func replayEvents(rng *rand.Rand, n int) []event {
	const groups, phonesPerGroup = 10, 40
	type participant struct {
		group, phone string
		at           time.Time
	}
	ps := make([]participant, 0, groups*phonesPerGroup)
	for g := range groups {
		for p := range phonesPerGroup {
			ps = append(ps, participant{fmt.Sprintf("grp_%02d", g), fmt.Sprintf("+9198765%05d", g*1000+p), base.Add(time.Duration(rng.IntN(3600)) * time.Second)})
		}
	}
	states := []membership.State{membership.Joined, membership.Left, membership.Removed}
	seen := make(map[event]bool, n)
	evs := make([]event, 0, n)
	for len(evs) < n {
		p := &ps[rng.IntN(len(ps))]
		if rng.IntN(20) > 0 { // one in twenty lands on the instant of the previous one
			p.at = p.at.Add(time.Duration(1+rng.IntN(600_000)) * time.Millisecond)
		}
		e := event{p.group, p.phone, states[rng.IntN(len(states))], p.at}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	return evs
}

// expected folds the events in time order, de-duplicated, the way a
// receiver that got every event once and in order would: the last event sets
// the state, and each event sets the time of its kind.
func expected(evs []event) map[string][]membership.Member {
	sorted := slices.Clone(evs)
	order := map[membership.State]int{membership.Joined: 0, membership.Left: 1, membership.Removed: 2}
	slices.SortStableFunc(sorted, func(a, b event) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(order[a.state], order[b.state]))
	})
	byKey := make(map[[2]string]*membership.Member)
	for _, e := range sorted {
		m := byKey[[2]string{e.group, e.phone}]
		if m == nil {
			m = &membership.Member{GroupID: e.group, Phone: e.phone}
			byKey[[2]string{e.group, e.phone}] = m
		}
		m.State = e.state
		switch e.state {
		case membership.Joined:
			m.JoinedAt = e.at
		case membership.Left:
			m.LeftAt = e.at
		case membership.Removed:
			m.RemovedAt = e.at
		}
	}
	out := make(map[string][]membership.Member)
	for _, m := range byKey {
		out[m.GroupID] = append(out[m.GroupID], *m)
	}
	for _, ms := range out {
		slices.SortFunc(ms, func(a, b membership.Member) int { return cmp.Compare(a.Phone, b.Phone) })
	}
	return out
}

// Replay is a recorded stream of webhook deliveries for a concurrent replay:
// distinct membership events over a few groups, some delivered two or
// three times, with and without the phone's "+", shuffled. The same seed
// gives the same Replay, so several processes can share one.
type Replay struct {
	// Seed made this Replay.
	Seed uint64
	// Deliveries are the webhook bodies, in delivery order.
	Deliveries [][]byte
	events     []event
}

// NewReplay makes a Replay of n distinct events from seed.
func NewReplay(seed uint64, n int) *Replay {
	rng := rand.New(rand.NewPCG(seed, 7))
	r := &Replay{Seed: seed, events: replayEvents(rng, n)}
	for _, e := range r.events {
		copies := 1
		switch x := rng.IntN(10); {
		case x < 3:
			copies = 2
		case x == 3:
			copies = 3
		}
		for range copies {
			r.Deliveries = append(r.Deliveries, e.body(rng.IntN(2) == 0))
		}
	}
	rng.Shuffle(len(r.Deliveries), func(i, j int) { r.Deliveries[i], r.Deliveries[j] = r.Deliveries[j], r.Deliveries[i] })
	return r
}

// Events returns how many distinct events the Replay holds.
func (r *Replay) Events() int { return len(r.events) }

// Apply delivers the deliveries whose index i has i%shards == shard to
// tracker, and returns how many were applied and how many were duplicates.
func (r *Replay) Apply(ctx context.Context, tracker *membership.Tracker, shard, shards int) (applied, duplicates int, err error) {
	for i := shard; i < len(r.Deliveries); i += shards {
		outcome, err := r.deliver(ctx, tracker, i)
		if err != nil {
			return applied, duplicates, err
		}
		switch outcome {
		case membership.Applied:
			applied++
		case membership.Duplicate:
			duplicates++
		}
	}
	return applied, duplicates, nil
}

// deliver parses delivery i and applies it.
func (r *Replay) deliver(ctx context.Context, tracker *membership.Tracker, i int) (membership.Outcome, error) {
	ev, err := webhooks.Parse(r.Deliveries[i])
	if err == nil {
		var res membership.Result
		res, err = tracker.Apply(ctx, ev)
		if err == nil {
			return res.Outcome, nil
		}
	}
	return 0, fmt.Errorf("delivery %d: %w", i, err)
}

// Check compares s with the members that the ordered, de-duplicated events
// give, group by group, and checks one audit entry per distinct event.
func (r *Replay) Check(t testing.TB, s membership.Store) {
	t.Helper()
	ctx := context.Background()
	audited := 0
	for group, want := range expected(r.events) {
		got, err := s.Members(ctx, group)
		require.NoError(t, err)
		require.Equal(t, want, got, "group %s (seed %d)", group, r.Seed)
		audit, err := s.Audit(ctx, group)
		require.NoError(t, err)
		audited += len(audit)
	}
	assert.Equal(t, len(r.events), audited, "one audit entry per distinct event (seed %d)", r.Seed)
}

// testConcurrentReplay delivers a Replay of n events through appliers
// goroutines, each with its own Tracker and handle on the store and its own
// share of the deliveries, and checks the result.
func testConcurrentReplay(t *testing.T, open func() membership.Store, n, appliers int) {
	r := NewReplay(uint64(time.Now().UnixNano()), n)
	ctx := context.Background()
	var applied, duplicate atomic.Int64
	errs := make(chan error, appliers)
	var wg sync.WaitGroup
	for shard := range appliers {
		tr, err := membership.NewTracker(open())
		require.NoError(t, err)
		wg.Go(func() {
			a, d, err := r.Apply(ctx, tr, shard, appliers)
			applied.Add(int64(a))
			duplicate.Add(int64(d))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var failed []error
	for err := range errs {
		failed = append(failed, err)
	}
	require.NoError(t, errors.Join(failed...))

	assert.Equal(t, int64(n), applied.Load(), "every distinct event applied once (seed %d)", r.Seed)
	assert.Equal(t, int64(len(r.Deliveries)-n), duplicate.Load(), "every redelivery found a duplicate (seed %d)", r.Seed)
	r.Check(t, open())
	t.Logf("%d deliveries of %d events through %d appliers: %d applied, %d duplicates (seed %d)",
		len(r.Deliveries), n, appliers, applied.Load(), duplicate.Load(), r.Seed)
}
