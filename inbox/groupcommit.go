package inbox

import (
	"context"
	"sync"
	"time"
)

// groupCommit stores deliveries that arrive together in one transaction
// (group commit), so that a burst costs one commit, not one per delivery.
// No goroutine of its own and no timer: a delivery that arrives while no
// commit is under way is committed at once, by its own request, alone; those
// that arrive during a commit gather into the next batch, which the first of
// them commits as soon as the previous commit has ended. Each delivery is
// answered only once its batch has committed. A batch that fails is stored
// again one delivery at a time, within the same deadline, so that a
// delivery the database refuses fails alone and the others of its batch
// are stored (when the database itself is down, each fails in turn).
type groupCommit struct {
	// commit stores one batch in one transaction.
	commit func(ctx context.Context, batch []JobArgs) error
	// max bounds a batch.
	max int
	// timeout bounds one commit, which runs whatever its leader's request
	// does: the other deliveries of the batch wait on it.
	timeout time.Duration

	mu      sync.Mutex
	busy    bool     // a batch is committing, or has the turn
	waiting []*batch // batches waiting for their turn, oldest first
	open    *batch   // the batch new deliveries join, nil when none
}

// batch is one transaction's deliveries.
type batch struct {
	items []JobArgs
	turn  chan struct{} // closed when this batch may commit
	done  chan struct{} // closed when it has, errs set
	errs  []error       // each item's outcome
}

// store stores d and returns once its batch has committed, or failed.
func (g *groupCommit) store(ctx context.Context, d JobArgs) error {
	g.mu.Lock()
	b := g.open
	if b == nil || len(b.items) >= g.max {
		b = &batch{turn: make(chan struct{}), done: make(chan struct{})}
		if g.busy {
			g.open = b // it waits for its turn, gathering who comes meanwhile
			g.waiting = append(g.waiting, b)
		} else {
			g.busy = true
			close(b.turn) // nothing is committing: go now, alone
		}
	}
	leader := len(b.items) == 0
	mine := len(b.items)
	b.items = append(b.items, d)
	g.mu.Unlock()

	if !leader {
		<-b.done
		return b.errs[mine]
	}
	<-b.turn
	g.mu.Lock()
	if g.open == b {
		g.open = nil // the batch is closed: later deliveries start the next
	}
	g.mu.Unlock()

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
	b.errs = make([]error, len(b.items))
	if err := g.commit(cctx, b.items); err != nil {
		b.errs[0] = err
		if len(b.items) > 1 {
			for i := range b.items {
				b.errs[i] = g.commit(cctx, b.items[i:i+1])
			}
		}
	}
	cancel()
	close(b.done)

	g.mu.Lock()
	if len(g.waiting) > 0 {
		next := g.waiting[0]
		g.waiting = g.waiting[1:]
		close(next.turn)
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return b.errs[mine]
}
