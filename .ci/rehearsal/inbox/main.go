// A program outside the repository that uses the inbox from its released
// module: an inbox on SQLite, started and stopped.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rehearsal-inbox")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
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
	in, err := inbox.New(ctx, riversqlite.New(db), handler)
	if err != nil {
		log.Fatal(err)
	}
	if err := in.Start(ctx); err != nil {
		log.Fatal(err)
	}
	if err := in.Stop(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("inbox with the SDK", doubletick.Version(), "started and stopped")
}
