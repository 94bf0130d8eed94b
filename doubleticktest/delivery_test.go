package doubleticktest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// collector is a webhook receiver built on webhooks.NewHandler.
type collector struct {
	mu     sync.Mutex
	events []webhooks.Event
	srv    *httptest.Server
}

func newCollector(t *testing.T, v webhooks.Verifier, opts ...webhooks.HandlerOption) *collector {
	c := &collector{}
	opts = append(opts, webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.events = append(c.events, e)
		return nil
	}))
	h, err := webhooks.NewHandler(v, opts...)
	require.NoError(t, err)
	c.srv = httptest.NewServer(h)
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) types() []webhooks.Type {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]webhooks.Type, len(c.events))
	for i, e := range c.events {
		out[i] = e.Type()
	}
	return out
}

func wait(t *testing.T, srv *doubleticktest.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitDeliveries(ctx, n))
}

func TestWebhooksForEveryEvent(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	col := newCollector(t, bearer)

	srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))
	c := srv.Client()
	create(t, srv, c, "g1")
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
	require.NoError(t, srv.SendMessage("g1", "+919876543210", "hello"))
	require.NoError(t, srv.Leave("g1", "+919876543210"))
	require.NoError(t, srv.Join("g1", "+15551230000", "Bo"))
	_, _, err = c.Participants.Remove(context.Background(), "g1", "+15551230000")
	require.NoError(t, err)
	wait(t, srv, 6)

	assert.Equal(t, []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined, webhooks.TypeGroupMessageReceived,
		webhooks.TypeParticipantLeft, webhooks.TypeParticipantJoined, webhooks.TypeParticipantRemoved}, col.types())
	col.mu.Lock()
	defer col.mu.Unlock()
	created := col.events[0].(*webhooks.GroupCreated)
	assert.Equal(t, "g1", created.GroupID)
	assert.Equal(t, "org_doubleticktest", created.OrgID)
	assert.Equal(t, "+919876543210", col.events[1].(*webhooks.ParticipantJoined).Phone.Raw)
	msg := col.events[2].(*webhooks.GroupMessageReceived)
	assert.Equal(t, "hello", msg.Message.Text)
	assert.Equal(t, "919876543210", msg.From.Raw, "message senders have no +")
	for _, d := range srv.Deliveries() {
		assert.True(t, d.OK)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, 200, d.Status)
	}
}

func TestWebhookRegistrationOptions(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	standard, err := webhooks.NewStandardVerifier([]string{secret})
	require.NoError(t, err)
	hmacV, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Base64, []byte("proxy-signing-key"))
	require.NoError(t, err)
	basic, err := webhooks.NewBasicVerifier("crm:password")
	require.NoError(t, err)
	header, err := webhooks.NewHeaderVerifier("X-Hook", "hook-header-value")
	require.NoError(t, err)
	query, err := webhooks.NewQueryVerifier("token", "query-token")
	require.NoError(t, err)

	cases := map[string]struct {
		v webhooks.Verifier
		r doubleticktest.Receiver
	}{
		"basic, legacy format, form data": {basic, doubleticktest.Receiver{Authorization: &doubleticktest.Authorization{Type: "BASIC", Payload: "crm:password"},
			Format: doubleticktest.FormatLegacy, BodyFormat: doubleticktest.BodyFormData}},
		"custom header, PUT":  {header, doubleticktest.Receiver{Headers: map[string]string{"X-Hook": "hook-header-value"}, Method: http.MethodPut}},
		"query":               {query, doubleticktest.Receiver{Query: map[string]string{"token": "query-token"}}},
		"hmac proxy":          {hmacV, doubleticktest.Receiver{HMACHeader: "X-Signature", HMACSecret: []byte("proxy-signing-key"), HMACEncoding: webhooks.Base64}},
		"standard webhooks":   {standard, doubleticktest.Receiver{StandardSecret: secret, BodyFormat: doubleticktest.BodyFormData}},
		"legacy format, JSON": {query, doubleticktest.Receiver{Query: map[string]string{"token": "query-token"}, Format: doubleticktest.FormatLegacy}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			format := tc.r.BodyFormat
			if format == "" {
				format = doubleticktest.BodyJSON
			}
			col := newCollector(t, tc.v, webhooks.WithMethods("POST", "PUT"), webhooks.WithBodyFormat(format))
			srv := doubleticktest.NewServer()
			defer srv.Close()
			tc.r.URL = col.srv.URL + "/hooks"
			require.NoError(t, srv.AddReceiver(tc.r))
			create(t, srv, srv.Client(), "g1")
			require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
			wait(t, srv, 2)
			for _, d := range srv.Deliveries() {
				assert.True(t, d.OK, "%s: status %d", d.Event, d.Status)
			}
			require.ElementsMatch(t, []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined}, col.types())
			col.mu.Lock()
			defer col.mu.Unlock()
			for _, e := range col.events {
				if j, ok := e.(*webhooks.ParticipantJoined); ok {
					assert.Equal(t, "+919876543210", j.Phone.E164)
					if tc.r.Format == doubleticktest.FormatLegacy {
						assert.Equal(t, "919876543210", j.Phone.Raw, "the legacy format has no +")
						assert.Empty(t, j.OrgID)
					}
				}
			}
		})
	}
	srv := doubleticktest.NewServer()
	defer srv.Close()
	assert.Error(t, srv.AddReceiver(doubleticktest.Receiver{URL: "/relative"}))
	assert.Error(t, srv.AddReceiver(doubleticktest.Receiver{URL: "http://127.0.0.1", Authorization: &doubleticktest.Authorization{Type: "DIGEST"}}))
}

func TestWebhookRetriesAreBounded(t *testing.T) {
	var hits atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer flaky.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer down.Close()

	srv := doubleticktest.NewServer(doubleticktest.WithWebhookRetries(4, 5*time.Millisecond))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: flaky.URL}))
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: down.URL}))
	create(t, srv, srv.Client(), "g1")
	wait(t, srv, 2)
	for _, d := range srv.Deliveries() {
		switch d.Receiver {
		case flaky.URL:
			assert.True(t, d.OK)
			assert.Equal(t, 3, d.Attempts)
		case down.URL:
			assert.False(t, d.OK)
			assert.Equal(t, 4, d.Attempts, "gives up after the bound")
			assert.Equal(t, 500, d.Status)
		}
	}
}

// By default the fake sends a webhook once, as DoubleTick documents no retry
// of a delivery answered with an error: a receiver that answers 500 loses it.
func TestAWebhookAnswered500IsNotSentAgainByDefault(t *testing.T) {
	var hits atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer down.Close()
	srv := doubleticktest.NewServer()
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: down.URL}))
	create(t, srv, srv.Client(), "g1")
	wait(t, srv, 1)
	d := srv.Deliveries()[0]
	assert.False(t, d.OK)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, int32(1), hits.Load())
}

// A receiver that redirects to another host gets the delivery there
// without its credentials (authorization, custom headers); one on the same
// host keeps them.
func TestRedirectToAnotherHostDropsCredentials(t *testing.T) {
	type seen struct{ auth, token string }
	got := make(chan seen, 4)
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("Authorization"), r.Header.Get("X-Token")}
	})
	other := httptest.NewServer(record)
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/final", record)
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/cross", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/final", http.StatusTemporaryRedirect)
	})
	first := httptest.NewServer(mux)
	defer first.Close()

	for path, want := range map[string]seen{
		"/same":  {"Bearer bearer-secret-1", "custom-secret-1"},
		"/cross": {},
	} {
		srv := doubleticktest.NewServer()
		require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: first.URL + path, Headers: map[string]string{"X-Token": "custom-secret-1"},
			Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "bearer-secret-1"}}))
		create(t, srv, srv.Client(), "g1")
		wait(t, srv, 1)
		srv.Close()
		assert.Equal(t, want, <-got, path)
	}
}

func TestWebhooksOutOfOrderAndDuplicated(t *testing.T) {
	bearer, _ := webhooks.NewBearerVerifier("hook-token")
	dedup, _ := webhooks.NewMemoryDeduplicator(time.Hour, 100)
	col := newCollector(t, bearer, webhooks.WithDeduplicator(dedup))
	srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))

	srv.Hold()
	create(t, srv, srv.Client(), "g1")
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
	require.NoError(t, srv.Leave("g1", "+919876543210"))
	assert.Empty(t, srv.Deliveries(), "held")
	srv.DuplicateWebhooks(true)
	require.NoError(t, srv.Join("g1", "+15551230000", "Bo")) // held too, twice
	srv.Release(true)
	wait(t, srv, 5)
	assert.Equal(t, []webhooks.Type{webhooks.TypeParticipantJoined, webhooks.TypeParticipantLeft, webhooks.TypeParticipantJoined, webhooks.TypeGroupCreated},
		col.types(), "reversed, and the duplicate handled once")
	assert.Len(t, srv.Deliveries(), 5, "the duplicate was delivered")
}

func TestFaultFailNext(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	srv.FailNext(2, http.StatusBadGateway)
	for range 2 {
		_, _, err := c.Groups.Get(context.Background(), "x")
		assert.ErrorIs(t, err, doubletick.ErrServerError)
	}
	_, _, err = c.Groups.Get(context.Background(), "x")
	assert.ErrorIs(t, err, doubletick.ErrNotFound, "back to normal")

	// The SDK retries an injected 429 by itself, after its Retry-After.
	srv.FailNext(1, http.StatusTooManyRequests)
	retrying, err := srv.NewClient(doubletick.WithMaxAttempts(2))
	require.NoError(t, err)
	start := time.Now()
	_, resp, err := retrying.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "s"})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

func TestFaultDropAndLatency(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithMaxAttempts(1))
	require.NoError(t, err)

	srv.DropNext(1)
	_, _, err = c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "s", GroupID: "dropped"})
	require.Error(t, err)
	var apiErr *doubletick.APIError
	assert.False(t, errors.As(err, &apiErr), "no answer at all: a transport error")
	assert.Empty(t, srv.Groups(), "the fake dropped it before handling it")

	srv.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = c.Groups.Get(ctx, "x")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	srv.SetLatency(0)
	_, _, err = c.Groups.Get(context.Background(), "x")
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
}

func TestFakeRateLimitsPerPath(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithServerRateLimit(doubletick.RouteGetGroup, 2, time.Minute))
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	ctx := context.Background()
	create(t, srv, c, "g1")
	for range 2 {
		_, _, err := c.Groups.Get(ctx, "g1")
		require.NoError(t, err)
	}
	_, _, err = c.Groups.Get(ctx, "g1")
	var rl *doubletick.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.InDelta(t, time.Minute.Seconds(), rl.RetryAfter.Seconds(), 2)
	_, err = c.Groups.Delete(ctx, "g1")
	assert.NoError(t, err, "another path has its own limit")
}

func TestFakeDuplicateGroupIDStatusIsConfigurable(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithDuplicateGroupIDStatus(http.StatusBadRequest))
	defer srv.Close()
	c := srv.Client()
	create(t, srv, c, "same")
	_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "s", GroupID: "same"})
	assert.ErrorIs(t, err, doubletick.ErrBadRequest)
}
