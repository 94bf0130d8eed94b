package membership_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/webhooks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	asha = "+919876543210"
	bo   = "+15551230000"
)

func createGroup(t *testing.T, c *doubletick.Client, id string) {
	t.Helper()
	_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "Support " + id, GroupID: id})
	require.NoError(t, err)
}

func members(t *testing.T, s membership.Store, group string) map[string]membership.State {
	t.Helper()
	ms, err := s.Members(context.Background(), group)
	require.NoError(t, err)
	out := make(map[string]membership.State, len(ms))
	for _, m := range ms {
		out[m.Phone] = m.State
	}
	return out
}

// A receiver built with webhooks.NewHandler and OnEvent(tracker.Handle)
// keeps the store right when DoubleTick delivers every event twice and in
// reverse order, in both payload formats.
func TestTrackerBehindHandler(t *testing.T) {
	for name, format := range map[string]doubleticktest.PayloadFormat{"current": doubleticktest.FormatCurrent, "legacy": doubleticktest.FormatLegacy} {
		t.Run(name, func(t *testing.T) {
			store := membership.NewMemoryStore()
			tracker, err := membership.NewTracker(store)
			require.NoError(t, err)
			bearer, err := webhooks.NewBearerVerifier("hook-token")
			require.NoError(t, err)
			handler, err := webhooks.NewHandler(bearer, webhooks.OnEvent(tracker.Handle))
			require.NoError(t, err)
			receiver := httptest.NewServer(handler)
			defer receiver.Close()

			srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1))
			defer srv.Close()
			require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: receiver.URL, Format: format,
				Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))

			srv.Hold()
			srv.DuplicateWebhooks(true)
			createGroup(t, srv.Client(), "g1")
			require.NoError(t, srv.Join("g1", asha, "Asha"))
			require.NoError(t, srv.Join("g1", bo, "Bo"))
			require.NoError(t, srv.Leave("g1", asha))
			srv.Release(true) // LEFT arrives before its JOINED
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, srv.WaitDeliveries(ctx, 8))
			for _, d := range srv.Deliveries() {
				require.Equal(t, http.StatusOK, d.Status)
			}

			assert.Equal(t, map[string]membership.State{asha: membership.Left, bo: membership.Joined}, members(t, store, "g1"))
			audit, err := store.Audit(context.Background(), "g1")
			require.NoError(t, err)
			require.Len(t, audit, 3, "three distinct changes, each once")
			for _, e := range audit {
				if e.Phone == asha && e.State == membership.Joined {
					assert.Equal(t, [2]membership.State{membership.Left, membership.Left}, [2]membership.State{e.Before, e.After},
						"asha's JOINED, arriving after her LEFT, is recorded without undoing it")
				}
			}
		})
	}
}

// failingStore fails every Apply, as a database that is down would.
type failingStore struct{ membership.Store }

func (failingStore) Apply(context.Context, membership.Change, time.Time) (membership.AuditEntry, bool, error) {
	return membership.AuditEntry{}, false, errors.New("database is down")
}

func post(t *testing.T, h http.Handler, body string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer hook-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestHandleAnswers(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	joined := `{"event":"GROUP_PARTICIPANT_JOINED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","customerPhone":"919876543210","participantJoinedAt":"2026-01-15T10:30:00.000Z"}`

	t.Run("a store error answers 500, never 200", func(t *testing.T) {
		tracker, err := membership.NewTracker(failingStore{membership.NewMemoryStore()})
		require.NoError(t, err)
		h, err := webhooks.NewHandler(bearer, webhooks.OnEvent(tracker.Handle))
		require.NoError(t, err)
		assert.Equal(t, http.StatusInternalServerError, post(t, h, joined))
	})

	t.Run("an event that can never apply is logged and acknowledged", func(t *testing.T) {
		var logs bytes.Buffer
		store := membership.NewMemoryStore()
		tracker, err := membership.NewTracker(store, membership.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		h, err := webhooks.NewHandler(bearer, webhooks.OnEvent(tracker.Handle))
		require.NoError(t, err)
		pending := `{"event":"GROUP_PARTICIPANT_JOINED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":null,"customerPhone":"919876543210","participantJoinedAt":"2026-01-15T10:30:00.000Z"}`
		assert.Equal(t, http.StatusOK, post(t, h, pending))
		assert.Contains(t, logs.String(), "GroupID is required")
		assert.Equal(t, http.StatusOK, post(t, h, joined))
		assert.Equal(t, map[string]membership.State{asha: membership.Joined}, members(t, store, "g1"))
	})
}

// TestFutureDatedChangesAreRefused: a change dated far ahead of the clock
// would pin its member's state until that time; it is refused, logged and
// acknowledged, and the member's later real changes still apply.
func TestFutureDatedChangesAreRefused(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	store := membership.NewMemoryStore()
	var logs bytes.Buffer
	tracker, err := membership.NewTracker(store, membership.WithClock(func() time.Time { return now }),
		membership.WithMaxSkew(time.Minute), membership.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	event := func(kind, field string, at time.Time) webhooks.Event {
		ev, err := webhooks.Parse([]byte(`{"event":"` + kind + `","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
			`"customerPhone":"+919876543210","` + field + `":"` + at.Format(time.RFC3339Nano) + `"}`))
		require.NoError(t, err)
		return ev
	}
	_, err = tracker.Apply(ctx, event("GROUP_PARTICIPANT_LEFT", "participantLeftAt", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)))
	var invalid *membership.InvalidChangeError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "At", invalid.Field)
	assert.NoError(t, tracker.Handle(ctx, event("GROUP_PARTICIPANT_LEFT", "participantLeftAt", now.Add(time.Hour))), "logged and acknowledged")
	assert.Contains(t, logs.String(), "ahead of the clock")

	res, err := tracker.Apply(ctx, event("GROUP_PARTICIPANT_JOINED", "participantJoinedAt", now.Add(30*time.Second)))
	require.NoError(t, err, "within the skew")
	assert.Equal(t, membership.Applied, res.Outcome)
	m, ok, err := store.Member(ctx, "g1", "+919876543210")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, membership.Joined, m.State, "no future-dated leave pins the member")

	_, err = membership.NewTracker(store, membership.WithMaxSkew(0))
	assert.Error(t, err)
}

func TestApplyOutcomes(t *testing.T) {
	ctx := context.Background()
	tracker, err := membership.NewTracker(membership.NewMemoryStore(), membership.WithClock(func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }))
	require.NoError(t, err)

	created, err := webhooks.Parse([]byte(`{"event":"GROUP_CREATED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","inviteLink":null,"groupCreatedAt":"2026-01-15T10:00:00Z"}`))
	require.NoError(t, err)
	res, err := tracker.Apply(ctx, created)
	require.NoError(t, err)
	assert.Equal(t, membership.Ignored, res.Outcome)

	// The legacy format's number without "+" and the current one's with it
	// are one participant.
	removed, err := webhooks.Parse([]byte(`{"event":"GROUP_PARTICIPANT_REMOVED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","customerPhone":"+919876543210","participantRemovedAt":"2026-01-15T11:00:00Z"}`))
	require.NoError(t, err)
	res, err = tracker.Apply(ctx, removed)
	require.NoError(t, err)
	assert.Equal(t, membership.Applied, res.Outcome)
	assert.Equal(t, membership.Change{GroupID: "g1", Phone: asha, State: membership.Removed,
		At: time.Date(2026, 1, 15, 11, 0, 0, 0, time.UTC), Source: membership.SourceWebhook}, res.Entry.Change)
	assert.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), res.Entry.AppliedAt)

	again, err := webhooks.Parse([]byte(`{"participantRemovedAt":"2026-01-15T11:00:00Z","customerPhone":"919876543210","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","event":"GROUP_PARTICIPANT_REMOVED"}`))
	require.NoError(t, err)
	res, err = tracker.Apply(ctx, again)
	require.NoError(t, err)
	assert.Equal(t, membership.Duplicate, res.Outcome)
	assert.Equal(t, "duplicate", res.Outcome.String())

	badPhone, err := webhooks.Parse([]byte(`{"event":"GROUP_PARTICIPANT_LEFT","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","customerPhone":"not a phone","participantLeftAt":"2026-01-15T11:00:00Z"}`))
	require.NoError(t, err)
	_, err = tracker.Apply(ctx, badPhone)
	var invalid *membership.InvalidChangeError
	require.ErrorAs(t, err, &invalid)
	assert.Equal(t, "Phone", invalid.Field)
}

func TestNewTrackerRefusesNil(t *testing.T) {
	_, err := membership.NewTracker(nil)
	assert.Error(t, err)
	for _, opt := range []membership.Option{membership.WithParticipants(nil), membership.WithLogger(nil), membership.WithClock(nil)} {
		_, err := membership.NewTracker(membership.NewMemoryStore(), opt)
		assert.Error(t, err)
	}
}

// Reconcile finds what lost webhooks would have said, from the
// participants endpoint, and applies it once.
func TestReconcileRepairsLostWebhooks(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	srv := doubleticktest.NewServer(doubleticktest.WithPageSize(2), doubleticktest.WithClock(func() time.Time {
		clock = clock.Add(time.Minute)
		return clock
	}))
	defer srv.Close()
	c := srv.Client()
	createGroup(t, c, "g1")
	// No receiver is registered: every webhook is lost.
	require.NoError(t, srv.Join("g1", asha, "Asha"))
	require.NoError(t, srv.Join("g1", bo, "Bo"))
	require.NoError(t, srv.Leave("g1", asha))
	require.NoError(t, srv.Join("g1", "+447700900123", "Cy"))
	_, _, err := c.Participants.Remove(ctx, "g1", "+447700900123")
	require.NoError(t, err)

	store := membership.NewMemoryStore()
	tracker, err := membership.NewTracker(store, membership.WithParticipants(c.Participants))
	require.NoError(t, err)
	// One webhook did arrive: bo's join. Reconcile must not apply it again.
	for p, err := range c.Participants.All(ctx, "g1", nil) {
		require.NoError(t, err)
		if p.PhoneNumber == bo {
			_, _, err = store.Apply(ctx, membership.Change{GroupID: "g1", Phone: bo, State: membership.Joined, At: p.DateJoined, Source: membership.SourceWebhook}, time.Now())
			require.NoError(t, err)
		}
	}
	// And the store believes in a member the API has never heard of.
	ghost := membership.Change{GroupID: "g1", Phone: "+12025550100", State: membership.Joined, At: clock, Source: membership.SourceWebhook}
	_, _, err = store.Apply(ctx, ghost, time.Now())
	require.NoError(t, err)

	report, err := tracker.Reconcile(ctx, "g1")
	require.NoError(t, err)
	assert.Equal(t, 3, report.Listed, "three participants over two pages")
	assert.Len(t, report.Applied, 4, "asha joined and left, cy joined and was removed")
	for _, e := range report.Applied {
		assert.Equal(t, membership.SourceReconcile, e.Source)
	}
	assert.Len(t, report.Changed(), 4)
	assert.Equal(t, []string{"+12025550100"}, phones(report.Unlisted))
	assert.Equal(t, map[string]membership.State{asha: membership.Left, bo: membership.Joined,
		"+447700900123": membership.Removed, "+12025550100": membership.Joined}, members(t, store, "g1"))

	again, err := tracker.Reconcile(ctx, "g1")
	require.NoError(t, err)
	assert.Empty(t, again.Applied, "a second run finds nothing new")
	audit, err := store.Audit(ctx, "g1")
	require.NoError(t, err)
	assert.Len(t, audit, 6)
}

func phones(ms []membership.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Phone)
	}
	return out
}

func TestReconcileErrors(t *testing.T) {
	ctx := context.Background()
	tracker, err := membership.NewTracker(membership.NewMemoryStore())
	require.NoError(t, err)
	_, err = tracker.Reconcile(ctx, "g1")
	assert.ErrorIs(t, err, membership.ErrNoParticipants)

	srv := doubleticktest.NewServer()
	defer srv.Close()
	tracker, err = membership.NewTracker(membership.NewMemoryStore(), membership.WithParticipants(srv.Client().Participants))
	require.NoError(t, err)
	_, err = tracker.Reconcile(ctx, "no-such-group")
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
}
