package inbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// padded is a delivery of an event type this SDK does not know, about 2
// KB, unique by i: what a sender with the credential can send at will.
func padded(i int) []byte {
	return []byte(fmt.Sprintf(`{"event":"NOT_A_DOUBLETICK_EVENT","n":%d,"pad":"%s"}`, i, strings.Repeat("x", 2000)))
}

// syncBuffer is a log both the inbox and the test use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
func (w *syncBuffer) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// Deliveries handled as they come, far past the bound, cost only the
// oldest handled ones: none is refused, and what is kept stays about the
// bound.
func TestTheBoundDeletesHandledDeliveriesFirst(t *testing.T) {
	const max = 40_000
	in, db := sqliteInbox(t, handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil })),
		inbox.WithMaxStoredBytes(max))
	ctx := context.Background()
	for i := range 100 { // about 280 KB in all, handled 8 at a time (about 24 KB: less than the bound waits)
		require.Equal(t, 200, serve(in, post(t, padded(i), webhookstest.Bearer(token))).Code, "delivery %d", i)
		if i%8 == 7 {
			eventually(t, "handled", func() bool { idle, err := in.Idle(ctx); return err == nil && idle })
		}
	}
	st, err := in.Stats(ctx)
	require.NoError(t, err)
	assert.Less(t, st.StoredBytes, int64(max+10_000), "at most the bound and what came since its last check")
	assert.Less(t, jobs(t, db), 40, "the oldest handled deliveries went")
}

// Deliveries that cannot be deleted (failing, so retrying or dead) fill the
// inbox: past the bound new ones are answered 503 and stored nowhere, the
// log and the Observer say so, and once dead letters are purged it stores
// again. Every delivery answered 200 is kept.
func TestAFullInboxRefusesNewDeliveriesAndLosesNoAcknowledgedOne(t *testing.T) {
	const max = 40_000
	var logs syncBuffer
	var mu sync.Mutex
	statuses := map[int]int{}
	obs := inbox.Observer{Stored: func(_ context.Context, s inbox.StoredInfo) {
		mu.Lock()
		defer mu.Unlock()
		statuses[s.Status]++
	}}
	in, db := sqliteInbox(t, handler(t, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return errors.New("CRM down") })),
		inbox.WithMaxStoredBytes(max), inbox.WithMaxAttempts(1), inbox.WithObserver(obs),
		inbox.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx := context.Background()
	acked, refused := 0, 0
	for i := 0; refused == 0; i++ {
		require.Less(t, i, 1000, "never full")
		rec := serve(in, post(t, padded(i), webhookstest.Bearer(token)))
		switch rec.Code {
		case http.StatusOK:
			acked++
		case http.StatusServiceUnavailable:
			refused++
			assert.Equal(t, "60", rec.Header().Get("Retry-After"))
		default:
			t.Fatalf("delivery %d: %d", i, rec.Code)
		}
	}
	assert.Equal(t, acked, jobs(t, db), "every acknowledged delivery is kept; the refused one is not stored")
	assert.Contains(t, logs.String(), "inbox: full")
	mu.Lock()
	assert.Equal(t, map[int]int{200: acked, 503: 1}, statuses)
	mu.Unlock()

	eventually(t, "all dead", func() bool { st, err := in.Stats(ctx); return err == nil && st.Dead == acked })
	purged, err := in.PurgeDeadLetters(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, acked, purged)
	eventually(t, "storing again", func() bool {
		return serve(in, post(t, padded(5000), webhookstest.Bearer(token))).Code == http.StatusOK
	})
}
