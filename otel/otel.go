// Package otel adapts the SDK's observers to OpenTelemetry: a span and
// metrics for each API call ([doubletick.CallObserver]) and metrics and a
// span for each webhook delivery ([webhooks.Observer]), following the
// semantic conventions for HTTP clients where they apply.
//
//	tel, err := otel.New() // the global providers, or WithTracerProvider / WithMeterProvider
//	c, err := doubletick.NewClient(key, doubletick.WithCallObserver(tel.CallObserver()))
//	h, err := webhooks.NewHandler(verifier, webhooks.WithObserver(tel.WebhookObserver()), …)
//
// The core module stays free of OpenTelemetry: this is a module of its own,
// as aws-sdk-go-v2 keeps its OpenTelemetry adapter apart from smithy-go.
//
// Nothing personal becomes an attribute or a span name: calls are named by
// route key (method and path template), deliveries by event type; no group
// ID, phone, text or secret is ever given to this package. Attributes have
// few values, so that 1,000 groups make no more series than one.
//
// Spans ("POST /whatsapp/wa-group/create", kind client) carry the method,
// url.template, server.address, the last status and error.type, with an
// event per limiter wait ("limiter.wait"), per attempt ("attempt") and per
// 429 ("rate_limited"). Trace context is sent to DoubleTick only when asked:
// wrap the HTTP client's transport with [Tracing.Transport].
//
// Metrics:
//
//	http.client.request.duration     s  per attempt: http.request.method, url.template, http.response.status_code, error.type
//	doubletick.client.call.duration  s  per call, retries included: doubletick.route, http.response.status_class, error.type
//	doubletick.client.limiter.wait   s  per wait: doubletick.route
//	doubletick.client.rate_limited      429 answers: doubletick.route
//	doubletick.client.retries           attempts sent again: doubletick.route
//	doubletick.webhook.deliveries       doubletick.webhook.event_type, doubletick.webhook.verdict, doubletick.webhook.reason
//	doubletick.webhook.callback.duration s  doubletick.webhook.event_type, error.type
//	doubletick.inbox.deliveries         an inbox's deliveries by doubletick.inbox.state (see ObserveInbox)
//	doubletick.inbox.oldest_waiting  s  how long its oldest waiting delivery has waited
//
// A Tracing is safe for concurrent use.
package otel

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/doubletick-go/doubletick/otel"

// Attribute keys of this package's own (the others are OpenTelemetry's
// semantic conventions).
const (
	RouteKey            = attribute.Key("doubletick.route")
	StatusClassKey      = attribute.Key("http.response.status_class")
	WebhookEventTypeKey = attribute.Key("doubletick.webhook.event_type")
	WebhookVerdictKey   = attribute.Key("doubletick.webhook.verdict")
	WebhookReasonKey    = attribute.Key("doubletick.webhook.reason")
)

const (
	methodKey     = attribute.Key("http.request.method")
	urlTemplate   = attribute.Key("url.template")
	serverAddress = attribute.Key("server.address")
	statusCodeKey = attribute.Key("http.response.status_code")
	errorTypeKey  = attribute.Key("error.type")
)

// Option configures [New].
type Option func(*config)

type config struct {
	tp         trace.TracerProvider
	mp         metric.MeterProvider
	propagator propagation.TextMapPropagator
	server     string
}

// WithTracerProvider sets where spans go (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where metrics go (default: the global provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithPropagator sets how [Tracing.Transport] writes trace context into
// requests (default: the global propagator).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

// WithServerAddress sets the server.address attribute of call spans
// (default "public.doubletick.io").
func WithServerAddress(host string) Option { return func(c *config) { c.server = host } }

// Tracing turns the SDK's observations into spans and metrics.
type Tracing struct {
	built builtOnce

	tracer     trace.Tracer
	meter      metric.Meter
	propagator propagation.TextMapPropagator
	server     string

	attemptDuration metric.Float64Histogram
	callDuration    metric.Float64Histogram
	limiterWait     metric.Float64Histogram
	rateLimited     metric.Int64Counter
	retries         metric.Int64Counter

	deliveries       metric.Int64Counter
	callbackDuration metric.Float64Histogram
}

// New returns the adapter, its instruments made.
func New(opts ...Option) (*Tracing, error) {
	c := config{server: "public.doubletick.io"}
	for _, o := range opts {
		o(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.propagator == nil {
		c.propagator = otel.GetTextMapPropagator()
	}
	version := strings.Trim(doubletick.Version(), "()")
	t := &Tracing{
		tracer:     c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version)),
		propagator: c.propagator,
		server:     c.server,
	}
	m := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(version))
	t.meter = m
	seconds := metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
	var err error
	hist := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), seconds)
		return h
	}
	count := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var ctr metric.Int64Counter
		ctr, err = m.Int64Counter(name, metric.WithDescription(desc))
		return ctr
	}
	t.attemptDuration = hist("http.client.request.duration", "Duration of HTTP client requests: each attempt of a DoubleTick API call.")
	t.callDuration = hist("doubletick.client.call.duration", "Duration of DoubleTick API calls, limiter waits and retries included.")
	t.limiterWait = hist("doubletick.client.limiter.wait", "Time a call waited for its route's client-side rate limiter.")
	t.rateLimited = count("doubletick.client.rate_limited", "API answers 429 Too Many Requests.")
	t.retries = count("doubletick.client.retries", "API call attempts sent again after a failed one.")
	t.deliveries = count("doubletick.webhook.deliveries", "Webhook deliveries, by event type, verdict and refusal reason.")
	t.callbackDuration = hist("doubletick.webhook.callback.duration", "Time the callbacks of one webhook event took.")
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Tracer is the tracer the adapter's spans come from, for adapters of
// other observers (package otelinbox).
func (t *Tracing) Tracer() trace.Tracer { return t.tracer }

// Meter is the meter of the adapter's metrics, for adapters of other
// observers (package otelinbox).
func (t *Tracing) Meter() metric.Meter { return t.meter }

// CallObserver returns the observer to give [doubletick.WithCallObserver].
func (t *Tracing) CallObserver() doubletick.CallObserver {
	return doubletick.CallObserver{
		Start: func(ctx context.Context, route string) context.Context {
			ctx, _ = t.tracer.Start(ctx, route, t.startOptions(route)...)
			return ctx
		},
		LimiterWait: func(ctx context.Context, route string, waited time.Duration) {
			t.limiterWait.Record(ctx, waited.Seconds(), t.routeSet("wait", route))
			if waited >= time.Millisecond {
				trace.SpanFromContext(ctx).AddEvent("limiter.wait", trace.WithAttributes(attribute.Float64("wait_seconds", waited.Seconds())))
			}
		},
		Attempt: func(ctx context.Context, a doubletick.AttemptInfo) {
			status := strconv.Itoa(a.StatusCode)
			t.attemptDuration.Record(ctx, a.Duration.Seconds(), t.set(setKey{"attempt", a.Route, status, a.ErrorType, ""}, func() []attribute.KeyValue {
				method, path, _ := strings.Cut(a.Route, " ")
				attrs := []attribute.KeyValue{methodKey.String(method), urlTemplate.String(path)}
				if a.StatusCode != 0 {
					attrs = append(attrs, statusCodeKey.Int(a.StatusCode))
				}
				if a.ErrorType != "" {
					attrs = append(attrs, errorTypeKey.String(a.ErrorType))
				}
				return attrs
			}))
			span := trace.SpanFromContext(ctx)
			if a.Number == 1 && a.ErrorType == "" {
				return // the span says it all: one attempt, which succeeded
			}
			event := []attribute.KeyValue{attribute.Int("number", a.Number), statusCodeKey.Int(a.StatusCode)}
			if a.RequestID != "" {
				event = append(event, attribute.String("request_id", a.RequestID))
			}
			if a.Retry {
				event = append(event, attribute.Float64("retry_in_seconds", a.RetryWait.Seconds()))
				t.retries.Add(ctx, 1, t.routeSet("route", a.Route))
			}
			span.AddEvent("attempt", trace.WithAttributes(event...))
			if a.StatusCode == http.StatusTooManyRequests {
				t.rateLimited.Add(ctx, 1, t.routeSet("route", a.Route))
				span.AddEvent("rate_limited")
			}
		},
		Done: func(ctx context.Context, d doubletick.CallInfo) {
			class := statusClass(d.StatusCode)
			t.callDuration.Record(ctx, d.Duration.Seconds(), t.set(setKey{"call", d.Route, class, d.ErrorType, ""}, func() []attribute.KeyValue {
				attrs := []attribute.KeyValue{RouteKey.String(d.Route), StatusClassKey.String(class)}
				if d.ErrorType != "" {
					attrs = append(attrs, errorTypeKey.String(d.ErrorType))
				}
				return attrs
			}))
			span := trace.SpanFromContext(ctx)
			if d.StatusCode != 0 {
				span.SetAttributes(statusCodeKey.Int(d.StatusCode))
			}
			if d.ErrorType != "" {
				span.SetAttributes(errorTypeKey.String(d.ErrorType))
				span.SetStatus(codes.Error, d.ErrorType)
			}
			span.End()
		},
	}
}

// builtOnce keeps what the adapter builds for each combination of
// attribute values (metric attribute sets, span options and attributes),
// built once each: the values are few (routes, statuses, event types,
// verdicts), and building them anew for every measurement costs more than
// the rest of it.
type builtOnce struct {
	m sync.Map // setKey → the value built
	n atomic.Int32
}

// setKey names one value: what it is for and up to four attribute values.
type setKey struct {
	metric     string
	a, b, c, d string
}

// maxCachedSets bounds the cache: calls through Client.Do keyed by paths
// that embed IDs could otherwise grow it without end.
const maxCachedSets = 4096

// cached returns the value of k, building it with build the first time (and
// every time once the cache is full).
func cached[V any](c *builtOnce, k setKey, build func() V) V {
	if v, ok := c.m.Load(k); ok {
		return v.(V)
	}
	v := build()
	if c.n.Load() < maxCachedSets {
		if _, loaded := c.m.LoadOrStore(k, v); !loaded {
			c.n.Add(1)
		}
	}
	return v
}

// set returns the measurement option of the attributes attrs builds for k.
func (t *Tracing) set(k setKey, attrs func() []attribute.KeyValue) metric.MeasurementOption {
	return cached(&t.built, k, func() metric.MeasurementOption { return metric.WithAttributeSet(attribute.NewSet(attrs()...)) })
}

// statusClass is "2xx" for 200 …, "none" when no answer came.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}

// startOptions returns the span options of a call on route.
func (t *Tracing) startOptions(route string) []trace.SpanStartOption {
	return cached(&t.built, setKey{"span", route, "", "", ""}, func() []trace.SpanStartOption {
		method, path, _ := strings.Cut(route, " ")
		return []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			methodKey.String(method), urlTemplate.String(path), serverAddress.String(t.server))}
	})
}

// routeSet is the measurement option of a metric keyed by route alone.
func (t *Tracing) routeSet(metricName, route string) metric.MeasurementOption {
	return t.set(setKey{metricName, route, "", "", ""}, func() []attribute.KeyValue {
		return []attribute.KeyValue{RouteKey.String(route)}
	})
}

// serverSpan are the options of a delivery's span.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// WebhookObserver returns the observer to give [webhooks.WithObserver].
func (t *Tracing) WebhookObserver() webhooks.Observer {
	return webhooks.Observer{
		Start: func(ctx context.Context) context.Context {
			ctx, _ = t.tracer.Start(ctx, "doubletick webhook", serverSpan...)
			return ctx
		},
		Delivery: func(ctx context.Context, d webhooks.DeliveryInfo) {
			eventType := string(d.EventType)
			if eventType == "" {
				eventType = "none"
			}
			attrs := func() []attribute.KeyValue {
				attrs := []attribute.KeyValue{WebhookEventTypeKey.String(eventType), WebhookVerdictKey.String(d.Verdict)}
				if d.Reason != "" {
					attrs = append(attrs, WebhookReasonKey.String(d.Reason))
				}
				return attrs
			}
			t.deliveries.Add(ctx, 1, t.set(setKey{"delivery", eventType, d.Verdict, d.Reason, ""}, attrs))
			span := trace.SpanFromContext(ctx)
			if !span.IsRecording() {
				return
			}
			span.SetAttributes(cached(&t.built, setKey{"delivery.span", eventType, d.Verdict, d.Reason, strconv.Itoa(d.Status)}, func() []attribute.KeyValue {
				return append(attrs(), statusCodeKey.Int(d.Status))
			})...)
			if d.Status >= 500 {
				span.SetStatus(codes.Error, d.Verdict)
			}
			if d.Duration > 0 { // ServeHTTP's own span, begun by Start
				span.End()
			}
		},
		Callbacks: func(ctx context.Context, c webhooks.CallbackInfo) {
			t.callbackDuration.Record(ctx, c.Duration.Seconds(), t.set(setKey{"callback", string(c.EventType), c.ErrorType, "", ""}, func() []attribute.KeyValue {
				attrs := []attribute.KeyValue{WebhookEventTypeKey.String(string(c.EventType))}
				if c.ErrorType != "" {
					attrs = append(attrs, errorTypeKey.String(c.ErrorType))
				}
				return attrs
			}))
		},
	}
}

// Transport returns an http.RoundTripper that writes the trace context of
// each request's context into its headers (W3C traceparent by default) and
// then sends it with base (http.DefaultTransport when nil). Use it only to
// send trace context to DoubleTick, which documents nothing about it:
//
//	hc := &http.Client{Transport: tel.Transport(nil)}
//	c, err := doubletick.NewClient(key, doubletick.WithHTTPClient(hc), doubletick.WithCallObserver(tel.CallObserver()))
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context()) // a RoundTripper must not change its request
		t.propagator.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
		return base.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
