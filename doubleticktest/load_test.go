package doubleticktest_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

var loadTest = flag.Bool("load", false, "run the webhook delivery load test")

// TestWebhookLoad sends 10,000 distinct events, each delivered twice, from
// 20 concurrent senders to a webhooks.NewHandler on loopback with
// de-duplication on. Run it with:
//
//	go test -run TestWebhookLoad -v ./doubleticktest/ -load
func TestWebhookLoad(t *testing.T) {
	if !*loadTest {
		t.Skip("load test: run with -load")
	}
	const events, senders = 10_000, 20

	bearer, err := webhooks.NewBearerVerifier("load-token")
	require.NoError(t, err)
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 2*events)
	require.NoError(t, err)
	var mu sync.Mutex
	handled := map[string]int{}
	h, err := webhooks.NewHandler(bearer, webhooks.WithDeduplicator(dedup),
		webhooks.OnParticipantJoined(func(_ context.Context, e *webhooks.ParticipantJoined) error {
			mu.Lock()
			defer mu.Unlock()
			handled[e.Phone.E164]++
			return nil
		}))
	require.NoError(t, err)
	var latMu sync.Mutex
	latencies := make([]time.Duration, 0, 2*events)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(start)
		latMu.Lock()
		latencies = append(latencies, d)
		latMu.Unlock()
	}))
	defer receiver.Close()

	srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(senders))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: receiver.URL,
		Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "load-token"}}))
	create(t, srv, srv.Client(), "load")
	srv.DuplicateWebhooks(true)

	start := time.Now()
	for i := range events {
		require.NoError(t, srv.Join("load", fmt.Sprintf("+1555%07d", i), ""))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, srv.WaitDeliveries(ctx, 1+2*events))
	elapsed := time.Since(start)

	failed := 0
	for _, d := range srv.Deliveries() {
		if !d.OK {
			failed++
		}
	}
	assert.Zero(t, failed, "every delivery was acknowledged")
	mu.Lock()
	assert.Len(t, handled, events, "none lost")
	for phone, n := range handled {
		if n != 1 {
			t.Errorf("%s handled %d times", phone, n)
		}
	}
	mu.Unlock()

	latMu.Lock()
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d deliveries (%d events, each twice) by %d senders in %s (%.0f/s); handler latency p50 %s, p99 %s, max %s",
		len(latencies), events, senders, elapsed.Round(time.Millisecond), float64(len(latencies))/elapsed.Seconds(),
		q(0.50), q(0.99), latencies[len(latencies)-1])
	latMu.Unlock()
}
