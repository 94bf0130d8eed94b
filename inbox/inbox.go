// Package inbox receives DoubleTick's webhooks durably: each verified
// delivery is stored as a River job before it is acknowledged, and workers
// run the callbacks from the store, with retries, until they succeed or the
// job is kept as a dead letter.
//
// DoubleTick documents no retry of a failed delivery (its only retry setting
// is retryOnTimeout), so a receiver that answers 500 when a callback fails
// may lose the event. The inbox answers 200 only once the delivery's job has
// committed, and never relies on the sender to try again.
//
// It is built on River (github.com/riverqueue/river): SQLite, through
// [OpenSQLite] and River's riversqlite driver, is the embedded default (one
// file, no server, pure Go); PostgreSQL, through River's riverpgxv5 driver,
// is for fleets, where any number of replicas share one database, each job
// runs on one worker at a time, and a job whose worker died is picked up
// again after [WithRescueAfter]. An SQLite inbox is worked by one process:
// at Start it resumes at once the deliveries a process that stopped (a
// crash, a kill) left running.
//
// The callbacks are those of a [webhooks.Handler] (OnGroupCreated, …,
// OnEvent), which also holds the verifier and the body format: the inbox
// refuses a request exactly as that Handler would, and stores nothing then.
//
// An Inbox is safe for concurrent use.
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Kind is the River job kind of a stored delivery.
const Kind = "doubletick_webhook"

// Queue is the River queue deliveries are stored in and worked from: a
// queue of the inbox's own, so that a River client of the app's on the same
// database, working its default queue, never fetches a delivery, and the
// inbox's client never fetches the app's jobs.
const Queue = "doubletick_webhooks"

// Delivery is the job River stores for one acknowledged webhook: the body as
// received, so that the event is decoded again by the worker exactly as it
// was verified.
type Delivery struct {
	// Body is the raw request body and ContentType its header.
	Body        []byte `json:"body"`
	ContentType string `json:"content_type"`
	// ReceivedAt is when the inbox received it.
	ReceivedAt time.Time `json:"received_at"`
	// Key is the event's dedup key (webhooks.Event.DedupKey): a redelivery
	// of an event already in the inbox is absorbed on it.
	Key string `json:"key" river:"unique"`
	// Carried is what the Observer's Carry kept at receipt (trace
	// context), nil without one.
	Carried map[string]string `json:"carried,omitempty"`
}

// Kind returns [Kind].
func (Delivery) Kind() string { return Kind }

// InsertOpts makes deliveries unique by Key in every job state, so that a
// redelivery of an event stored, running, done or dead is absorbed until
// River's cleaner deletes the old job (see [WithRetention] and
// [WithDeadLetterRetention]).
func (Delivery) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}}
}

// Inbox is an http.Handler that stores webhooks, and the workers that run
// their callbacks. Create it with [New], then Start it.
type Inbox[TTx any] struct {
	client  *river.Client[TTx]
	handler *webhooks.Handler
	logger  *slog.Logger
	work    bool
	// resumeAtStart: an SQLite inbox, worked by one process, resumes at
	// Start what a process that stopped left running.
	resumeAtStart bool
	stores        *groupCommit
	observer      Observer
}

// newInbox returns an Inbox storing through client, by group commit.
func newInbox[TTx any](client *river.Client[TTx], h *webhooks.Handler, logger *slog.Logger, work, resumeAtStart bool) *Inbox[TTx] {
	in := &Inbox[TTx]{client: client, handler: h, logger: logger, work: work, resumeAtStart: resumeAtStart}
	in.stores = &groupCommit{max: maxBatch, timeout: storeTimeout, commit: in.insertMany}
	return in
}

// maxBatch bounds the deliveries stored in one transaction, and
// storeTimeout how long one store may take.
const (
	maxBatch     = 256
	storeTimeout = 30 * time.Second
)

// insertMany stores a batch of deliveries in one transaction. Deliveries of
// one event (redeliveries that arrived together) are stored once: River
// absorbs a duplicate of a stored job, but not two in one batch.
func (in *Inbox[TTx]) insertMany(ctx context.Context, batch []Delivery) error {
	params := make([]river.InsertManyParams, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for i := range batch {
		if !seen[batch[i].Key] {
			seen[batch[i].Key] = true
			params = append(params, river.InsertManyParams{Args: batch[i]})
		}
	}
	_, err := in.client.InsertMany(ctx, params)
	return err
}

// config collects the options.
type config struct {
	maxAttempts int
	workers     int
	jobTimeout  time.Duration
	rescueAfter time.Duration
	retention   time.Duration
	// deadRetention is how long dead letters are kept.
	deadRetention time.Duration
	logger        *slog.Logger
	migrate       bool
	work          bool
	retry         river.ClientRetryPolicy
	observer      Observer
	// ownClient names the options given that configure a River client of
	// the inbox's own, which AddWorker and Attach refuse.
	ownClient []string
}

// ownClientOption is an option of New only: it configures the inbox's own
// River client.
func ownClientOption(name string, set func(*config) error) Option {
	return func(c *config) error {
		c.ownClient = append(c.ownClient, name)
		return set(c)
	}
}

// Option configures an [Inbox].
type Option func(*config) error

// WithMaxAttempts sets how many times a delivery's callbacks are run before
// it is kept as a dead letter (default 25, River's, over about three weeks of
// exponential back-off).
func WithMaxAttempts(n int) Option {
	return ownClientOption("WithMaxAttempts", func(c *config) error {
		if n < 1 {
			return fmt.Errorf("inbox: WithMaxAttempts: need at least 1, got %d", n)
		}
		c.maxAttempts = n
		return nil
	})
}

// WithBackoff sets the wait before attempt n+1 to first·2^(n-1), at most
// max, with up to a tenth of jitter. By default River's policy waits n⁴
// seconds.
func WithBackoff(first, max time.Duration) Option {
	return ownClientOption("WithBackoff", func(c *config) error {
		if first <= 0 || max < first {
			return fmt.Errorf("inbox: WithBackoff: need 0 < first <= max, got %s and %s", first, max)
		}
		c.retry = backoff{first, max}
		return nil
	})
}

// backoff is the River retry policy of WithBackoff.
type backoff struct{ first, max time.Duration }

// NextRetry returns when the job's next attempt is due.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.max
	if shift := job.Attempt - 1; shift < 30 && b.first<<shift < b.max {
		d = b.first << shift
	}
	d += time.Duration(rand.Int64N(int64(d)/10 + 1))
	return time.Now().Add(d)
}

// WithWorkers sets how many deliveries this process handles at once
// (default 10).
func WithWorkers(n int) Option {
	return ownClientOption("WithWorkers", func(c *config) error {
		if n < 1 {
			return fmt.Errorf("inbox: WithWorkers: need at least 1, got %d", n)
		}
		c.workers = n
		return nil
	})
}

// DefaultJobTimeout and DefaultRescueAfter are tuned together: a run of a
// delivery's callbacks is cancelled after a minute, and a delivery still
// running 75 s after it started belongs to a worker that died (River's
// rescuer looks every 30 s, so it runs again within about 2 minutes of the
// death, where River's own default waits an hour).
const (
	DefaultJobTimeout  = time.Minute
	DefaultRescueAfter = 75 * time.Second
)

// WithJobTimeout bounds one run of a delivery's callbacks (default
// [DefaultJobTimeout]); a run past it is cancelled through its context and
// retried.
func WithJobTimeout(d time.Duration) Option {
	return positive("WithJobTimeout", d, func(c *config) *time.Duration { return &c.jobTimeout })
}

// WithRescueAfter sets how long a delivery may stay running before it is
// taken to belong to a worker that died, and run again (default
// [DefaultRescueAfter], or 15 s more than a longer job timeout). It must not
// be below the job timeout; New says so.
// On SQLite, Start resumes the deliveries left running at once.
func WithRescueAfter(d time.Duration) Option {
	return positive("WithRescueAfter", d, func(c *config) *time.Duration { return &c.rescueAfter })
}

// DefaultRetention is how long a handled delivery is kept, and so the window
// in which a redelivery of its event is absorbed: DoubleTick documents one
// retry, of a delivery that timed out, with no schedule, and a day is far
// beyond any retry of a timeout. Each handled delivery costs its database
// about 0.9 KB (SQLite) or 2.5 KB (PostgreSQL, indexes included) for a
// 258-byte membership event (BenchmarkStorage): at 100 deliveries/s a day
// is about 8 GB on SQLite and 22 GB on PostgreSQL, a week seven times as
// much.
//
// DefaultDeadLetterRetention is how long a dead letter is kept: long enough
// for someone to look at it after a weekend.
const (
	DefaultRetention           = 24 * time.Hour
	DefaultDeadLetterRetention = 30 * 24 * time.Hour
)

// WithRetention sets how long handled deliveries are kept, and so for how
// long a redelivery of a handled event is absorbed (default
// [DefaultRetention]).
func WithRetention(d time.Duration) Option {
	return positive("WithRetention", d, func(c *config) *time.Duration { return &c.retention })
}

// WithDeadLetterRetention sets how long dead letters are kept (default
// [DefaultDeadLetterRetention]); a redelivery of a dead event is absorbed as
// long.
func WithDeadLetterRetention(d time.Duration) Option {
	return positive("WithDeadLetterRetention", d, func(c *config) *time.Duration { return &c.deadRetention })
}

// positive is an option that sets the duration field returns to d, which
// must be more than 0.
func positive(name string, d time.Duration, field func(*config) *time.Duration) Option {
	return ownClientOption(name, func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("inbox: %s: need a positive duration, got %s", name, d)
		}
		*field(c) = d
		return nil
	})
}

// WithLogger sets where the inbox logs failed stores, failed and panicking
// callbacks and dead letters. By default it logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("inbox: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithoutMigrations skips River's migrations at New, for databases whose
// schema is managed elsewhere.
func WithoutMigrations() Option {
	return ownClientOption("WithoutMigrations", func(c *config) error { c.migrate = false; return nil })
}

// WithoutWorkers makes an inbox that only receives: it stores deliveries
// and leaves them to the workers of other processes.
func WithoutWorkers() Option {
	return ownClientOption("WithoutWorkers", func(c *config) error { c.work = false; return nil })
}

// New returns an Inbox storing deliveries through driver (riversqlite.New or
// riverpgxv5.New) and running h's callbacks. It runs River's migrations
// first unless told not to; several replicas may start at once.
func New[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], h *webhooks.Handler, opts ...Option) (*Inbox[TTx], error) {
	if h == nil {
		return nil, errors.New("inbox: New: nil Handler")
	}
	c := config{workers: 10, retention: DefaultRetention, deadRetention: DefaultDeadLetterRetention, logger: slog.New(slog.DiscardHandler), migrate: true, work: true,
		jobTimeout: DefaultJobTimeout}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	if c.rescueAfter == 0 { // not set: 15 s more than the job timeout, at least the default
		c.rescueAfter = max(DefaultRescueAfter, c.jobTimeout+15*time.Second)
	}
	if c.rescueAfter < c.jobTimeout {
		return nil, fmt.Errorf("inbox: New: WithRescueAfter (%s) is below the job timeout (%s): running deliveries would be taken for dead ones", c.rescueAfter, c.jobTimeout)
	}
	if c.migrate {
		if err := Migrate(ctx, driver); err != nil {
			return nil, err
		}
	}
	rc := &river.Config{
		MaxAttempts:                 c.maxAttempts,
		JobTimeout:                  c.jobTimeout,
		RescueStuckJobsAfter:        c.rescueAfter,
		CompletedJobRetentionPeriod: c.retention,
		DiscardedJobRetentionPeriod: c.deadRetention,
		Logger:                      c.logger,
		RetryPolicy:                 c.retry,
		// SQLite has no LISTEN/NOTIFY: workers find new deliveries by
		// polling. A 100 ms poll keeps a delivery's wait for a worker short
		// at a cost of ten cheap queries a second per idle process (River's
		// default is 1 s). A 25 ms cooldown between fetches (River's: 100
		// ms) lets ten workers handle a few thousand deliveries a second,
		// while leaving SQLite's one connection to the inserts most of the
		// time: with 10 ms, the fetches' commits doubled the ack p99 at 16
		// senders (BenchmarkAck).
		FetchPollInterval: 100 * time.Millisecond,
		FetchCooldown:     25 * time.Millisecond,
	}
	if c.work {
		workers := river.NewWorkers()
		if err := addWorker(workers, h, c.logger, c.observer); err != nil {
			return nil, err
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{Queue: {MaxWorkers: c.workers}}
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	_, sqlite := any(driver).(*riversqlite.Driver)
	in := newInbox(client, h, c.logger, c.work, sqlite)
	in.observer = c.observer
	return in, nil
}

// AddWorker registers the inbox's worker, which runs h's callbacks for each
// stored delivery, in the workers of an app's own River client. Give that
// client's config the inbox's queue too, e.g.
// Queues[inbox.Queue] = river.QueueConfig{MaxWorkers: 10}, and receive
// through [Attach]. Of the options it takes [WithLogger] (failed and
// panicking callbacks, dead letters) and [WithObserver] (each run); the
// others configure a client of the inbox's own, and the app's client's
// config says those.
func AddWorker(workers *river.Workers, h *webhooks.Handler, opts ...Option) error {
	if h == nil {
		return errors.New("inbox: AddWorker: nil Handler")
	}
	c, err := appClientConfig("AddWorker", opts)
	if err != nil {
		return err
	}
	return addWorker(workers, h, c.logger, c.observer)
}

// appClientConfig applies the options of AddWorker or Attach (fn), which
// work with an app's River client: WithLogger and WithObserver.
func appClientConfig(fn string, opts []Option) (config, error) {
	c := config{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	if len(c.ownClient) > 0 {
		return c, fmt.Errorf("inbox: %s: %s: only for the River client of the inbox's own (inbox.New); an app's client has these in its config",
			fn, strings.Join(c.ownClient, ", "))
	}
	return c, nil
}

// addWorker registers the worker that runs h's callbacks and reports its
// runs to obs.
func addWorker(workers *river.Workers, h *webhooks.Handler, logger *slog.Logger, obs Observer) error {
	if err := river.AddWorkerSafely(workers, &worker{handler: h, logger: logger, observer: obs}); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// Attach returns an Inbox that stores deliveries through an app's own River
// client, whose workers run them: register them there with [AddWorker]
// and the [Queue]. River's usual pattern is one client per database with
// every worker registered in it; two clients on one database share River's
// maintenance, and the one elected leader discards a stuck job of a kind it
// has no worker for. The app migrates, starts and stops its client; the
// Inbox's Start and Stop do nothing. Of the options it takes [WithLogger]
// (failed stores) and [WithObserver] (each receipt and store), as
// [AddWorker] does.
//
//	workers := river.NewWorkers()
//	river.AddWorker(workers, &MyWorker{})
//	inbox.AddWorker(workers, handler, inbox.WithLogger(logger))
//	client, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers,
//		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}, inbox.Queue: {MaxWorkers: 10}}})
//	in, _ := inbox.Attach(client, handler, inbox.WithLogger(logger))
//	http.Handle("/doubletick/webhooks", in)
func Attach[TTx any](client *river.Client[TTx], h *webhooks.Handler, opts ...Option) (*Inbox[TTx], error) {
	if client == nil || h == nil {
		return nil, errors.New("inbox: Attach: nil client or Handler")
	}
	c, err := appClientConfig("Attach", opts)
	if err != nil {
		return nil, err
	}
	in := newInbox(client, h, c.logger, false, false)
	in.observer = c.observer
	return in, nil
}

// Migrate runs River's migrations up. Replicas that start together race to
// migrate: one wins, and the others, whose migration failed on the tables
// the winner made, try again and find nothing left to do.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("inbox: migrations: %w", err)
	}
	for attempt := 1; ; attempt++ {
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err == nil || attempt == 10 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("inbox: migrations: %w", errors.Join(err, ctx.Err()))
		case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("inbox: migrations: %w", err)
	}
	return nil
}

// Start starts the workers, which run until Stop. It does nothing for an
// inbox made [WithoutWorkers].
func (in *Inbox[TTx]) Start(ctx context.Context) error {
	if !in.work {
		return nil
	}
	if in.resumeAtStart {
		if err := in.resumeOrphans(ctx); err != nil {
			return err
		}
	}
	if err := in.client.Start(ctx); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// resumeOrphans makes the deliveries left running by a process that stopped
// available again. It runs before this process's workers start, and an
// SQLite inbox is worked by one process, so every running delivery is an
// orphan; River's rescue query changes only a job still running and
// started before now.
func (in *Inbox[TTx]) resumeOrphans(ctx context.Context) error {
	res, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(rivertype.JobStateRunning).First(10_000))
	if err != nil || len(res.Jobs) == 0 {
		return err
	}
	now := time.Now().UTC()
	params := &riverdriver.JobRescueManyParams{StuckHorizon: now}
	for _, j := range res.Jobs {
		note, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.Attempt,
			Error: "inbox: resumed at start: the process running it stopped"})
		if err != nil {
			return err
		}
		params.ID = append(params.ID, j.ID)
		params.Error = append(params.Error, note)
		params.FinalizedAt = append(params.FinalizedAt, nil)
		params.ScheduledAt = append(params.ScheduledAt, now)
		params.State = append(params.State, string(rivertype.JobStateAvailable))
	}
	if _, err := in.client.Driver().GetExecutor().JobRescueMany(ctx, params); err != nil {
		return fmt.Errorf("inbox: resuming deliveries left running: %w", err)
	}
	in.logger.InfoContext(ctx, "inbox: resumed deliveries left running by a process that stopped", "count", len(params.ID))
	return nil
}

// Stop stops fetching deliveries and waits, until ctx ends, for the running
// ones to finish.
func (in *Inbox[TTx]) Stop(ctx context.Context) error {
	if !in.work {
		return nil
	}
	if err := in.client.Stop(ctx); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// ServeHTTP receives one webhook: it refuses it as the Handler would
// (405, 413, 401, 415, 400; nothing stored), stores it, and answers 200 once
// the store has committed, or when the event was already in the inbox. A
// store that fails is answered 500. Deliveries that arrive together are
// stored in one transaction (group commit): a delivery arriving while none
// is being stored is stored at once, alone; those arriving during a store
// are stored together right after it.
func (in *Inbox[TTx]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	obs := in.observer
	if obs.Start != nil {
		if ctx := obs.Start(r.Context()); ctx != nil {
			r = r.WithContext(ctx)
		}
	}
	d, err := in.handler.Receive(w, r)
	if err != nil {
		in.handler.Refuse(w, r, err)
		return
	}
	job := Delivery{Body: d.Body, ContentType: d.ContentType, ReceivedAt: start.UTC(), Key: d.Event.DedupKey()}
	if obs.Carry != nil {
		job.Carried = carried(obs.Carry(r.Context()))
	}
	status := http.StatusOK
	if err := in.stores.store(r.Context(), job); err != nil {
		status = http.StatusInternalServerError
		in.logger.ErrorContext(r.Context(), "inbox: storing a webhook failed", "type", d.Event.Type(), "group", d.Event.Group(), "error", err)
		http.Error(w, "webhook not stored", status)
	} else {
		w.WriteHeader(status)
	}
	if obs.Stored != nil {
		obs.Stored(r.Context(), StoredInfo{EventType: webhooks.ObservedType(d.Event), Status: status, Duration: time.Since(start)})
	}
}

// RiverClient returns the River client the inbox stores and works through,
// for River's own tools: River UI (riverqueue.com/riverui) shows the
// inbox's deliveries in [Queue] with it, and retries dead letters as
// [Inbox.Replay] does. Jobs of kind [Kind] are the inbox's: change them
// only through the inbox's methods or such tools.
func (in *Inbox[TTx]) RiverClient() *river.Client[TTx] { return in.client }

// Idle reports whether every stored delivery has been handled or kept as a
// dead letter: none is waiting, scheduled for a retry, or running.
func (in *Inbox[TTx]) Idle(ctx context.Context) (bool, error) {
	res, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).First(1).States(
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled))
	if err != nil {
		return false, fmt.Errorf("inbox: %w", err)
	}
	return len(res.Jobs) == 0, nil
}

// Stats is what the inbox holds, for health checks and dashboards. (The
// otel module's InboxCounts has the same fields, so that a Stats converts
// to it: change both together.)
type Stats struct {
	// Waiting deliveries are stored and wait for a worker; Running ones are
	// being run.
	Waiting, Running int
	// Retrying deliveries failed and wait for their next attempt.
	Retrying int
	// Dead are the dead letters.
	Dead int
	// OldestWaiting is how long the delivery waiting longest for a worker
	// has waited, 0 when none waits: a growing value means the workers do
	// not keep up, or none runs.
	OldestWaiting time.Duration
}

// StatsCap is the count past which Stats counts retrying deliveries and dead
// letters no further: it reads StatsCap.
const StatsCap = 10_000

// Stats counts the inbox's deliveries by state. The counts are read one
// after another, not as one snapshot: while deliveries move between states,
// one may be counted twice or not at all.
func (in *Inbox[TTx]) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	exec := in.client.Driver().GetExecutor()
	counts, err := exec.JobCountByQueueAndState(ctx, &riverdriver.JobCountByQueueAndStateParams{QueueNames: []string{Queue}})
	if err != nil {
		return st, fmt.Errorf("inbox: stats: %w", err)
	}
	for _, c := range counts {
		st.Waiting, st.Running = int(c.CountAvailable), int(c.CountRunning)
	}
	count := func(states ...rivertype.JobState) (int, error) {
		res, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(states...).First(StatsCap))
		if err != nil {
			return 0, fmt.Errorf("inbox: stats: %w", err)
		}
		return len(res.Jobs), nil
	}
	if st.Retrying, err = count(rivertype.JobStateRetryable, rivertype.JobStateScheduled); err != nil {
		return st, err
	}
	if st.Dead, err = count(rivertype.JobStateDiscarded); err != nil {
		return st, err
	}
	oldest, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(rivertype.JobStateAvailable).
		OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
	if err != nil {
		return st, fmt.Errorf("inbox: stats: %w", err)
	}
	if len(oldest.Jobs) == 1 {
		st.OldestWaiting = max(0, time.Since(oldest.Jobs[0].ScheduledAt))
	}
	return st, nil
}

// DeadLetter is a delivery whose callbacks failed on every attempt.
type DeadLetter struct {
	// ID is River's job ID; pass it to [Inbox.Replay].
	ID int64
	// Delivery is what was received.
	Delivery Delivery
	// Attempts is how many times the callbacks ran; LastError what the last
	// run returned.
	Attempts  int
	LastError string
	// DiedAt is when the last attempt failed.
	DiedAt time.Time
}

// DeadLetters lists up to limit dead letters, oldest first.
func (in *Inbox[TTx]) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit < 1 || limit > 10_000 {
		return nil, fmt.Errorf("inbox: DeadLetters: limit %d, need 1 to 10000", limit)
	}
	res, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(rivertype.JobStateDiscarded).First(limit))
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	out := make([]DeadLetter, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		var d Delivery
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

// ErrNotDeadLetter is the error of [Inbox.Replay] for a job that is not one
// of the inbox's dead letters: a delivery waiting, running or handled, a job
// of another kind, or no job at all. Nothing is run then.
var ErrNotDeadLetter = errors.New("inbox: not a dead letter of the inbox")

// Replay makes one of the inbox's dead letters (see [Inbox.DeadLetters]) run
// again as soon as a worker is free. It is given one more attempt: River's
// JobRetry raises a job's maximum by one when it has used them all. If that
// attempt fails too, the delivery is a dead letter again, and may be
// replayed again. Any other job is refused with [ErrNotDeadLetter], so that
// a handled delivery never runs its callbacks twice by mistake.
func (in *Inbox[TTx]) Replay(ctx context.Context, id int64) error {
	job, err := in.client.JobGet(ctx, id)
	switch {
	case errors.Is(err, river.ErrNotFound):
		return fmt.Errorf("inbox: replaying %d: %w: no such job", id, ErrNotDeadLetter)
	case err != nil:
		return fmt.Errorf("inbox: replaying %d: %w", id, err)
	case job.Kind != Kind || job.State != rivertype.JobStateDiscarded:
		return fmt.Errorf("inbox: replaying %d: %w: a %s job, %s", id, ErrNotDeadLetter, job.Kind, job.State)
	}
	if _, err := in.client.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("inbox: replaying %d: %w", id, err)
	}
	return nil
}

// ReplayAll replays every dead letter and returns how many there were.
func (in *Inbox[TTx]) ReplayAll(ctx context.Context) (int, error) {
	n := 0
	for {
		dead, err := in.DeadLetters(ctx, 1000)
		if err != nil || len(dead) == 0 {
			return n, err
		}
		for _, d := range dead {
			if err := in.Replay(ctx, d.ID); err != nil {
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
func (in *Inbox[TTx]) PurgeDeadLetters(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for {
		res, err := in.client.JobList(ctx, river.NewJobListParams().Kinds(Kind).States(rivertype.JobStateDiscarded).
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
		del, err := in.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().IDs(ids...).Kinds(Kind).
			States(rivertype.JobStateDiscarded).First(len(ids)))
		if err != nil {
			return n, fmt.Errorf("inbox: purging: %w", err)
		}
		n += len(del.Jobs)
		if len(del.Jobs) == 0 {
			return n, nil
		}
	}
}

// worker runs a stored delivery's callbacks.
type worker struct {
	river.WorkerDefaults[Delivery]
	handler  *webhooks.Handler
	logger   *slog.Logger
	observer Observer
}

// Work decodes the stored body again and runs the callbacks.
func (w *worker) Work(ctx context.Context, job *river.Job[Delivery]) error {
	ev, err := webhooks.ParseContent(job.Args.ContentType, job.Args.Body)
	if err != nil {
		// It parsed when it was received: only a change of this package's
		// rules can bring this. Keep it, do not retry.
		return river.JobCancel(fmt.Errorf("the stored body no longer parses: %w", err))
	}
	obs := w.observer
	info := RunInfo{EventType: webhooks.ObservedType(ev), Attempt: job.Attempt, Carried: job.Args.Carried}
	runStart := time.Now()
	if obs.RunStart != nil {
		info.SinceReceipt = runStart.Sub(job.Args.ReceivedAt)
		if started := obs.RunStart(ctx, info); started != nil {
			ctx = started
		}
	}
	err = w.handler.Dispatch(ctx, ev)
	if obs.RunDone != nil {
		end := time.Now()
		info.SinceReceipt, info.Duration, info.ErrorType = end.Sub(job.Args.ReceivedAt), end.Sub(runStart), webhooks.CallbackErrorType(err)
		obs.RunDone(ctx, info)
	}
	if err == nil {
		return nil
	}
	attrs := []any{"type", ev.Type(), "group", ev.Group(), "attempt", job.Attempt, "max_attempts", job.MaxAttempts}
	if p, ok := errors.AsType[*webhooks.PanicError](err); ok {
		w.logger.ErrorContext(ctx, "inbox: webhook callback panicked", append(attrs, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))...)
	} else {
		w.logger.WarnContext(ctx, "inbox: webhook callback failed", append(attrs, "error", err)...)
	}
	if job.Attempt >= job.MaxAttempts {
		w.logger.ErrorContext(ctx, "inbox: webhook kept as a dead letter", append(attrs, "error", err)...)
	}
	return err
}

func unmarshalArgs(b []byte, d *Delivery) error { return json.Unmarshal(b, d) }
