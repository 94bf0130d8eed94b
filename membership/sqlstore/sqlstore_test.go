package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
	"github.com/doubletick-go/doubletick/membership/storetest"
)

// openStore returns a migrated Store on db, closed with the test.
func openStore(t *testing.T, db *sql.DB, d sqlstore.Dialect) membership.Store {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	s, err := sqlstore.New(db, d)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() membership.Store {
		path := filepath.Join(t.TempDir(), "members.db")
		return func() membership.Store {
			db, err := sqlite.Open(context.Background(), path)
			require.NoError(t, err)
			return openStore(t, db, sqlstore.SQLite)
		}
	})
}

// postgresDSN returns the test server's DSN, or skips the test when no
// server answers and CI is not set (in CI, .ci/services starts one).
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("DOUBLETICK_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres:postgres@127.0.0.1:5432/doubletick_test?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at DOUBLETICK_TEST_POSTGRES_DSN is not reachable in CI: %v", err)
		}
		t.Skipf("no PostgreSQL reachable (%v): source .ci/services, or set DOUBLETICK_TEST_POSTGRES_DSN", err)
	}
	return dsn
}

// freshSchema makes an empty schema for one test, dropped after it, and
// returns a DSN whose connections use it.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		assert.NoError(t, err)
		admin.Close()
	})
	return dsn + "&search_path=" + schema
}

func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	storetest.Run(t, func(t *testing.T) func() membership.Store {
		schemaDSN := freshSchema(t, dsn)
		return func() membership.Store {
			db, err := sql.Open("pgx", schemaDSN)
			require.NoError(t, err)
			db.SetMaxOpenConns(4)
			return openStore(t, db, sqlstore.Postgres)
		}
	})
}

// TestConcurrentMigrate runs Migrate from several processes' worth of
// connections at once: each must succeed, and the schema be made once.
func TestConcurrentMigrate(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (func() *sql.DB, sqlstore.Dialect)
	}{
		{"sqlite", func(t *testing.T) (func() *sql.DB, sqlstore.Dialect) {
			path := filepath.Join(t.TempDir(), "m.db")
			return func() *sql.DB {
				db, err := sqlite.Open(context.Background(), path)
				require.NoError(t, err)
				return db
			}, sqlstore.SQLite
		}},
		{"postgres", func(t *testing.T) (func() *sql.DB, sqlstore.Dialect) {
			dsn := freshSchema(t, postgresDSN(t))
			return func() *sql.DB {
				db, err := sql.Open("pgx", dsn)
				require.NoError(t, err)
				return db
			}, sqlstore.Postgres
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, d := tc.open(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				db := open()
				t.Cleanup(func() { db.Close() })
				s, err := sqlstore.New(db, d)
				require.NoError(t, err)
				wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			db := open()
			defer db.Close()
			var n int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM doubletick_schema_migrations").Scan(&n))
			assert.Equal(t, 1, n)
		})
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	_, err := sqlstore.New(nil, sqlstore.SQLite)
	assert.Error(t, err)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	defer db.Close()
	_, err = sqlstore.New(db, sqlstore.Dialect(9))
	assert.ErrorContains(t, err, "Dialect(9)")
	_, err = sqlite.Open(context.Background(), "a?b")
	assert.Error(t, err)
}
