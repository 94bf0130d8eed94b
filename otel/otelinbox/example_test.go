package otelinbox_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/inbox"
	dtotel "github.com/doubletick-go/doubletick/otel"
	"github.com/doubletick-go/doubletick/otel/otelinbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// The trace of one webhook through an inbox whose callback calls the API:
// the receipt answered once the delivery is stored, and the run of the
// callbacks, linked to its receipt, with the API call inside it.
func Example() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder() // an exporter (OTLP, …), in an app
	tel, err := dtotel.New(dtotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))
	if err != nil {
		log.Fatal(err)
	}
	obs, err := otelinbox.Observer(tel)
	if err != nil {
		log.Fatal(err)
	}

	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0)) // DoubleTick, in an app
	defer srv.Close()
	setup, err := srv.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := setup.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "vip-1"}); err != nil {
		log.Fatal(err)
	}
	c, err := srv.NewClient(doubletick.WithCallObserver(tel.CallObserver()))
	if err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "otelinbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := inbox.OpenSQLite(ctx, filepath.Join(dir, "inbox.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	v, err := webhooks.NewBearerVerifier("example-token")
	if err != nil {
		log.Fatal(err)
	}
	h, err := webhooks.NewHandler(v, webhooks.OnParticipantJoined(func(ctx context.Context, e *webhooks.ParticipantJoined) error {
		_, _, err := c.Groups.Get(ctx, e.GroupID) // in the run's context: a child of its span
		return err
	}))
	if err != nil {
		log.Fatal(err)
	}
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	if err := in.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer in.Stop(ctx)

	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i",`+
		`"groupId":"vip-1","groupName":"VIP","customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`),
		webhookstest.Bearer("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	in.ServeHTTP(httptest.NewRecorder(), r)
	for deadline := time.Now().Add(20 * time.Second); len(spans.Ended()) < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	printTrace(spans.Ended())
	// Output:
	// doubletick webhook receipt (server) doubletick.webhook.event_type=GROUP_PARTICIPANT_JOINED http.response.status_code=200
	// doubletick webhook run (consumer) doubletick.inbox.attempt=1 doubletick.webhook.event_type=GROUP_PARTICIPANT_JOINED; linked to doubletick webhook receipt
	//   GET /whatsapp/wa-group/info (client) http.request.method=GET http.response.status_code=200 server.address=public.doubletick.io url.template=/whatsapp/wa-group/info
}

// printTrace prints spans as a tree, children under their parent, with
// their kind, attributes and links: what a trace viewer shows, without
// the times and IDs.
func printTrace(spans []sdktrace.ReadOnlySpan) {
	slices.SortFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	names := map[string]string{}
	for _, s := range spans {
		names[s.SpanContext().SpanID().String()] = s.Name()
	}
	var print func(parent string, depth int)
	print = func(parent string, depth int) {
		for _, s := range spans {
			if p := s.Parent().SpanID().String(); p != parent && (parent != "" || names[p] != "") {
				continue
			}
			var attrs []string
			for _, a := range s.Attributes() {
				attrs = append(attrs, string(a.Key)+"="+a.Value.String())
			}
			slices.Sort(attrs)
			line := fmt.Sprintf("%s%s (%s) %s", strings.Repeat("  ", depth), s.Name(), s.SpanKind(), strings.Join(attrs, " "))
			for _, l := range s.Links() {
				line += "; linked to " + names[l.SpanContext.SpanID().String()]
			}
			fmt.Println(line)
			print(s.SpanContext().SpanID().String(), depth+1)
		}
	}
	print("", 0)
}
