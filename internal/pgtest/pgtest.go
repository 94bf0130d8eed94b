// Package pgtest finds the PostgreSQL server the tests run against, and
// gives each test a schema of its own on it.
//
// It is a module of its own so that the tests of the repository's other
// modules can share it; it is released with them at one version, but it
// makes no compatibility promise: it is for this repository's tests only
// (its internal path keeps other code from importing it).
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DefaultDSN is the server .ci/services starts, used when
// DOUBLETICK_TEST_POSTGRES_DSN is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:55432/doubletick_test?sslmode=disable"

// DSN returns the test server's DSN (DOUBLETICK_TEST_POSTGRES_DSN, or
// DefaultDSN). When no server answers it skips t, or fails it when CI is
// set, since .ci/services starts one there.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("DOUBLETICK_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = DefaultDSN
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

// Schema makes an empty schema for t, dropped after it, and returns a DSN
// whose connections use it.
func Schema(t testing.TB, dsn string) string {
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
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
