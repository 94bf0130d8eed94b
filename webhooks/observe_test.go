package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

type spanKey struct{}

func TestObserverSeesVerdictsReasonsAndNothingPersonal(t *testing.T) {
	var mu sync.Mutex
	var deliveries []webhooks.DeliveryInfo
	var callbacks []webhooks.CallbackInfo
	sawSpan := true
	obs := webhooks.Observer{
		Start: func(ctx context.Context) context.Context { return context.WithValue(ctx, spanKey{}, "span") },
		Delivery: func(_ context.Context, d webhooks.DeliveryInfo) {
			mu.Lock()
			defer mu.Unlock()
			deliveries = append(deliveries, d)
		},
		Callbacks: func(_ context.Context, c webhooks.CallbackInfo) {
			mu.Lock()
			defer mu.Unlock()
			callbacks = append(callbacks, c)
		},
	}
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 100)
	require.NoError(t, err)
	fail := "" // what the callback does: "", "error" or "panic"
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithObserver(obs), webhooks.WithDeduplicator(dedup),
		webhooks.OnEvent(func(ctx context.Context, _ webhooks.Event) error {
			sawSpan = sawSpan && ctx.Value(spanKey{}) == "span"
			switch fail {
			case "error":
				return errors.New("store down")
			case "panic":
				panic("bug")
			}
			return nil
		}))
	require.NoError(t, err)

	joined := sample(t, "s4_participant_joined.json")
	assert.Equal(t, 200, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code)
	assert.Equal(t, 200, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code)
	assert.Equal(t, 401, serve(t, h, post(t, joined, webhookstest.Bearer("wrong-token-123"))).Code)
	assert.Equal(t, 400, serve(t, h, post(t, []byte(`{"event":`), webhookstest.Bearer(token))).Code)
	fail = "error"
	left := sample(t, "s4_participant_left.json")
	assert.Equal(t, 500, serve(t, h, post(t, left, webhookstest.Bearer(token))).Code)
	fail = "panic"
	assert.Equal(t, 500, serve(t, h, post(t, left, webhookstest.Bearer(token))).Code)
	fail = ""
	unknown := []byte(`{"event":"SOMETHING_NEW_` + strings.Repeat("X", 20) + `","groupId":"g-secret"}`)
	assert.Equal(t, 200, serve(t, h, post(t, unknown, webhookstest.Bearer(token))).Code)

	verdicts := make([]string, len(deliveries))
	for i, d := range deliveries {
		verdicts[i] = fmt.Sprintf("%s %d %s %s", d.EventType, d.Status, d.Verdict, d.Reason)
		assert.Positive(t, d.Duration, "ServeHTTP knows when each began")
	}
	assert.Equal(t, []string{
		"GROUP_PARTICIPANT_JOINED 200 handled ",
		"GROUP_PARTICIPANT_JOINED 200 duplicate ",
		" 401 refused unauthorized",
		" 400 refused malformed",
		"GROUP_PARTICIPANT_LEFT 500 failed ",
		"GROUP_PARTICIPANT_LEFT 500 failed ",
		"unknown 200 handled ",
	}, verdicts)
	errorTypes := make([]string, len(callbacks))
	for i, c := range callbacks {
		errorTypes[i] = string(c.EventType) + ":" + c.ErrorType
	}
	assert.Equal(t, []string{"GROUP_PARTICIPANT_JOINED:", "GROUP_PARTICIPANT_LEFT:error", "GROUP_PARTICIPANT_LEFT:panic", "unknown:"}, errorTypes,
		"the duplicate ran no callback")
	assert.True(t, sawSpan, "callbacks run in the context Start returned")

	all := fmt.Sprintf("%+v %+v", deliveries, callbacks)
	for _, personal := range []string{"919", "grp_01HX9abc123", "g-secret", token, "SOMETHING_NEW"} {
		assert.NotContains(t, all, personal)
	}
}

func TestObserverSeesRefusalsOfTheInboxPath(t *testing.T) {
	var got []webhooks.DeliveryInfo
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithObserver(webhooks.Observer{
		Delivery: func(_ context.Context, d webhooks.DeliveryInfo) { got = append(got, d) },
	}))
	require.NoError(t, err)
	// Receive and Refuse, as a store-first receiver (the inbox) calls them.
	r := post(t, sample(t, "s4_participant_joined.json"))
	r.Method = http.MethodGet
	rec := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := h.Receive(w, r)
		require.Error(t, err)
		h.Refuse(w, r, err)
	}), r)
	assert.Equal(t, 405, rec.Code)
	require.Len(t, got, 1)
	assert.Equal(t, webhooks.DeliveryInfo{Status: 405, Verdict: webhooks.VerdictRefused, Reason: "method"}, got[0])
}
