package doubletick_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newPathLimiter(t testing.TB, cfg doubletick.PathLimiterConfig) *doubletick.PathLimiter {
	t.Helper()
	l, err := doubletick.NewPathLimiter(cfg)
	require.NoError(t, err)
	return l
}

func TestPathLimiterFailsFastPastTheDeadline(t *testing.T) {
	l := newPathLimiter(t, doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: rate.Every(time.Minute), Burst: 1}})
	require.NoError(t, l.Wait(context.Background(), "GET /x"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, "GET /x")
	assert.Less(t, time.Since(start), 500*time.Millisecond, "no waiting for a token that comes after the deadline (1 min)")
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	var rl *doubletick.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Nil(t, rl.APIError, "nothing was sent")
	assert.InDelta(t, time.Minute.Seconds(), rl.RetryAfter.Seconds(), 1)

	// The refused wait gave its reservation back: a later caller is not
	// pushed further out by it.
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	assert.ErrorIs(t, l.Wait(cancelled, "GET /x"), context.Canceled)
}

func TestPathLimiterWaitStopsOnCancel(t *testing.T) {
	l := newPathLimiter(t, doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 1}})
	require.NoError(t, l.Wait(context.Background(), "GET /x"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	assert.ErrorIs(t, l.Wait(ctx, "GET /x"), context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestPathLimiterPauseHoldsEveryCaller(t *testing.T) {
	l := newPathLimiter(t, doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: rate.Inf}})
	until := time.Now().Add(300 * time.Millisecond)
	l.Pause(context.Background(), "POST /p", until)
	l.Pause(context.Background(), "POST /p", time.Now()) // never shortens a pause
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			assert.NoError(t, l.Wait(context.Background(), "POST /p"))
			assert.False(t, time.Now().Before(until), "a caller got through during the pause")
		})
	}
	assert.NoError(t, l.Wait(context.Background(), "POST /other"), "other routes are not paused")
	wg.Wait()

	l.Pause(context.Background(), "POST /p", time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx, "POST /p"), doubletick.ErrRateLimited, "a pause past the deadline fails fast")
}

func TestPathLimiterMemoryIsBounded(t *testing.T) {
	l := newPathLimiter(t, doubletick.PathLimiterConfig{Default: doubletick.DefaultRateLimit()})
	ctx := context.Background()
	path := make([]byte, 0, 32)
	for i := range 100_000 {
		path = append(path[:0], "GET /custom/"...)
		path = appendInt(path, i)
		require.NoError(t, l.Wait(ctx, string(path)))
	}
	assert.LessOrEqual(t, l.Paths(), doubletick.DefaultMaxPaths)
	assert.Greater(t, l.Paths(), doubletick.DefaultMaxPaths/2, "eviction keeps most recent routes")

	small := newPathLimiter(t, doubletick.PathLimiterConfig{Default: doubletick.DefaultRateLimit(), MaxPaths: 64})
	for i := range 10_000 {
		path = append(path[:0], "GET /p/"...)
		require.NoError(t, small.Wait(ctx, string(appendInt(path, i))))
	}
	assert.LessOrEqual(t, small.Paths(), 64)
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func TestNewPathLimiterRejectsUnusableLimits(t *testing.T) {
	for name, cfg := range map[string]doubletick.PathLimiterConfig{
		"zero default":  {},
		"zero burst":    {Default: doubletick.RateLimit{Rate: 1}},
		"negative rate": {Default: doubletick.RateLimit{Rate: -1, Burst: 1}},
		"bad route":     {Default: doubletick.DefaultRateLimit(), Routes: map[string]doubletick.RateLimit{"GET /x": {Rate: 1}}},
		"negative max":  {Default: doubletick.DefaultRateLimit(), MaxPaths: -1},
	} {
		_, err := doubletick.NewPathLimiter(cfg)
		assert.Error(t, err, name)
	}
	_, err := doubletick.NewClient(testKey, doubletick.WithRateLimit(doubletick.RateLimit{Rate: 5}))
	assert.Error(t, err)
	_, err = doubletick.NewClient(testKey, doubletick.WithPathRateLimit(doubletick.RouteCreateGroup, doubletick.RateLimit{Rate: 5, Burst: 0}))
	assert.Error(t, err)
}

// rateLimitedServer answers 429 with Retry-After: 1 to the first request and
// to every request in the second after it, as a server enforcing a window
// would, and 200 after that.
type rateLimitedServer struct {
	mu         sync.Mutex
	windowEnd  time.Time
	tooMany    int
	ok         int
	firstSent  bool
	bodies     [][]byte
	retryAfter string
}

func (s *rateLimitedServer) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, body)
	if !s.firstSent {
		s.firstSent = true
		s.windowEnd = time.Now().Add(time.Second)
	}
	if time.Now().Before(s.windowEnd) {
		s.tooMany++
		w.Header().Set("Retry-After", s.retryAfter)
		respond(429, `{"statusCode":429,"message":"Too Many Requests: Rate Limit Exceeded","error":"Too Many Requests"}`)(w, r)
		return
	}
	s.ok++
	respond(200, `{"success":true,"groupId":"g"}`)(w, r)
}

// pauseSignal is a PathLimiter that also reports its first Pause.
type pauseSignal struct {
	*doubletick.PathLimiter
	once   sync.Once
	paused chan struct{}
}

func (l *pauseSignal) Pause(ctx context.Context, key string, until time.Time) {
	l.PathLimiter.Pause(ctx, key, until)
	l.once.Do(func() { close(l.paused) })
}

// createConcurrently runs n Creates at once and returns how many attempts
// each took; every one must succeed.
func createConcurrently(t *testing.T, c *doubletick.Client, n int) []int {
	t.Helper()
	attempts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, resp, err := c.Groups.Create(context.Background(), validCreate())
			if assert.NoError(t, err) {
				attempts[i] = resp.Attempts
			}
		})
	}
	wg.Wait()
	return attempts
}

func TestCallersAfterA429WaitOutThePause(t *testing.T) {
	srv := &rateLimitedServer{retryAfter: "1"}
	pl, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: 200, Burst: 1}})
	require.NoError(t, err)
	lim := &pauseSignal{PathLimiter: pl, paused: make(chan struct{})}
	c := newTestClient(t, srv.handle, doubletick.WithLimiter(lim), doubletick.WithMaxAttempts(3))

	first := make(chan []int)
	go func() { first <- createConcurrently(t, c, 1) }()
	select {
	case <-lim.paused:
	case <-time.After(5 * time.Second):
		t.Fatal("the 429 did not pause the route")
	}
	// The 99 arrive while the server's window is still shut: the pause the
	// first caller's 429 set must hold every one of them until it opens.
	others := createConcurrently(t, c, 99)
	assert.Equal(t, []int{2}, <-first, "the caller that met the 429 sent twice")
	assert.Equal(t, slices.Repeat([]int{1}, 99), others, "no other caller was sent into the window")
	assert.Equal(t, 1, srv.tooMany, "exactly one 429")
	assert.Equal(t, 100, srv.ok, "every caller succeeded")
}

// TestBurstOfCallersMeetsA429 starts 100 callers at once. How many are on
// the wire before the first 429 comes back depends on the scheduler, so it
// asserts what holds however many that is: each 429 costs its caller one
// resend, the pauses keep every resend out of the server's window, and
// most callers never meet the 429 at all.
func TestBurstOfCallersMeetsA429(t *testing.T) {
	srv := &rateLimitedServer{retryAfter: "1"}
	c := newTestClient(t, srv.handle,
		doubletick.WithRateLimit(doubletick.RateLimit{Rate: 200, Burst: 1}),
		doubletick.WithMaxAttempts(3))
	resent := 0
	for _, a := range createConcurrently(t, c, 100) {
		require.LessOrEqual(t, a, 2, "no caller met a second 429")
		resent += a - 1
	}
	assert.GreaterOrEqual(t, srv.tooMany, 1)
	// Unpaused, all 100 would be sent 5 ms apart into the 1 s window.
	assert.Less(t, srv.tooMany, 50, "the first 429 held most callers back")
	assert.Equal(t, srv.tooMany, resent, "a caller was sent again only after a 429")
	assert.Equal(t, 100, srv.ok, "every caller succeeded")
}

func TestRetryResendsTheWholeBody(t *testing.T) {
	srv := &rateLimitedServer{retryAfter: "1"}
	c := newTestClient(t, srv.handle, doubletick.WithMaxAttempts(2))
	req := validCreate()
	req.Description = string(bytes.Repeat([]byte("d"), 2000))
	_, resp, err := c.Groups.Create(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	require.Len(t, srv.bodies, 2)
	assert.Equal(t, srv.bodies[0], srv.bodies[1])
	assert.Greater(t, len(srv.bodies[1]), 2000)
}

func TestRetryAfterBeyondTheMaximumIsAnError(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(429, `{}`, "Retry-After", "1440000")(w, r) // 400 hours
	}, doubletick.WithMaxAttempts(5), doubletick.WithMaxRetryAfter(2*time.Second))
	start := time.Now()
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	assert.Less(t, time.Since(start), time.Second, "no hung call")
	var rl *doubletick.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 400*time.Hour, rl.RetryAfter)
	assert.Equal(t, int32(1), hits.Load())
}

func TestNoRetryIsPlannedPastTheDeadline(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(429, `{}`, "Retry-After", "5")(w, r)
	}, doubletick.WithMaxAttempts(5))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := c.Groups.Create(ctx, validCreate())
	assert.Less(t, time.Since(start), 500*time.Millisecond, "returns at once instead of sleeping into the deadline")
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Equal(t, int32(1), hits.Load())
}

func TestRetriesStopOnCancel(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(429, `{}`, "Retry-After", "2")(w, r)
	}, doubletick.WithMaxAttempts(10))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := c.Groups.Create(ctx, validCreate())
	assert.Less(t, time.Since(start), time.Second)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, doubletick.ErrRateLimited, "the last answer is kept")
	assert.Equal(t, int32(1), hits.Load())
}

func TestCreateIsNotRetriedWhenItMayHaveTakenEffect(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"500":                     respond(500, `{"statusCode":500,"message":"Internal server error"}`),
		"502":                     respond(502, `bad gateway`),
		"503 without Retry-After": respond(503, `{}`),
		"connection dropped after the request was read": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			handler := func(w http.ResponseWriter, r *http.Request) { hits.Add(1); h(w, r) }
			c := newTestClient(t, handler, doubletick.WithMaxAttempts(4), doubletick.WithBackoff(func(int) time.Duration { return 0 }))
			_, _, err := c.Groups.Create(context.Background(), validCreate())
			require.Error(t, err)
			assert.Equal(t, int32(1), hits.Load(), "a create that may have happened is never sent again by default")

			hits.Store(0)
			optIn := newTestClient(t, handler, doubletick.WithMaxAttempts(3), doubletick.WithRetryNonIdempotent(),
				doubletick.WithBackoff(func(int) time.Duration { return 0 }))
			_, _, err = optIn.Groups.Create(context.Background(), validCreate())
			require.Error(t, err)
			assert.Equal(t, int32(3), hits.Load(), "opted in: retried up to the attempt limit")
		})
	}
}

func TestServiceUnavailableWithRetryAfterIsRetried(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			respond(503, `{}`, "Retry-After", "1")(w, r)
			return
		}
		respond(200, `{"success":true,"groupId":"g"}`)(w, r)
	}, doubletick.WithMaxAttempts(2))
	start := time.Now()
	_, resp, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "Retry-After was honoured")
}

func TestConnectionFailureBeforeSendingIsRetried(t *testing.T) {
	mock := httpmock.NewMockTransport()
	var calls atomic.Int32
	mock.RegisterResponder(http.MethodPost, "https://public.doubletick.io/whatsapp/wa-group/create", func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		}
		return httpmock.NewStringResponse(200, `{"success":true,"groupId":"g"}`), nil
	})
	var policySaw doubletick.Attempt
	c, err := doubletick.NewClient(testKey,
		doubletick.WithHTTPClient(&http.Client{Transport: mock}),
		doubletick.WithBackoff(func(int) time.Duration { return time.Millisecond }),
		doubletick.WithRetryPolicy(func(a *doubletick.Attempt) bool {
			policySaw = *a
			return doubletick.DefaultRetryPolicy(a)
		}))
	require.NoError(t, err)
	_, resp, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, int32(2), calls.Load())
	assert.False(t, policySaw.Sent, "a refused connection sent nothing")
	assert.False(t, policySaw.Repeatable, "Create is a POST")
	assert.Equal(t, 1, policySaw.Number)
	assert.Nil(t, policySaw.Response)
	assert.Equal(t, "/whatsapp/wa-group/create", policySaw.Route)
}

func TestDefaultRetryPolicy(t *testing.T) {
	resp := func(status int, retryAfter time.Duration) *doubletick.Response {
		return &doubletick.Response{StatusCode: status, Rate: doubletick.Rate{RetryAfter: retryAfter}}
	}
	cases := []struct {
		name string
		a    doubletick.Attempt
		want bool
	}{
		{"429", doubletick.Attempt{Response: resp(429, 0), Sent: true}, true},
		{"503 + Retry-After", doubletick.Attempt{Response: resp(503, time.Second), Sent: true}, true},
		{"503 POST", doubletick.Attempt{Response: resp(503, 0), Sent: true}, false},
		{"503 GET", doubletick.Attempt{Response: resp(503, 0), Sent: true, Repeatable: true}, true},
		{"500 POST", doubletick.Attempt{Response: resp(500, 0), Sent: true}, false},
		{"500 GET", doubletick.Attempt{Response: resp(500, 0), Sent: true, Repeatable: true}, true},
		{"501 GET", doubletick.Attempt{Response: resp(501, 0), Sent: true, Repeatable: true}, false},
		{"400", doubletick.Attempt{Response: resp(400, 0), Sent: true, Repeatable: true}, false},
		{"not sent", doubletick.Attempt{}, true},
		{"sent, POST", doubletick.Attempt{Sent: true}, false},
		{"sent, GET", doubletick.Attempt{Sent: true, Repeatable: true}, true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, doubletick.DefaultRetryPolicy(&tc.a), tc.name)
	}
}

func TestExponentialBackoffStaysInItsBounds(t *testing.T) {
	b := doubletick.ExponentialBackoff(100*time.Millisecond, 2*time.Second)
	for n := 1; n <= 70; n++ {
		ceiling := 2 * time.Second
		if n <= 5 {
			ceiling = 100 * time.Millisecond << (n - 1)
		}
		var maxSeen time.Duration
		for range 200 {
			d := b(n)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, ceiling, "retry %d", n)
			maxSeen = max(maxSeen, d)
		}
		assert.Greater(t, maxSeen, ceiling/2, "retry %d: full jitter reaches the upper half", n)
	}
}

// recordingLimiter is a Limiter that records what the Client asks of it.
type recordingLimiter struct {
	mu     sync.Mutex
	waits  []string
	pauses map[string]time.Time
}

func (l *recordingLimiter) Wait(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, key)
	return nil
}

func (l *recordingLimiter) Pause(_ context.Context, key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauses[key] = until
}

func TestClientUsesAPluggedLimiter(t *testing.T) {
	lim := &recordingLimiter{pauses: map[string]time.Time{}}
	c := newTestClient(t, respond(429, `{}`, "Retry-After", "30"), doubletick.WithLimiter(lim))
	start := time.Now()
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Equal(t, []string{doubletick.RouteCreateGroup}, lim.waits)
	require.Contains(t, lim.pauses, doubletick.RouteCreateGroup)
	assert.WithinDuration(t, start.Add(30*time.Second), lim.pauses[doubletick.RouteCreateGroup], 2*time.Second)
}

func TestClientLimiterRefusalSendsNothing(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(200, `{"success":true,"groupId":"g"}`)(w, r)
	}, doubletick.WithPathRateLimit(doubletick.RouteCreateGroup, doubletick.RateLimit{Rate: rate.Every(time.Minute), Burst: 1}))
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, resp, err := c.Groups.Create(ctx, validCreate())
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Contains(t, err.Error(), "POST /whatsapp/wa-group/create: rate limited by the client")
	assert.Equal(t, int32(1), hits.Load())
}

func TestLimiterRefusalOnARetryKeepsTheLastAnswer(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(500, `{"statusCode":500,"message":"try later"}`)(w, r)
	}, doubletick.WithMaxAttempts(3), doubletick.WithRetryNonIdempotent(),
		doubletick.WithBackoff(func(int) time.Duration { return 0 }),
		doubletick.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(time.Minute), Burst: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, resp, err := c.Groups.Create(ctx, validCreate())
	assert.ErrorIs(t, err, doubletick.ErrRateLimited, "the limiter refused the retry")
	assert.ErrorIs(t, err, doubletick.ErrServerError, "and the 500 that caused it is kept")
	require.NotNil(t, resp)
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, int32(1), hits.Load())
}

// TestATokenDueDuringAPauseIsKept: a caller whose token falls due while the
// route is paused sends once the pause ends, with that token, instead of
// throwing it away and reserving another that comes too late.
func TestATokenDueDuringAPauseIsKept(t *testing.T) {
	l, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: 1, Burst: 1}})
	require.NoError(t, err)
	const key = "GET /whatsapp/wa-group/info"
	require.NoError(t, l.Wait(context.Background(), key)) // the burst token
	start := time.Now()
	paused := make(chan struct{})
	go func() {
		defer close(paused)
		time.Sleep(100 * time.Millisecond)
		l.Pause(context.Background(), key, start.Add(1200*time.Millisecond)) // the next token is due at 1 s
	}()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(1800*time.Millisecond))
	defer cancel()
	// A second token would be due at 2 s, past the deadline.
	assert.NoError(t, l.Wait(ctx, key))
	<-paused
	assert.GreaterOrEqual(t, time.Since(start), 1200*time.Millisecond, "held back by the pause")
}
