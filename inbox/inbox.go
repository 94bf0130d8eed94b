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
// One inbox serves many DoubleTick organisations when its Handler does
// ([webhooks.NewOrgHandler]): each delivery is stored with its
// organisation, which the callbacks find in their context
// ([webhooks.OrgFromContext]); dedup keys are kept per organisation; one
// River worker serves them all; [Admin.ForOrg] reads, replays and purges
// one organisation's deliveries. A delivery whose organisation is no
// longer served when its turn comes is kept as a dead letter that says so.
//
// An Inbox is safe for concurrent use.
package inbox

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// JobArgs are the River job arguments of one stored delivery, an
// acknowledged webhook: the body as
// received, so that the event is decoded again by the worker exactly as it
// was verified.
type JobArgs struct {
	// Body is the raw request body and ContentType its header.
	Body        []byte `json:"body"`
	ContentType string `json:"content_type"`
	// ReceivedAt is when the inbox received it.
	ReceivedAt time.Time `json:"received_at"`
	// Key is the event's dedup key in its organisation's namespace
	// (webhooks.Delivery.DedupKey): a redelivery of an event already in the
	// inbox is absorbed on it. An event whose key is "" (its payload has no
	// ID or time) is stored every time.
	Key string `json:"key" river:"unique"`
	// Org is the ID of the organisation the delivery was addressed to, for
	// a Handler of many (webhooks.NewOrgHandler); "" for a Handler of one,
	// and in every delivery stored before v0.2.0. The worker runs the
	// callbacks with it in their context (webhooks.OrgFromContext).
	Org string `json:"org,omitempty"`
	// PathType is the type the Handler's WithPathType gave the path it
	// came to, "" when none, so that the worker decodes it as it was
	// received.
	PathType webhooks.Type `json:"path_type,omitempty"`
	// Carried is what the Observer's Carry kept at receipt (trace
	// context), nil without one.
	Carried map[string]string `json:"carried,omitempty"`
}

// Event decodes the stored delivery as it was received: by its Content-Type,
// as the type its path was given when its body names none.
func (a JobArgs) Event() (webhooks.Event, error) {
	return webhooks.ParseContentAs(a.PathType, a.ContentType, a.Body)
}

// storedKey is the dedup key as the inbox stores it: as it is, or, when it
// holds a NUL, which PostgreSQL's jsonb refuses (and a refused row fails
// the whole batch it was stored with), its SHA-256: the same for every
// delivery of the event, and no key without a NUL is ever one.
func storedKey(key string) string {
	if !strings.ContainsRune(key, 0) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// orgAttrs is attrs with the organisation first, when there is one.
func orgAttrs(org string, attrs ...any) []any {
	if org == "" {
		return attrs
	}
	return append([]any{"org", org}, attrs...)
}

// Kind returns [Kind].
func (JobArgs) Kind() string { return Kind }

// InsertOpts makes deliveries unique by Key in every job state, so that a
// redelivery of an event stored, running, done or dead is absorbed until
// River's cleaner deletes the old job (see [WithRetention] and
// [WithDeadLetterRetention]). Deliveries without a Key are not unique.
func (a JobArgs) InsertOpts() river.InsertOpts {
	if a.Key == "" {
		return river.InsertOpts{Queue: Queue}
	}
	return river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: rivertype.JobStates()}}
}

// Inbox is an http.Handler that stores webhooks, and the workers that run
// their callbacks. Create it with [New], then Start it.
type Inbox[TTx any] struct {
	// Admin is the inbox's operator face: Stats, DeadLetters, Replay, ….
	// Its River client is the inbox's (in.client).
	*Admin[TTx]
	handler *webhooks.Handler
	logger  *slog.Logger
	work    bool
	// resumeAtStart: an SQLite inbox, worked by one process, resumes at
	// Start what a process that stopped left running.
	resumeAtStart bool
	stores        *groupCommit
	observer      Observer
	bound         *bound[TTx]
}

// newInbox returns an Inbox storing through client, by group commit,
// within the bound of c.
func newInbox[TTx any](client *river.Client[TTx], h *webhooks.Handler, c *config, work, resumeAtStart bool) *Inbox[TTx] {
	in := &Inbox[TTx]{Admin: &Admin[TTx]{client: client}, handler: h, logger: c.logger, work: work, resumeAtStart: resumeAtStart, observer: c.observer}
	in.stores = &groupCommit{max: maxBatch, timeout: storeTimeout, commit: in.insertMany}
	in.bound = &bound[TTx]{client: client, max: cmp.Or(c.maxStoredBytes, DefaultMaxStoredBytes), logger: c.logger, now: time.Now}
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
func (in *Inbox[TTx]) insertMany(ctx context.Context, batch []JobArgs) error {
	params := make([]river.InsertManyParams, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for i := range batch {
		if k := batch[i].Key; k == "" || !seen[k] {
			seen[k] = true
			params = append(params, river.InsertManyParams{Args: batch[i]})
		}
	}
	_, err := in.client.InsertMany(ctx, params)
	return err
}

// New returns an Inbox storing deliveries through driver (riversqlite.New or
// riverpgxv5.New) and running h's callbacks. It runs River's migrations
// first unless told not to; several replicas may start at once.
func New[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], h *webhooks.Handler, opts ...Option) (*Inbox[TTx], error) {
	if h == nil {
		return nil, errors.New("inbox: New: nil Handler")
	}
	c := defaultConfig()
	for _, opt := range opts {
		if err := opt.apply(&c); err != nil {
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
	rc := riverConfig(&c)
	if c.work {
		workers := river.NewWorkers()
		if err := addWorker(workers, h, c.logger, c.observer); err != nil {
			return nil, err
		}
		rc.Workers = workers
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	_, sqlite := any(driver).(*riversqlite.Driver)
	return newInbox(client, h, &c, c.work, sqlite), nil
}

// defaultConfig is the configuration of an Inbox made without options.
func defaultConfig() config {
	return config{workers: DefaultWorkers, retention: DefaultRetention, deadRetention: DefaultDeadLetterRetention,
		logger: slog.New(slog.DiscardHandler), migrate: true, work: true, jobTimeout: DefaultJobTimeout}
}

// riverConfig is the River client configuration of c, without workers.
func riverConfig(c *config) *river.Config {
	rc := &river.Config{
		MaxAttempts:                 c.maxAttempts,
		JobTimeout:                  c.jobTimeout,
		RescueStuckJobsAfter:        c.rescueAfter,
		CompletedJobRetentionPeriod: c.retention,
		DiscardedJobRetentionPeriod: c.deadRetention,
		Logger:                      c.logger,
		RetryPolicy:                 c.retry,
		// SQLite has no LISTEN/NOTIFY: workers find new deliveries by
		// polling (and a delivery stored by this process starts a fetch at
		// once). A 100 ms poll keeps a delivery's wait for a worker short
		// at a cost of ten cheap queries a second per idle process (River's
		// default is 1 s). A fetch takes at most the free workers' number
		// of deliveries, and comes at most once per cooldown, so workers
		// ÷ cooldown caps the handling rate: 10 workers and 25 ms drained
		// 390/s whatever the callbacks cost. DefaultWorkers (200) and 25
		// ms (River's: 100 ms) cap it at 8,000/s, above what either store
		// drains on a 2-core machine (BenchmarkDrain), while leaving
		// SQLite's one connection to the inserts most of the time: with 10
		// ms, the fetches' commits doubled the ack p99 at 16 senders
		// (BenchmarkAck).
		FetchPollInterval: 100 * time.Millisecond,
		FetchCooldown:     25 * time.Millisecond,
	}
	if c.work {
		rc.Queues = map[string]river.QueueConfig{Queue: {MaxWorkers: c.workers}}
	}
	return rc
}

// Attach returns an Inbox that stores deliveries through an app's own River
// client, whose workers run them: register them there with [AddWorker]
// and the [Queue]. River's usual pattern is one client per database with
// every worker registered in it; two clients on one database share River's
// maintenance, and the one elected leader discards a stuck job of a kind it
// has no worker for. The app migrates, starts and stops its client; the
// Inbox's Start and Stop do nothing. It takes the [AttachOption]s, as
// [AddWorker] does: [WithLogger] (failed stores) and [WithObserver] (each
// receipt and store).
//
//	workers := river.NewWorkers()
//	river.AddWorker(workers, &MyWorker{})
//	inbox.AddWorker(workers, handler, inbox.WithLogger(logger))
//	client, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers,
//		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 50}, inbox.Queue: {MaxWorkers: inbox.DefaultWorkers}}})
//	in, _ := inbox.Attach(client, handler, inbox.WithLogger(logger))
//	http.Handle("/doubletick/webhooks", in)
func Attach[TTx any](client *river.Client[TTx], h *webhooks.Handler, opts ...AttachOption) (*Inbox[TTx], error) {
	if client == nil || h == nil {
		return nil, errors.New("inbox: Attach: nil client or Handler")
	}
	c, err := attachConfig(opts)
	if err != nil {
		return nil, err
	}
	return newInbox(client, h, &c, false, false), nil
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
	if err := in.bound.wait(ctx); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if !in.work {
		return nil
	}
	if err := in.client.Stop(ctx); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// ServeHTTP receives one webhook: it refuses it as the Handler would
// (405, 413, 401, 404, 415, 400; nothing stored), stores it, and answers 200
// once the store has committed, or when the event was already in the
// inbox. A store that fails is answered 500; a delivery that would pass
// [WithMaxStoredBytes] when nothing handled is left to delete, 503. Deliveries that arrive together are
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
	job := JobArgs{Body: d.Body, ContentType: d.ContentType, ReceivedAt: start.UTC(), Key: storedKey(d.DedupKey()), PathType: d.PathType, Org: d.Org}
	if obs.Carry != nil {
		job.Carried = carried(obs.Carry(r.Context()))
	}
	status := http.StatusOK
	size := storedSize(len(d.Body))
	switch err := in.store(r.Context(), job, size); {
	case errors.Is(err, errFull):
		status = http.StatusServiceUnavailable
		in.logger.ErrorContext(r.Context(), "inbox: full: a webhook was refused", orgAttrs(d.Org, "type", d.Event.Type(), "group", d.Event.Group(), "error", err)...)
		w.Header().Set("Retry-After", "60")
		http.Error(w, "webhook inbox full", status)
	case err != nil:
		status = http.StatusInternalServerError
		in.logger.ErrorContext(r.Context(), "inbox: storing a webhook failed", orgAttrs(d.Org, "type", d.Event.Type(), "group", d.Event.Group(), "error", err)...)
		http.Error(w, "webhook not stored", status)
	default:
		w.WriteHeader(status)
	}
	if obs.Stored != nil {
		obs.Stored(r.Context(), StoredInfo{EventType: webhooks.ObservedType(d.Event), Status: status, Duration: time.Since(start), Org: d.Org})
	}
}

// store stores job, of about size bytes, within the inbox's bound.
func (in *Inbox[TTx]) store(ctx context.Context, job JobArgs, size int) error {
	if !in.bound.admit(ctx, size) {
		return errFull
	}
	if err := in.stores.store(ctx, job); err != nil {
		return err
	}
	in.bound.stored(size)
	return nil
}

// RiverClient returns the River client the inbox stores and works through,
// for River's own tools: River UI (riverqueue.com/riverui) shows the
// inbox's deliveries in [Queue] with it, and retries dead letters as
// [Inbox.Replay] does. Jobs of kind [Kind] are the inbox's: change them
// only through the inbox's methods or such tools.
func (in *Inbox[TTx]) RiverClient() *river.Client[TTx] { return in.client }
