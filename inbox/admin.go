package inbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Admin is the operator's face of an inbox: what it holds (Idle, Stats),
// its dead letters, replaying and purging them. It needs only a River
// client on the inbox's database, which need not run workers or have any
// registered, and it runs no callback. Every [Inbox] has one (its Admin
// field, whose methods an Inbox has too); an operator's tool makes one
// with [NewAdmin].
//
// An inbox that serves many organisations ([webhooks.NewOrgHandler])
// keeps each delivery's organisation: [Admin.ForOrg] returns an Admin that
// sees one organisation's deliveries only, and the Admin of the inbox sees
// them all.
//
// An Admin is safe for concurrent use.
type Admin[TTx any] struct {
	client *river.Client[TTx]
	// org, when not "", limits the Admin to that organisation's deliveries.
	org string
}

// ForOrg returns an Admin of the same inbox that sees, counts, replays and
// purges only the deliveries addressed to the organisation id (see
// [webhooks.Orgs]). Its queries filter each job's arguments, which no index
// covers: they read every delivery kept in the states asked for, which an
// operator's tool can afford and a per-request health check may not.
func (a *Admin[TTx]) ForOrg(id string) (*Admin[TTx], error) {
	if !webhooks.ValidOrgID(id) {
		return nil, fmt.Errorf("inbox: ForOrg: %q cannot name an organisation (1 to 64 letters, digits, '.', '_' or '-')", id)
	}
	return &Admin[TTx]{client: a.client, org: id}, nil
}

// Org returns the organisation the Admin is limited to, "" for all.
func (a *Admin[TTx]) Org() string { return a.org }

// deadStates are the states of a dead letter: discarded (its attempts
// used up) and cancelled (it will never run by itself again: its stored
// body no longer parses, or its organisation is no longer served).
var deadStates = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}

// orgArg is the SQL of a delivery's organisation, in the job's arguments:
// the same text for PostgreSQL (jsonb ->> key) and SQLite (->> label).
const orgArg = "args ->> 'org'"

// orgFilter is the predicate of one organisation's deliveries, for River's
// job lists.
const orgFilter = orgArg + " = @inbox_org"

// list is a JobListParams of the inbox's kind, limited to a.org.
func (a *Admin[TTx]) list() *river.JobListParams {
	p := river.NewJobListParams().Kinds(Kind)
	if a.org != "" {
		p = p.Where(orgFilter, river.NamedArgs{"inbox_org": a.org})
	}
	return p
}

// NewAdmin returns the Admin of the inbox whose deliveries client's
// database holds. A client made for it alone needs no config beyond a
// logger:
//
//	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
//	admin, err := inbox.NewAdmin(client)
func NewAdmin[TTx any](client *river.Client[TTx]) (*Admin[TTx], error) {
	if client == nil {
		return nil, errors.New("inbox: NewAdmin: nil client")
	}
	return &Admin[TTx]{client: client}, nil
}

// Idle reports whether every stored delivery has been handled or kept as a
// dead letter: none is waiting, scheduled for a retry, or running.
func (a *Admin[TTx]) Idle(ctx context.Context) (bool, error) {
	res, err := a.client.JobList(ctx, a.list().First(1).States(
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled))
	if err != nil {
		return false, fmt.Errorf("inbox: %w", err)
	}
	return len(res.Jobs) == 0, nil
}

// Stats is what the inbox holds, for health checks and dashboards.
type Stats struct {
	// Waiting deliveries are stored and wait for a worker; Running ones are
	// being run.
	Waiting, Running int
	// Retrying deliveries failed and wait for their next attempt.
	Retrying int
	// Dead are the dead letters: deliveries whose attempts are used up, and
	// those cancelled (see [Admin.DeadLetters]).
	Dead int
	// OldestWaiting is how long the delivery waiting longest for a worker
	// has waited, 0 when none waits: a growing value means the workers do
	// not keep up, or none runs.
	OldestWaiting time.Duration
	// StoredBytes is what the deliveries kept take in the database, in
	// every state, handled ones included: what [WithMaxStoredBytes]
	// bounds.
	StoredBytes int64
}

// StatsCap is the count past which Stats counts retrying deliveries and dead
// letters (and, for one organisation, waiting and running ones) no
// further: it reads StatsCap.
const StatsCap = 10_000

// Stats counts the inbox's deliveries by state. The counts are read one
// after another, not as one snapshot: while deliveries move between states,
// one may be counted twice or not at all.
func (a *Admin[TTx]) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	count := func(states ...rivertype.JobState) (int, error) {
		res, err := a.client.JobList(ctx, a.list().States(states...).First(StatsCap))
		if err != nil {
			return 0, fmt.Errorf("inbox: stats: %w", err)
		}
		return len(res.Jobs), nil
	}
	var err error
	if a.org == "" {
		exec := a.client.Driver().GetExecutor()
		counts, err := exec.JobCountByQueueAndState(ctx, &riverdriver.JobCountByQueueAndStateParams{QueueNames: []string{Queue}})
		if err != nil {
			return st, fmt.Errorf("inbox: stats: %w", err)
		}
		for _, c := range counts {
			st.Waiting, st.Running = int(c.CountAvailable), int(c.CountRunning)
		}
	} else {
		if st.Waiting, err = count(rivertype.JobStateAvailable); err != nil {
			return st, err
		}
		if st.Running, err = count(rivertype.JobStateRunning); err != nil {
			return st, err
		}
	}
	if st.Retrying, err = count(rivertype.JobStateRetryable, rivertype.JobStateScheduled); err != nil {
		return st, err
	}
	if st.Dead, err = count(deadStates...); err != nil {
		return st, err
	}
	oldest, err := a.client.JobList(ctx, a.list().States(rivertype.JobStateAvailable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
	if err != nil {
		return st, fmt.Errorf("inbox: stats: %w", err)
	}
	if len(oldest.Jobs) == 1 {
		st.OldestWaiting = max(0, time.Since(oldest.Jobs[0].ScheduledAt))
	}
	st.StoredBytes, err = storedBytes(ctx, a.client, a.org)
	return st, err
}

// DeadLetter is a delivery whose callbacks failed on every attempt, or that
// was cancelled: its stored body no longer parses, its organisation is no
// longer served, or an operator cancelled it (LastError says which).
type DeadLetter struct {
	// ID is River's job ID; pass it to [Admin.Replay].
	ID int64
	// Delivery is what was received.
	Delivery JobArgs
	// Attempts is how many times the callbacks ran; LastError what the last
	// run returned.
	Attempts  int
	LastError string
	// DiedAt is when the last attempt failed.
	DiedAt time.Time
}

// DeadLetters lists up to limit dead letters, oldest first; their
// Delivery.Org names the organisation of each.
func (a *Admin[TTx]) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit < 1 || limit > 10_000 {
		return nil, fmt.Errorf("inbox: DeadLetters: limit %d, need 1 to 10000", limit)
	}
	res, err := a.client.JobList(ctx, a.list().States(deadStates...).First(limit))
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	out := make([]DeadLetter, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		var d JobArgs
		if err := unmarshalArgs(j.EncodedArgs, &d); err != nil {
			return nil, fmt.Errorf("inbox: job %d: %w", j.ID, err)
		}
		dl := DeadLetter{ID: j.ID, Delivery: d, Attempts: j.Attempt}
		if n := len(j.Errors); n > 0 {
			dl.LastError, dl.DiedAt = j.Errors[n-1].Error, j.Errors[n-1].At
		}
		if j.FinalizedAt != nil {
			dl.DiedAt = *j.FinalizedAt
		}
		out = append(out, dl)
	}
	return out, nil
}

// ErrNotDeadLetter is the error of [Admin.Replay] for a job that is not one
// of the inbox's dead letters: a delivery waiting, running or handled, a job
// of another kind, another organisation's delivery (for an Admin of one),
// or no job at all. Nothing is run then.
var ErrNotDeadLetter = errors.New("inbox: not a dead letter of the inbox")

// NotDeadLetterError is the error of [Admin.Replay] for a job that is not
// one of the inbox's dead letters, saying what it is instead. It matches
// [ErrNotDeadLetter].
type NotDeadLetterError struct {
	// ID is the job asked for.
	ID int64
	// Kind and State are the job's, "" when there is no such job.
	Kind  string
	State rivertype.JobState
	// Org is the organisation it belongs to, when it is a dead letter of
	// another organisation than the Admin's ([Admin.ForOrg]); "" otherwise.
	Org string
}

// Error says what the job is.
func (e *NotDeadLetterError) Error() string {
	switch {
	case e.State == "":
		return fmt.Sprintf("inbox: replaying %d: %v: no such job", e.ID, ErrNotDeadLetter)
	case e.Org != "":
		return fmt.Sprintf("inbox: replaying %d: %v: a delivery of organisation %s", e.ID, ErrNotDeadLetter, e.Org)
	}
	return fmt.Sprintf("inbox: replaying %d: %v: a %s job, %s", e.ID, ErrNotDeadLetter, e.Kind, e.State)
}

// Is reports whether target is ErrNotDeadLetter.
func (e *NotDeadLetterError) Is(target error) bool { return target == ErrNotDeadLetter }

// Replay makes one of the inbox's dead letters (see [Admin.DeadLetters]) run
// again as soon as a worker is free. It is given one more attempt: River's
// JobRetry raises a job's maximum by one when it has used them all. If that
// attempt fails too, the delivery is a dead letter again, and may be
// replayed again. Any other job is refused with [ErrNotDeadLetter], so that
// a handled delivery never runs its callbacks twice by mistake.
func (a *Admin[TTx]) Replay(ctx context.Context, id int64) error {
	job, err := a.client.JobGet(ctx, id)
	switch {
	case errors.Is(err, river.ErrNotFound):
		return &NotDeadLetterError{ID: id}
	case err != nil:
		return fmt.Errorf("inbox: replaying %d: %w", id, err)
	case job.Kind != Kind || !slices.Contains(deadStates, job.State):
		return &NotDeadLetterError{ID: id, Kind: job.Kind, State: job.State}
	}
	if a.org != "" {
		var d JobArgs
		if err := unmarshalArgs(job.EncodedArgs, &d); err != nil || d.Org != a.org {
			return &NotDeadLetterError{ID: id, Kind: job.Kind, State: job.State, Org: cmp.Or(d.Org, "(none)")}
		}
	}
	if _, err := a.client.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("inbox: replaying %d: %w", id, err)
	}
	return nil
}

// ReplayAll replays every dead letter and returns how many there were.
func (a *Admin[TTx]) ReplayAll(ctx context.Context) (int, error) {
	n := 0
	for {
		dead, err := a.DeadLetters(ctx, 1000)
		if err != nil || len(dead) == 0 {
			return n, err
		}
		for _, d := range dead {
			if err := a.Replay(ctx, d.ID); err != nil {
				return n, err
			}
			n++
		}
	}
}

// PurgeDeadLetters deletes the dead letters that died before cutoff and
// returns how many it deleted: for dead letters an operator has read and
// given up on. (Handled deliveries go by themselves, after
// [WithRetention].) Nothing else is touched.
func (a *Admin[TTx]) PurgeDeadLetters(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for {
		res, err := a.client.JobList(ctx, a.list().States(deadStates...).
			OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderAsc).First(1000))
		if err != nil {
			return n, fmt.Errorf("inbox: purging: %w", err)
		}
		var ids []int64
		for _, j := range res.Jobs {
			if j.FinalizedAt == nil || !j.FinalizedAt.Before(cutoff) {
				break
			}
			ids = append(ids, j.ID)
		}
		if len(ids) == 0 {
			return n, nil
		}
		// The state is asked again, so that a dead letter replayed since
		// the list was read is not deleted.
		del, err := a.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().IDs(ids...).Kinds(Kind).
			States(deadStates...).First(len(ids)))
		if err != nil {
			return n, fmt.Errorf("inbox: purging: %w", err)
		}
		n += len(del.Jobs)
		if len(del.Jobs) == 0 {
			return n, nil
		}
	}
}

func unmarshalArgs(b []byte, d *JobArgs) error { return json.Unmarshal(b, d) }
