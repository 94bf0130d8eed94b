// Package pause holds the SDK's waiting: sleeps that end with their context
// (limiters, retries, back-off), and pauses that only ever grow.
package pause

import (
	"context"
	"sync/atomic"
	"time"
)

// Fits reports whether a wait of d ends before ctx's deadline.
func Fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= d
}

// Sleep waits d unless ctx ends first, and then returns ctx's error. A d of
// zero or less returns nil at once, without a timer.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Extend sets the pause in until (Unix nanoseconds) to end at u, unless it
// already ends later: a pause is never shortened.
func Extend(until *atomic.Int64, u int64) {
	for {
		old := until.Load()
		if u <= old || until.CompareAndSwap(old, u) {
			return
		}
	}
}
