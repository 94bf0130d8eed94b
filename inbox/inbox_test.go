package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"database/sql"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "inbox-test-token"

func joined(at string) []byte {
	return []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
		`"customerPhone":"+919876543210","participantJoinedAt":"` + at + `"}`)
}

func post(t testing.TB, body []byte, signers ...webhookstest.Signer) *http.Request {
	t.Helper()
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, signers...)
	require.NoError(t, err)
	return r
}

func TestOpenSQLiteCreatesFilesForTheOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.db")
	db, err := inbox.OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)") // the -wal file exists now
	require.NoError(t, err)
	for _, f := range []string{path, path + "-wal"} {
		info, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), f)
	}
}

func TestOpenSQLiteUsesThePathAsWritten(t *testing.T) {
	// "%41" is how a URI filename writes "A": unescaped, the file would be
	// created as "50Aoff.db".
	path := filepath.Join(t.TempDir(), "50%41off.db")
	db, err := inbox.OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	assert.FileExists(t, path)
}

// sqliteInbox opens a fresh SQLite inbox running h's callbacks, started,
// and stopped at the end of the test.
func sqliteInbox(t *testing.T, h *webhooks.Handler, opts ...inbox.Option) (*inbox.Inbox[*sql.Tx], *sql.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	opts = append([]inbox.Option{inbox.WithBackoff(10*time.Millisecond, 50*time.Millisecond)}, opts...)
	in, err := inbox.New(ctx, riversqlite.New(db), h, opts...)
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, in.Stop(stopCtx))
		db.Close()
	})
	return in, db
}

func handler(t testing.TB, opts ...webhooks.HandlerOption) *webhooks.Handler {
	v, err := webhooks.NewBearerVerifier(token)
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, opts...)
	require.NoError(t, err)
	return h
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func jobs(t *testing.T, db *sql.DB) int {
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM river_job`).Scan(&n))
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStoresThenRunsOnce(t *testing.T) {
	var calls atomic.Int32
	h := handler(t, webhooks.OnParticipantJoined(func(_ context.Context, e *webhooks.ParticipantJoined) error {
		assert.Equal(t, "+919876543210", e.Phone.E164)
		calls.Add(1)
		return nil
	}))
	in, db := sqliteInbox(t, h)
	body := joined("2026-01-15T10:00:00.000Z")
	for range 3 {
		assert.Equal(t, 200, serve(in, post(t, body, webhookstest.Bearer(token))).Code)
	}
	assert.Equal(t, 1, jobs(t, db), "redeliveries are absorbed")
	eventually(t, "the inbox is idle", func() bool {
		idle, err := in.Idle(context.Background())
		require.NoError(t, err)
		return idle
	})
	assert.Equal(t, int32(1), calls.Load(), "idle once the callback ran")
	assert.Equal(t, 200, serve(in, post(t, body, webhookstest.Bearer(token))).Code, "a redelivery of a handled event is acknowledged")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(1), calls.Load(), "and not run again")
}

func TestFailuresAndPanicsAreRetried(t *testing.T) {
	var calls atomic.Int32
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		switch calls.Add(1) {
		case 1:
			return errors.New("database down")
		case 2:
			panic("a bug in the callback")
		}
		return nil
	}))
	in, _ := sqliteInbox(t, h)
	assert.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code)
	eventually(t, "the third attempt", func() bool { return calls.Load() == 3 })
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(3), calls.Load(), "no attempt after the first success")
}

func TestDeadLettersAndReplay(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	var done atomic.Int32
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		if broken.Load() {
			return errors.New("schema mismatch")
		}
		done.Add(1)
		return nil
	}))
	in, _ := sqliteInbox(t, h, inbox.WithMaxAttempts(2))
	ctx := context.Background()
	for _, at := range []string{"2026-01-15T10:00:00.000Z", "2026-01-15T10:01:00.000Z"} {
		require.Equal(t, 200, serve(in, post(t, joined(at), webhookstest.Bearer(token))).Code)
	}
	var dead []inbox.DeadLetter
	eventually(t, "two dead letters", func() bool {
		var err error
		dead, err = in.DeadLetters(ctx, 10)
		require.NoError(t, err)
		return len(dead) == 2
	})
	assert.Equal(t, 2, dead[0].Attempts)
	assert.Contains(t, dead[0].LastError, "schema mismatch")
	assert.False(t, dead[0].DiedAt.IsZero())
	ev, err := webhooks.Parse(dead[0].Delivery.Body)
	require.NoError(t, err)
	assert.Equal(t, webhooks.TypeParticipantJoined, ev.Type())

	// A redelivery of a dead event is absorbed, not run again by itself.
	assert.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code)

	// Replayed while the callback still fails: one more attempt, then a
	// dead letter again.
	require.NoError(t, in.Replay(ctx, dead[0].ID))
	eventually(t, "dead again after one more attempt", func() bool {
		again, err := in.DeadLetters(ctx, 10)
		require.NoError(t, err)
		return len(again) == 2 && again[0].Attempts == 3
	})

	broken.Store(false)
	require.NoError(t, in.Replay(ctx, dead[0].ID))
	eventually(t, "the replayed one ran", func() bool { return done.Load() == 1 })
	// A handled delivery is not a dead letter: its callbacks do not run twice.
	assert.ErrorIs(t, in.Replay(ctx, dead[0].ID), inbox.ErrNotDeadLetter)
	assert.ErrorIs(t, in.Replay(ctx, 1<<40), inbox.ErrNotDeadLetter, "no such job")
	n, err := in.ReplayAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	eventually(t, "both ran", func() bool { return done.Load() == 2 })
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int32(2), done.Load(), "each ran once")
	dead, err = in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestPurgeDeadLettersDeletesOnlyOldDeadLetters(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		if fail.Load() {
			return errors.New("schema mismatch")
		}
		return nil
	}))
	in, _ := sqliteInbox(t, h, inbox.WithMaxAttempts(1))
	ctx := context.Background()
	for _, at := range []string{"2026-01-15T10:00:00.000Z", "2026-01-15T10:01:00.000Z"} {
		require.Equal(t, 200, serve(in, post(t, joined(at), webhookstest.Bearer(token))).Code)
	}
	eventually(t, "two dead letters", func() bool {
		dead, err := in.DeadLetters(ctx, 10)
		require.NoError(t, err)
		return len(dead) == 2
	})
	fail.Store(false)
	require.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:02:00.000Z"), webhookstest.Bearer(token))).Code)
	eventually(t, "the third handled", func() bool {
		idle, err := in.Idle(ctx)
		require.NoError(t, err)
		return idle
	})

	n, err := in.PurgeDeadLetters(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "none died an hour ago")
	n, err = in.PurgeDeadLetters(ctx, time.Now().Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	dead, err := in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Dead)
}

// TestRefusesAsTheHandlerDoes sends bad requests to the inbox and to the
// Handler it wraps: same statuses, and nothing stored.
func TestRefusesAsTheHandlerDoes(t *testing.T) {
	h := handler(t, webhooks.WithMaxBodySize(2048), webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }))
	in, db := sqliteInbox(t, h)
	good := joined("2026-01-15T10:00:00.000Z")
	cases := map[string]func() *http.Request{
		"unverified": func() *http.Request { return post(t, good) },
		"wrong token": func() *http.Request {
			return post(t, good, webhookstest.Bearer("not-the-token"))
		},
		"malformed": func() *http.Request { return post(t, []byte(`{"event":"GROUP_CREATED"`), webhookstest.Bearer(token)) },
		"no phone": func() *http.Request {
			return post(t, bytes.Replace(good, []byte(`"customerPhone":"+919876543210",`), nil, 1), webhookstest.Bearer(token))
		},
		"oversized": func() *http.Request {
			return post(t, bytes.Repeat([]byte(" "), 4096), webhookstest.Bearer(token))
		},
		"wrong method": func() *http.Request {
			r := post(t, good, webhookstest.Bearer(token))
			r.Method = http.MethodGet
			return r
		},
		"form data": func() *http.Request {
			return post(t, []byte("event=GROUP_CREATED"), webhookstest.Bearer(token), webhookstest.Header("Content-Type", "application/x-www-form-urlencoded"))
		},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			want := serve(h, req()).Code
			got := serve(in, req())
			assert.Equal(t, want, got.Code)
			assert.GreaterOrEqual(t, got.Code, 400)
			assert.Zero(t, jobs(t, db))
		})
	}
}

func TestAStoreThatFailsIsNotAcknowledged(t *testing.T) {
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	in, err := inbox.New(ctx, riversqlite.New(db), handler(t), inbox.WithoutWorkers())
	require.NoError(t, err)
	require.NoError(t, db.Close())
	rec := serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token)))
	assert.Equal(t, 500, rec.Code)
	body, _ := io.ReadAll(rec.Body)
	assert.NotContains(t, string(body), "sql")
}

// TestConcurrentRedeliveriesStoreOneJob delivers one event from 20
// goroutines at once.
func TestConcurrentRedeliveriesStoreOneJob(t *testing.T) {
	var calls atomic.Int32
	in, db := sqliteInbox(t, handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { calls.Add(1); return nil })))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			assert.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, jobs(t, db))
	eventually(t, "the callback ran", func() bool { return calls.Load() == 1 })
}

// A delivery to a path the Handler types is run as that type when the
// worker decodes it again; a delivery without a dedup key (a chat
// unassigned twice reads the same both times) is stored every time, and a
// keyed one once.
func TestPathTypedAndKeylessDeliveries(t *testing.T) {
	var statuses, unassigned atomic.Int32
	h := handler(t,
		webhooks.WithPathType("/hooks/status", webhooks.TypeMessageStatusUpdate),
		webhooks.WithPathType("/hooks/unassigned", webhooks.TypeChatUnassigned),
		webhooks.OnMessageStatusUpdate(func(_ context.Context, e *webhooks.MessageStatusUpdate) error {
			assert.Equal(t, webhooks.MessageDelivered, e.Status)
			statuses.Add(1)
			return nil
		}),
		webhooks.OnChatUnassigned(func(_ context.Context, e *webhooks.ChatUnassigned) error {
			assert.Equal(t, "chat_abc123", e.ChatID)
			unassigned.Add(1)
			return nil
		}))
	in, db := sqliteInbox(t, h)
	send := func(path, body string) int {
		r, err := webhookstest.NewRequest("http://127.0.0.1"+path, []byte(body), webhookstest.Bearer(token))
		require.NoError(t, err)
		return serve(in, r).Code
	}
	status := `{"messageId":"dt_1","to":"919999999999","status":"DELIVERED","statusTimestamp":"2026-06-04T11:48:16.000Z"}`
	unassignment := `{"chatId":"chat_abc123","dtCustomerId":"customer_pvgpZUh3wg"}`
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { assert.Equal(t, 200, send("/hooks/status", status)) })
		wg.Go(func() { assert.Equal(t, 200, send("/hooks/unassigned", unassignment)) })
	}
	wg.Wait()
	assert.Equal(t, 3, jobs(t, db), "the status once, each unassignment")
	eventually(t, "the callbacks ran", func() bool { return statuses.Load() == 1 && unassigned.Load() == 2 })
}

func TestRescueIsNeverBelowTheJobTimeout(t *testing.T) {
	h := handler(t)
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = inbox.New(ctx, riversqlite.New(db), h, inbox.WithJobTimeout(time.Minute), inbox.WithRescueAfter(30*time.Second))
	assert.ErrorContains(t, err, "WithRescueAfter (30s) is below the job timeout (1m0s)")
	_, err = inbox.New(ctx, riversqlite.New(db), h, inbox.WithJobTimeout(10*time.Minute))
	assert.NoError(t, err, "a long job timeout alone moves the rescue after it")
}

func TestStatsCountTheDeliveries(t *testing.T) {
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	// The receiver stores each delivery with one attempt.
	in, err := inbox.New(ctx, riversqlite.New(db), handler(t), inbox.WithoutWorkers(), inbox.WithMaxAttempts(1))
	require.NoError(t, err)
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, inbox.Stats{}, st, "empty")
	for _, at := range []string{"2026-01-15T10:00:00.000Z", "2026-01-15T10:01:00.000Z", "2026-01-15T10:02:00.000Z"} {
		require.Equal(t, 200, serve(in, post(t, joined(at), webhookstest.Bearer(token))).Code)
	}
	time.Sleep(20 * time.Millisecond)
	st, err = in.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Waiting, "nobody works them")
	assert.Zero(t, st.Running+st.Retrying+st.Dead)
	assert.GreaterOrEqual(t, st.OldestWaiting, 20*time.Millisecond)
	bytes := st.StoredBytes
	assert.Greater(t, bytes, int64(3*len(joined("2026-01-15T10:00:00.000Z"))), "three bodies, in base64 within their jobs")

	// Worked by a process whose callback always fails: dead letters.
	failing := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return errors.New("down") }))
	worker, err := inbox.New(ctx, riversqlite.New(db), failing)
	require.NoError(t, err)
	require.NoError(t, worker.Start(ctx))
	defer worker.Stop(ctx)
	// The counts are read one after another: wait for them to settle.
	eventually(t, "three dead letters and nothing else", func() bool {
		st, err = in.Stats(ctx)
		require.NoError(t, err)
		return st == inbox.Stats{Dead: 3, StoredBytes: bytes}
	})
}

// A full disk (SQLite's max_page_count makes one, for this connection): every
// delivery is answered 500 and nothing is stored; once there is room again,
// the inbox stores and handles deliveries without being restarted.
func TestAFullDiskIsNotAcknowledgedAndRecovers(t *testing.T) {
	var handled atomic.Int32
	in, db := sqliteInbox(t, handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { handled.Add(1); return nil })))
	var pages int
	require.NoError(t, db.QueryRow(`PRAGMA page_count`).Scan(&pages))
	_, err := db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+8))
	require.NoError(t, err)
	// Fill what room is left.
	_, err = db.Exec(`CREATE TABLE filler (x BLOB)`)
	require.NoError(t, err)
	for i := 0; ; i++ {
		if _, err := db.Exec(`INSERT INTO filler VALUES (randomblob(1000))`); err != nil {
			require.ErrorContains(t, err, "full")
			break
		}
		require.Less(t, i, 10_000, "the database never filled")
	}
	stored := jobs(t, db)

	var wg sync.WaitGroup
	var codes sync.Map
	for i := range 20 {
		wg.Go(func() {
			body := joined(fmt.Sprintf("2026-01-15T11:%02d:00.000Z", i))
			// A body large enough that no page has room for it.
			big := bytes.Replace(body, []byte(`"groupName":"G"`), []byte(`"groupName":"`+strings.Repeat("G", 8000)+`"`), 1)
			codes.Store(i, serve(in, post(t, big, webhookstest.Bearer(token))).Code)
		})
	}
	wg.Wait()
	codes.Range(func(k, v any) bool {
		assert.Equal(t, 500, v, "delivery %v", k)
		return true
	})
	assert.Equal(t, stored, jobs(t, db), "nothing stored")

	_, err = db.Exec(`PRAGMA max_page_count = 1073741823`)
	require.NoError(t, err)
	assert.Equal(t, 200, serve(in, post(t, joined("2026-01-15T12:00:00.000Z"), webhookstest.Bearer(token))).Code)
	eventually(t, "handled after the disk had room again", func() bool { return handled.Load() == 1 })
}
