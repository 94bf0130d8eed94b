// A program outside the repository that uses the inbox's OpenTelemetry
// adapter from its released module: an inbox on SQLite with the observer
// and its counts reported, started and stopped.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/inbox"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/otel/otelinbox"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rehearsal-otelinbox")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	reader := sdkmetric.NewManualReader()
	tel, err := dtotel.New(dtotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		log.Fatal(err)
	}
	obs, err := otelinbox.Observer(tel)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := webhooks.NewBearerVerifier("rehearsal-secret-token")
	if err != nil {
		log.Fatal(err)
	}
	handler, err := webhooks.NewHandler(verifier)
	if err != nil {
		log.Fatal(err)
	}
	db, err := inbox.OpenSQLite(ctx, filepath.Join(dir, "webhooks.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	in, err := inbox.New(ctx, riversqlite.New(db), handler, inbox.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	if err := otelinbox.ObserveStats(tel, in); err != nil {
		log.Fatal(err)
	}
	if err := in.Start(ctx); err != nil {
		log.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	if err := in.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("otelinbox with the SDK", doubletick.Version(), "collected", rm.ScopeMetrics[0].Metrics[0].Name)
}
