package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openCached(t *testing.T) (*sql.DB, *stmtCacheConn) {
	t.Helper()
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`)
	require.NoError(t, err)
	for i := range 3 {
		_, err = db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i))
		require.NoError(t, err)
	}
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	var cached *stmtCacheConn
	require.NoError(t, conn.Raw(func(dc any) error {
		var ok bool
		cached, ok = dc.(*stmtCacheConn)
		require.True(t, ok, "OpenSQLite's connections keep their statements: %T", dc)
		return nil
	}))
	require.NoError(t, conn.Close())
	return db, cached
}

func values(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	var out []string
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return out
}

// The same query run inside a loop over its own open rows gets a statement
// of its own: the outer rows read on unharmed.
func TestStmtCacheSameQueryNested(t *testing.T) {
	db, cached := openCached(t)
	const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	outer, err := tx.Query(q, 0)
	require.NoError(t, err)
	var got []string
	for outer.Next() {
		var v string
		require.NoError(t, outer.Scan(&v))
		inner, err := tx.Query(q, 1)
		require.NoError(t, err)
		got = append(got, v+":"+fmt.Sprint(values(t, inner)))
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	assert.Equal(t, []string{"v0:[v1 v2]", "v1:[v1 v2]", "v2:[v1 v2]"}, got)
	assert.False(t, cached.stmts[q].busy, "closing the rows gives the statement back")
	assert.Equal(t, []string{"v1", "v2"}, values(t, must(tx.Query(q, 1))))
}

// The cache stays within its bound, and a statement evicted while its rows
// are open serves those rows to the end.
func TestStmtCacheEvictsOldest(t *testing.T) {
	db, cached := openCached(t)
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback()
	first := `SELECT v FROM t ORDER BY id`
	rows, err := tx.Query(first)
	require.NoError(t, err)
	require.True(t, rows.Next())
	for i := range stmtCacheSize + 10 {
		var n int
		require.NoError(t, tx.QueryRow(fmt.Sprintf(`SELECT %d`, i)).Scan(&n))
		require.Equal(t, i, n)
	}
	assert.Len(t, cached.stmts, stmtCacheSize)
	assert.Len(t, cached.order, stmtCacheSize)
	assert.NotContains(t, cached.stmts, first)
	var v string
	require.NoError(t, rows.Scan(&v))
	assert.Equal(t, []string{"v0", "v1", "v2"}, append([]string{v}, values(t, rows)...))
}

// A statement that fails (a constraint, a bad parameter) leaves its cached
// statement usable, and a query that does not parse is not cached.
func TestStmtCacheAfterErrors(t *testing.T) {
	db, cached := openCached(t)
	const ins = `INSERT INTO t (id, v) VALUES (?, ?)`
	_, err := db.Exec(ins, 10, "v0")
	require.ErrorContains(t, err, "UNIQUE")
	_, err = db.Exec(ins, 10, "v10")
	require.NoError(t, err)
	_, err = db.Exec(`SELEC nonsense`)
	require.Error(t, err)
	assert.NotContains(t, cached.stmts, `SELEC nonsense`)
	assert.Equal(t, []string{"v0", "v1", "v2", "v10"}, values(t, must(db.Query(`SELECT v FROM t ORDER BY id`))))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
