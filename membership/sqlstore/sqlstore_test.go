package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/internal/pgtest"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
	"github.com/doubletick-go/doubletick/membership/storetest"
)

// openStore returns a migrated Store on a SQLite path or a PostgreSQL DSN,
// with its own *sql.DB, as another process would have.
func openStore(t testing.TB, d sqlstore.Dialect, dsn string) membership.Store {
	t.Helper()
	s, err := sqlstore.New(openDB(t, d, dsn), d)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// TestStore runs the conformance suite, 10,000-event concurrent replay
// included, on SQLite and on PostgreSQL.
func TestStore(t *testing.T) {
	for _, tc := range databases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dialect == sqlstore.Postgres {
				pgtest.DSN(t) // skips once here, not in every check
			}
			storetest.Run(t, func(t *testing.T) func() membership.Store {
				dsn := tc.empty(t)
				return func() membership.Store { return openStore(t, tc.dialect, dsn) }
			})
		})
	}
}

// databases are the two dialects, each with a function that makes an empty
// database for one test and returns its SQLite path or PostgreSQL DSN.
var databases = []struct {
	name    string
	dialect sqlstore.Dialect
	empty   func(t testing.TB) string
}{
	{"sqlite", sqlstore.SQLite, func(t testing.TB) string { return filepath.Join(t.TempDir(), "members.db") }},
	{"postgres", sqlstore.Postgres, func(t testing.TB) string { return pgtest.Schema(t, pgtest.DSN(t)) }},
}

// openDB opens a SQLite path or a PostgreSQL DSN, closed with the test.
func openDB(t testing.TB, d sqlstore.Dialect, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if d == sqlstore.SQLite {
		db, err = sqlite.Open(context.Background(), dsn)
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConcurrentMigrate runs Migrate from several processes' worth of
// connections at once: each must succeed, and the schema be made once.
func TestConcurrentMigrate(t *testing.T) {
	for _, tc := range databases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.empty(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				s, err := sqlstore.New(openDB(t, tc.dialect, dsn), tc.dialect)
				require.NoError(t, err)
				wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			var n int
			require.NoError(t, openDB(t, tc.dialect, dsn).QueryRow("SELECT COUNT(*) FROM doubletick_schema_migrations").Scan(&n))
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

func TestOpenCreatesFilesForTheOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "members.db")
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
	require.NoError(t, err)
	for _, f := range []string{path, path + "-wal"} {
		info, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), f)
	}
}

func TestOpenUsesThePathAsWritten(t *testing.T) {
	// "%41" is how a URI filename writes "A": unescaped, the file would be
	// created as "50Aoff.db".
	path := filepath.Join(t.TempDir(), "50%41off.db")
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	assert.FileExists(t, path)
}

// A change that meets SQLite's lock held past the busy timeout, by another
// process, is applied once the lock is free, not failed.
func TestApplyOutlastsTheWriteLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	holder := openDB(t, sqlstore.SQLite, path)
	openStore(t, sqlstore.SQLite, path) // migrates
	// A handle that gives up on a lock after 10 ms, as if busy.
	impatient, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10)")
	require.NoError(t, err)
	t.Cleanup(func() { impatient.Close() })
	s, err := sqlstore.New(impatient, sqlstore.SQLite)
	require.NoError(t, err)

	tx, err := holder.Begin() // takes the write lock: _txlock=immediate
	require.NoError(t, err)
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		released <- time.Now()
		assert.NoError(t, tx.Commit())
	}()
	_, fresh, err := s.Apply(context.Background(), membership.Change{GroupID: "g", Phone: "+919876543210",
		State: membership.Joined, At: time.Now(), Source: membership.SourceWebhook}, time.Now())
	done := time.Now()
	require.NoError(t, err)
	assert.True(t, fresh)
	assert.True(t, done.After(<-released), "applied after the lock was released")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	tx, err = holder.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	_, _, err = s.Apply(ctx, membership.Change{GroupID: "g", Phone: "+919876543210",
		State: membership.Left, At: time.Now(), Source: membership.SourceWebhook}, time.Now())
	assert.ErrorIs(t, err, context.DeadlineExceeded, "retrying stops with the context")
}
