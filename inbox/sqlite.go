package inbox

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"modernc.org/sqlite" // pure Go, no cgo
)

// OpenSQLite opens (creating it if needed, readable by its owner only) the
// SQLite file at path for River's riversqlite driver, with
// modernc.org/sqlite: write-ahead logging, synchronous=FULL so that an
// acknowledged delivery survives a power loss as well as a crash, a
// checkpoint every 200 pages of log (SQLite's default, 1,000, made a stall of
// a fifth of a second now and then at a steady 200 deliveries/s), a busy
// timeout of 10 s, one connection, as River's SQLite driver asks, and each
// statement kept prepared on it (River's completions run several times
// faster).
//
//	db, err := inbox.OpenSQLite(ctx, "webhooks.db")
//	in, err := inbox.New(ctx, riversqlite.New(db), handler)
func OpenSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("inbox: SQLite path %q must be a file name without '?' or '#'", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	dsn := sqliteDSN(path, "_txlock=immediate"+
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=wal_autocheckpoint(200)")
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	db := sql.OpenDB(stmtCacheConnector{connector})
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return db, nil
}

// sqliteDSN returns the URI filename that opens the file at path with
// query after it. '%', '?' and '#' in path are escaped, so that SQLite opens
// the file at exactly that path. (Each module that opens SQLite files keeps
// these lines: modules do not share code whose API makes no promise.)
func sqliteDSN(path, query string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) + "?" + query
}

// createPrivate creates the file at path, readable and writable by its
// owner only, when it does not exist yet: it holds phones, names and
// message texts, and SQLite gives the file's -wal and -shm the same mode.
// An existing file keeps the mode it has.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
