package inbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/internal/pgtest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// orgToken is organisation id's bearer token in these tests.
func orgToken(id string) string { return "token-of-" + id }

// orgID names organisation i of these tests.
func orgID(i int) string { return fmt.Sprintf("org-%03d", i) }

// newOrgs returns n organisations, each verified with its own token.
func newOrgs(t testing.TB, n int) *webhooks.Orgs {
	t.Helper()
	var orgs webhooks.Orgs
	for i := range n {
		v, err := webhooks.NewBearerVerifier(orgToken(orgID(i)))
		require.NoError(t, err)
		require.NoError(t, orgs.Set(webhooks.Org{ID: orgID(i), Verifier: v}))
	}
	return &orgs
}

// orgPost is a delivery of body to organisation id's path, signed with
// signer's token.
func orgPost(t testing.TB, id, signer string, body []byte) *http.Request {
	t.Helper()
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/"+id, body, webhookstest.Bearer(orgToken(signer)))
	require.NoError(t, err)
	return r
}

// orgMux mounts an inbox at /hooks/{org}.
func orgMux(in http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", in)
	return mux
}

func TestOneInboxServesManyOrganisationsSQLite(t *testing.T) {
	oneInboxManyOrgs(t, func(h *webhooks.Handler) *inbox.Inbox[*sql.Tx] {
		in, _ := sqliteInbox(t, h)
		return in
	})
}

func TestOneInboxServesManyOrganisationsPostgres(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	oneInboxManyOrgs(t, func(h *webhooks.Handler) *inbox.Inbox[pgx.Tx] {
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, dsn)
		require.NoError(t, err)
		in, err := inbox.New(ctx, riverpgxv5.New(pool), h, inbox.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
		require.NoError(t, err)
		require.NoError(t, in.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, in.Stop(stopCtx))
			pool.Close()
		})
		return in
	})
}

// oneInboxManyOrgs sends each of 100 organisations the same two events
// (their group IDs and times alike, as two integrations may choose them),
// each twice, through one inbox: every callback sees its own organisation,
// each organisation's events run once, and a credential or path that does
// not match stores nothing.
func oneInboxManyOrgs[TTx any](t *testing.T, open func(*webhooks.Handler) *inbox.Inbox[TTx]) {
	const n = 100
	orgs := newOrgs(t, n)
	var mu sync.Mutex
	ran := map[string]int{}
	h, err := webhooks.NewOrgHandler(orgs, webhooks.OnParticipantJoined(func(ctx context.Context, e *webhooks.ParticipantJoined) error {
		mu.Lock()
		defer mu.Unlock()
		ran[webhooks.OrgFromContext(ctx)+" "+e.At.Format(time.RFC3339)]++
		return nil
	}))
	require.NoError(t, err)
	in := open(h)
	mux := orgMux(in)
	bodies := [][]byte{joined("2026-01-15T10:00:00.000Z"), joined("2026-01-15T11:00:00.000Z")}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for range 2 {
				for _, body := range bodies {
					assert.Equal(t, 200, serve(mux, orgPost(t, orgID(i), orgID(i), body)).Code)
				}
			}
		})
	}
	wg.Wait()
	ctx := context.Background()
	// Refused, and nothing stored: A's token on B's path, an unknown
	// organisation, no organisation at all.
	assert.Equal(t, 401, serve(mux, orgPost(t, orgID(1), orgID(0), joined("2026-01-15T12:00:00.000Z"))).Code)
	assert.Equal(t, 404, serve(mux, orgPost(t, "org-999", "org-999", joined("2026-01-15T12:00:00.000Z"))).Code)
	r := httptest.NewRequest(http.MethodPost, "/hooks/", strings.NewReader(string(bodies[0])))
	assert.Equal(t, 404, serve(in, r).Code)

	eventually(t, "the inbox is idle", func() bool {
		idle, err := in.Idle(ctx)
		require.NoError(t, err)
		return idle
	})
	mu.Lock()
	assert.Len(t, ran, 2*n, "each organisation's two events ran, though every organisation sent the same bodies")
	for k, c := range ran {
		assert.Equal(t, 1, c, k)
	}
	mu.Unlock()
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	all := st.StoredBytes
	assert.Equal(t, inbox.Stats{StoredBytes: all}, st, "all handled")
	stored, err := in.RiverClient().JobList(ctx, river.NewJobListParams().Kinds(inbox.Kind).First(1000))
	require.NoError(t, err)
	assert.Len(t, stored.Jobs, 2*n, "two deliveries stored per organisation: redeliveries absorbed, refusals not stored")
	// One organisation's queries run on either database.
	one, err := in.ForOrg(orgID(7))
	require.NoError(t, err)
	st, err = one.Stats(ctx)
	require.NoError(t, err)
	assert.InDelta(t, all/n, st.StoredBytes, float64(all/n)/10, "one organisation keeps a hundredth of the bytes")
	assert.Equal(t, inbox.Stats{StoredBytes: st.StoredBytes}, st)
	dead, err := one.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestOrganisationRemovedSinceStoredIsADeadLetter(t *testing.T) {
	orgs := newOrgs(t, 3)
	var mu sync.Mutex
	var ran []string
	h, err := webhooks.NewOrgHandler(orgs, webhooks.OnEvent(func(ctx context.Context, _ webhooks.Event) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, webhooks.OrgFromContext(ctx))
		return nil
	}))
	require.NoError(t, err)
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	// Stored by a receiver that does not work, so that the organisation
	// goes before its delivery runs.
	receiving, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithoutWorkers())
	require.NoError(t, err)
	mux := orgMux(receiving)
	for i := range 3 {
		assert.Equal(t, 200, serve(mux, orgPost(t, orgID(i), orgID(i), joined("2026-01-15T10:00:00.000Z"))).Code)
	}
	require.True(t, orgs.Remove(orgID(2)))
	assert.Equal(t, 404, serve(mux, orgPost(t, orgID(2), orgID(2), joined("2026-01-15T11:00:00.000Z"))).Code, "refused once removed")

	in, err := inbox.New(ctx, riversqlite.New(db), h)
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	defer func() { assert.NoError(t, in.Stop(ctx)) }()
	eventually(t, "idle", func() bool { idle, err := in.Idle(ctx); return err == nil && idle })
	dead, err := in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, orgID(2), dead[0].Delivery.Org)
	assert.Contains(t, dead[0].LastError, "org-002 is no longer served")
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Dead)

	// Served again, its dead letter replays.
	v, err := webhooks.NewBearerVerifier(orgToken(orgID(2)))
	require.NoError(t, err)
	require.NoError(t, orgs.Set(webhooks.Org{ID: orgID(2), Verifier: v}))
	two, err := in.ForOrg(orgID(2))
	require.NoError(t, err)
	n, err := two.ReplayAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	eventually(t, "replayed", func() bool { idle, err := in.Idle(ctx); return err == nil && idle })
	mu.Lock()
	defer mu.Unlock()
	assert.ElementsMatch(t, []string{orgID(0), orgID(1), orgID(2)}, ran)
}

func TestAdminForOrgSeesOneOrganisation(t *testing.T) {
	orgs := newOrgs(t, 2)
	h, err := webhooks.NewOrgHandler(orgs, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		return fmt.Errorf("always fails")
	}))
	require.NoError(t, err)
	in, _ := sqliteInbox(t, h, inbox.WithMaxAttempts(1))
	mux := orgMux(in)
	for i, count := range []int{3, 1} {
		for k := range count {
			body := joined(fmt.Sprintf("2026-01-15T10:00:0%d.000Z", k))
			assert.Equal(t, 200, serve(mux, orgPost(t, orgID(i), orgID(i), body)).Code)
		}
	}
	ctx := context.Background()
	eventually(t, "all dead", func() bool { st, err := in.Stats(ctx); return err == nil && st.Dead == 4 })
	zero, err := in.ForOrg(orgID(0))
	require.NoError(t, err)
	one, err := in.ForOrg(orgID(1))
	require.NoError(t, err)
	assert.Equal(t, orgID(1), one.Org())
	for admin, want := range map[*inbox.Admin[*sql.Tx]]int{zero: 3, one: 1} {
		st, err := admin.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, st.Dead, admin.Org())
		dead, err := admin.DeadLetters(ctx, 10)
		require.NoError(t, err)
		require.Len(t, dead, want)
		for _, d := range dead {
			assert.Equal(t, admin.Org(), d.Delivery.Org)
			assert.True(t, strings.HasPrefix(d.Delivery.Key, admin.Org()+"/"), "keys are kept per organisation: %q", d.Delivery.Key)
		}
	}
	// One organisation's Admin neither replays nor purges another's.
	dead, err := zero.DeadLetters(ctx, 1)
	require.NoError(t, err)
	require.ErrorIs(t, one.Replay(ctx, dead[0].ID), inbox.ErrNotDeadLetter)
	purged, err := one.PurgeDeadLetters(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, purged)
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Dead, "the other organisation's dead letters are kept")
	stOther, err := in.ForOrg("org-404")
	require.NoError(t, err)
	none, err := stOther.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, inbox.Stats{}, none, "an organisation with no delivery keeps no byte")

	_, err = in.ForOrg("a/b")
	require.Error(t, err)
	_, err = in.ForOrg("")
	require.Error(t, err)
}

// v010Args is a delivery as inbox v0.1.0 stored it: no organisation, no
// path type.
type v010Args struct {
	Body        []byte    `json:"body"`
	ContentType string    `json:"content_type"`
	ReceivedAt  time.Time `json:"received_at"`
	Key         string    `json:"key" river:"unique"`
}

func (v010Args) Kind() string { return inbox.Kind }
func (v010Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: inbox.Queue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}}
}

func TestDeliveriesStoredByV010RunAfterTheUpgrade(t *testing.T) {
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, inbox.Migrate(ctx, riversqlite.New(db)))
	old, err := river.NewClient(riversqlite.New(db), &river.Config{})
	require.NoError(t, err)
	body := joined("2026-01-15T10:00:00.000Z")
	ev, err := webhooks.Parse(body)
	require.NoError(t, err)
	_, err = old.Insert(ctx, v010Args{Body: body, ContentType: "application/json", ReceivedAt: time.Now().UTC(), Key: ev.DedupKey()}, nil)
	require.NoError(t, err)

	var mu sync.Mutex
	var orgsSeen []string
	h := handler(t, webhooks.OnEvent(func(ctx context.Context, _ webhooks.Event) error {
		mu.Lock()
		defer mu.Unlock()
		orgsSeen = append(orgsSeen, webhooks.OrgFromContext(ctx))
		return nil
	}))
	in, err := inbox.New(ctx, riversqlite.New(db), h)
	require.NoError(t, err)
	// A redelivery of the event v0.1.0 stored is absorbed by the new one.
	assert.Equal(t, 200, serve(in, post(t, body, webhookstest.Bearer(token))).Code)
	assert.Equal(t, 1, jobs(t, db), "the redelivery is absorbed on the key v0.1.0 stored")
	require.NoError(t, in.Start(ctx))
	defer func() { assert.NoError(t, in.Stop(ctx)) }()
	eventually(t, "idle", func() bool { idle, err := in.Idle(ctx); return err == nil && idle })
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{""}, orgsSeen, "run once, for the one organisation")
}
