package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
)

// A membership store in a SQLite file, shared by every process that opens
// it. For PostgreSQL, open the database with any driver and pass
// sqlstore.Postgres.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "members")
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(ctx, filepath.Join(dir, "members.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	store, _ := sqlstore.New(db, sqlstore.SQLite)
	if err := store.Migrate(ctx); err != nil {
		fmt.Println(err)
		return
	}
	tracker, _ := membership.NewTracker(store)
	_ = tracker // webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle))

	at := time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)
	store.Apply(ctx, membership.Change{GroupID: "grp_01", Phone: "+919876543210", State: membership.Joined, At: at, Source: membership.SourceWebhook}, time.Now())
	members, _ := store.Members(ctx, "grp_01")
	for _, m := range members {
		fmt.Println(m.Phone, m.State, m.JoinedAt.Format(time.RFC3339))
	}
	// Output: +919876543210 joined 2026-01-15T10:30:00Z
}
