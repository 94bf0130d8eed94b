package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
)

// Applying a change costs one transaction of four statements (audit insert,
// member upsert-and-lock, member update, audit update). The baseline is the
// least a durable record of a change can cost: one transaction with one
// INSERT into a table of the audit's shape. Compare BenchmarkApply/X with
// BenchmarkBaselineInsert/X.
func BenchmarkApply(b *testing.B) {
	for name, open := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			db, d := open(b)
			s, err := sqlstore.New(db, d)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
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
	for name, open := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			db, d := open(b)
			q := `INSERT INTO changes (group_id, phone, state, at, source, applied_at) VALUES (?, ?, ?, ?, ?, ?)`
			if d == sqlstore.Postgres {
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

// benchDatabases opens an empty SQLite file and, when a server answers, an
// empty PostgreSQL schema.
func benchDatabases(b *testing.B) map[string]func(*testing.B) (*sql.DB, sqlstore.Dialect) {
	dbs := map[string]func(*testing.B) (*sql.DB, sqlstore.Dialect){
		"sqlite": func(b *testing.B) (*sql.DB, sqlstore.Dialect) {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db, sqlstore.SQLite
		},
	}
	dbs["postgres"] = func(b *testing.B) (*sql.DB, sqlstore.Dialect) {
		db, err := sql.Open("pgx", freshSchema(b, postgresDSN(b)))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db, sqlstore.Postgres
	}
	return dbs
}
