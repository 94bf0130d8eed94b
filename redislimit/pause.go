package redislimit

import (
	"context"
	"sync/atomic"
	"time"
)

// The waits below are the SDK's own limiter's (the same rules, so that both
// limiters behave alike), kept here because modules share no code whose API
// makes no compatibility promise.

// fits reports whether a wait of d ends before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= d
}

// sleep waits d unless ctx ends first, and then returns ctx's error. A d of
// zero or less returns nil at once.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// extendUntil sets the pause in until (Unix nanoseconds) to end at u,
// unless it already ends later: a pause is never shortened.
func extendUntil(until *atomic.Int64, u int64) {
	for {
		old := until.Load()
		if u <= old || until.CompareAndSwap(old, u) {
			return
		}
	}
}
