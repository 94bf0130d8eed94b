package inbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

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
	drainSides
}

// drainSides are what BenchmarkDrain does on one store: store a backlog of
// inbox deliveries or of River jobs, and start the workers of each.
type drainSides struct {
	backlog      func(b *testing.B, n int)
	startInbox   func(b *testing.B, h *webhooks.Handler) stopper
	riverBacklog func(b *testing.B, n int)
	startRiver   func(b *testing.B, work func(key string) error) stopper
}

type stopper interface{ Stop(context.Context) error }

func newDrainSides[TTx any](driver riverdriver.Driver[TTx]) drainSides {
	insertAll := func(b *testing.B, n int, args func(i int64) river.JobArgs) {
		if err := inbox.Migrate(context.Background(), driver); err != nil {
			b.Fatal(err)
		}
		client, err := river.NewClient(driver, &river.Config{})
		if err != nil {
			b.Fatal(err)
		}
		for n > 0 {
			batch := make([]river.InsertManyParams, min(n, 1000))
			for i := range batch {
				batch[i] = river.InsertManyParams{Args: args(seq.Add(1))}
			}
			if _, err := client.InsertMany(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			n -= len(batch)
		}
	}
	return drainSides{
		backlog: func(b *testing.B, n int) {
			insertAll(b, n, func(i int64) river.JobArgs {
				body := event(int(i))
				return inbox.JobArgs{Body: body, ContentType: "application/json", ReceivedAt: time.Now(), Key: string(body)}
			})
		},
		startInbox: func(b *testing.B, h *webhooks.Handler) stopper {
			in, err := inbox.New(context.Background(), driver, h)
			if err != nil {
				b.Fatal(err)
			}
			if err := in.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			return in
		},
		riverBacklog: func(b *testing.B, n int) {
			insertAll(b, n, func(i int64) river.JobArgs {
				body := event(int(i))
				return benchJob{Body: body, ContentType: "application/json", ReceivedAt: time.Now(), Key: string(body)}
			})
		},
		startRiver: func(b *testing.B, work func(key string) error) stopper {
			rc := inbox.DefaultRiverConfig()
			rc.Queues = map[string]river.QueueConfig{benchQueue: {MaxWorkers: inbox.DefaultWorkers}}
			rc.Workers = river.NewWorkers()
			river.AddWorker(rc.Workers, river.WorkFunc(func(_ context.Context, job *river.Job[benchJob]) error { return work(job.Args.Key) }))
			client, err := river.NewClient(driver, rc)
			if err != nil {
				b.Fatal(err)
			}
			if err := client.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			return client
		},
	}
}

// benchJob is River's own job of BenchmarkDrain, in a queue of its own,
// carrying what a delivery's job does and unique as it is, so that both
// sides store, fetch and complete rows alike and differ only in the worker.
type benchJob struct {
	Body        []byte    `json:"body"`
	ContentType string    `json:"content_type"`
	ReceivedAt  time.Time `json:"received_at"`
	Key         string    `json:"key" river:"unique"`
}

const benchQueue = "bench_river"

func (benchJob) Kind() string { return "bench_river" }
func (benchJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: benchQueue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}}
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
		newInbox:   func(b *testing.B, h *webhooks.Handler) http.Handler { return newBenchInbox(b, sqliteDriver, h) },
		insert:     riverInsert(b, sqliteDriver),
		bare:       bareInsert(b, db, "?"),
		close:      func() { db.Close() },
		drainSides: newDrainSides(sqliteDriver),
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
			newInbox:   func(b *testing.B, h *webhooks.Handler) http.Handler { return newBenchInbox(b, pgDriver, h) },
			insert:     riverInsert(b, pgDriver),
			bare:       bareInsert(b, pgDB, "$1"),
			close:      func() { pgDB.Close(); pool.Close() },
			drainSides: newDrainSides(pgDriver),
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

// BenchmarkSteady delivers at a steady rate, each delivery from its own
// goroutine, with the workers running: 200/s for 5 s, and 1,000/s for 20 s
// (DOUBLETICK_STEADY_SECONDS shortens the second), per database. It
// reports the rate achieved and the p50 and p99 of the ack (POST → 200)
// and of receipt → callback done:
//
//	go test -run '^$' -bench Steady -benchtime 1x ./inbox/
func BenchmarkSteady(b *testing.B) {
	long := 20
	if v, err := strconv.Atoi(os.Getenv("DOUBLETICK_STEADY_SECONDS")); err == nil && v > 0 {
		long = v
	}
	for _, db := range benchDatabases(b) {
		for _, load := range []struct{ perSecond, seconds int }{{200, 5}, {1000, long}} {
			b.Run(fmt.Sprintf("%s/%dper-s", db.name, load.perSecond), func(b *testing.B) {
				steady(b, db, load.perSecond, load.seconds)
			})
		}
		db.close()
	}
}

// steady sends perSecond deliveries a second for seconds, in 10 ms steps.
func steady(b *testing.B, db benchDB, perSecond, seconds int) {
	events := perSecond * seconds
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
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var acks []time.Duration
	var wg sync.WaitGroup
	send := func(body []byte, key string) {
		req, err := webhookstest.NewRequest(srv.URL+"/hooks", body, webhookstest.Bearer(token))
		if err != nil {
			b.Error(err)
			return
		}
		t0 := time.Now()
		mu.Lock()
		sent[key] = t0
		mu.Unlock()
		res, err := hc.Do(req)
		if err != nil {
			b.Errorf("ack: %v", err)
			return
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Errorf("ack: status %d", res.StatusCode)
			return
		}
		mu.Lock()
		acks = append(acks, time.Since(t0))
		mu.Unlock()
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < events; {
		// Send what is due by now: a loaded machine that wakes late sends
		// the missed ones at once rather than lowering the rate.
		due := min(events, int(time.Since(start).Seconds()*float64(perSecond))+1)
		for ; n < due; n++ {
			body := event(int(seq.Add(1)))
			ev, err := webhooks.Parse(body)
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() { send(body, ev.DedupKey()) })
		}
		time.Sleep(10 * time.Millisecond)
	}
	sending := time.Since(start)
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
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
	if len(done) < events || len(acks) < events {
		b.Fatalf("%d acks and %d callbacks done of %d", len(acks), len(done), events)
	}
	slices.Sort(acks)
	slices.Sort(done)
	b.ReportMetric(float64(events)/sending.Seconds(), "sent/s")
	b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ack-p50-ms")
	b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ack-p99-ms")
	b.ReportMetric(float64(done[len(done)/2].Microseconds())/1000, "done-p50-ms")
	b.ReportMetric(float64(done[len(done)*99/100].Microseconds())/1000, "done-p99-ms")
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

// BenchmarkDrain stores a backlog of b.N deliveries while no worker runs,
// then starts the workers and reports how fast they drain it (from Start
// to the last callback), then does the same with River's own worker on the
// same store with the same River settings and jobs of the same size, one
// after the other in each run: a no-op, a 50 ms wait (a CRM call), and a
// no-op that fails the first run of a tenth of the deliveries (the rate
// then counts the first 85 %, which must keep their pace). It
// reports both rates and their ratio:
//
//	go test -run '^$' -bench 'Drain$' -benchtime 10000x -count 3 ./inbox/
func BenchmarkDrain(b *testing.B) {
	for _, db := range benchDatabases(b) {
		for _, work := range []struct {
			name string
			wait time.Duration
			fail bool
		}{{"noop", 0, false}, {"io50ms", 50 * time.Millisecond, false}, {"fail10pct", 0, true}} {
			// newCallback returns the work, which reports whether the run
			// of the delivery of this key succeeded, and its count of
			// successes.
			newCallback := func() (func(key string) bool, *atomic.Int64) {
				var done atomic.Int64
				var mu sync.Mutex
				failed := map[string]bool{}
				return func(key string) bool {
					if work.wait > 0 {
						time.Sleep(work.wait)
					}
					if work.fail && crc32.ChecksumIEEE([]byte(key))%10 == 0 { // a tenth of the deliveries
						mu.Lock()
						first := !failed[key]
						failed[key] = true
						mu.Unlock()
						if first {
							return false // retried by River's policy, a second later
						}
					}
					done.Add(1)
					return true
				}, &done
			}
			b.Run(db.name+"/"+work.name, func(b *testing.B) {
				run, done := newCallback()
				h := handler(b, webhooks.OnEvent(func(_ context.Context, ev webhooks.Event) error {
					if !run(ev.DedupKey()) {
						return errors.New("injected failure")
					}
					return nil
				}))
				db.backlog(b, b.N)
				inboxRate := drain(b, done, work.fail, db.startInbox(b, h))
				run, done = newCallback()
				db.riverBacklog(b, b.N)
				riverRate := drain(b, done, work.fail, db.startRiver(b, func(key string) error {
					if !run(key) {
						return errors.New("injected failure")
					}
					return nil
				}))
				b.ReportMetric(inboxRate, "inbox-drained/s")
				b.ReportMetric(riverRate, "river-drained/s")
				b.ReportMetric(inboxRate/riverRate, "inbox/river")
				b.ReportMetric(0, "ns/op") // the timings include storing the backlogs
			})
		}
		db.close()
	}
}

// drain waits for b.N successful callbacks (85 % of them when a tenth fail
// their first run, so that no retry is waited for), returns their rate,
// waits for the rest, and stops the workers.
func drain(b *testing.B, done *atomic.Int64, someFail bool, workers stopper) float64 {
	start := time.Now()
	target := int64(b.N)
	if someFail {
		target = target * 85 / 100 // before any retry: about a tenth failed once
	}
	for done.Load() < target {
		time.Sleep(time.Millisecond)
	}
	rate := float64(target) / time.Since(start).Seconds()
	for done.Load() < int64(b.N) { // the retries, so that none is left to the next run
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := workers.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	return rate
}

// BenchmarkDrainReplicas drains a backlog of b.N deliveries on one
// PostgreSQL database with 1, 2 and 3 receivers, each an inbox with a River
// client and a pool of its own, in this one process (on a machine of few
// cores they share its CPUs, which bounds what more of them can add):
//
//	go test -run '^$' -bench DrainReplicas -benchtime 10000x ./inbox/
func BenchmarkDrainReplicas(b *testing.B) {
	if os.Getenv("DOUBLETICK_TEST_POSTGRES_DSN") == "" {
		b.Skip("needs DOUBLETICK_TEST_POSTGRES_DSN")
	}
	ctx := context.Background()
	schemaDSN := pgtest.Schema(b, pgtest.DSN(b))
	newPool := func() *pgxpool.Pool {
		pool, err := pgxpool.New(ctx, schemaDSN+"&pool_max_conns=10")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		return pool
	}
	sides := newDrainSides(riverpgxv5.New(newPool()))
	for _, replicas := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("receivers=%d", replicas), func(b *testing.B) {
			var done atomic.Int64
			h := handler(b, webhooks.OnEvent(func(context.Context, webhooks.Event) error { done.Add(1); return nil }))
			sides.backlog(b, b.N)
			var all stoppers
			for range replicas {
				all = append(all, newDrainSides(riverpgxv5.New(newPool())).startInbox(b, h))
			}
			b.ReportMetric(drain(b, &done, false, all), "drained/s")
			b.ReportMetric(0, "ns/op") // the timing includes storing the backlog
		})
	}
}

// stoppers stops each of several.
type stoppers []stopper

func (s stoppers) Stop(ctx context.Context) error {
	var errs []error
	for _, x := range s {
		errs = append(errs, x.Stop(ctx))
	}
	return errors.Join(errs...)
}
