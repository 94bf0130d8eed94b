package otel_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/doubletick-go/doubletick"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/webhooks"
)

// The adapter's overhead. Each benchmark runs its variants interleaved: in
// rounds of a few calls each, in an order shuffled every round, so that the
// machine's drift (other processes, CPU frequency, garbage collection) hits
// all of them alike. It reports each variant's time per call (X-ns/call)
// and allocations (X-allocs/call), and for pairs of variants the median
// over the rounds of the ratio of their times (X/Y): the overhead as a
// ratio. Run it a few times:
//
//	go test -run '^$' -bench Overhead -count 5 .
//
// The adapter records into the OpenTelemetry SDK as a real export setup
// does: spans end in a batch span processor (whose exporter discards
// them), metrics in a manual reader; every call traced ("otel", the SDK's
// default sampler for a root span) or 1 in 100 ("otel1%", a usual
// production sampler). "span" and "server" are the floor any tracing pays:
// a span made by hand around the same call (for a webhook, the server span
// otelhttp would make), so otel/span and server+otel/server are what the
// adapter adds beyond the span itself.

// benchTelemetry is the adapter on real SDK providers; sampler decides
// which calls are traced (metrics are always recorded).
func benchTelemetry(b *testing.B, sampler sdktrace.Sampler) *dtotel.Telemetry {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	tel, err := dtotel.New(dtotel.WithTracerProvider(tp), dtotel.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	return tel
}

// variant is one side of a comparison: call does one operation.
type variant struct {
	name string
	call func() error
}

// interleave runs the variants in rounds of turn calls each and reports as
// described above: the time and allocations per call of each, and the
// median over the rounds of the ratio of each pair in ratios
// (numerator, denominator).
func interleave(b *testing.B, turn int, variants []variant, ratios [][2]string) {
	index := map[string]int{}
	allocs := make([]float64, len(variants))
	for k, v := range variants { // warm up, and count allocations
		index[v.name] = k
		var err error
		allocs[k] = testing.AllocsPerRun(200, func() {
			if e := v.call(); e != nil {
				err = e
			}
		})
		if err != nil {
			b.Fatalf("%s: %v", v.name, err)
		}
	}
	spent := make([]time.Duration, len(variants))
	perRound := make([][]float64, len(ratios))
	round := make([]time.Duration, len(variants))
	order := make([]int, len(variants))
	rng := rand.New(rand.NewPCG(1, 2))
	calls := 0
	for b.Loop() {
		for i := range order {
			order[i] = i
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			start := time.Now()
			for range turn {
				if err := variants[k].call(); err != nil {
					b.Fatalf("%s: %v", variants[k].name, err)
				}
			}
			round[k] = time.Since(start)
			spent[k] += round[k]
		}
		for i, r := range ratios {
			perRound[i] = append(perRound[i], float64(round[index[r[0]]])/float64(round[index[r[1]]]))
		}
		calls += turn
	}
	for k, v := range variants {
		b.ReportMetric(allocs[k], v.name+"-allocs/call")
		b.ReportMetric(float64(spent[k].Nanoseconds())/float64(calls), v.name+"-ns/call")
	}
	for i, r := range ratios {
		b.ReportMetric(median(perRound[i]), r[0]+"/"+r[1])
	}
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// BenchmarkOverheadCreate compares a Create round trip over loopback with
// the adapter, without it, and as a hand-written net/http call.
func BenchmarkOverheadCreate(b *testing.B) {
	const answer = `{"success":true,"groupId":"new_support_2026","wabaNumber":"911111111111"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	req := &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "New Support – Jan 2026", GroupID: "new_support_2026"}
	ctx := context.Background()
	client := func(opts ...doubletick.Option) *doubletick.Client {
		c, err := doubletick.NewClient("key_bench_123456", append([]doubletick.Option{doubletick.WithBaseURL(srv.URL),
			doubletick.WithHTTPClient(hc), doubletick.WithoutRateLimit()}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	create := func(c *doubletick.Client) func() error {
		return func() error {
			_, _, err := c.Groups.Create(ctx, req)
			return err
		}
	}
	traced := benchTelemetry(b, sdktrace.AlwaysSample())
	sdk := client()
	interleave(b, 16, []variant{
		{"sdk", create(sdk)},
		{"otel", create(client(doubletick.WithCallObserver(traced.CallObserver())))},
		{"otel1%", create(client(doubletick.WithCallObserver(benchTelemetry(b, sdktrace.TraceIDRatioBased(0.01)).CallObserver())))},
		// The floor of any traced call: a client span made by hand as
		// otelhttp's transport makes one, with the attributes the
		// conventions ask for at its start and the status at its end.
		{"span", func() error {
			ctx, span := traced.Tracer().Start(ctx, "POST /whatsapp/wa-group/create", trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("http.request.method", "POST"),
					attribute.String("url.template", "/whatsapp/wa-group/create"), attribute.String("server.address", "public.doubletick.io")))
			defer span.End()
			_, resp, err := sdk.Groups.Create(ctx, req)
			if resp != nil {
				span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
			}
			return err
		}},
		{"nethttp", func() error {
			var res doubletick.CreateGroupResult
			return rawPost(ctx, hc, srv.URL+"/whatsapp/wa-group/create", req, &res)
		}},
	}, [][2]string{{"otel", "sdk"}, {"otel", "span"}, {"otel1%", "sdk"}, {"span", "sdk"}, {"nethttp", "sdk"}})
}

// rawPost is a careful hand-written JSON call to the same server.
func rawPost(ctx context.Context, hc *http.Client, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "key_bench_123456")
	r.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// BenchmarkOverheadWebhook compares the handler's HMAC verify, parse and
// (no-op) callback of one delivery with the adapter, without it, and as a
// hand-written HMAC check and encoding/json decode.
func BenchmarkOverheadWebhook(b *testing.B) {
	secret := []byte("bench-hmac-secret-123")
	body := `{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
		`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))
	signature := hex.EncodeToString(mac.Sum(nil))
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, secret)
	if err != nil {
		b.Fatal(err)
	}
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Signature", signature)
		return r
	}
	noop := webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil })
	handler := func(opts ...webhooks.HandlerOption) func(context.Context) error {
		h, err := webhooks.NewHandler(v, append([]webhooks.HandlerOption{noop}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context) error {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request().WithContext(ctx))
			if w.Code != http.StatusOK {
				return fmt.Errorf("%d %s", w.Code, w.Body)
			}
			return nil
		}
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		got, _ := hex.DecodeString(r.Header.Get("X-Signature"))
		mac := hmac.New(sha256.New, secret)
		mac.Write(payload)
		var ev struct {
			Event, GroupID, CustomerPhone string
			ParticipantJoinedAt           time.Time
		}
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) || json.Unmarshal(payload, &ev) != nil {
			http.Error(w, "refused", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	traced := benchTelemetry(b, sdktrace.AlwaysSample())
	// An app that traces its HTTP server: the server span otelhttp would
	// make around the handler, its attributes at its start and the status
	// at its end.
	underServerSpan := func(serve func(context.Context) error) func() error {
		return func() error {
			ctx, span := traced.Tracer().Start(context.Background(), "POST /hooks", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("url.path", "/hooks"),
					attribute.String("server.address", "crm.example.com"), attribute.String("network.protocol.version", "1.1")))
			defer span.End()
			err := serve(ctx)
			span.SetAttributes(attribute.Int("http.response.status_code", http.StatusOK))
			return err
		}
	}
	untraced := func(serve func(context.Context) error) func() error {
		return func() error { return serve(context.Background()) }
	}
	interleave(b, 64, []variant{
		{"handler", untraced(handler())},
		{"otel", untraced(handler(webhooks.WithObserver(traced.WebhookObserver())))},
		{"otel1%", untraced(handler(webhooks.WithObserver(benchTelemetry(b, sdktrace.TraceIDRatioBased(0.01)).WebhookObserver())))},
		{"server", underServerSpan(handler())},
		{"server+otel", underServerSpan(handler(webhooks.WithObserver(traced.WebhookObserver())))},
		{"nethttp", func() error {
			w := httptest.NewRecorder()
			bare.ServeHTTP(w, request())
			if w.Code != http.StatusOK {
				return fmt.Errorf("%d", w.Code)
			}
			return nil
		}},
	}, [][2]string{{"otel", "handler"}, {"otel1%", "handler"}, {"server+otel", "server"}, {"server", "handler"}, {"nethttp", "handler"}})
}
