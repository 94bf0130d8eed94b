package inbox

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingCommit is a commit that takes a while and records each batch.
type recordingCommit struct {
	mu      sync.Mutex
	batches [][]string
	stored  map[string]bool
	fail    atomic.Bool
	release chan struct{} // when set, each commit waits for it
}

func (r *recordingCommit) commit(_ context.Context, batch []JobArgs) error {
	if r.release != nil {
		<-r.release
	}
	if r.fail.Load() {
		return errors.New("disk full")
	}
	for _, d := range batch {
		if d.Key == "poison" {
			return errors.New("the database refuses this row")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, len(batch))
	for i, d := range batch {
		keys[i] = d.Key
		r.stored[d.Key] = true
	}
	r.batches = append(r.batches, keys)
	return nil
}

func TestGroupCommitStoresABurstInFewTransactions(t *testing.T) {
	rec := &recordingCommit{stored: map[string]bool{}, release: make(chan struct{})}
	g := &groupCommit{commit: rec.commit, max: 16, timeout: time.Minute}
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = g.store(context.Background(), JobArgs{Key: strconv.Itoa(i)}) })
	}
	// Let the first commit hold everyone else back until all have arrived,
	// then let every commit through.
	eventuallyTrue(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		queued := 0
		for _, b := range g.waiting {
			queued += len(b.items)
		}
		return queued == n-1
	})
	close(rec.release)
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "delivery %d", i)
	}
	assert.Len(t, rec.stored, n, "every delivery stored")
	// 1 alone (it found nothing committing), then 99 in batches of at most 16.
	assert.Equal(t, []string{rec.batches[0][0]}, rec.batches[0])
	assert.Len(t, rec.batches, 1+(n-1+15)/16)
	for _, b := range rec.batches {
		assert.LessOrEqual(t, len(b), 16)
	}

	// Quiet again: a lone delivery commits at once, alone.
	require.NoError(t, g.store(context.Background(), JobArgs{Key: "lone"}))
	assert.Equal(t, []string{"lone"}, rec.batches[len(rec.batches)-1])
	assert.False(t, g.busy)
}

func TestGroupCommitFailsEveryDeliveryOfAFailedBatch(t *testing.T) {
	rec := &recordingCommit{stored: map[string]bool{}, release: make(chan struct{})}
	rec.fail.Store(true)
	g := &groupCommit{commit: rec.commit, max: 64, timeout: time.Minute}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			if err := g.store(context.Background(), JobArgs{Key: strconv.Itoa(i)}); err != nil {
				failed.Add(1)
			}
		})
	}
	eventuallyTrue(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.waiting) == 1 && len(g.waiting[0].items) == 19
	})
	close(rec.release)
	wg.Wait()
	assert.Equal(t, int32(20), failed.Load(), "no delivery is answered as stored")
	assert.Empty(t, rec.stored)

	// The store recovers: the next delivery is stored.
	rec.fail.Store(false)
	require.NoError(t, g.store(context.Background(), JobArgs{Key: "after"}))
	assert.True(t, rec.stored["after"])
}

// A request that gives up does not abandon the deliveries that wait on its
// batch: the commit runs to its end.
func TestGroupCommitOutlivesItsLeadersRequest(t *testing.T) {
	rec := &recordingCommit{stored: map[string]bool{}}
	g := &groupCommit{commit: rec.commit, max: 8, timeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, g.store(ctx, JobArgs{Key: "k"}))
	assert.True(t, rec.stored["k"])
}

func eventuallyTrue(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A delivery the database refuses fails alone: the others of its batch are
// stored again one at a time and acknowledged.
func TestGroupCommitIsolatesADeliveryThatCannotBeStored(t *testing.T) {
	rec := &recordingCommit{stored: map[string]bool{}, release: make(chan struct{})}
	g := &groupCommit{commit: rec.commit, max: 64, timeout: time.Minute}
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	keys := []string{"first", "a", "b", "poison", "c", "d"}
	for _, k := range keys {
		wg.Go(func() {
			err := g.store(context.Background(), JobArgs{Key: k})
			mu.Lock()
			errs[k] = err
			mu.Unlock()
		})
		if k == "first" { // it commits alone; the rest gather behind it
			eventuallyTrue(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.busy })
		}
	}
	eventuallyTrue(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.waiting) == 1 && len(g.waiting[0].items) == 5
	})
	close(rec.release)
	wg.Wait()
	for _, k := range keys {
		if k == "poison" {
			assert.Error(t, errs[k])
			continue
		}
		assert.NoError(t, errs[k], k)
		assert.True(t, rec.stored[k], k)
	}
}
