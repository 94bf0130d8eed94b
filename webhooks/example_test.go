package webhooks_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

func ExampleParse() {
	body := []byte(`{
	  "event": "GROUP_PARTICIPANT_JOINED",
	  "orgId": "org_abc123",
	  "integrationId": "int_xyz789",
	  "groupId": "grp_01HX9abc123",
	  "groupName": "Q1 Promotions Team",
	  "customerPhone": "+919876543210",
	  "participantJoinedAt": "2026-01-15T10:00:00.000Z"
	}`)
	ev, err := webhooks.Parse(body)
	if err != nil {
		log.Fatal(err)
	}
	switch e := ev.(type) {
	case *webhooks.ParticipantJoined:
		fmt.Println(e.Phone.E164, "joined", e.GroupName, "at", e.At.Format(time.Kitchen))
	case *webhooks.Unknown:
		fmt.Println("not handled yet:", e.Type())
	}
	fmt.Println(ev.DedupKey())
	// Output:
	// +919876543210 joined Q1 Promotions Team at 10:00AM
	// GROUP_PARTICIPANT_JOINED|grp_01HX9abc123|+919876543210|2026-01-15T10:00:00Z
}

func ExampleNewHandler() {
	// Register the webhook with authorization {"type": "BEARER", "payload": "<token>"}
	// and check the same token here.
	verifier, err := webhooks.NewBearerVerifier("token-registered-with-doubletick")
	if err != nil {
		log.Fatal(err)
	}
	dedup, err := webhooks.NewMemoryDeduplicator(24*time.Hour, 100_000)
	if err != nil {
		log.Fatal(err)
	}
	handler, err := webhooks.NewHandler(verifier,
		webhooks.WithDeduplicator(dedup),
		webhooks.OnGroupCreated(func(ctx context.Context, e *webhooks.GroupCreated) error {
			fmt.Println("group ready:", e.GroupID)
			// A non-nil error answers 500. DoubleTick documents no retry of
			// a failed delivery: for events that must not be lost, store
			// them first (see the inbox module).
			return nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	// In production: http.Handle("/doubletick/webhooks", handler)

	body := []byte(`{"event":"GROUP_CREATED","orgId":"org_abc123","integrationId":"int_xyz789",
	  "groupId":"grp_01HX9abc123","groupName":"Q1 Promotions Team","inviteLink":null,
	  "groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)
	for range 2 { // a redelivery is acknowledged without running the callback again
		req, _ := webhookstest.NewRequest("/doubletick/webhooks", body, webhookstest.Bearer("token-registered-with-doubletick"))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// group ready: grp_01HX9abc123
	// 200
	// 200
}

// A status update names no type: register MESSAGE_STATUS_UPDATE at a URL of
// its own and tell the handler which path that is. Join each update to its
// send by the message ID the send returned.
func ExampleWithPathType() {
	verifier, err := webhooks.NewBearerVerifier("token-registered-with-doubletick")
	if err != nil {
		log.Fatal(err)
	}
	handler, err := webhooks.NewHandler(verifier,
		webhooks.WithPathType("/doubletick/status", webhooks.TypeMessageStatusUpdate),
		webhooks.OnMessageStatusUpdate(func(ctx context.Context, e *webhooks.MessageStatusUpdate) error {
			fmt.Println(e.MessageID, e.Status, e.FailMessage)
			return nil
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	// In production: http.Handle("/doubletick/status", handler)

	body := []byte(`{"messageId":"dt_message_id","to":"919999999999","status":"FAILED",
	  "statusTimestamp":"2026-06-04T11:48:14.000Z","failMessage":"Message delivery failed",
	  "message":{"type":"TEXT","text":"Hello"}}`)
	req, _ := webhookstest.NewRequest("/doubletick/status", body, webhookstest.Bearer("token-registered-with-doubletick"))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// dt_message_id FAILED Message delivery failed
	// 200
}
