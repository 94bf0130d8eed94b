// Package otelinbox adapts the inbox's Observer to OpenTelemetry: a span
// per receipt ("doubletick webhook receipt", kind server), a span per run of
// the callbacks ("doubletick webhook run", kind consumer) linked to its
// receipt's through the trace context stored with the delivery, and the
// metrics doubletick.inbox.ack.duration (receipt to answer, by event type
// and status) and doubletick.inbox.delivery.duration (receipt to callbacks
// done, by event type and error.type).
//
//	tel, err := otel.New()
//	obs, err := otelinbox.Observer(tel)
//	in, err := inbox.New(ctx, driver, handler, inbox.WithObserver(obs))
//
// [ObserveStats] reports the inbox's counts as gauges. With
// otel.WithOrgAttribute, the spans and metrics carry the delivery's
// organisation (doubletick.org), bounded as that option says.
//
// It is a module of its own, github.com/doubletick-go/doubletick/otel/otelinbox,
// so that the otel module does not bring River and a database driver to an
// app without an inbox.
package otelinbox

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/doubletick-go/doubletick/inbox"
	dtotel "github.com/doubletick-go/doubletick/otel"
)

// Observer returns the inbox observer of tel.
func Observer(tel *dtotel.Telemetry) (inbox.Observer, error) {
	tracer, meter, prop := tel.Tracer(), tel.Meter(), propagation.TraceContext{}
	seconds := metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60)
	ack, err := meter.Float64Histogram("doubletick.inbox.ack.duration", metric.WithUnit("s"), seconds,
		metric.WithDescription("Time from a webhook delivery's receipt to its answer: stored (200) or not (500)."))
	if err != nil {
		return inbox.Observer{}, err
	}
	done, err := meter.Float64Histogram("doubletick.inbox.delivery.duration", metric.WithUnit("s"), seconds,
		metric.WithDescription("Time from a webhook delivery's receipt to the end of a run of its callbacks."))
	if err != nil {
		return inbox.Observer{}, err
	}
	return inbox.Observer{
		Start: func(ctx context.Context) context.Context {
			ctx, _ = tracer.Start(ctx, "doubletick webhook receipt", trace.WithSpanKind(trace.SpanKindServer))
			return ctx
		},
		Carry: func(ctx context.Context) map[string]string {
			carrier := propagation.MapCarrier{}
			prop.Inject(ctx, carrier)
			return carrier
		},
		Stored: func(ctx context.Context, s inbox.StoredInfo) {
			attrs := withOrg(tel, s.Org, dtotel.WebhookEventTypeKey.String(string(s.EventType)), attribute.Int("http.response.status_code", s.Status))
			ack.Record(ctx, s.Duration.Seconds(), metric.WithAttributes(attrs...))
			span := trace.SpanFromContext(ctx)
			span.SetAttributes(attrs...)
			if s.Status >= 500 {
				span.SetStatus(codes.Error, strconv.Itoa(s.Status))
			}
			span.End()
		},
		RunStart: func(ctx context.Context, r inbox.RunInfo) context.Context {
			opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
				withOrg(tel, r.Org, dtotel.WebhookEventTypeKey.String(string(r.EventType)), attribute.Int("doubletick.inbox.attempt", r.Attempt))...)}
			if receipt := trace.SpanContextFromContext(prop.Extract(context.Background(), propagation.MapCarrier(r.Carried))); receipt.IsValid() {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: receipt}))
			}
			ctx, _ = tracer.Start(ctx, "doubletick webhook run", opts...)
			return ctx
		},
		RunDone: func(ctx context.Context, r inbox.RunInfo) {
			attrs := withOrg(tel, r.Org, dtotel.WebhookEventTypeKey.String(string(r.EventType)))
			if r.ErrorType != "" {
				attrs = append(attrs, attribute.String("error.type", r.ErrorType))
			}
			done.Record(ctx, r.SinceReceipt.Seconds(), metric.WithAttributes(attrs...))
			span := trace.SpanFromContext(ctx)
			if r.ErrorType != "" {
				span.SetAttributes(attribute.String("error.type", r.ErrorType))
				span.SetStatus(codes.Error, r.ErrorType)
			}
			span.End()
		},
	}, nil
}

// withOrg is attrs with the organisation's, when tel adds one.
func withOrg(tel *dtotel.Telemetry, org string, attrs ...attribute.KeyValue) []attribute.KeyValue {
	if kv, ok := tel.OrgAttribute(org); ok {
		attrs = append(attrs, kv)
	}
	return attrs
}
