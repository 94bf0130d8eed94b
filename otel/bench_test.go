package otel_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/doubletick-go/doubletick"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/webhooks"
)

// The adapter's overhead, each benchmark's sub-benchmarks side by side in
// one run (run it several times, -count 1 each, to interleave them):
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench 'Overhead' -benchmem -count 1 .; done
//
// The adapter records into the OpenTelemetry SDK with a manual metric
// reader, every call traced ("+otel", the SDK's default for a root span) or
// 1 in 100 ("+otel-1%", a usual production sampler): the work a real export
// setup does at record time.

// benchTracing is the adapter on real SDK providers; sampler decides
// which calls are traced (metrics are always recorded).
func benchTracing(b *testing.B, sampler sdktrace.Sampler) *dtotel.Tracing {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	tel, err := dtotel.New(dtotel.WithTracerProvider(tp), dtotel.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	return tel
}

func BenchmarkOverheadCreate(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success":true,"groupId":"new_support_2026","wabaNumber":"911111111111"}`)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	req := &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "New Support – Jan 2026", GroupID: "new_support_2026"}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts []doubletick.Option
	}{
		{"sdk", nil},
		{"sdk+otel", []doubletick.Option{doubletick.WithCallObserver(benchTracing(b, sdktrace.AlwaysSample()).CallObserver())}},
		{"sdk+otel-1%", []doubletick.Option{doubletick.WithCallObserver(benchTracing(b, sdktrace.TraceIDRatioBased(0.01)).CallObserver())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := doubletick.NewClient("key_bench_123456", append([]doubletick.Option{doubletick.WithBaseURL(srv.URL),
				doubletick.WithHTTPClient(hc), doubletick.WithoutRateLimit()}, bc.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Groups.Create(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOverheadWebhook(b *testing.B) {
	secret := []byte("bench-hmac-secret-123")
	body := []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
		`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	signature := hex.EncodeToString(mac.Sum(nil))
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, secret)
	if err != nil {
		b.Fatal(err)
	}
	noop := webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil })
	for _, bc := range []struct {
		name string
		opts []webhooks.HandlerOption
	}{
		{"handler", []webhooks.HandlerOption{noop}},
		{"handler+otel", []webhooks.HandlerOption{noop, webhooks.WithObserver(benchTracing(b, sdktrace.AlwaysSample()).WebhookObserver())}},
		{"handler+otel-1%", []webhooks.HandlerOption{noop, webhooks.WithObserver(benchTracing(b, sdktrace.TraceIDRatioBased(0.01)).WebhookObserver())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := webhooks.NewHandler(v, bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(string(body)))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Signature", signature)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
