package doubletick_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// observed records what a CallObserver is told.
type observed struct {
	mu       sync.Mutex
	starts   []string
	waits    []string
	attempts []doubletick.AttemptInfo
	dones    []doubletick.CallInfo
	ctxOK    []bool // whether each later callback saw Start's context
}

type startKey struct{}

func (o *observed) observer() doubletick.CallObserver {
	saw := func(ctx context.Context) { o.ctxOK = append(o.ctxOK, ctx.Value(startKey{}) == "span") }
	return doubletick.CallObserver{
		Start: func(ctx context.Context, route string) context.Context {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.starts = append(o.starts, route)
			return context.WithValue(ctx, startKey{}, "span")
		},
		LimiterWait: func(ctx context.Context, route string, _ time.Duration) {
			o.mu.Lock()
			defer o.mu.Unlock()
			saw(ctx)
			o.waits = append(o.waits, route)
		},
		Attempt: func(ctx context.Context, a doubletick.AttemptInfo) {
			o.mu.Lock()
			defer o.mu.Unlock()
			saw(ctx)
			o.attempts = append(o.attempts, a)
		},
		Done: func(ctx context.Context, d doubletick.CallInfo) {
			o.mu.Lock()
			defer o.mu.Unlock()
			saw(ctx)
			o.dones = append(o.dones, d)
		},
	}
}

func TestCallObserverSeesAttemptsRetriesAndNothingPersonal(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"statusCode":429,"message":"Too Many Requests","error":"Too Many Requests"}`)
			return
		}
		w.Header().Set("X-Request-Id", "req-42")
		fmt.Fprint(w, `{"groupId":"vip-secret-group","groupName":"VIP","groupDescription":"","groupSettings":{},"totalParticipantCount":0}`)
	}))
	defer srv.Close()
	var o observed
	const key = "key_observer_test_123"
	c, err := doubletick.NewClient(key, doubletick.WithBaseURL(srv.URL), doubletick.WithoutRateLimit(),
		doubletick.WithBackoff(func(int) time.Duration { return time.Millisecond }), doubletick.WithCallObserver(o.observer()))
	require.NoError(t, err)

	_, _, err = c.Groups.Get(context.Background(), "vip-secret-group")
	require.NoError(t, err)

	route := doubletick.RouteGetGroup
	assert.Equal(t, []string{route}, o.starts)
	assert.Equal(t, []string{route, route}, o.waits, "a limiter wait before each attempt")
	require.Len(t, o.attempts, 2)
	first, second := o.attempts[0], o.attempts[1]
	assert.Equal(t, doubletick.AttemptInfo{Route: route, Number: 1, StatusCode: 429, ErrorType: "429", Retry: true,
		RetryWait: time.Millisecond, Duration: first.Duration}, first)
	assert.Equal(t, doubletick.AttemptInfo{Route: route, Number: 2, StatusCode: 200, RequestID: "req-42",
		Duration: second.Duration}, second)
	require.Len(t, o.dones, 1)
	done := o.dones[0]
	assert.Equal(t, doubletick.CallInfo{Route: route, Attempts: 2, StatusCode: 200, Duration: done.Duration}, done)
	assert.GreaterOrEqual(t, done.Duration, first.Duration+second.Duration, "the call spans its attempts")
	assert.NotContains(t, o.ctxOK, false, "every callback runs in the context Start returned")

	all := fmt.Sprintf("%+v %+v %+v %+v", o.starts, o.waits, o.attempts, o.dones)
	assert.NotContains(t, all, "vip-secret-group", "no group ID")
	assert.NotContains(t, all, key, "no key")
}

func TestCallObserverSeesACallThatNeverLeft(t *testing.T) {
	var o observed
	c, err := doubletick.NewClient("key_observer_test_123", doubletick.WithBaseURL("http://127.0.0.1:1"),
		doubletick.WithCallObserver(o.observer()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = c.Groups.Get(ctx, "g1")
	require.Error(t, err)
	require.Len(t, o.dones, 1)
	assert.Equal(t, 0, o.dones[0].Attempts, "the context ended in the limiter's wait")
	assert.Equal(t, "canceled", o.dones[0].ErrorType)
	assert.Empty(t, o.attempts)
}

func TestCallObserverSeesNoInvalidRequest(t *testing.T) {
	var o observed
	c, err := doubletick.NewClient("key_observer_test_123", doubletick.WithCallObserver(o.observer()))
	require.NoError(t, err)
	_, _, err = c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{})
	require.Error(t, err)
	assert.Empty(t, o.starts, "refused before any call: nothing to observe")
}

func TestCallObserverErrorTypes(t *testing.T) {
	var o observed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("groupId") == "broken" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"groupId":`) // a 2xx answer cut short
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"statusCode":404,"message":"Group not found for the given groupId","error":"Not Found"}`)
	}))
	defer srv.Close()
	c, err := doubletick.NewClient("key_observer_test_123", doubletick.WithBaseURL(srv.URL), doubletick.WithoutRateLimit(),
		doubletick.WithCallObserver(o.observer()))
	require.NoError(t, err)
	_, _, err = c.Groups.Get(context.Background(), "missing")
	require.Error(t, err)
	_, _, err = c.Groups.Get(context.Background(), "broken")
	require.Error(t, err)
	srv.Close()
	_, _, err = c.Groups.Get(context.Background(), "gone")
	require.Error(t, err)
	require.Len(t, o.dones, 3)
	assert.Equal(t, "404", o.dones[0].ErrorType)
	assert.Equal(t, "decode", o.dones[1].ErrorType)
	assert.Equal(t, "transport", o.dones[2].ErrorType)
}
