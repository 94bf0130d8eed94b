package bulk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/cmd/doubletick/internal/pause"
)

// Groups is the part of the DoubleTick client an import uses;
// *doubletick.GroupsService is one.
type Groups interface {
	Create(ctx context.Context, req *doubletick.CreateGroupRequest) (*doubletick.CreateGroupResult, *doubletick.Response, error)
	Get(ctx context.Context, groupID string) (*doubletick.Group, *doubletick.Response, error)
}

// DefaultWorkers is how many create requests an import has in flight by
// default: enough that the API's latency does not hold the import below the
// configured rate.
const DefaultWorkers = 4

// DefaultInDoubtWait is how long after a create request of unknown outcome
// an import waits for the group to appear before it sends the request again.
// DoubleTick creates groups asynchronously and does not document how long
// that takes, nor what a second create with the same groupId does; a group
// still pending is not found by a lookup. Raise it if your groups take
// longer to appear.
const DefaultInDoubtWait = 2 * time.Minute

// Options configure Run. The zero value uses the defaults.
type Options struct {
	// Workers is how many create requests may be in flight at once
	// (default DefaultWorkers). The client's rate limiter paces them.
	Workers int
	// InDoubtWait is how long a row whose create request has an unknown
	// outcome waits, from when that request was sent, before a lookup that
	// does not find its group lets the request be sent again (default
	// DefaultInDoubtWait).
	InDoubtWait time.Duration
	// Progress, when set, is called after each row settles, from one
	// goroutine at a time.
	Progress func(Counts)
	// InDoubt, when set, is called while rows in doubt wait to be looked
	// up again: how many wait, and when the last of them may be sent
	// again if its group is still not found. It is called when a row
	// starts waiting and each time one looks again (every few seconds),
	// from one goroutine at a time.
	InDoubt func(rows int, until time.Time)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits for d or until ctx ends (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Run creates the group of every row not created yet, and settles every row
// in doubt. Each row is recorded as being sent, durably, before its create
// request leaves; so after a crash, a row that may have been created is
// looked up by its groupId instead of being sent again. A row is sent again
// only when the lookup does not find the group InDoubtWait after the
// request was sent.
//
// When ctx ends, Run sends nothing more, lets the requests in flight finish
// and be recorded, and returns ctx's error: run it again to go on.
//
// Run returns the counts at the end. Rows refused by DoubleTick are in
// Counts.Failed (see WriteFailures); rows still in doubt (the lookups
// failed too) in Counts.Sending.
func (j *Journal) Run(ctx context.Context, groups Groups, opts Options) (Counts, error) {
	r := &runner{j: j, groups: groups, opts: opts}
	if r.opts.Workers <= 0 {
		r.opts.Workers = DefaultWorkers
	}
	if r.opts.InDoubtWait <= 0 {
		r.opts.InDoubtWait = DefaultInDoubtWait
	}
	if r.opts.Now == nil {
		r.opts.Now = time.Now
	}
	if r.opts.Sleep == nil {
		r.opts.Sleep = pause.Sleep
	}
	var err error
	if r.counts, err = j.Counts(ctx); err != nil {
		return Counts{}, err
	}
	r.report()
	// New rows first, then the rows in doubt: by then their wait has
	// usually passed, and the lookups cost no time.
	if err := r.send(ctx, StatePending); err != nil {
		return r.counts, err
	}
	for round := 0; r.counts.Sending > 0; round++ {
		if round == 3 {
			return r.counts, fmt.Errorf("%d rows are still in doubt: their lookups failed; run the import again", r.counts.Sending)
		}
		if round > 0 {
			if err := r.opts.Sleep(ctx, 2*time.Second); err != nil {
				return r.counts, err
			}
		}
		if err := r.send(ctx, StateSending); err != nil {
			return r.counts, err
		}
	}
	return r.counts, nil
}

type runner struct {
	j      *Journal
	groups Groups
	opts   Options

	// unknown counts the creates in a row with no clear answer.
	unknown atomic.Int32

	mu      sync.Mutex
	counts  Counts
	waiting map[int]time.Time // rows in doubt waiting, by line: until when
}

// maxUnknownInARow is how many creates in a row may end without a clear
// answer before Run stops.
const maxUnknownInARow = 5

// send runs the rows in state through the workers. For pending rows that
// means create; for rows in doubt, look up first.
func (r *runner) send(ctx context.Context, state string) error {
	rows := make(chan entry)
	errs := make(chan error, r.opts.Workers)
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Go(func() {
			for e := range rows {
				if err := r.settle(ctx, e); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	feedErr := r.j.each(ctx, state, func(e entry) error {
		select {
		case rows <- e:
			return nil
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(rows)
	wg.Wait()
	close(errs)
	if feedErr != nil {
		return feedErr
	}
	return <-errs // nil when the channel is empty
}

// settle brings one row to a state it can be left in. The requests and the
// journal writes run to completion even when ctx ends, so that the journal
// says what happened to every request that left.
func (r *runner) settle(ctx context.Context, e entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	work := context.WithoutCancel(ctx)
	if e.State == StateSending {
		settled, err := r.lookup(ctx, work, e)
		if settled || err != nil {
			return err
		}
	} else {
		r.move(StatePending, StateSending)
	}
	for {
		if err := r.j.markSending(work, e.Line, r.opts.Now()); err != nil {
			return err
		}
		_, _, err := r.groups.Create(work, &e.Request)
		var apiErr *doubletick.APIError
		switch {
		case err == nil:
			r.unknown.Store(0)
			return r.to(work, e.Line, StateCreated, "")
		case errors.Is(err, doubletick.ErrRateLimited):
			// Refused without being acted on (the client has paused the
			// route for the server's Retry-After): send it again.
			if ctx.Err() != nil {
				return r.to(work, e.Line, StatePending, "")
			}
		case errors.Is(err, doubletick.ErrUnauthorized), errors.Is(err, doubletick.ErrForbidden):
			// The key, not the row: every row would fail alike. Stop,
			// with the row back to send once the key is fixed.
			if serr := r.to(work, e.Line, StatePending, ""); serr != nil {
				return serr
			}
			return err
		case errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500:
			r.unknown.Store(0)
			return r.to(work, e.Line, StateFailed, apiErr.Error())
		case isValidation(err):
			return r.to(work, e.Line, StateFailed, err.Error())
		default:
			// A 5xx, a broken connection, a timeout: the group may exist.
			// The row stays in doubt until a lookup settles it. Several
			// in a row mean DoubleTick or the network is down: stop
			// rather than put every row in doubt.
			r.report()
			if n := r.unknown.Add(1); n >= maxUnknownInARow {
				return fmt.Errorf("%d creates in a row had no clear answer, the last: %w", n, err)
			}
			return nil
		}
	}
}

func isValidation(err error) bool {
	var verr *doubletick.ValidationError
	return errors.As(err, &verr)
}

// lookup settles a row in doubt by its groupId. Found (or pending), the row
// is created: settled. Not found InDoubtWait after it was sent, the row may
// be sent again: not settled. A lookup that fails leaves the row in doubt
// for the next round: settled for now.
func (r *runner) lookup(ctx, work context.Context, e entry) (settled bool, err error) {
	defer r.wait(e.Line, time.Time{})
	for {
		_, _, err := r.groups.Get(work, e.Request.GroupID)
		switch {
		case err == nil, errors.Is(err, doubletick.ErrGroupPending):
			return true, r.to(work, e.Line, StateCreated, "")
		case !errors.Is(err, doubletick.ErrNotFound):
			return true, nil
		}
		until := e.SentAt.Add(r.opts.InDoubtWait)
		wait := until.Sub(r.opts.Now())
		if wait <= 0 {
			return false, nil
		}
		r.wait(e.Line, until)
		if err := r.opts.Sleep(ctx, min(wait, 5*time.Second)); err != nil {
			return true, err
		}
	}
}

// wait records that the row on line waits in doubt until then, or no
// longer when until is zero, and reports the rows that wait.
func (r *runner) wait(line int, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until.IsZero() {
		delete(r.waiting, line)
		return
	}
	if r.waiting == nil {
		r.waiting = map[int]time.Time{}
	}
	r.waiting[line] = until
	if r.opts.InDoubt == nil {
		return
	}
	var last time.Time
	for _, u := range r.waiting {
		if u.After(last) {
			last = u
		}
	}
	r.opts.InDoubt(len(r.waiting), last)
}

// to records a row's new state and counts it.
func (r *runner) to(ctx context.Context, line int, state, why string) error {
	if err := r.j.mark(ctx, line, state, why); err != nil {
		return err
	}
	r.move(StateSending, state)
	r.report()
	return nil
}

// move moves one row from one count to another.
func (r *runner) move(from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.count(from)--
	*r.count(to)++
}

func (r *runner) count(state string) *int {
	switch state {
	case StatePending:
		return &r.counts.Pending
	case StateSending:
		return &r.counts.Sending
	case StateCreated:
		return &r.counts.Created
	}
	return &r.counts.Failed
}

func (r *runner) report() {
	if r.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.Progress(r.counts)
}
