package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/doubletick-go/doubletick/webhooks"
)

// AddWorker registers the inbox's worker, which runs h's callbacks for each
// stored delivery, in the workers of an app's own River client. Give that
// client's config the inbox's queue too, e.g.
// Queues[inbox.Queue] = river.QueueConfig{MaxWorkers: [DefaultWorkers]}
// (sized as [WithWorkers] says), and receive through [Attach]. It takes the
// [AttachOption]s: [WithLogger] (failed and panicking callbacks, dead
// letters) and [WithObserver] (each run); the app's client's config says
// the rest: with River's default FetchCooldown (100 ms), MaxWorkers ÷ 0.1 s
// caps the handling rate.
func AddWorker(workers *river.Workers, h *webhooks.Handler, opts ...AttachOption) error {
	if h == nil {
		return errors.New("inbox: AddWorker: nil Handler")
	}
	c, err := attachConfig(opts)
	if err != nil {
		return err
	}
	return addWorker(workers, h, c.logger, c.observer)
}

// attachConfig applies the options of AddWorker or Attach.
func attachConfig(opts []AttachOption) (config, error) {
	c := config{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if err := opt.apply(&c); err != nil {
			return c, err
		}
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

// worker runs a stored delivery's callbacks.
type worker struct {
	river.WorkerDefaults[JobArgs]
	handler  *webhooks.Handler
	logger   *slog.Logger
	observer Observer
}

// Work decodes the stored body again and runs the callbacks.
func (w *worker) Work(ctx context.Context, job *river.Job[JobArgs]) error {
	ev, err := job.Args.Event()
	if err != nil {
		// It parsed when it was received: only a change of this package's
		// rules can bring this. Keep it, do not retry.
		return river.JobCancel(fmt.Errorf("the stored body no longer parses: %w", err))
	}
	org := job.Args.Org
	if org != "" {
		ctx = webhooks.ContextWithOrg(ctx, org)
	}
	obs := w.observer
	info := RunInfo{EventType: webhooks.ObservedType(ev), Attempt: job.Attempt, Carried: job.Args.Carried, Org: org}
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
	attrs := orgAttrs(org, "type", ev.Type(), "group", ev.Group(), "attempt", job.Attempt, "max_attempts", job.MaxAttempts)
	if errors.Is(err, webhooks.ErrUnknownOrg) {
		// Its organisation was removed since it was stored (or, for a
		// delivery stored before the inbox served many, it names none):
		// no attempt can succeed. Keep it, as a dead letter that says so;
		// replay it once the organisation is served again.
		w.logger.ErrorContext(ctx, "inbox: webhook kept as a dead letter: its organisation is not served", append(attrs, "error", err)...)
		return river.JobCancel(err)
	}
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
