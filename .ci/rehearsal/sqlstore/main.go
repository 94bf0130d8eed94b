// A program outside the repository that uses membership/sqlstore from its
// released module: a join recorded in SQLite and read back.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
)

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rehearsal-sqlstore")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "members.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	change := membership.Change{GroupID: "grp_01", Phone: "+919876543210", State: membership.Joined,
		At: time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC), Source: membership.SourceWebhook}
	if _, _, err := store.Apply(ctx, change, time.Now()); err != nil {
		log.Fatal(err)
	}
	members, err := store.Members(ctx, "grp_01")
	if err != nil || len(members) != 1 {
		log.Fatalf("members: %v %v", members, err)
	}
	fmt.Println("sqlstore with the SDK", doubletick.Version(), "recorded", members[0].Phone, members[0].State)
}
