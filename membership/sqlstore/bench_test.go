package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
)

// Applying a change costs one transaction of three statements (member
// upsert-and-lock, audit insert, member update). The baseline is the
// least a durable record of a change can cost: one transaction with one
// INSERT into a table of the audit's shape. Compare BenchmarkApply/X with
// BenchmarkBaselineInsert/X.
func BenchmarkApply(b *testing.B) {
	for _, tc := range databases {
		b.Run(tc.name, func(b *testing.B) {
			s := openStore(b, tc.dialect, tc.empty(b))
			ctx := context.Background()
			at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				c := membership.Change{GroupID: "g", Phone: fmt.Sprintf("+9198765%05d", i%1000), State: membership.Joined,
					At: at.Add(time.Duration(i) * time.Millisecond), Source: membership.SourceWebhook}
				if _, _, err := s.Apply(ctx, c, at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBaselineInsert(b *testing.B) {
	for _, tc := range databases {
		b.Run(tc.name, func(b *testing.B) {
			db := openDB(b, tc.dialect, tc.empty(b))
			q := `INSERT INTO changes (group_id, phone, state, at, source, applied_at) VALUES (?, ?, ?, ?, ?, ?)`
			if tc.dialect == sqlstore.Postgres {
				q = `INSERT INTO changes (group_id, phone, state, at, source, applied_at) VALUES ($1, $2, $3, $4, $5, $6)`
			}
			if _, err := db.Exec(`CREATE TABLE changes (group_id TEXT NOT NULL, phone TEXT NOT NULL, state TEXT NOT NULL,
				at BIGINT NOT NULL, source TEXT NOT NULL, applied_at BIGINT NOT NULL, UNIQUE (group_id, phone, state, at))`); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, q, "g", fmt.Sprintf("+9198765%05d", i%1000), "joined", int64(i), "webhook", int64(i)); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
