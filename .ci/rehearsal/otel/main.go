// A program outside the repository that uses the otel adapter from its
// released module: one call against the SDK's fake, recorded as a span.
package main

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

func main() {
	spans := tracetest.NewSpanRecorder()
	tel, err := dtotel.New(dtotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		log.Fatal(err)
	}
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient(doubletick.WithCallObserver(tel.CallObserver()))
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{
		WABANumber: "911111111111", Subject: "Release rehearsal", GroupID: "rehearsal_otel",
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("otel with the SDK", doubletick.Version(), "recorded the span", spans.Ended()[0].Name())
}
