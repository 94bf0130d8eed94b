package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisClient returns a client of the test server, or skips the test when
// no server answers and CI is not set (in CI, .ci/services starts one).
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("DOUBLETICK_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:56379" // what .ci/services starts
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1}) // a refused connection is final here
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at DOUBLETICK_TEST_REDIS_ADDR is not reachable in CI: %v", err)
		}
		t.Skipf("no Redis reachable at %s (%v): source .ci/services, or set DOUBLETICK_TEST_REDIS_ADDR", addr, err)
	}
	return rdb
}

// prefix isolates one test's keys from every other run's.
func prefix(t *testing.T) string {
	return fmt.Sprintf("doubletick-test:%s:%d:", t.Name(), time.Now().UnixNano())
}

// deadRedis is a client of a loopback port nothing listens on.
func deadRedis(t *testing.T) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// counter is an API that records when each request arrived.
type counter struct {
	mu       sync.Mutex
	arrivals []time.Time
	srv      *httptest.Server
}

func newCounter(t *testing.T) *counter {
	c := &counter{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.arrivals = append(c.arrivals, time.Now())
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.arrivals)
}

// client is one replica: its own Redis connection pool, Limiter and
// doubletick.Client.
func client(t *testing.T, api *counter, rdb redis.UniversalClient, opts ...redislimit.Option) *doubletick.Client {
	t.Helper()
	lim, err := redislimit.New(rdb, opts...)
	require.NoError(t, err)
	c, err := doubletick.NewClient("key_test", doubletick.WithBaseURL(api.srv.URL), doubletick.WithLimiter(lim), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	return c
}

func get(ctx context.Context, c *doubletick.Client) error {
	_, err := c.Do(ctx, http.MethodGet, "/whatsapp/wa-group/info", nil, nil, nil)
	return err
}

// Four replicas calling as fast as they can share one budget of 50
// requests a second. What holds on a loaded machine too: the API can never
// see more requests than the budget grants in the test's 4 seconds (201),
// whatever the scheduling delays; and a working limiter grants most of
// them (a loaded machine may send fewer). Four unshared budgets would send
// about 800. The per-second counts are logged, not asserted: a delay can
// move a request from one second into the next.
func TestSharedBudget(t *testing.T) {
	addr := redisClient(t).Options().Addr
	api := newCounter(t)
	p := prefix(t)
	const replicas, perReplica, seconds = 4, 4, 4
	budget := doubletick.RateLimit{Rate: 50, Burst: 1}

	ctx, cancel := context.WithTimeout(context.Background(), seconds*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var unexpected atomic.Value
	for range replicas {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { rdb.Close() })
		c := client(t, api, rdb, redislimit.WithPrefix(p), redislimit.WithRateLimit(budget), redislimit.WithFailClosed())
		for range perReplica {
			wg.Go(func() {
				for {
					err := get(ctx, c)
					if isDeadline(err) { // the load is over
						return
					}
					if err != nil {
						unexpected.Store(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if err, _ := unexpected.Load().(error); err != nil {
		t.Fatal(err)
	}

	api.mu.Lock()
	defer api.mu.Unlock()
	require.NotEmpty(t, api.arrivals)
	start := api.arrivals[0]
	perSecond := make([]int, seconds)
	for _, at := range api.arrivals {
		if s := int(at.Sub(start) / time.Second); s < seconds {
			perSecond[s]++
		}
	}
	t.Logf("requests per second through %d replicas × %d goroutines: %v (%d in all)", replicas, perReplica, perSecond, len(api.arrivals))
	maxGranted := int(budget.Rate)*seconds + budget.Burst
	assert.LessOrEqual(t, len(api.arrivals), maxGranted, "more requests than one shared budget grants")
	assert.GreaterOrEqual(t, len(api.arrivals), maxGranted*3/4, "the budget was mostly used")
}

// isDeadline reports whether err says the limiter refused a wait past the
// context's deadline, which ends the load at the end of the test.
func isDeadline(err error) bool {
	return err != nil && (errors.Is(err, doubletick.ErrRateLimited) || errors.Is(err, context.DeadlineExceeded))
}

// A 429 seen by one replica pauses the route in every other.
func TestPauseIsShared(t *testing.T) {
	rdb := redisClient(t)
	p := prefix(t)
	a, err := redislimit.New(rdb, redislimit.WithPrefix(p))
	require.NoError(t, err)
	b, err := redislimit.New(rdb, redislimit.WithPrefix(p))
	require.NoError(t, err)

	a.Pause(context.Background(), doubletick.RouteCreateGroup, time.Now().Add(300*time.Millisecond))
	start := time.Now()
	require.NoError(t, b.Wait(context.Background(), doubletick.RouteCreateGroup))
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "the other replica waited out the pause")

	// Another route is not paused, and a shorter pause does not shorten it.
	a.Pause(context.Background(), doubletick.RouteCreateGroup, time.Now().Add(400*time.Millisecond))
	a.Pause(context.Background(), doubletick.RouteCreateGroup, time.Now().Add(10*time.Millisecond))
	start = time.Now()
	require.NoError(t, b.Wait(context.Background(), doubletick.RouteGetGroup))
	assert.Less(t, time.Since(start), 100*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = b.Wait(ctx, doubletick.RouteCreateGroup)
	assert.ErrorIs(t, err, doubletick.ErrRateLimited, "a pause past the deadline fails at once")
	var rle *doubletick.RateLimitError
	require.ErrorAs(t, err, &rle)
	assert.Greater(t, rle.RetryAfter, 200*time.Millisecond)
}

// A wait for the next token that would pass the deadline fails at once,
// as the SDK's own limiter does.
func TestWaitPastDeadline(t *testing.T) {
	lim, err := redislimit.New(redisClient(t), redislimit.WithPrefix(prefix(t)),
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 1}))
	require.NoError(t, err)
	require.NoError(t, lim.Wait(context.Background(), "GET /x"), "the burst")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, lim.Wait(ctx, "GET /x"), doubletick.ErrRateLimited)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "refused without waiting")
}

func TestFailOpenUsesTheLocalLimiter(t *testing.T) {
	var logs bytes.Buffer
	api := newCounter(t)
	c := client(t, api, deadRedis(t),
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 2}),
		redislimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, get(ctx, c))
	require.NoError(t, get(ctx, c))
	assert.ErrorIs(t, get(ctx, c), doubletick.ErrRateLimited, "the local limiter has the same limit")
	assert.Equal(t, 2, api.count())
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("Redis unreachable")), "one warning per outage: %s", logs.String())
}

func TestFailOpenWithOwnFallback(t *testing.T) {
	api := newCounter(t)
	fallback, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 1}})
	require.NoError(t, err)
	c := client(t, api, deadRedis(t), redislimit.WithFailOpen(fallback))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.NoError(t, get(ctx, c))
	assert.ErrorIs(t, get(ctx, c), doubletick.ErrRateLimited)
}

func TestFailClosedSendsNothing(t *testing.T) {
	api := newCounter(t)
	c := client(t, api, deadRedis(t), redislimit.WithFailClosed())
	for range 3 { // the first finds Redis down, the others skip it
		err := get(context.Background(), c)
		assert.ErrorIs(t, err, redislimit.ErrUnavailable)
	}
	assert.Zero(t, api.count())
}

// Redis that comes back is used again once the retry period has passed.
func TestRedisComesBack(t *testing.T) {
	addr := redisClient(t).Options().Addr
	var up atomic.Bool
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
		if !up.Load() {
			return nil, fmt.Errorf("redis down")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}})
	t.Cleanup(func() { rdb.Close() })
	p := prefix(t)
	lim, err := redislimit.New(rdb, redislimit.WithPrefix(p), redislimit.WithFailClosed(), redislimit.WithRetryRedisAfter(50*time.Millisecond),
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 1}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.ErrorIs(t, lim.Wait(ctx, "GET /x"), redislimit.ErrUnavailable)
	up.Store(true)
	assert.ErrorIs(t, lim.Wait(ctx, "GET /x"), redislimit.ErrUnavailable, "not tried again within the period")
	time.Sleep(60 * time.Millisecond)
	require.NoError(t, lim.Wait(ctx, "GET /x"), "the shared bucket's burst")
	assert.ErrorIs(t, lim.Wait(ctx, "GET /x"), doubletick.ErrRateLimited, "and then its limit")
}

func TestUnlimitedRouteNeedsNoRedis(t *testing.T) {
	lim, err := redislimit.New(deadRedis(t), redislimit.WithFailClosed(),
		redislimit.WithPathRateLimit("GET /free", doubletick.RateLimit{Rate: rate.Inf}))
	require.NoError(t, err)
	assert.NoError(t, lim.Wait(context.Background(), "GET /free"))
}

func TestNewRefusesBadOptions(t *testing.T) {
	rdb := deadRedis(t)
	_, err := redislimit.New(nil)
	assert.Error(t, err)
	for _, opt := range []redislimit.Option{
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: 0, Burst: 1}),
		redislimit.WithPathRateLimit("GET /x", doubletick.RateLimit{Rate: 1, Burst: 0}),
		redislimit.WithFailOpen(nil),
		redislimit.WithTimeout(0),
		redislimit.WithRetryRedisAfter(-time.Second),
		redislimit.WithLogger(nil),
	} {
		_, err := redislimit.New(rdb, opt)
		assert.Error(t, err)
	}
}

// The Redis password never shows in the Limiter's formatting or errors.
func TestPasswordNotPrinted(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: "s3cret-redis-pass", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	lim, err := redislimit.New(rdb, redislimit.WithFailClosed())
	require.NoError(t, err)
	err = lim.Wait(context.Background(), "GET /x")
	require.Error(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, lim), "s3cret", verb)
		assert.NotContains(t, fmt.Sprintf(verb, err), "s3cret", verb)
	}
}

// A caller that gives up while waiting for its slot gives the slot back,
// so the budget is not spent on requests never sent.
func TestCancelledWaitGivesItsSlotBack(t *testing.T) {
	lim, err := redislimit.New(redisClient(t), redislimit.WithPrefix(prefix(t)),
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(400 * time.Millisecond), Burst: 1}))
	require.NoError(t, err)
	require.NoError(t, lim.Wait(context.Background(), "GET /x"), "the burst")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	assert.ErrorIs(t, lim.Wait(ctx, "GET /x"), context.Canceled, "the slot at +400 ms, given up")

	start := time.Now()
	require.NoError(t, lim.Wait(context.Background(), "GET /x"))
	waited := time.Since(start)
	assert.Less(t, waited, 500*time.Millisecond, "took the given-back slot at +400 ms, not the next at +800 ms")
	assert.Greater(t, waited, 250*time.Millisecond, "and still kept the rate")
}

// One budget per organisation and route, shared by the replicas: two
// replicas, each with OrgClients whose organisations have a Limiter of
// their own prefix, grant each organisation its burst of 2 between them,
// and no more; one organisation's spent budget leaves the other's whole.
func TestOrgClientsBudgetPerOrganisationAcrossReplicas(t *testing.T) {
	addr := redisClient(t).Options().Addr
	api := newCounter(t)
	p := prefix(t)
	replica := func() *doubletick.OrgClients {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { rdb.Close() })
		clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) { return "key_of_" + org, nil },
			doubletick.WithClientOptions(doubletick.WithBaseURL(api.srv.URL), doubletick.WithMaxAttempts(1)),
			doubletick.WithOrgClientOptions(func(org string) ([]doubletick.Option, error) {
				lim, err := redislimit.New(rdb, redislimit.WithPrefix(p+org+":"), redislimit.WithFailClosed(),
					redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Every(time.Hour), Burst: 2}))
				if err != nil {
					return nil, err
				}
				return []doubletick.Option{doubletick.WithLimiter(lim)}, nil
			}))
		require.NoError(t, err)
		return clients
	}
	one, two := replica(), replica()
	call := func(clients *doubletick.OrgClients, org string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := clients.Client(ctx, org)
		require.NoError(t, err)
		return get(ctx, c)
	}
	require.NoError(t, call(one, "acme"))
	require.NoError(t, call(two, "acme"))
	require.ErrorIs(t, call(one, "acme"), doubletick.ErrRateLimited, "acme's burst is spent, across both replicas")
	require.ErrorIs(t, call(two, "acme"), doubletick.ErrRateLimited)
	require.NoError(t, call(two, "globex"), "globex's budget is its own")
	require.NoError(t, call(one, "globex"))
	require.ErrorIs(t, call(one, "globex"), doubletick.ErrRateLimited)
	assert.Equal(t, 4, api.count())
}
