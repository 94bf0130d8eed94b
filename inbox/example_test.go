package inbox_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// An inbox on SQLite: the delivery is stored before it is acknowledged, and
// a worker runs the callback from the store.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "inbox-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The verifier, the body format and the callbacks are a webhooks.Handler's.
	verifier, err := webhooks.NewBearerVerifier("token-registered-with-doubletick")
	if err != nil {
		log.Fatal(err)
	}
	handled := make(chan string, 1)
	handler, err := webhooks.NewHandler(verifier,
		webhooks.OnGroupCreated(func(ctx context.Context, e *webhooks.GroupCreated) error {
			handled <- e.GroupID
			return nil // an error or a panic is retried, with back-off, then kept as a dead letter
		}),
	)
	if err != nil {
		log.Fatal(err)
	}

	db, err := inbox.OpenSQLite(ctx, filepath.Join(dir, "webhooks.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	in, err := inbox.New(ctx, riversqlite.New(db), handler)
	if err != nil {
		log.Fatal(err)
	}
	if err := in.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer in.Stop(ctx)
	// In production: http.Handle("/doubletick/webhooks", in)

	body := []byte(`{"event":"GROUP_CREATED","orgId":"org_abc123","integrationId":"int_xyz789",
	  "groupId":"grp_01HX9abc123","groupName":"Q1 Promotions Team","inviteLink":null,
	  "groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)
	req, _ := webhookstest.NewRequest("/doubletick/webhooks", body, webhookstest.Bearer("token-registered-with-doubletick"))
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, req)
	fmt.Println("acknowledged:", rec.Code) // only after the delivery was committed

	select {
	case id := <-handled:
		fmt.Println("group ready:", id)
	case <-time.After(10 * time.Second):
		fmt.Println("not handled")
	}
	// Output:
	// acknowledged: 200
	// group ready: grp_01HX9abc123
}
