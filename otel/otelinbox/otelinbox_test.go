package otelinbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/doubletick-go/doubletick/inbox"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/otel/otelinbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// observer returns the inbox observer of a Telemetry made with opts, whose
// spans and metrics go to the recorder and reader returned.
func observer(t *testing.T, opts ...dtotel.Option) (inbox.Observer, *tracetest.SpanRecorder, *sdkmetric.ManualReader) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel, err := dtotel.New(append([]dtotel.Option{dtotel.WithTracerProvider(tp), dtotel.WithMeterProvider(mp)}, opts...)...)
	require.NoError(t, err)
	obs, err := otelinbox.Observer(tel)
	require.NoError(t, err)
	return obs, spans, reader
}

func TestARunIsLinkedToItsReceipt(t *testing.T) {
	obs, spans, reader := observer(t)

	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	v, err := webhooks.NewBearerVerifier("otelinbox-token")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }))
	require.NoError(t, err)
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithObserver(obs))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		assert.NoError(t, in.Stop(stop))
	}()

	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i",`+
		`"groupId":"grp-secret","groupName":"G","customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`),
		webhookstest.Bearer("otelinbox-token"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, r)
	require.Equal(t, 200, rec.Code)
	require.Eventually(t, func() bool { return len(spans.Ended()) == 2 }, 20*time.Second, 5*time.Millisecond)

	receipt, run := spans.Ended()[0], spans.Ended()[1]
	assert.Equal(t, "doubletick webhook receipt", receipt.Name())
	assert.Equal(t, "doubletick webhook run", run.Name())
	require.Len(t, run.Links(), 1)
	assert.Equal(t, receipt.SpanContext().TraceID(), run.Links()[0].SpanContext.TraceID(), "the run links to its receipt")
	assert.Equal(t, receipt.SpanContext().SpanID(), run.Links()[0].SpanContext.SpanID())

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	names := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			names[m.Name] = true
		}
	}
	assert.True(t, names["doubletick.inbox.ack.duration"])
	assert.True(t, names["doubletick.inbox.delivery.duration"])
	for _, s := range spans.Ended() {
		for _, a := range s.Attributes() {
			assert.NotContains(t, a.Value.String(), "grp-secret")
			assert.NotContains(t, a.Value.String(), "919876543210")
		}
	}
}

// stats is an inbox's counts, fixed.
type stats struct {
	st    inbox.Stats
	reads int
}

func (s *stats) Stats(context.Context) (inbox.Stats, error) { s.reads++; return s.st, nil }

func TestObserveStatsReportsCountsOnCollection(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tel, err := dtotel.New(dtotel.WithMeterProvider(mp))
	require.NoError(t, err)
	in := &stats{st: inbox.Stats{Waiting: 3, Running: 1, Dead: 2, OldestWaiting: 1500 * time.Millisecond, StoredBytes: 4096}}
	require.NoError(t, otelinbox.ObserveStats(tel, in))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					state, _ := p.Attributes.Value(otelinbox.StateKey)
					got[m.Name+"/"+state.AsString()] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					got[m.Name] = p.Value
				}
			}
		}
	}
	assert.Equal(t, map[string]float64{
		"doubletick.inbox.deliveries/waiting": 3, "doubletick.inbox.deliveries/running": 1,
		"doubletick.inbox.deliveries/retrying": 0, "doubletick.inbox.deliveries/dead": 2,
		"doubletick.inbox.oldest_waiting": 1.5, "doubletick.inbox.stored/": 4096,
	}, got)
	assert.Equal(t, 1, in.reads, "one read per collection")
}

func TestTheOrganisationIsAnAttributeWhenAsked(t *testing.T) {
	obs, spans, reader := observer(t, dtotel.WithOrgAttribute(10))
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	defer db.Close()
	v, err := webhooks.NewBearerVerifier("acme-token-123")
	require.NoError(t, err)
	var orgs webhooks.Orgs
	require.NoError(t, orgs.Set(webhooks.Org{ID: "acme", Verifier: v}))
	h, err := webhooks.NewOrgHandler(&orgs, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }))
	require.NoError(t, err)
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithObserver(obs))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	defer func() { assert.NoError(t, in.Stop(ctx)) }()
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", in)
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/acme", []byte(`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i",`+
		`"groupId":"grp-secret","groupName":"G","inviteLink":null,"groupCreatedAt":"2026-01-15T10:00:00.000Z"}`), webhookstest.Bearer("acme-token-123"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	require.Equal(t, 200, rec.Code)
	require.Eventually(t, func() bool { return len(spans.Ended()) == 2 }, 20*time.Second, 5*time.Millisecond)
	for _, s := range spans.Ended() {
		assert.Contains(t, s.Attributes(), dtotel.OrgKey.String("acme"), s.Name())
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	seen := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && (m.Name == "doubletick.inbox.ack.duration" || m.Name == "doubletick.inbox.delivery.duration") {
				for _, p := range h.DataPoints {
					v, _ := p.Attributes.Value(dtotel.OrgKey)
					assert.Equal(t, "acme", v.AsString(), m.Name)
					seen++
				}
			}
		}
	}
	assert.Equal(t, 2, seen)
}
