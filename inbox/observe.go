package inbox

import (
	"context"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Observer sees what an inbox does with each delivery, for metrics and
// traces, as the webhooks package's Observer does for a Handler (give the
// Handler one too: it sees refusals with their reason, and each run of the
// callbacks). An adapter turns these into spans and metrics (the otel
// module does so for OpenTelemetry).
//
// It is told nothing personal: event types, statuses, attempts, durations
// and organisation IDs (yours), never a group ID, phone, text, body or secret. What Carry
// returns is stored with the delivery and given back to RunStart and
// RunDone: it is for trace context (a W3C traceparent), not for data.
//
// Every field may be nil. The functions run on the goroutine of the
// delivery or of the worker: they must be fast and safe for concurrent use.
type Observer struct {
	// Start is called when ServeHTTP begins a delivery. The context it
	// returns carries the request from then on (a tracer starts the
	// receipt's span there); nil keeps ctx.
	Start func(ctx context.Context) context.Context
	// Carry returns, from the receipt's context, what to store with the
	// delivery so that its run can continue the receipt's trace: at most
	// 8 entries of at most 256 bytes each (more is dropped).
	Carry func(ctx context.Context) map[string]string
	// Stored is called when ServeHTTP answers a delivery it read: 200 once
	// stored, 500 when the store failed. (A refusal is the Handler's, and
	// its Observer's.)
	Stored func(ctx context.Context, s StoredInfo)
	// RunStart is called when a worker begins a delivery's callbacks. The
	// context it returns carries the run, the callbacks' included (a tracer
	// starts a span there, linked to the receipt's); nil keeps ctx.
	RunStart func(ctx context.Context, r RunInfo) context.Context
	// RunDone is called when they have ended.
	RunDone func(ctx context.Context, r RunInfo)
}

// StoredInfo is what became of one delivery at receipt.
type StoredInfo struct {
	// EventType is the event's type (webhooks.TypeUnknownToObserver for a
	// type the webhooks package does not know).
	EventType webhooks.Type
	// Status is the answer: 200 stored, 500 not.
	Status int
	// Duration runs from the receipt to the answer: the ack latency,
	// the wait for the group commit included.
	Duration time.Duration
	// Org is the delivery's organisation, "" for a Handler of one (see
	// webhooks.DeliveryInfo.Org).
	Org string
}

// RunInfo is one run of a stored delivery's callbacks.
type RunInfo struct {
	// EventType is as in [StoredInfo].
	EventType webhooks.Type
	// Attempt counts the runs of this delivery: 1 for the first.
	Attempt int
	// SinceReceipt runs from the delivery's receipt to the start of the
	// run (RunStart) or to its end (RunDone): receipt → callback done.
	SinceReceipt time.Duration
	// Duration is the run's, in RunDone; 0 in RunStart.
	Duration time.Duration
	// ErrorType is "" when the callbacks returned nil, "error" or "panic"
	// otherwise; in RunDone only.
	ErrorType string
	// Carried is what Carry returned at receipt, nil when nothing was.
	Carried map[string]string
	// Org is as in [StoredInfo].
	Org string
}

// WithObserver makes the inbox report each delivery to o: its receipt and
// store, and each run of its callbacks by this inbox's workers.
func WithObserver(o Observer) AttachOption {
	return attachOption(func(c *config) error { c.observer = o; return nil })
}

// carried bounds what Carry returned.
func carried(m map[string]string) map[string]string {
	const maxEntries, maxLen = 8, 256
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, min(len(m), maxEntries))
	for k, v := range m {
		if len(out) == maxEntries {
			break
		}
		if len(k) <= maxLen && len(v) <= maxLen {
			out[k] = v
		}
	}
	return out
}
