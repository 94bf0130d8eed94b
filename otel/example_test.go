package otel_test

import (
	"context"
	"fmt"
	"log"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	dtotel "github.com/doubletick-go/doubletick/otel"
)

// A client whose calls become spans and metrics. Without options, New uses
// the global providers that an app's OpenTelemetry setup installs.
func Example() {
	spans := tracetest.NewSpanRecorder() // an exporter, in an app
	tel, err := dtotel.New(dtotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		log.Fatal(err)
	}
	srv := doubleticktest.NewServer() // DoubleTick, in an app
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithCallObserver(tel.CallObserver()))
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP"})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	// Output: POST /whatsapp/wa-group/create client
}
