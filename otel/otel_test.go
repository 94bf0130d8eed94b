package otel_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// rig is the adapter with in-memory exporters.
type rig struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tel    *dtotel.Telemetry
}

func newRig(t *testing.T, opts ...dtotel.Option) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	tel, err := dtotel.New(append([]dtotel.Option{dtotel.WithTracerProvider(tp), dtotel.WithMeterProvider(mp)}, opts...)...)
	require.NoError(t, err)
	r.tel = tel
	return r
}

// metrics returns the data points of each metric, by name.
func (r *rig) metrics(t *testing.T) map[string][]attribute.Set {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	out := map[string][]attribute.Set{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], p.Attributes)
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], p.Attributes)
				}
			}
		}
	}
	return out
}

func value(s attribute.Set, k attribute.Key) string {
	v, _ := s.Value(k)
	return v.String()
}

func TestACallIsASpanWithItsAttemptsAndMetrics(t *testing.T) {
	r := newRig(t)
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithCallObserver(r.tel.CallObserver()),
		doubletick.WithBackoff(func(int) time.Duration { return time.Millisecond }))
	require.NoError(t, err)
	ctx := context.Background()
	srv.FailNext(1, http.StatusTooManyRequests) // Retry-After: 1
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "vip-secret-1"})
	require.NoError(t, err)

	spans := r.spans.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "POST /whatsapp/wa-group/create", s.Name())
	attrs := attribute.NewSet(s.Attributes()...)
	assert.Equal(t, "POST", value(attrs, "http.request.method"))
	assert.Equal(t, "/whatsapp/wa-group/create", value(attrs, "url.template"))
	assert.Equal(t, "200", value(attrs, "http.response.status_code"))
	var events []string
	for _, e := range s.Events() {
		events = append(events, e.Name)
	}
	assert.Equal(t, []string{"attempt", "rate_limited", "attempt"}, events, "the 429 and the retry after its Retry-After")
	assert.Equal(t, codes.Unset, s.Status().Code)

	m := r.metrics(t)
	require.Len(t, m["http.client.request.duration"], 2, "one series per status")
	require.Len(t, m["doubletick.client.call.duration"], 1)
	assert.Equal(t, "2xx", value(m["doubletick.client.call.duration"][0], "http.response.status_class"))
	require.Len(t, m["doubletick.client.rate_limited"], 1)
	require.Len(t, m["doubletick.client.retries"], 1)
	assert.Empty(t, m["doubletick.client.limiter.wait"], "no call waited for the limiter")
	assertNothingPersonal(t, r, "vip-secret-1", "911111111111", doubleticktest.APIKey)
}

// TestLimiterWaitsAreThoseThatHeldACall: a call the limiter held is
// measured and marked on its span; one that found a token at hand is not.
func TestLimiterWaitsAreThoseThatHeldACall(t *testing.T) {
	r := newRig(t)
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithRateLimit(doubletick.RateLimit{Rate: 2, Burst: 1}), doubletick.WithCallObserver(r.tel.CallObserver()))
	require.NoError(t, err)
	for i := range 2 { // the second waits about 500 ms for its token, unless the first took as long
		_, _, err = c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "G", GroupID: fmt.Sprint("g-", i)})
		require.NoError(t, err)
	}
	var waits uint64
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "doubletick.client.limiter.wait" {
				for _, p := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					waits += p.Count
					lowest, ok := p.Min.Value()
					assert.True(t, ok && lowest >= 0.001, "a wait of %vs", lowest)
				}
			}
		}
	}
	assert.Equal(t, uint64(1), waits, "one call was held")
	spans := r.spans.Ended()
	require.Len(t, spans, 2)
	assert.Empty(t, spans[0].Events())
	require.Len(t, spans[1].Events(), 1)
	assert.Equal(t, "limiter.wait", spans[1].Events()[0].Name)
}

func TestAFailedCallIsAnErrorSpan(t *testing.T) {
	r := newRig(t)
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithCallObserver(r.tel.CallObserver()))
	require.NoError(t, err)
	_, _, err = c.Groups.Get(context.Background(), "no-such-group")
	require.Error(t, err)
	s := r.spans.Ended()[0]
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, "404", value(attribute.NewSet(s.Attributes()...), "error.type"))
}

// TestThousandGroupsMakeOneSeries: attributes never carry a group, so a
// thousand groups make the series one group makes.
func TestThousandGroupsMakeOneSeries(t *testing.T) {
	r := newRig(t)
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithCallObserver(r.tel.CallObserver()))
	require.NoError(t, err)
	v, err := webhooks.NewBearerVerifier("otel-token-123")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, webhooks.WithObserver(r.tel.WebhookObserver()), webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }))
	require.NoError(t, err)
	ctx := context.Background()
	series := func() map[string]int {
		out := map[string]int{}
		for name, sets := range r.metrics(t) {
			out[name] = len(sets)
		}
		return out
	}
	run := func(i int) {
		id := fmt.Sprintf("group-%04d", i)
		_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "G", GroupID: id})
		require.NoError(t, err)
		_, _, err = c.Groups.Get(ctx, id)
		require.NoError(t, err)
		body := fmt.Sprintf(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":%q,"groupName":"G",`+
			`"customerPhone":"+9198765%05d","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`, id, i)
		req, err := webhookstest.NewRequest("http://127.0.0.1/hooks", []byte(body), webhookstest.Bearer("otel-token-123"))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, 200, rec.Code)
	}
	run(0)
	one := series()
	for i := 1; i < 1000; i++ {
		run(i)
	}
	// The bound is the series of one group, but for the limiter's waits:
	// those are recorded when the wait held a call 1 ms or more, which a
	// wait for no limiter does whenever a loaded machine deschedules the
	// call between the two clock reads (reproduced with 6 busy loops on 2
	// cores: 3 runs in 15 failed an exact comparison). They may appear, one
	// series per route at most (Create and Get).
	bound := maps.Clone(one)
	bound["doubletick.client.limiter.wait"] = 2
	for name, n := range series() {
		assert.LessOrEqual(t, n, bound[name], "1,000 groups: no more %s series than one group makes", name)
	}
	assert.NotEmpty(t, one["doubletick.webhook.deliveries"])
}

func TestAWebhookIsASpanWithItsVerdict(t *testing.T) {
	r := newRig(t)
	v, err := webhooks.NewBearerVerifier("otel-token-123")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, webhooks.WithObserver(r.tel.WebhookObserver()))
	require.NoError(t, err)
	body := []byte(`{"event":"GROUP_PARTICIPANT_LEFT","orgId":"o","integrationId":"i","groupId":"grp-secret","groupName":"G",` +
		`"customerPhone":"+919876543210","participantLeftAt":"2026-01-15T10:00:00.000Z"}`)
	for _, token := range []string{"otel-token-123", "wrong-token-123"} {
		req, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.Bearer(token))
		require.NoError(t, err)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	spans := r.spans.Ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "GROUP_PARTICIPANT_LEFT", value(attribute.NewSet(spans[0].Attributes()...), "doubletick.webhook.event_type"))
	assert.Equal(t, "unauthorized", value(attribute.NewSet(spans[1].Attributes()...), "doubletick.webhook.reason"))
	assert.Equal(t, "200", value(attribute.NewSet(spans[0].Attributes()...), "http.response.status_code"))
	assert.Equal(t, "401", value(attribute.NewSet(spans[1].Attributes()...), "http.response.status_code"))
	reasons := map[string]bool{}
	for _, s := range r.metrics(t)["doubletick.webhook.deliveries"] {
		reasons[value(s, "doubletick.webhook.verdict")+"/"+value(s, "doubletick.webhook.reason")] = true
	}
	assert.Equal(t, map[string]bool{"handled/": true, "refused/unauthorized": true}, reasons)
	assertNothingPersonal(t, r, "grp-secret", "9876543210", "otel-token-123")
}

// TestAWebhookUnderAServerSpanAnnotatesIt: an app that traces its HTTP
// server (otelhttp) gets one span per delivery, its own, with the
// delivery's attributes; the adapter neither starts a second nor ends it.
func TestAWebhookUnderAServerSpanAnnotatesIt(t *testing.T) {
	r := newRig(t)
	v, err := webhooks.NewBearerVerifier("otel-token-123")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, webhooks.WithObserver(r.tel.WebhookObserver()))
	require.NoError(t, err)
	var endedBeforeServer atomic.Int32
	server := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { // what otelhttp.NewHandler does
		ctx, span := r.tel.Tracer().Start(req.Context(), "POST /hooks", trace.WithSpanKind(trace.SpanKindServer))
		h.ServeHTTP(w, req.WithContext(ctx))
		endedBeforeServer.Store(int32(len(r.spans.Ended())))
		span.End()
	})
	body := []byte(`{"event":"GROUP_PARTICIPANT_LEFT","orgId":"o","integrationId":"i","groupId":"grp-secret","groupName":"G",` +
		`"customerPhone":"+919876543210","participantLeftAt":"2026-01-15T10:00:00.000Z"}`)
	req, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.Bearer("otel-token-123"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	server.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)

	assert.Zero(t, endedBeforeServer.Load(), "the adapter ends no span of its own, nor the server's")
	spans := r.spans.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "POST /hooks", spans[0].Name())
	attrs := attribute.NewSet(spans[0].Attributes()...)
	assert.Equal(t, "GROUP_PARTICIPANT_LEFT", value(attrs, "doubletick.webhook.event_type"))
	assert.Equal(t, "handled", value(attrs, "doubletick.webhook.verdict"))
	assert.False(t, attrs.HasValue("http.response.status_code"), "the server's instrumentation gives its span the status")
	require.Len(t, r.metrics(t)["doubletick.webhook.deliveries"], 1)
}

func TestTransportSendsTraceContextOnlyWhenAsked(t *testing.T) {
	r := newRig(t, dtotel.WithPropagator(propagation.TraceContext{}))
	var withParent, without atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Traceparent") != "" {
			withParent.Add(1)
		} else {
			without.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"groupId":"g","groupName":"G","totalParticipantCount":0}`)
	}))
	defer api.Close()
	plain, err := doubletick.NewClient("key_otel_test_123", doubletick.WithBaseURL(api.URL), doubletick.WithCallObserver(r.tel.CallObserver()))
	require.NoError(t, err)
	_, _, err = plain.Groups.Get(context.Background(), "g")
	require.NoError(t, err)
	traced, err := doubletick.NewClient("key_otel_test_123", doubletick.WithBaseURL(api.URL), doubletick.WithCallObserver(r.tel.CallObserver()),
		doubletick.WithHTTPClient(&http.Client{Transport: r.tel.Transport(nil)}))
	require.NoError(t, err)
	_, _, err = traced.Groups.Get(context.Background(), "g")
	require.NoError(t, err)
	assert.Equal(t, int32(1), without.Load(), "not sent unless asked")
	assert.Equal(t, int32(1), withParent.Load(), "sent through Transport")
}

// assertNothingPersonal checks that none of secrets is in a span name, a
// span or event attribute, or a metric attribute.
func assertNothingPersonal(t *testing.T, r *rig, secrets ...string) {
	t.Helper()
	var b strings.Builder
	for _, s := range r.spans.Ended() {
		fmt.Fprintln(&b, s.Name(), s.Attributes())
		for _, e := range s.Events() {
			fmt.Fprintln(&b, e.Name, e.Attributes)
		}
	}
	for name, sets := range r.metrics(t) {
		for _, set := range sets {
			fmt.Fprintln(&b, name, set.Encoded(attribute.DefaultEncoder()))
		}
	}
	for _, s := range secrets {
		assert.NotContains(t, b.String(), s)
	}
}

// deliverToOrgs sends one GROUP_CREATED to each of n organisations through
// a Handler of many observed by r, and one with a wrong credential to the
// first.
func deliverToOrgs(t *testing.T, r *rig, n int) {
	t.Helper()
	var orgs webhooks.Orgs
	for i := range n {
		v, err := webhooks.NewBearerVerifier(fmt.Sprintf("token-of-org-%03d", i))
		require.NoError(t, err)
		require.NoError(t, orgs.Set(webhooks.Org{ID: fmt.Sprintf("org-%03d", i), Verifier: v}))
	}
	h, err := webhooks.NewOrgHandler(&orgs, webhooks.WithObserver(r.tel.WebhookObserver()),
		webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", h)
	body := []byte(`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":"grp-secret","groupName":"G","inviteLink":null,"groupCreatedAt":"2026-01-15T10:00:00.000Z"}`)
	for i := range n {
		req, err := webhookstest.NewRequest(fmt.Sprintf("http://127.0.0.1/hooks/org-%03d", i), body, webhookstest.Bearer(fmt.Sprintf("token-of-org-%03d", i)))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		require.Equal(t, 200, rec.Code)
	}
	req, err := webhookstest.NewRequest("http://127.0.0.1/hooks/org-000", body, webhookstest.Bearer("token-of-org-001"))
	require.NoError(t, err)
	mux.ServeHTTP(httptest.NewRecorder(), req)
}

func TestTheOrganisationIsAnAttributeOnlyWhenAskedAndBounded(t *testing.T) {
	r := newRig(t)
	deliverToOrgs(t, r, 20)
	for name, sets := range r.metrics(t) {
		for _, s := range sets {
			_, has := s.Value(dtotel.OrgKey)
			assert.False(t, has, "%s: no organisation unless asked", name)
		}
	}

	r = newRig(t, dtotel.WithOrgAttribute(5))
	deliverToOrgs(t, r, 20)
	orgs := map[string]bool{}
	m := r.metrics(t)
	for _, s := range append(m["doubletick.webhook.deliveries"], m["doubletick.webhook.callback.duration"]...) {
		orgs[value(s, dtotel.OrgKey)] = true
	}
	assert.Equal(t, map[string]bool{"org-000": true, "org-001": true, "org-002": true, "org-003": true, "org-004": true, dtotel.OtherOrgs: true}, orgs,
		"20 organisations: the first 5 by name, the rest together")
	refused := false
	for _, s := range m["doubletick.webhook.deliveries"] {
		if value(s, "doubletick.webhook.reason") == "unauthorized" {
			refused = true
			assert.Equal(t, "org-000", value(s, dtotel.OrgKey), "a refusal names the organisation addressed")
		}
	}
	assert.True(t, refused)
	assert.Len(t, m["doubletick.webhook.deliveries"], 7, "6 organisation values handled, 1 refused")
	assertNothingPersonal(t, r, "grp-secret", "token-of-org")

	_, err := dtotel.New(dtotel.WithOrgAttribute(-1))
	require.Error(t, err)
}
