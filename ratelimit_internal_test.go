package doubletick

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseRate(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		h    http.Header
		want Rate
	}{
		{"none", header(), Rate{Remaining: -1}},
		{"nestjs throttler", header("X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "17", "Retry-After", "17"),
			Rate{Limit: 60, Remaining: 0, Reset: now.Add(17 * time.Second), RetryAfter: 17 * time.Second}},
		{"ietf draft", header("RateLimit-Limit", "10", "RateLimit-Remaining", "3", "RateLimit-Reset", "5"),
			Rate{Limit: 10, Remaining: 3, Reset: now.Add(5 * time.Second)}},
		{"x- form wins over draft", header("X-RateLimit-Limit", "60", "RateLimit-Limit", "10"), Rate{Limit: 60, Remaining: -1}},
		{"epoch reset", header("X-RateLimit-Reset", "1768469460"), Rate{Remaining: -1, Reset: time.Unix(1768469460, 0)}},
		{"list of policies", header("RateLimit-Limit", "10, 100;w=60"), Rate{Limit: 10, Remaining: -1}},
		{"garbage", header("X-RateLimit-Limit", "lots", "X-RateLimit-Remaining", "-4", "Retry-After", "later"), Rate{Remaining: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseRate(tc.h, now)
			assert.Equal(t, tc.want.Limit, got.Limit)
			assert.Equal(t, tc.want.Remaining, got.Remaining)
			assert.True(t, tc.want.Reset.Equal(got.Reset), "reset %v, want %v", got.Reset, tc.want.Reset)
			assert.Equal(t, tc.want.RetryAfter, got.RetryAfter)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	date := func(t time.Time) string { return t.Format(http.TimeFormat) }
	cases := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"seconds", header("Retry-After", "120"), 2 * time.Minute},
		{"zero", header("Retry-After", "0"), 0},
		{"http date against local clock", header("Retry-After", date(now.Add(90*time.Second))), 90 * time.Second},
		// The server's clock is 1 h ahead of ours; its Date header cancels the skew.
		{"http date against server Date", header("Retry-After", date(now.Add(time.Hour+30*time.Second)), "Date", date(now.Add(time.Hour))), 30 * time.Second},
		{"date in the past", header("Retry-After", date(now.Add(-time.Minute))), 0},
		{"huge seconds do not overflow", header("Retry-After", "99999999999999999"), time.Duration(1<<63-1) / time.Second * time.Second},
		{"garbage", header("Retry-After", "soon"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseRetryAfter(tc.h, now))
		})
	}
}

func TestMessagesAcceptsEveryShape(t *testing.T) {
	cases := map[string]messages{
		`"one"`:           {"one"},
		`["a","b"]`:       {"a", "b"},
		`null`:            nil,
		`""`:              nil,
		`42`:              {"42"},
		`{"k":"v"}`:       {`{"k":"v"}`},
		`["a",{"k":1}]`:   {`["a",{"k":1}]`},
		`"with \"q\" "`:   {`with "q" `},
		`  "spaced"   `:   {"spaced"},
		`[]`:              {},
		`["only"]`:        {"only"},
		`true`:            {"true"},
		`"\u00e9t\u00e9"`: {"été"},
	}
	for in, want := range cases {
		var m messages
		require.NoError(t, m.UnmarshalJSON([]byte(in)), in)
		assert.Equal(t, want, m, in)
	}
	// Through a real envelope, as the client decodes it.
	var env errorEnvelope
	require.NoError(t, json.Unmarshal([]byte(`{"statusCode":400,"message":["x","y"],"error":"Bad Request"}`), &env))
	assert.Equal(t, messages{"x", "y"}, env.Message)
}

func TestEvictDropsRefilledBucketsFirst(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l, err := NewPathLimiter(PathLimiterConfig{Default: RateLimit{Rate: 1, Burst: 10}, MaxPaths: 4 * numShards})
	require.NoError(t, err)
	l.now = func() time.Time { return now }
	s := &limiterShard{buckets: map[string]*bucket{}}
	add := func(key string, lastUsed time.Time, pausedUntil time.Time) {
		b := &bucket{refill: 10 * time.Second}
		b.lastUsed.Store(lastUsed.UnixNano())
		b.pausedUntil.Store(pausedUntil.UnixNano())
		s.buckets[key] = b
	}
	add("refilled", now.Add(-11*time.Second), time.Time{})
	add("paused", now.Add(-time.Hour), now.Add(time.Minute))
	add("busy-old", now.Add(-5*time.Second), time.Time{})
	add("busy-new", now.Add(-time.Second), time.Time{})

	l.evict(s)
	assert.NotContains(t, s.buckets, "refilled", "a refilled bucket is the same as a new one")
	assert.Len(t, s.buckets, 3, "nothing else goes while there is room")

	add("busy-newest", now, time.Time{})
	l.evict(s) // 4 buckets, none refilled: least recently used go, down to 3
	assert.Len(t, s.buckets, 3)
	assert.NotContains(t, s.buckets, "paused", "least recently used")
	assert.Contains(t, s.buckets, "busy-newest")
}

func TestDefaultTimeoutBoundsEachAttempt(t *testing.T) {
	c, err := NewClient("key_test")
	require.NoError(t, err)
	assert.Equal(t, DefaultTimeout, c.httpClient.Timeout, "a trickling server cannot hold a call for ever")
	c, err = NewClient("key_test", WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, c.httpClient.Timeout, "the given client's own timeout is kept")
	c, err = NewClient("key_test", WithHTTPClient(&http.Client{Timeout: 5 * time.Second}), WithTimeout(0))
	require.NoError(t, err)
	assert.Zero(t, c.httpClient.Timeout, "WithTimeout(0) leaves only the context")
}

// TestLongRouteKeysAreBounded calls 2,000 distinct 16 KiB paths: the
// limiter keeps a bounded key for each, not the path, and still tells
// them apart.
func TestLongRouteKeysAreBounded(t *testing.T) {
	l, err := NewPathLimiter(PathLimiterConfig{Default: RateLimit{Rate: 1, Burst: 1}})
	require.NoError(t, err)
	long := func(i int) string { return fmt.Sprintf("GET /%d/%s", i, strings.Repeat("x", 16<<10)) }
	for i := range 2000 {
		require.NoError(t, l.Wait(context.Background(), long(i)))
	}
	assert.Equal(t, 2000, l.paths(), "each long path has its own bucket")
	for i := range l.shards {
		for key := range l.shards[i].buckets {
			assert.LessOrEqual(t, len(key), MaxRouteKeyLength)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx, long(7)), ErrRateLimited, "the same long path shares its bucket")
	assert.NotEqual(t, boundedKey(long(1)), boundedKey(long(2)))
}

// The limiter on an injected clock: each wait moves the clock on by what it
// would have slept, so the count does not depend on how busy the machine is.
func TestPathLimiterAdmitsTheConfiguredRate(t *testing.T) {
	const perSecond, window = 50, 2 * time.Second
	l, err := NewPathLimiter(PathLimiterConfig{Default: RateLimit{Rate: perSecond, Burst: 1}})
	require.NoError(t, err)
	now := time.Unix(1_000_000, 0)
	end := now.Add(window)
	l.now = func() time.Time { return now }
	slept := 0
	l.sleep = func(_ context.Context, d time.Duration) error {
		slept++
		now = now.Add(d)
		return nil
	}
	ctx := context.Background()
	admitted := 0
	for {
		require.NoError(t, l.Wait(ctx, RouteCreateGroup))
		if !now.Before(end) {
			break
		}
		admitted++
		// Another route has its own bucket: its first token does not wait
		// for this route's.
		if admitted == 10 {
			before := slept
			require.NoError(t, l.Wait(ctx, RouteGetGroup))
			assert.Equal(t, before, slept, "another route waited for this one's tokens")
		}
	}
	assert.Equal(t, int(perSecond*window.Seconds()), admitted, "tokens at 0, 20 ms, …, 1980 ms")
}
