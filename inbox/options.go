package inbox

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

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
	// maxStoredBytes bounds what the inbox keeps; 0 is the default.
	maxStoredBytes int64
}

// Option configures an Inbox made by [New], which runs a River client of
// its own. The options that configure that client (workers, attempts,
// timeouts, retention, migrations) are Options only; those that also work
// with an app's River client ([AddWorker], [Attach]) are [AttachOption]s.
type Option interface {
	apply(*config) error
}

// AttachOption is an option that [AddWorker] and [Attach] take, as [New]
// does: [WithLogger] and [WithObserver]. The compiler refuses any other
// option there, since an app's River client has those settings in its own
// config.
type AttachOption interface {
	Option
	attach()
}

// option is an Option of New only.
type option func(*config) error

func (o option) apply(c *config) error { return o(c) }

// attachOption is an Option of New, AddWorker and Attach.
type attachOption func(*config) error

func (o attachOption) apply(c *config) error { return o(c) }
func (attachOption) attach()                 {}

// WithMaxAttempts sets how many times a delivery's callbacks are run before
// it is kept as a dead letter (default 25, River's, over about three weeks of
// exponential back-off).
func WithMaxAttempts(n int) Option {
	return option(func(c *config) error {
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
	return option(func(c *config) error {
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

// DefaultWorkers is how many deliveries a process handles at once, at most,
// by default. See [WithWorkers].
const DefaultWorkers = 200

// WithWorkers sets how many deliveries this process handles at once, at
// most (default [DefaultWorkers]). It is a bound, not a pool: River runs
// one goroutine per delivery it has fetched, none while the inbox is idle,
// and fetches at most n at a time, once per 25 ms at most, so n also
// bounds the handling rate: n ÷ (callback time + up to 25 ms). Size it by
// the load: deliveries per second × callback time is how many run at once
// (1,000/s of 150 ms CRM calls: 150), with headroom; lower it when what the
// callbacks call cannot take that many at once.
//
// Each running delivery holds its body in memory: DoubleTick's are 0.3 to
// 2 KB, so 200 hold well under a megabyte, but a body may be as large as
// the Handler's WithMaxBodySize (1 MiB by default), and 200 of those hold
// 200 MiB.
func WithWorkers(n int) Option {
	return option(func(c *config) error {
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
	return option(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("inbox: %s: need a positive duration, got %s", name, d)
		}
		*field(c) = d
		return nil
	})
}

// WithLogger sets where the inbox logs failed stores, failed and panicking
// callbacks and dead letters. By default it logs nothing.
func WithLogger(l *slog.Logger) AttachOption {
	return attachOption(func(c *config) error {
		if l == nil {
			return errors.New("inbox: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithoutMigrations skips River's migrations at New, for databases whose
// schema is managed elsewhere.
func WithoutMigrations() Option {
	return option(func(c *config) error { c.migrate = false; return nil })
}

// WithoutWorkers makes an inbox that only receives: it stores deliveries
// and leaves them to the workers of other processes.
func WithoutWorkers() Option {
	return option(func(c *config) error { c.work = false; return nil })
}
