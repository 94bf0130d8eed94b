package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

type traceKey struct{}

func TestObserverSeesReceiptStoreAndRunsLinked(t *testing.T) {
	var mu sync.Mutex
	var stored []inbox.StoredInfo
	var starts, dones []inbox.RunInfo
	obs := inbox.Observer{
		Start: func(ctx context.Context) context.Context { return context.WithValue(ctx, traceKey{}, "receipt-1") },
		Carry: func(ctx context.Context) map[string]string {
			return map[string]string{"traceparent": fmt.Sprint(ctx.Value(traceKey{}))}
		},
		Stored: func(_ context.Context, s inbox.StoredInfo) { mu.Lock(); stored = append(stored, s); mu.Unlock() },
		RunStart: func(ctx context.Context, r inbox.RunInfo) context.Context {
			mu.Lock()
			starts = append(starts, r)
			mu.Unlock()
			return context.WithValue(ctx, traceKey{}, "run-of-"+r.Carried["traceparent"])
		},
		RunDone: func(_ context.Context, r inbox.RunInfo) { mu.Lock(); dones = append(dones, r); mu.Unlock() },
	}
	var fails atomic.Int32
	fails.Store(1)
	var seen atomic.Value
	h := handler(t, webhooks.OnEvent(func(ctx context.Context, _ webhooks.Event) error {
		seen.Store(ctx.Value(traceKey{}))
		if fails.Add(-1) >= 0 {
			return errors.New("store down")
		}
		return nil
	}))
	in, _ := sqliteInbox(t, h, inbox.WithObserver(obs))
	require.Equal(t, 200, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"), webhookstest.Bearer(token))).Code)
	require.Equal(t, 401, serve(in, post(t, joined("2026-01-15T10:00:00.000Z"))).Code)
	eventually(t, "a failed run, then one that succeeded", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dones) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, stored, 1, "a refusal is the Handler's to report")
	assert.Equal(t, webhooks.TypeParticipantJoined, stored[0].EventType)
	assert.Equal(t, 200, stored[0].Status)
	assert.Positive(t, stored[0].Duration)
	require.Len(t, starts, 2)
	for i, r := range dones {
		assert.Equal(t, i+1, r.Attempt)
		assert.Equal(t, map[string]string{"traceparent": "receipt-1"}, r.Carried, "the receipt's trace context, carried through the store")
		assert.GreaterOrEqual(t, r.SinceReceipt, r.Duration, "receipt → done spans the run")
	}
	assert.Equal(t, "error", dones[0].ErrorType)
	assert.Equal(t, "", dones[1].ErrorType)
	assert.Equal(t, "run-of-receipt-1", seen.Load(), "the callbacks run in RunStart's context")
	assert.NotContains(t, fmt.Sprintf("%+v %+v %+v", stored, starts, dones), "919876543210", "no phone")
}
