package main

import (
	"context"
	"errors"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	dtotel "github.com/doubletick-go/doubletick/otel"
)

// otelVariables are the standard variables that turn telemetry on: the
// exporters and their endpoints.
var otelVariables = []string{
	"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
}

// setupTelemetry builds the OpenTelemetry adapter from the standard OTEL_*
// variables (exporters, endpoints, protocol, service name, resource, …,
// as OpenTelemetry's autoexport reads them), or returns nil when none of
// otelVariables is set, or OTEL_SDK_DISABLED is true. shutdown flushes and
// stops the exporters.
func setupTelemetry(ctx context.Context, getenv func(string) string) (tel *dtotel.Telemetry, shutdown func(context.Context) error, err error) {
	if getenv("OTEL_SDK_DISABLED") == "true" {
		return nil, nil, nil
	}
	on := false
	for _, v := range otelVariables {
		on = on || getenv(v) != ""
	}
	if !on {
		return nil, nil, nil
	}
	spans, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, nil, err
	}
	reader, err := autoexport.NewMetricReader(ctx)
	if err != nil {
		return nil, nil, errors.Join(err, spans.Shutdown(ctx))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	shutdown = func(ctx context.Context) error { return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx)) }
	tel, err = dtotel.New(dtotel.WithTracerProvider(tp), dtotel.WithMeterProvider(mp))
	if err != nil {
		return nil, nil, errors.Join(err, shutdown(ctx))
	}
	return tel, shutdown, nil
}
