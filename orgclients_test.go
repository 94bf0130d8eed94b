package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// orgKey is organisation org's API key in these tests.
func orgKey(org string) string { return "key_of_" + org + "_0123456789" }

// orgServer is an API that answers 200 to every key, and 429 (Retry-After
// 30 s) to the keys limited says; it counts requests per key and the
// connections opened.
type orgServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]int
	limited  map[string]bool
	conns    atomic.Int64
}

func newOrgServer(t testing.TB) *orgServer {
	s := &orgServer{requests: map[string]int{}, limited: map[string]bool{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		s.requests[key]++
		limited := s.limited[key]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if limited {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Too many requests"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *orgServer) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// ping makes one call through c.
func ping(ctx context.Context, c *doubletick.Client) error {
	_, err := c.Do(ctx, http.MethodGet, "/ping", nil, nil, nil)
	return err
}

func TestOrgClientsOneClientPerOrganisation(t *testing.T) {
	srv := newOrgServer(t)
	var keyCalls sync.Map // org → *atomic.Int32
	clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) {
		n, _ := keyCalls.LoadOrStore(org, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return orgKey(org), nil
	}, doubletick.WithClientOptions(doubletick.WithBaseURL(srv.URL), doubletick.WithMaxAttempts(1)))
	require.NoError(t, err)

	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 100 {
		org := fmt.Sprintf("org-%03d", i)
		for range 5 { // five first calls at once for each organisation
			wg.Go(func() {
				c, err := clients.Client(ctx, org)
				if assert.NoError(t, err) {
					assert.NoError(t, ping(ctx, c))
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, 100, clients.Len())
	for i := range 100 {
		org := fmt.Sprintf("org-%03d", i)
		n, _ := keyCalls.Load(org)
		assert.Equal(t, int32(1), n.(*atomic.Int32).Load(), "%s: its key fetched once", org)
		assert.Equal(t, 5, srv.count(orgKey(org)), "%s: each call sent its own organisation's key", org)
	}
	// One organisation after another, each call reuses a connection
	// another organisation's call opened: one transport serves them all.
	opened := srv.conns.Load()
	for i := range 100 {
		c, err := clients.Client(ctx, fmt.Sprintf("org-%03d", i))
		require.NoError(t, err)
		require.NoError(t, ping(ctx, c))
	}
	assert.Equal(t, opened, srv.conns.Load(), "100 organisations' calls opened no connection")
	a, err := clients.Client(ctx, "org-001")
	require.NoError(t, err)
	b, err := clients.Client(ctx, "org-001")
	require.NoError(t, err)
	assert.Same(t, a, b)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", clients, clients, a), orgKey("org-001"), "no key in any fmt verb")
}

func TestOrgClientsA429PausesOnlyThatOrganisation(t *testing.T) {
	srv := newOrgServer(t)
	clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) { return orgKey(org), nil },
		doubletick.WithClientOptions(doubletick.WithBaseURL(srv.URL), doubletick.WithMaxAttempts(1)))
	require.NoError(t, err)
	ctx := context.Background()
	a, err := clients.Client(ctx, "org-000")
	require.NoError(t, err)

	srv.mu.Lock()
	srv.limited[orgKey("org-000")] = true
	srv.mu.Unlock()
	require.ErrorIs(t, ping(ctx, a), doubletick.ErrRateLimited)

	// A's route is paused for 30 s: a call that cannot wait that long is
	// refused at once, without a request. The 99 others' calls, on the
	// same route, are sent at once.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.ErrorIs(t, ping(short, a), doubletick.ErrRateLimited)
	assert.Equal(t, 1, srv.count(orgKey("org-000")), "A's paused call sent nothing")
	for i := 1; i < 100; i++ {
		org := fmt.Sprintf("org-%03d", i)
		c, err := clients.Client(short, org)
		require.NoError(t, err)
		for range 3 {
			require.NoError(t, ping(short, c), org)
		}
		assert.Equal(t, 3, srv.count(orgKey(org)))
	}
}

func TestOrgClientsErrorsAndForget(t *testing.T) {
	srv := newOrgServer(t)
	down := errors.New("vault sealed")
	var fail atomic.Bool
	var calls atomic.Int32
	var perOrg []string
	clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) {
		calls.Add(1)
		if fail.Load() {
			return "", down
		}
		return orgKey(org), nil
	}, doubletick.WithClientOptions(doubletick.WithBaseURL(srv.URL)),
		doubletick.WithOrgClientOptions(func(org string) ([]doubletick.Option, error) {
			perOrg = append(perOrg, org)
			if org == "bad" {
				return nil, errors.New("no limiter for bad")
			}
			return []doubletick.Option{doubletick.WithUserAgent("connector/" + org)}, nil
		}))
	require.NoError(t, err)
	ctx := context.Background()

	fail.Store(true)
	_, err = clients.Client(ctx, "acme")
	require.ErrorIs(t, err, down)
	assert.Contains(t, err.Error(), `organisation "acme"`)
	assert.Equal(t, 0, clients.Len(), "a failure is not remembered")
	fail.Store(false)
	first, err := clients.Client(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, int32(2), calls.Load())

	clients.Forget("acme") // the key was rotated
	second, err := clients.Client(ctx, "acme")
	require.NoError(t, err)
	assert.NotSame(t, first, second)
	assert.Equal(t, int32(3), calls.Load())

	_, err = clients.Client(ctx, "bad")
	require.ErrorContains(t, err, "no limiter for bad")
	assert.Equal(t, []string{"acme", "acme", "bad"}, perOrg)
	_, err = clients.Client(ctx, "")
	require.Error(t, err)

	_, err = doubletick.NewOrgClients(nil)
	require.Error(t, err)
	lim, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.DefaultRateLimit()})
	require.NoError(t, err)
	_, err = doubletick.NewOrgClients(func(context.Context, string) (string, error) { return "k", nil },
		doubletick.WithClientOptions(doubletick.WithLimiter(lim)))
	require.ErrorContains(t, err, "one rate budget among every organisation")
}

func TestOrgClientsFirstCallWaitsForTheKeyOrItsContext(t *testing.T) {
	release := make(chan struct{})
	clients, err := doubletick.NewOrgClients(func(ctx context.Context, org string) (string, error) {
		<-release
		return orgKey(org), nil
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := clients.Client(context.Background(), "slow")
		done <- err
	}()
	for clients.Len() == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = clients.Client(ctx, "slow")
	require.ErrorIs(t, err, context.Canceled, "a second caller stops waiting when its context ends")
	close(release)
	require.NoError(t, <-done)
}

// BenchmarkOrgClients measures what 10,000 organisations cost: the heap
// their Clients hold, and the first call of each (its Client made, its key
// fetched, one request) beside the same calls through one Client made
// beforehand, against the same loopback server in the same run.
//
//	go test -run '^$' -bench OrgClients -benchtime 3x ./
func BenchmarkOrgClients(b *testing.B) {
	const orgs = 10_000
	srv := newOrgServer(b)
	ctx := context.Background()
	warm, err := doubletick.NewClient(orgKey("warm"), doubletick.WithBaseURL(srv.URL), doubletick.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	var heapPerOrg, firstCall, warmCall float64
	for b.Loop() {
		start := time.Now()
		for range orgs {
			if err := ping(ctx, warm); err != nil {
				b.Fatal(err)
			}
		}
		warmCall += float64(time.Since(start).Nanoseconds()) / orgs

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) { return orgKey(org), nil },
			doubletick.WithClientOptions(doubletick.WithBaseURL(srv.URL)))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		for i := range orgs {
			c, err := clients.Client(ctx, fmt.Sprintf("org-%05d", i))
			if err != nil {
				b.Fatal(err)
			}
			if err := ping(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		firstCall += float64(time.Since(start).Nanoseconds()) / orgs
		runtime.GC()
		runtime.ReadMemStats(&after)
		heapPerOrg += float64(after.HeapAlloc-before.HeapAlloc) / orgs
		runtime.KeepAlive(clients)
	}
	n := float64(b.N)
	b.ReportMetric(heapPerOrg/n, "heap-B/org")
	b.ReportMetric(firstCall/n/1000, "µs/first-call")
	b.ReportMetric(warmCall/n/1000, "µs/warm-call")
	b.ReportMetric(firstCall/warmCall, "first/warm")
	b.ReportMetric(0, "ns/op")
}
