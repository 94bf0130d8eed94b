package inbox_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
// Each benchmark runs 20 goroutines (RunParallel with parallelism 20/GOMAXPROCS):
//   - Inbox: POST a distinct signed event over loopback HTTP to the inbox
//     and wait for its 200 (the ack: verified, parsed, committed).
//   - RiverInsert: River's own Insert of the same job, no HTTP.
//   - BareInsert: one INSERT of the body and a COMMIT, no River.
//
// acks/s is b.N over the elapsed time; p50-ms and p99-ms are the latencies
// of single operations. SQLite runs with synchronous=FULL (an ack survives
// power loss), PostgreSQL with its default synchronous_commit=on.

const benchSenders = 20

type benchDB struct {
	name     string
	sqlDB    *sql.DB
	pool     *pgxpool.Pool
	newInbox func(b *testing.B, h *webhooks.Handler) http.Handler
	insert   func(ctx context.Context, d inbox.Delivery) error
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
	in, err := inbox.New(context.Background(), driver, h, inbox.WithoutWorkers())
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func riverInsert[TTx any](b *testing.B, driver riverdriver.Driver[TTx]) func(context.Context, inbox.Delivery) error {
	if err := inbox.Migrate(context.Background(), driver); err != nil {
		b.Fatal(err)
	}
	client, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context, d inbox.Delivery) error {
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
	b.SetParallelism((benchSenders + 1) / 2)
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
		srv := httptest.NewServer(db.newInbox(b, h))
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchSenders}}
		b.Run(db.name+"/Inbox", func(b *testing.B) {
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
				return db.insert(context.Background(), inbox.Delivery{Body: body, ContentType: "application/json", ReceivedAt: time.Now(), Key: string(body)})
			})
		})
		b.Run(db.name+"/BareInsert", func(b *testing.B) {
			runSenders(b, func(i int64) error { return db.bare(context.Background(), event(int(i))) })
		})
		srv.Close()
		db.close()
	}
}
