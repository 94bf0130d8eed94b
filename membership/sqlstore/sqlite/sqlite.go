// Package sqlite opens a SQLite database for package membership/sqlstore,
// with modernc.org/sqlite: pure Go, no cgo, nothing to install.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/doubletick-go/doubletick/internal/sqlitefile"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (creating it if needed) the SQLite database at path, set up
// for several writers, goroutines or processes, at once: write-ahead
// logging, transactions that take the write lock when they begin, and a
// busy timeout of 10 s in place of an immediate "database is locked".
func Open(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q must be a file name without '?' or '#'", path)
	}
	dsn := sqlitefile.DSN(path, "_txlock=immediate"+
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return db, nil
}
