package inbox_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/internal/pgtest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// Compare, interleaved so that drift hits every side alike:
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench Ack -benchtime 3000x ./inbox/; done
//
// Each benchmark runs 16 goroutines (RunParallel with parallelism 16/GOMAXPROCS):
//   - Inbox: POST a distinct signed event over loopback HTTP to the inbox
//     and wait for its 200 (the ack: verified, parsed, committed), with the
//     inbox's workers running the (no-op) callbacks meanwhile, as a
//     receiver runs them.
//   - RiverInsert: River's own Insert of the same job, no HTTP.
//   - BareInsert: one INSERT of the body and a COMMIT, no River.
//
// acks/s is b.N over the elapsed time; p50-ms and p99-ms are the latencies
// of single operations. SQLite runs with synchronous=FULL (an ack survives
// power loss), PostgreSQL with its default synchronous_commit=on.

const benchSenders = 16

type benchDB struct {
	name     string
	sqlDB    *sql.DB
	pool     *pgxpool.Pool
	newInbox func(b *testing.B, h *webhooks.Handler) http.Handler
	insert   func(ctx context.Context, d inbox.JobArgs) error
	bare     func(ctx context.Context, body []byte) error
	close    func()
}

func benchDatabases(b *testing.B) []benchDB {
	ctx := context.Background()
	var out []benchDB

	dir := b.TempDir()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	sqliteDriver := riversqlite.New(db)
	out = append(out, benchDB{
		name: "sqlite", sqlDB: db,
		newInbox: func(b *testing.B, h *webhooks.Handler) http.Handler { return newBenchInbox(b, sqliteDriver, h) },
		insert:   riverInsert(b, sqliteDriver),
		bare:     bareInsert(b, db, "?"),
		close:    func() { db.Close() },
	})

	if os.Getenv("DOUBLETICK_TEST_POSTGRES_DSN") != "" {
		// As many connections as senders, for every side alike.
		schemaDSN := pgtest.Schema(b, pgtest.DSN(b))
		pool, err := pgxpool.New(ctx, schemaDSN+"&pool_max_conns=20")
		if err != nil {
			b.Fatal(err)
		}
		pgDB, err := sql.Open("pgx", schemaDSN)
		if err != nil {
			b.Fatal(err)
		}
		pgDB.SetMaxOpenConns(20)
		pgDriver := riverpgxv5.New(pool)
		out = append(out, benchDB{
			name: "postgres", sqlDB: pgDB, pool: pool,
			newInbox: func(b *testing.B, h *webhooks.Handler) http.Handler { return newBenchInbox(b, pgDriver, h) },
			insert:   riverInsert(b, pgDriver),
			bare:     bareInsert(b, pgDB, "$1"),
			close:    func() { pgDB.Close(); pool.Close() },
		})
	}
	return out
}

func newBenchInbox[TTx any](b *testing.B, driver riverdriver.Driver[TTx], h *webhooks.Handler) http.Handler {
	ctx := context.Background()
	in, err := inbox.New(ctx, driver, h)
	if err != nil {
		b.Fatal(err)
	}
	if err := in.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = in.Stop(stop)
	})
	return in
}

func riverInsert[TTx any](b *testing.B, driver riverdriver.Driver[TTx]) func(context.Context, inbox.JobArgs) error {
	if err := inbox.Migrate(context.Background(), driver); err != nil {
		b.Fatal(err)
	}
	client, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context, d inbox.JobArgs) error {
		_, err := client.Insert(ctx, d, nil)
		return err
	}
}

func bareInsert(b *testing.B, db *sql.DB, ph string) func(context.Context, []byte) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bare (body TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context, body []byte) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bare (body) VALUES (`+ph+`)`, string(body)); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
}

// seq numbers the events of every run, so that none is a duplicate.
var seq atomic.Int64

// runSenders runs op from benchSenders goroutines b.N times in all, each
// time with a new event number, and reports acks/s and latency percentiles.
func runSenders(b *testing.B, op func(i int64) error) {
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(benchSenders / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := op(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "acks/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func BenchmarkAck(b *testing.B) {
	for _, db := range benchDatabases(b) {
		h := handler(b)
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchSenders}}
		b.Run(db.name+"/Inbox", func(b *testing.B) {
			// The inbox's workers run only while it is measured: the
			// baselines below insert with nothing else on the database.
			srv := httptest.NewServer(db.newInbox(b, h))
			defer srv.Close()
			runSenders(b, func(i int64) error {
				req, err := webhookstest.NewRequest(srv.URL+"/hooks", event(int(i)), webhookstest.Bearer(token))
				if err != nil {
					return err
				}
				res, err := hc.Do(req)
				if err != nil {
					return err
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
				return nil
			})
		})
		b.Run(db.name+"/RiverInsert", func(b *testing.B) {
			runSenders(b, func(i int64) error {
				body := event(int(i))
				return db.insert(context.Background(), inbox.JobArgs{Body: body, ContentType: "application/json", ReceivedAt: time.Now(), Key: string(body)})
			})
		})
		b.Run(db.name+"/BareInsert", func(b *testing.B) {
			runSenders(b, func(i int64) error { return db.bare(context.Background(), event(int(i))) })
		})
		db.close()
	}
}

// BenchmarkSteady delivers at a steady 200 deliveries/s, each from its own
// goroutine, for 5 s per database, with the workers running, and reports
// the p99 of the ack (POST → 200) and of delivery → callback done:
//
//	go test -run '^$' -bench Steady -benchtime 1x ./inbox/
func BenchmarkSteady(b *testing.B) {
	const perSecond, events = 200, 1000
	for _, db := range benchDatabases(b) {
		b.Run(db.name, func(b *testing.B) {
			var mu sync.Mutex
			sent := map[string]time.Time{}
			var done []time.Duration
			h := handler(b, webhooks.OnEvent(func(_ context.Context, ev webhooks.Event) error {
				mu.Lock()
				defer mu.Unlock()
				if t0, ok := sent[ev.DedupKey()]; ok {
					done = append(done, time.Since(t0))
				}
				return nil
			}))
			srv := httptest.NewServer(db.newInbox(b, h))
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var acks []time.Duration
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / perSecond)
			defer tick.Stop()
			b.ResetTimer()
			for range events {
				<-tick.C
				i := seq.Add(1)
				body := event(int(i))
				ev, err := webhooks.Parse(body)
				if err != nil {
					b.Fatal(err)
				}
				wg.Go(func() {
					req, err := webhookstest.NewRequest(srv.URL+"/hooks", body, webhookstest.Bearer(token))
					if err != nil {
						b.Error(err)
						return
					}
					t0 := time.Now()
					mu.Lock()
					sent[ev.DedupKey()] = t0
					mu.Unlock()
					res, err := hc.Do(req)
					if err != nil || res.StatusCode != 200 {
						b.Errorf("ack: %v", err)
						return
					}
					res.Body.Close()
					mu.Lock()
					acks = append(acks, time.Since(t0))
					mu.Unlock()
				})
			}
			wg.Wait()
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				n := len(done)
				mu.Unlock()
				if n >= events || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			b.StopTimer()
			mu.Lock()
			defer mu.Unlock()
			if len(done) < events {
				b.Fatalf("%d of %d callbacks done", len(done), events)
			}
			slices.Sort(acks)
			slices.Sort(done)
			b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ack-p99-ms")
			b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ack-p50-ms")
			b.ReportMetric(float64(done[len(done)*99/100].Microseconds())/1000, "done-p99-ms")
			b.ReportMetric(float64(done[len(done)/2].Microseconds())/1000, "done-p50-ms")
		})
		db.close()
	}
}

// BenchmarkStorage stores b.N distinct membership events (a 258-byte body,
// DoubleTick's sample) through the inbox, lets the workers handle them, and
// reports the database's growth per delivery, as River keeps a handled one
// until the retention ends:
//
//	go test -run '^$' -bench Storage -benchtime 20000x ./inbox/
func BenchmarkStorage(b *testing.B) {
	for _, db := range benchDatabases(b) {
		b.Run(db.name, func(b *testing.B) {
			size := func() int64 {
				var n int64
				q := `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`
				if db.pool != nil {
					q = `SELECT pg_total_relation_size('river_job')`
				} else if _, err := db.sqlDB.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
					b.Fatal(err)
				}
				if err := db.sqlDB.QueryRow(q).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n
			}
			var handled atomic.Int64
			h := handler(b, webhooks.OnEvent(func(context.Context, webhooks.Event) error { handled.Add(1); return nil }))
			in := db.newInbox(b, h)
			before := size()
			for range b.N {
				req, err := webhookstest.NewRequest("http://127.0.0.1/hooks", event(int(seq.Add(1))), webhookstest.Bearer(token))
				if err != nil {
					b.Fatal(err)
				}
				if rec := serve(in, req); rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
			for handled.Load() < int64(b.N) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // River records completions in batches
			b.ReportMetric(float64(size()-before)/float64(b.N), "bytes/delivery")
		})
		db.close()
	}
}
