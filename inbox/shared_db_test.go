package inbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// appJob is a job of the app's own, on the app's own River client.
type appJob struct{ N int }

func (appJob) Kind() string { return "app_job" }

type appWorker struct {
	river.WorkerDefaults[appJob]
	done *atomic.Int32
}

func (w *appWorker) Work(context.Context, *river.Job[appJob]) error { w.done.Add(1); return nil }

// appClient is an app's River client on db, with its worker and, when
// given, the inbox's.
func appClient(t *testing.T, db *sql.DB, done *atomic.Int32, h *webhooks.Handler, opts ...inbox.AttachOption) *river.Client[*sql.Tx] {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &appWorker{done: done})
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	if h != nil {
		require.NoError(t, inbox.AddWorker(workers, h, opts...))
		queues[inbox.Queue] = river.QueueConfig{MaxWorkers: 4}
	}
	c, err := river.NewClient(riversqlite.New(db), &river.Config{Workers: workers, Queues: queues,
		FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 10 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, c.Stop(ctx))
	})
	return c
}

// everyJobCompletedCleanly checks that no job of either kind failed: an
// app_job fetched by the inbox's client, or a delivery fetched by the app's,
// would have failed with "unknown job kind".
func everyJobCompletedCleanly(t *testing.T, c *river.Client[*sql.Tx], want int) {
	t.Helper()
	var jobs []*rivertype.JobRow
	eventually(t, "every job recorded as completed", func() bool {
		res, err := c.JobList(context.Background(), river.NewJobListParams().First(1000).States(rivertype.JobStates()...))
		require.NoError(t, err)
		jobs = res.Jobs
		for _, j := range jobs {
			if j.State != rivertype.JobStateCompleted {
				return false
			}
		}
		return len(jobs) == want
	})
	for _, j := range jobs {
		assert.Empty(t, j.Errors, "job %d (%s) failed on the way", j.ID, j.Kind)
		assert.Equal(t, 1, j.Attempt, "job %d (%s)", j.ID, j.Kind)
	}
}

func TestTheInboxAndAnAppsRiverClientShareADatabase(t *testing.T) {
	var handled, appDone atomic.Int32
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { handled.Add(1); return nil }))
	in, db := sqliteInbox(t, h) // the inbox's own client
	app := appClient(t, db, &appDone, nil)
	const n = 20
	for i := range n {
		_, err := app.Insert(context.Background(), appJob{N: i}, nil)
		require.NoError(t, err)
		at := fmt.Sprintf("2026-01-15T10:%02d:00.000Z", i)
		require.Equal(t, 200, serve(in, post(t, joined(at), webhookstest.Bearer(token))).Code)
	}
	eventually(t, "every job and delivery handled", func() bool { return handled.Load() == n && appDone.Load() == n })
	everyJobCompletedCleanly(t, app, 2*n)
}

func TestAttachStoresThroughTheAppsClient(t *testing.T) {
	var handled, appDone atomic.Int32
	h := handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { handled.Add(1); return nil }))
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, inbox.Migrate(ctx, riversqlite.New(db)))
	var stored, ran atomic.Int32
	obs := inbox.Observer{
		Stored: func(context.Context, inbox.StoredInfo) { stored.Add(1) },
		RunDone: func(_ context.Context, r inbox.RunInfo) {
			if r.ErrorType == "" {
				ran.Add(1)
			}
		},
	}
	app := appClient(t, db, &appDone, h, inbox.WithObserver(obs), inbox.WithLogger(slog.New(slog.DiscardHandler)))
	in, err := inbox.Attach(app, h, inbox.WithObserver(obs))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx), "the app starts its client")
	_, err = app.Insert(ctx, appJob{}, nil)
	require.NoError(t, err)
	require.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code)
	require.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code, "a redelivery")
	eventually(t, "the delivery and the app's job handled", func() bool { return handled.Load() == 1 && appDone.Load() == 1 })
	everyJobCompletedCleanly(t, app, 2)
	assert.Equal(t, int32(2), stored.Load(), "Attach's observer sees both receipts")
	assert.Equal(t, int32(1), ran.Load(), "AddWorker's observer sees the run")
	idle, err := in.Idle(ctx)
	require.NoError(t, err)
	assert.True(t, idle)
}

// TestOnlyAttachOptionsReachAnAppsClient: with an app's River client, its
// config sets workers, retries and timeouts; AddWorker and Attach take only
// the options that apply there (AttachOption), so that an option of the
// inbox's own client given there does not compile, rather than being
// ignored.
func TestOnlyAttachOptionsReachAnAppsClient(t *testing.T) {
	attach := map[string]inbox.Option{
		"WithLogger":   inbox.WithLogger(slog.New(slog.DiscardHandler)),
		"WithObserver": inbox.WithObserver(inbox.Observer{}),
	}
	own := map[string]inbox.Option{
		"WithMaxAttempts": inbox.WithMaxAttempts(3), "WithBackoff": inbox.WithBackoff(time.Second, time.Minute),
		"WithWorkers": inbox.WithWorkers(50), "WithJobTimeout": inbox.WithJobTimeout(time.Hour),
		"WithRescueAfter": inbox.WithRescueAfter(time.Hour), "WithRetention": inbox.WithRetention(time.Hour),
		"WithDeadLetterRetention": inbox.WithDeadLetterRetention(time.Hour),
		"WithoutMigrations":       inbox.WithoutMigrations(), "WithoutWorkers": inbox.WithoutWorkers(),
	}
	for name, o := range attach {
		_, ok := o.(inbox.AttachOption)
		assert.True(t, ok, "%s is an AttachOption", name)
	}
	for name, o := range own {
		_, ok := o.(inbox.AttachOption)
		assert.False(t, ok, "%s configures the inbox's own client: not an AttachOption", name)
	}
	h := handler(t)
	require.NoError(t, inbox.AddWorker(river.NewWorkers(), h, inbox.WithLogger(slog.New(slog.DiscardHandler))))
	db, err := inbox.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	defer db.Close()
	c, err := river.NewClient(riversqlite.New(db), &river.Config{})
	require.NoError(t, err)
	_, err = inbox.Attach(c, h, inbox.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	_, err = inbox.Attach(c, h, inbox.WithLogger(nil))
	require.ErrorContains(t, err, "WithLogger: nil logger")
}
