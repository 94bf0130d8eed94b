package inbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/internal/pgtest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// The database stalls for 5 s in the middle of a drain, while deliveries
// keep coming and a tenth of the callbacks fail their first run: every
// acknowledged delivery is handled, and the drain resumes when the
// database does.
func TestADatabaseStallLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("stalls a database for 5 s")
	}
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "inbox.db")
		db, err := inbox.OpenSQLite(ctx, path)
		require.NoError(t, err)
		defer db.Close()
		other, err := inbox.OpenSQLite(ctx, path) // another connection to the file
		require.NoError(t, err)
		defer other.Close()
		stallDuring(t, func(h *webhooks.Handler) servingInbox { return startedInbox(t, riversqlite.New(db), h) }, func() {
			// A write transaction holds SQLite's one writer lock; the inbox's
			// statements wait for it (busy_timeout, 10 s).
			conn, err := other.Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
			require.NoError(t, err)
			time.Sleep(5 * time.Second)
			_, err = conn.ExecContext(ctx, `COMMIT`)
			require.NoError(t, err)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Schema(t, pgtest.DSN(t))
		pool, err := pgxpool.New(ctx, dsn)
		require.NoError(t, err)
		defer pool.Close()
		other, err := sql.Open("pgx", dsn)
		require.NoError(t, err)
		defer other.Close()
		stallDuring(t, func(h *webhooks.Handler) servingInbox { return startedInbox(t, riverpgxv5.New(pool), h) }, func() {
			tx, err := other.BeginTx(ctx, nil)
			require.NoError(t, err)
			_, err = tx.Exec(`LOCK TABLE river_job IN ACCESS EXCLUSIVE MODE`)
			require.NoError(t, err)
			time.Sleep(5 * time.Second)
			require.NoError(t, tx.Commit())
		})
	})
}

type servingInbox interface {
	http.Handler
	Stop(context.Context) error
}

func startedInbox[TTx any](t *testing.T, driver riverdriver.Driver[TTx], h *webhooks.Handler) servingInbox {
	ctx := context.Background()
	in, err := inbox.New(ctx, driver, h, inbox.WithBackoff(20*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	return in
}

// stallDuring delivers 1,000 events from 16 senders, each until it is
// acknowledged, runs stall once 200 have been, and checks that every event
// is handled once its callback succeeds.
func stallDuring(t *testing.T, start func(*webhooks.Handler) servingInbox, stall func()) {
	const events, senders = 1000, 16
	var mu sync.Mutex
	handled := map[string]int{}
	var failures atomic.Int64
	h := handler(t, webhooks.OnEvent(func(_ context.Context, ev webhooks.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := handled[ev.DedupKey()]; !seen && len(handled)%10 == 0 {
			handled[ev.DedupKey()] = 0 // a tenth fail their first run
			failures.Add(1)
			return assert.AnError
		}
		handled[ev.DedupKey()]++
		return nil
	}))
	in := start(h)
	srv := httptest.NewServer(in)
	defer srv.Close()
	var acked, slowest atomic.Int64
	stalled := make(chan struct{})
	go func() {
		for acked.Load() < 200 {
			time.Sleep(time.Millisecond)
		}
		stall()
		close(stalled)
	}()
	keys := make(chan int, events)
	for range events {
		keys <- int(seq.Add(1))
	}
	close(keys)
	var wg sync.WaitGroup
	sentKeys := make([]string, 0, events)
	var keysMu sync.Mutex
	for range senders {
		wg.Go(func() {
			hc := &http.Client{Timeout: 60 * time.Second}
			for i := range keys {
				body := event(i)
				t0 := time.Now()
				require.NoError(t, deliver(context.Background(), hc, []string{srv.Listener.Addr().String()}, body))
				for took := time.Since(t0); ; {
					old := slowest.Load()
					if int64(took) <= old || slowest.CompareAndSwap(old, int64(took)) {
						break
					}
				}
				ev, err := webhooks.Parse(body)
				require.NoError(t, err)
				keysMu.Lock()
				sentKeys = append(sentKeys, ev.DedupKey())
				keysMu.Unlock()
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	<-stalled
	lastAck := time.Now()
	assert.Greater(t, time.Duration(slowest.Load()), 4*time.Second, "the stall held an acknowledgement")
	eventually(t, "every acknowledged delivery handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range sentKeys {
			if handled[k] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d acknowledged (the slowest in %s, held by the stall), %d first runs failed; all handled %s after the last acknowledgement",
		len(sentKeys), time.Duration(slowest.Load()).Round(time.Millisecond), failures.Load(), time.Since(lastAck).Round(time.Millisecond))
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, in.Stop(stopCtx))
}

// A dedup key with a NUL (a group ID of "g\u0000x", from anyone holding
// the credential) is stored on PostgreSQL, whose jsonb refuses a NUL: before,
// it failed its whole batch, every delivery in it answered 500. Its
// redelivery is still absorbed.
func TestAKeyWithANULIsStored(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var calls atomic.Int32
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { calls.Add(1); return nil }))
	in := startedInbox(t, riverpgxv5.New(pool), h)
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		assert.NoError(t, in.Stop(stop))
	}()
	nul := []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g\u0000x","groupName":"G",` +
		`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`)
	var wg sync.WaitGroup
	for _, body := range [][]byte{nul, nul, joined("2026-01-15T10:00:01.000Z"), joined("2026-01-15T10:00:02.000Z")} {
		wg.Go(func() { assert.Equal(t, http.StatusOK, serve(in, post(t, body, webhookstest.Bearer(token))).Code) })
	}
	wg.Wait()
	eventually(t, "the three events handled", func() bool { return calls.Load() == 3 })
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(3), calls.Load(), "the NUL event's redelivery was absorbed")
}

// A delivery the database refuses (here: trace context holding a NUL,
// which PostgreSQL's jsonb refuses) fails alone: the genuine deliveries
// stored in the same batch are acknowledged and handled.
func TestARefusedDeliveryFailsAloneInItsBatch(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	var mu sync.Mutex
	handled := map[string]bool{}
	h := handler(t, webhooks.OnEvent(func(_ context.Context, ev webhooks.Event) error {
		mu.Lock()
		defer mu.Unlock()
		handled[ev.DedupKey()] = true
		return nil
	}))
	type poisoned struct{}
	obs := inbox.Observer{
		Start: func(ctx context.Context) context.Context { return ctx },
		Carry: func(ctx context.Context) map[string]string {
			if ctx.Value(poisoned{}) != nil {
				return map[string]string{"traceparent": "00-\x00-bad"}
			}
			return nil
		},
	}
	in, err := inbox.New(ctx, riverpgxv5.New(pool), h, inbox.WithObserver(obs), inbox.WithBackoff(20*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		assert.NoError(t, in.Stop(stop))
	}()
	const n = 40
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := post(t, joined(fmt.Sprintf("2026-01-15T10:00:%02d.000Z", i)), webhookstest.Bearer(token))
			if i == 7 {
				r = r.WithContext(context.WithValue(r.Context(), poisoned{}, true))
			}
			codes[i] = serve(in, r).Code
		})
	}
	wg.Wait()
	for i, code := range codes {
		if i == 7 {
			assert.Equal(t, http.StatusInternalServerError, code, "the refused one")
			continue
		}
		assert.Equal(t, http.StatusOK, code, "delivery %d, in a batch with the refused one or not", i)
	}
	eventually(t, "every genuine delivery handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == n-1
	})
}
