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
// event per limiter wait of 1 ms or more ("limiter.wait"), per attempt
// unless the first succeeded ("attempt") and per 429 ("rate_limited").
// Trace context is sent to DoubleTick only when asked:
// wrap the HTTP client's transport with [Telemetry.Transport]. A webhook
// delivery's span is the app's HTTP server span when there is one (otelhttp),
// given doubletick.webhook.event_type, .verdict and .reason; else
// "doubletick webhook" (kind server), with http.response.status_code too.
//
// Metrics:
//
//	http.client.request.duration     s  per attempt: http.request.method, url.template, http.response.status_code, error.type
//	doubletick.client.call.duration  s  per call, retries included: doubletick.route, http.response.status_class, error.type
//	doubletick.client.limiter.wait   s  per call the limiter held (1 ms or more): doubletick.route
//	doubletick.client.rate_limited      429 answers: doubletick.route
//	doubletick.client.retries           attempts sent again: doubletick.route
//	doubletick.webhook.deliveries       doubletick.webhook.event_type, doubletick.webhook.verdict, doubletick.webhook.reason
//	doubletick.webhook.callback.duration s  doubletick.webhook.event_type, error.type
//
// With [WithOrgAttribute], the webhook metrics and spans (and the inbox's)
// carry doubletick.org too, for a bounded number of organisations.
//
// The inbox's spans and metrics come from the module
// github.com/doubletick-go/doubletick/otel/otelinbox, so that this one does
// not bring River and a database driver to an app without an inbox.
//
// A Telemetry is safe for concurrent use.
package otel

import (
	"context"
	"fmt"
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
	// OrgKey is the organisation a delivery was addressed to, with
	// [WithOrgAttribute] only.
	OrgKey = attribute.Key("doubletick.org")
)

// OtherOrgs is the value of [OrgKey] for the organisations past
// [WithOrgAttribute]'s bound.
const OtherOrgs = "_other"

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
	maxOrgs    int
}

// WithOrgAttribute adds [OrgKey], the organisation a delivery was
// addressed to (a Handler made by webhooks.NewOrgHandler knows it), to the
// webhook metrics and spans, and to the inbox's (otelinbox). Each
// organisation is a series of its own for the first max organisations
// seen; the others are counted together as [OtherOrgs], so that 10,000
// organisations make at most max+1 series of each. Without it, no
// organisation is an attribute. The ID is yours (webhooks.Org.ID); no key,
// phone or group ID is ever one.
func WithOrgAttribute(max int) Option { return func(c *config) { c.maxOrgs = max } }

// WithTracerProvider sets where spans go (default: the global provider).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where metrics go (default: the global provider).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithPropagator sets how [Telemetry.Transport] writes trace context into
// requests (default: the global propagator).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.propagator = p }
}

// WithServerAddress sets the server.address attribute of call spans
// (default "public.doubletick.io").
func WithServerAddress(host string) Option { return func(c *config) { c.server = host } }

// Telemetry turns the SDK's observations into spans and metrics.
type Telemetry struct {
	routes cache[string, *route]        // by route key
	events cache[string, *webhookEvent] // by observed event type

	tracer     trace.Tracer
	meter      metric.Meter
	propagator propagation.TextMapPropagator
	server     string

	attemptDuration metric.Float64Histogram
	callDuration    metric.Float64Histogram
	limiterWait     metric.Float64Histogram
	rateLimited     metric.Int64Counter
	retries         metric.Int64Counter

	deliveries       metric.Int64ObservableCounter
	callbackDuration metric.Float64Histogram

	// maxOrgs bounds the organisations that are values of OrgKey, 0 when
	// none is; orgs holds those admitted, and orgCount their number.
	maxOrgs  int
	orgs     sync.Map // ID → attribute.KeyValue
	orgCount atomic.Int32
}

// New returns the adapter, its instruments made.
func New(opts ...Option) (*Telemetry, error) {
	c := config{server: "public.doubletick.io"}
	for _, o := range opts {
		o(&c)
	}
	if c.maxOrgs < 0 || c.maxOrgs > 100_000 {
		return nil, fmt.Errorf("otel: WithOrgAttribute: %d organisations; need 1 to 100000", c.maxOrgs)
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
	t := &Telemetry{
		tracer:     c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version)),
		propagator: c.propagator,
		server:     c.server,
		maxOrgs:    c.maxOrgs,
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
	t.callbackDuration = hist("doubletick.webhook.callback.duration", "Time the callbacks of one webhook event took.")
	if err != nil {
		return nil, err
	}
	if t.deliveries, err = m.Int64ObservableCounter("doubletick.webhook.deliveries",
		metric.WithDescription("Webhook deliveries, by event type, verdict and refusal reason.")); err != nil {
		return nil, err
	}
	if _, err = m.RegisterCallback(t.observeDeliveries, t.deliveries); err != nil {
		return nil, err
	}
	return t, nil
}

// Tracer is the tracer the adapter's spans come from, for adapters of
// other observers (module otel/otelinbox).
func (t *Telemetry) Tracer() trace.Tracer { return t.tracer }

// Meter is the meter of the adapter's metrics, for adapters of other
// observers (module otel/otelinbox).
func (t *Telemetry) Meter() metric.Meter { return t.meter }

// What the adapter records has few distinct attribute values (routes,
// statuses, event types, verdicts), and building attribute sets and span
// options costs more than recording them: each is built once, kept in a
// cache, and the outcome a route or event type had last is kept at hand,
// since most of its calls or deliveries end alike.

// route is what is built for one route key.
type route struct {
	key   string
	start []trace.SpanStartOption // the span's kind and attributes
	set   measurement             // doubletick.route
	// The sets of http.client.request.duration by outcome (status code and
	// error.type), and of doubletick.client.call.duration (status class
	// and error.type).
	attempts, calls outcomes
}

// outcome is how an attempt, a call or a delivery ended; org is the
// delivery's organisation as an attribute value, "" when none is.
type outcome struct {
	status           int
	errType, verdict string
	reason           string
	org              string
}

// OrgAttribute returns the [OrgKey] attribute of the organisation id, and
// false when none is to be added: without [WithOrgAttribute], or for "".
// Past the bound, its value is [OtherOrgs]. For adapters of other
// observers (module otel/otelinbox).
func (t *Telemetry) OrgAttribute(id string) (attribute.KeyValue, bool) {
	if t.maxOrgs == 0 || id == "" {
		return attribute.KeyValue{}, false
	}
	if v, ok := t.orgs.Load(id); ok {
		return v.(attribute.KeyValue), true
	}
	if t.orgCount.Add(1) > int32(t.maxOrgs) {
		t.orgCount.Add(-1)
		return OrgKey.String(OtherOrgs), true
	}
	kv := OrgKey.String(id)
	if _, loaded := t.orgs.LoadOrStore(id, kv); loaded {
		t.orgCount.Add(-1) // admitted by a concurrent delivery
	}
	return kv, true
}

// orgValue is the value of OrgKey for id, "" when none is added.
func (t *Telemetry) orgValue(id string) string {
	kv, ok := t.OrgAttribute(id)
	if !ok {
		return ""
	}
	return kv.Value.AsString()
}

// outcomes are the attribute sets of one route's or event type's
// outcomes, the last one used at hand.
type outcomes struct {
	last atomic.Pointer[outcomeSet]
	all  cache[outcome, measurement]
}

type outcomeSet struct {
	outcome
	set measurement
}

// get returns the set of o, built by build the first time.
func (s *outcomes) get(o outcome, build func(outcome) []attribute.KeyValue) measurement {
	if last := s.last.Load(); last != nil && last.outcome == o {
		return last.set
	}
	set := s.all.get(o, func(o outcome) measurement { return newMeasurement(build(o)...) })
	s.last.Store(&outcomeSet{o, set})
	return set
}

// measurement is an attribute set as the options of Record and Add, held
// in slices so that passing them allocates nothing.
type measurement struct {
	record []metric.RecordOption
	add    []metric.AddOption
}

func newMeasurement(attrs ...attribute.KeyValue) measurement {
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return measurement{[]metric.RecordOption{set}, []metric.AddOption{set}}
}

// cache keeps a value built for each key, at most maxCached of them:
// calls through Client.Do keyed by paths that embed IDs could otherwise
// grow it without end. Beyond that, values are built anew each time.
type cache[K comparable, V any] struct {
	m sync.Map // K → V
	n atomic.Int32
}

const maxCached = 4096

func (c *cache[K, V]) get(k K, build func(K) V) V {
	if v, ok := c.m.Load(k); ok {
		return v.(V)
	}
	v := build(k)
	if c.n.Load() < maxCached {
		if actual, loaded := c.m.LoadOrStore(k, v); loaded {
			return actual.(V)
		}
		c.n.Add(1)
	}
	return v
}

// route returns what is built for the route key.
func (t *Telemetry) route(key string) *route {
	return t.routes.get(key, func(key string) *route {
		method, path, _ := strings.Cut(key, " ")
		return &route{
			key: key,
			// The attributes are given at the span's start, as the
			// semantic conventions ask, so that a sampler can use them.
			start: []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				methodKey.String(method), urlTemplate.String(path), serverAddress.String(t.server))},
			set: newMeasurement(RouteKey.String(key)),
		}
	})
}

// heldFor is the shortest limiter wait that counts as the limiter holding
// a call: a shorter one is its bookkeeping, with a token at hand.
const heldFor = time.Millisecond

// CallObserver returns the observer to give [doubletick.WithCallObserver].
func (t *Telemetry) CallObserver() doubletick.CallObserver {
	return doubletick.CallObserver{
		Start: func(ctx context.Context, route string) context.Context {
			ctx, _ = t.tracer.Start(ctx, route, t.route(route).start...)
			return ctx
		},
		LimiterWait: func(ctx context.Context, route string, waited time.Duration) {
			if waited < heldFor {
				return // the limiter had a token at hand
			}
			t.limiterWait.Record(ctx, waited.Seconds(), t.route(route).set.record...)
			trace.SpanFromContext(ctx).AddEvent("limiter.wait", trace.WithAttributes(attribute.Float64("wait_seconds", waited.Seconds())))
		},
		Attempt: func(ctx context.Context, a doubletick.AttemptInfo) {
			r := t.route(a.Route)
			t.attemptDuration.Record(ctx, a.Duration.Seconds(), r.attempts.get(outcome{status: a.StatusCode, errType: a.ErrorType}, r.attemptAttributes).record...)
			if a.Number == 1 && a.ErrorType == "" {
				return // the span says it all: one attempt, which succeeded
			}
			span := trace.SpanFromContext(ctx)
			event := []attribute.KeyValue{attribute.Int("number", a.Number), statusCodeKey.Int(a.StatusCode)}
			if a.RequestID != "" {
				event = append(event, attribute.String("request_id", a.RequestID))
			}
			if a.Retry {
				event = append(event, attribute.Float64("retry_in_seconds", a.RetryWait.Seconds()))
				t.retries.Add(ctx, 1, r.set.add...)
			}
			span.AddEvent("attempt", trace.WithAttributes(event...))
			if a.StatusCode == http.StatusTooManyRequests {
				t.rateLimited.Add(ctx, 1, r.set.add...)
				span.AddEvent("rate_limited")
			}
		},
		Done: func(ctx context.Context, d doubletick.CallInfo) {
			r := t.route(d.Route)
			t.callDuration.Record(ctx, d.Duration.Seconds(), r.calls.get(outcome{status: d.StatusCode, errType: d.ErrorType}, r.callAttributes).record...)
			span := trace.SpanFromContext(ctx)
			if !span.IsRecording() {
				return
			}
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

// attemptAttributes are those of http.client.request.duration.
func (r *route) attemptAttributes(o outcome) []attribute.KeyValue {
	method, path, _ := strings.Cut(r.key, " ")
	attrs := []attribute.KeyValue{methodKey.String(method), urlTemplate.String(path)}
	if o.status != 0 {
		attrs = append(attrs, statusCodeKey.Int(o.status))
	}
	if o.errType != "" {
		attrs = append(attrs, errorTypeKey.String(o.errType))
	}
	return attrs
}

// callAttributes are those of doubletick.client.call.duration.
func (r *route) callAttributes(o outcome) []attribute.KeyValue {
	attrs := []attribute.KeyValue{RouteKey.String(r.key), StatusClassKey.String(statusClass(o.status))}
	if o.errType != "" {
		attrs = append(attrs, errorTypeKey.String(o.errType))
	}
	return attrs
}

// statusClass is "2xx" for 200 …, "none" when no answer came.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}

// webhookEvent is what is built for one observed event type.
type webhookEvent struct {
	name string // the event type, "none" when the delivery had none
	// The deliveries by outcome (verdict, reason), counted here and
	// reported as doubletick.webhook.deliveries when metrics are
	// collected: a delivery costs an atomic add, not a measurement. The
	// outcomes are few (verdicts × reasons), so all are kept.
	counts    sync.Map // outcome → *delivered
	lastCount atomic.Pointer[delivered]
	// The sets of doubletick.webhook.callback.duration by error.type.
	callbacks outcomes
	// The attributes of delivery spans by outcome (verdict, reason,
	// status).
	spans cache[outcome, []attribute.KeyValue]
}

// event returns what is built for the event type. The types are few (the
// observer is told a documented type or [webhooks.TypeUnknownToObserver]),
// so all are kept and their counts with them.
func (t *Telemetry) event(eventType webhooks.Type) *webhookEvent {
	return t.events.get(string(eventType), func(name string) *webhookEvent {
		if name == "" {
			name = "none"
		}
		return &webhookEvent{name: name}
	})
}

// delivered counts the deliveries of one event type and outcome.
type delivered struct {
	outcome
	set metric.ObserveOption
	n   atomic.Int64
}

// delivered returns the count of o.
func (e *webhookEvent) delivered(o outcome) *delivered {
	if d := e.lastCount.Load(); d != nil && d.outcome == o {
		return d
	}
	v, ok := e.counts.Load(o)
	if !ok {
		v, _ = e.counts.LoadOrStore(o, &delivered{outcome: o, set: metric.WithAttributeSet(attribute.NewSet(e.deliveryAttributes(o)...))})
	}
	d := v.(*delivered)
	e.lastCount.Store(d)
	return d
}

// observeDeliveries reports the counts of deliveries.
func (t *Telemetry) observeDeliveries(_ context.Context, o metric.Observer) error {
	t.events.m.Range(func(_, e any) bool {
		e.(*webhookEvent).counts.Range(func(_, v any) bool {
			d := v.(*delivered)
			o.ObserveInt64(t.deliveries, d.n.Load(), d.set)
			return true
		})
		return true
	})
	return nil
}

// deliveryAttributes are those of doubletick.webhook.deliveries.
func (e *webhookEvent) deliveryAttributes(o outcome) []attribute.KeyValue {
	attrs := []attribute.KeyValue{WebhookEventTypeKey.String(e.name), WebhookVerdictKey.String(o.verdict)}
	if o.reason != "" {
		attrs = append(attrs, WebhookReasonKey.String(o.reason))
	}
	if o.org != "" {
		attrs = append(attrs, OrgKey.String(o.org))
	}
	return attrs
}

// spanAttributes are those of a delivery's span.
func (e *webhookEvent) spanAttributes(o outcome) []attribute.KeyValue {
	attrs := e.deliveryAttributes(o)
	if o.status != 0 {
		attrs = append(attrs, statusCodeKey.Int(o.status))
	}
	return attrs
}

// callbackAttributes are those of doubletick.webhook.callback.duration.
func (e *webhookEvent) callbackAttributes(o outcome) []attribute.KeyValue {
	attrs := []attribute.KeyValue{WebhookEventTypeKey.String(e.name)}
	if o.errType != "" {
		attrs = append(attrs, errorTypeKey.String(o.errType))
	}
	if o.org != "" {
		attrs = append(attrs, OrgKey.String(o.org))
	}
	return attrs
}

// serverSpan are the options of a delivery's span.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// annotating marks the context of a delivery whose span is the HTTP
// server's, which the adapter annotates but does not end.
type annotating struct{}

// WebhookObserver returns the observer to give [webhooks.WithObserver].
//
// A delivery's span is the HTTP server's when the app traces its server
// (otelhttp, or any middleware that puts a recording span in the
// request's context): the adapter adds its attributes to that span rather
// than start a second server span for the same request. Otherwise it
// starts "doubletick webhook" (kind server) and ends it with the answer.
func (t *Telemetry) WebhookObserver() webhooks.Observer {
	return webhooks.Observer{
		Start: func(ctx context.Context) context.Context {
			if trace.SpanFromContext(ctx).IsRecording() {
				return context.WithValue(ctx, annotating{}, true)
			}
			ctx, _ = t.tracer.Start(ctx, "doubletick webhook", serverSpan...)
			return ctx
		},
		Delivery: func(ctx context.Context, d webhooks.DeliveryInfo) {
			e := t.event(d.EventType)
			org := t.orgValue(d.Org)
			e.delivered(outcome{verdict: d.Verdict, reason: d.Reason, org: org}).n.Add(1)
			span := trace.SpanFromContext(ctx)
			if !span.IsRecording() {
				return
			}
			// The span is the adapter's when Start began it; else it is the
			// HTTP server's (or the inbox's receipt), whose instrumentation
			// gives it the status.
			own := d.Duration > 0 && ctx.Value(annotating{}) == nil
			o := outcome{verdict: d.Verdict, reason: d.Reason, org: org}
			if own {
				o.status = d.Status
			}
			span.SetAttributes(e.spans.get(o, e.spanAttributes)...)
			if d.Status >= 500 {
				span.SetStatus(codes.Error, d.Verdict)
			}
			if own {
				span.End()
			}
		},
		Callbacks: func(ctx context.Context, c webhooks.CallbackInfo) {
			e := t.event(c.EventType)
			t.callbackDuration.Record(ctx, c.Duration.Seconds(), e.callbacks.get(outcome{errType: c.ErrorType, org: t.orgValue(c.Org)}, e.callbackAttributes).record...)
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
func (t *Telemetry) Transport(base http.RoundTripper) http.RoundTripper {
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
