package inbox

// The bound on what an inbox keeps: a sender with the credential must not
// make it hold an unbounded number of bytes.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// DefaultMaxStoredBytes is the bound on the bodies an inbox keeps, unless
// [WithMaxStoredBytes] says otherwise: 1 GiB, about two million of
// DoubleTick's deliveries.
const DefaultMaxStoredBytes = 1 << 30

// WithMaxStoredBytes bounds the bytes of the bodies the inbox keeps, in
// every state: waiting, running, retrying, handled (kept for
// [WithRetention] to absorb redeliveries) and dead. It is checked every few
// seconds, and by every process that stores through the database, so a
// burst may pass it by what arrives meanwhile.
//
// Past the bound, the inbox first deletes the oldest handled deliveries
// (their callbacks have run: only the absorbing of their redeliveries is
// lost, and DoubleTick documents none beyond retryOnTimeout), then, if
// what is left still passes it, answers new deliveries 503 with
// Retry-After, stores nothing, and logs an error and tells the Observer
// (Stored with status 503) of each, until enough is handled or purged.
// This way nothing acknowledged is lost: a delivery answered 503 was never
// acknowledged, where one acknowledged and then dropped to make room would
// be lost with no one told. [Stats] reports StoredBytes.
func WithMaxStoredBytes(n int64) AttachOption {
	return attachOption(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("inbox: WithMaxStoredBytes: need a positive size, got %d", n)
		}
		c.maxStoredBytes = n
		return nil
	})
}

// boundCheckEvery is how often the bytes kept are measured again.
const boundCheckEvery = 5 * time.Second

// storedBytesQuery is the SQL that sums the bodies of the inbox's jobs:
// for SQLite, the stored JSON's length; for PostgreSQL, its size on disk.
func storedBytesQuery(sqlite bool, org bool) string {
	q := "SELECT coalesce(sum(pg_column_size(args)), 0) FROM river_job WHERE kind = $1"
	if sqlite {
		q = "SELECT coalesce(sum(length(args)), 0) FROM river_job WHERE kind = $1"
	}
	if org {
		q += " AND " + orgArg + " = $2"
	}
	return q
}

// storedBytes measures the bytes client's database keeps for the inbox's
// deliveries, of org's alone when org is not "".
func storedBytes[TTx any](ctx context.Context, client *river.Client[TTx], org string) (int64, error) {
	_, sqlite := any(client.Driver()).(*riversqlite.Driver)
	args := []any{Kind}
	if org != "" {
		args = append(args, org)
	}
	var n int64
	if err := client.Driver().GetExecutor().QueryRow(ctx, storedBytesQuery(sqlite, org != ""), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("inbox: measuring the bytes kept: %w", err)
	}
	return n, nil
}

// bound keeps an inbox within its bytes: what the database held when last
// measured, plus what this process stored since.
type bound[TTx any] struct {
	client *river.Client[TTx]
	max    int64
	logger *slog.Logger
	now    func() time.Time

	measured atomic.Int64 // bytes at the last measure
	since    atomic.Int64 // bytes stored by this process since
	full     atomic.Bool  // the last check could not get under max
	checked  atomic.Int64 // Unix nanoseconds of the last check
	running  sync.WaitGroup

	mu       sync.Mutex    // guards checking
	checking chan struct{} // closed when the running check ends; nil when none runs
}

// admitWait bounds how long a delivery that would pass the bound waits for
// a check to make room (by deleting handled deliveries) before it is
// refused.
const admitWait = 2 * time.Second

// admit reports whether a delivery of n bytes may be stored, and starts a
// check when one is due: every boundCheckEvery, and at once when the
// estimate passes the bound. A delivery that would pass a full inbox waits
// for that check (at most admitWait, or until ctx ends): deliveries handled
// since the last check may make room.
func (b *bound[TTx]) admit(ctx context.Context, n int) bool {
	over := func() bool { return b.measured.Load()+b.since.Load()+int64(n) > b.max }
	if !over() {
		if b.now().UnixNano()-b.checked.Load() > int64(boundCheckEvery) {
			b.startCheck()
		}
		return true
	}
	done := b.startCheck()
	if !b.full.Load() {
		return true // room was made by the last check; this one will tell
	}
	// Deliveries being handled now make room once their completion is
	// recorded: check again until then, or until the wait is over.
	deadline := time.NewTimer(admitWait)
	defer deadline.Stop()
	for {
		select {
		case <-done:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
		if !(over() && b.full.Load()) {
			return true
		}
		select {
		case <-time.After(admitRecheck):
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
		done = b.startCheck()
	}
}

// admitRecheck is the pause between two checks a waiting delivery starts.
const admitRecheck = 50 * time.Millisecond

// wait waits for a check that runs, until ctx ends.
func (b *bound[TTx]) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// storedSize estimates what a delivery of a body of n bytes takes in the
// database: the body in base64 within the job's JSON.
func storedSize(n int) int { return n*4/3 + 256 }

// stored records n bytes stored by this process.
func (b *bound[TTx]) stored(n int) { b.since.Add(int64(n)) }

// startCheck checks in the background, unless a check runs, and returns
// a channel closed when the check that runs ends.
func (b *bound[TTx]) startCheck() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.checking != nil {
		return b.checking
	}
	done := make(chan struct{})
	b.checking = done
	b.running.Add(1)
	go func() {
		defer b.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if err := b.check(ctx); err != nil {
			b.logger.ErrorContext(ctx, "inbox: checking the bound on what it keeps", "error", err)
		}
		b.mu.Lock()
		b.checking = nil
		b.mu.Unlock()
		close(done)
	}()
	return done
}

// pruneBatch is how many handled deliveries one deletion takes.
const pruneBatch = 1000

// check measures the bytes kept and, past the bound, deletes the oldest
// handled deliveries until under it or none is left; full is set when
// what is left still passes it.
func (b *bound[TTx]) check(ctx context.Context) error {
	b.checked.Store(b.now().UnixNano())
	since := b.since.Load()
	kept, err := storedBytes(ctx, b.client, "")
	if err != nil {
		return err
	}
	pruned := 0
	for kept > b.max {
		del, err := b.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().Kinds(Kind).
			States(rivertype.JobStateCompleted).First(pruneBatch))
		if err != nil {
			return fmt.Errorf("deleting handled deliveries: %w", err)
		}
		if len(del.Jobs) == 0 {
			break
		}
		pruned += len(del.Jobs)
		if kept, err = storedBytes(ctx, b.client, ""); err != nil {
			return err
		}
	}
	b.measured.Store(kept)
	b.since.Add(-since)
	wasFull := b.full.Swap(kept > b.max)
	switch {
	case pruned > 0:
		b.logger.WarnContext(ctx, "inbox: deleted handled deliveries early to stay within its bound", "deleted", pruned, "bytes", kept, "max_bytes", b.max)
	case kept > b.max && !wasFull:
		b.logger.ErrorContext(ctx, "inbox: full: deliveries waiting, retrying and dead pass its bound; new ones are answered 503 until some are handled or purged",
			"bytes", kept, "max_bytes", b.max)
	case kept <= b.max && wasFull:
		b.logger.InfoContext(ctx, "inbox: within its bound again; storing deliveries", "bytes", kept, "max_bytes", b.max)
	}
	return nil
}

// errFull is the error of a delivery refused because the inbox is full.
var errFull = errors.New("inbox: full: what it keeps passes WithMaxStoredBytes")
