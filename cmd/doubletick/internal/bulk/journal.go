package bulk

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A row's state in the journal.
const (
	// StatePending: not sent yet, or refused in a way that proves nothing
	// was created (a 429).
	StatePending = "pending"
	// StateSending: a create request may have been sent and its outcome is
	// not known (the process stopped, the connection broke, the server
	// answered 5xx). Such a row is in doubt until a lookup of its groupId
	// says whether it exists.
	StateSending = "sending"
	// StateCreated: DoubleTick accepted the create request, or the group
	// was found.
	StateCreated = "created"
	// StateFailed: DoubleTick refused the request (a 4xx other than 429):
	// nothing was created. A failed row is not sent again from this
	// journal; fix it in the failures file and import that.
	StateFailed = "failed"
)

// Journal records the rows of one import file and the state of each. It
// holds an exclusive lock on its file while open: two imports cannot run
// from one journal at once. It is safe for concurrent use.
type Journal struct {
	db   *sql.DB
	path string
}

// ErrJournalInUse is returned by OpenJournal when another import holds the
// journal.
var ErrJournalInUse = errors.New("the journal is in use by another import")

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
	line        INTEGER PRIMARY KEY,
	group_id    TEXT NOT NULL UNIQUE,
	waba_number TEXT NOT NULL,
	subject     TEXT NOT NULL,
	description TEXT NOT NULL,
	mode        TEXT NOT NULL,
	state       TEXT NOT NULL DEFAULT 'pending',
	sent_at     INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS rows_by_state ON rows (state, line);
`

// OpenJournal opens or creates the journal at path. Every change is
// committed with synchronous=FULL: once a row is recorded as being sent,
// that survives a crash or a power loss.
func OpenJournal(ctx context.Context, path string) (*Journal, error) {
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	dsn := sqliteDSN(path, "_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"+
		"&_pragma=locking_mode(EXCLUSIVE)&_txlock=immediate")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite writes one at a time anyway, and the exclusive
	// lock belongs to the connection that took it.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	// The first write takes the exclusive lock and keeps it until Close.
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		var serr *sqlite.Error
		if errors.As(err, &serr) && (serr.Code()&0xff == sqlite3.SQLITE_BUSY || serr.Code()&0xff == sqlite3.SQLITE_LOCKED) {
			return nil, fmt.Errorf("%s: %w", path, ErrJournalInUse)
		}
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &Journal{db: db, path: path}, nil
}

// Close releases the journal.
func (j *Journal) Close() error { return j.db.Close() }

// LastSent returns when the journal's last create request was sent, the
// zero time when none was.
func (j *Journal) LastSent(ctx context.Context) (time.Time, error) {
	var ms int64
	if err := j.db.QueryRowContext(ctx, `SELECT coalesce(max(sent_at), 0) FROM rows`).Scan(&ms); err != nil {
		return time.Time{}, err
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms), nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// LoadResult is what Load found in the file.
type LoadResult struct {
	// Rows is the number of rows in the file.
	Rows int
	// Reused is true when the journal already held this very file (the
	// same SHA-256), and the file was not read again.
	Reused bool
	// Problems is the number of problems found in the rows, each passed
	// to Load's report as it was found. When it is not zero, nothing was
	// loaded.
	Problems int
}

// ChangedFileError is returned by Load when the file differs from the one
// the journal was made from and some of that file's rows were already sent.
type ChangedFileError struct {
	Journal string
	Sent    int
}

// Error says what changed and what to do.
func (e *ChangedFileError) Error() string {
	return fmt.Sprintf("the file changed since the journal %s was made from it, and %d of its rows were already sent: "+
		"restore the file and run again to finish it, or put the new rows in a new file (each file has its own journal)", e.Journal, e.Sent)
}

// Load reads the import file at path into the journal: every row checked,
// a groupId seen twice refused, all in one transaction, so that the journal
// holds either every row of the file or none. Each problem found, a
// *RowError, is passed to report at once. It holds one row in memory at a
// time, however many rows and problems the file has. A file the journal
// already holds is not read again; a changed file replaces the journal's
// rows only while none of them has been sent.
func (j *Journal) Load(ctx context.Context, path string, report func(error)) (LoadResult, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return LoadResult{}, err
	}
	if res, reused, err := j.reuse(ctx, sum); reused || err != nil {
		return res, err
	}
	f, err := os.Open(path)
	if err != nil {
		return LoadResult{}, err
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		return LoadResult{}, err
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return LoadResult{}, err
	}
	defer tx.Rollback()
	res, err := loadRows(ctx, tx, rd, report)
	if err != nil || res.Problems > 0 {
		return res, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('sha256', ?)`, sum); err != nil {
		return LoadResult{}, err
	}
	return res, tx.Commit()
}

// reuse reports whether the journal already holds the file whose SHA-256
// is sum, with its row count. It refuses another file once a row of the
// one it holds was sent; a journal holding nothing sent may take another.
func (j *Journal) reuse(ctx context.Context, sum string) (LoadResult, bool, error) {
	var loaded string
	err := j.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'sha256'`).Scan(&loaded)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return LoadResult{}, false, err
	}
	if loaded == sum {
		var n int
		err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM rows`).Scan(&n)
		return LoadResult{Rows: n, Reused: true}, true, err
	}
	if loaded != "" {
		var sent int
		if err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM rows WHERE state != ?`, StatePending).Scan(&sent); err != nil {
			return LoadResult{}, false, err
		}
		if sent > 0 {
			return LoadResult{}, false, &ChangedFileError{Journal: j.path, Sent: sent}
		}
	}
	return LoadResult{}, false, nil
}

// loadRows replaces the journal's rows in tx with rd's, checking each and
// passing its problems to report; a groupId used twice is one.
func loadRows(ctx context.Context, tx *sql.Tx, rd *Reader, report func(error)) (LoadResult, error) {
	for _, q := range []string{`DELETE FROM rows`, `DELETE FROM meta`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return LoadResult{}, err
		}
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO rows (line, group_id, waba_number, subject, description, mode)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO NOTHING`)
	if err != nil {
		return LoadResult{}, err
	}
	defer insert.Close()
	firstLine, err := tx.PrepareContext(ctx, `SELECT line FROM rows WHERE group_id = ?`)
	if err != nil {
		return LoadResult{}, err
	}
	defer firstLine.Close()

	var res LoadResult
	for {
		row, problems, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return LoadResult{}, err
		}
		res.Rows++
		for _, p := range problems {
			res.Problems++
			report(p)
		}
		if row.Request.GroupID == "" {
			continue
		}
		r := row.Request
		inserted, err := insert.ExecContext(ctx, row.Line, r.GroupID, r.WABANumber, r.Subject, r.Description, string(r.JoinApprovalMode))
		if err != nil {
			return LoadResult{}, err
		}
		if n, _ := inserted.RowsAffected(); n == 0 {
			var first int
			if err := firstLine.QueryRowContext(ctx, r.GroupID).Scan(&first); err != nil {
				return LoadResult{}, err
			}
			res.Problems++
			report(&RowError{Line: row.Line, Field: ColumnGroupID,
				Problem: fmt.Sprintf("%q is also the groupId of line %d: each row needs its own", r.GroupID, first)})
		}
		if res.Rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return LoadResult{}, err
			}
		}
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Counts is how many rows are in each state.
type Counts struct {
	Pending, Sending, Created, Failed int
}

// Total is the number of rows.
func (c Counts) Total() int { return c.Pending + c.Sending + c.Created + c.Failed }

// Counts counts the rows in each state.
func (j *Journal) Counts(ctx context.Context) (Counts, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT state, count(*) FROM rows GROUP BY state`)
	if err != nil {
		return Counts{}, err
	}
	defer rows.Close()
	var c Counts
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return Counts{}, err
		}
		switch state {
		case StatePending:
			c.Pending = n
		case StateSending:
			c.Sending = n
		case StateCreated:
			c.Created = n
		case StateFailed:
			c.Failed = n
		}
	}
	return c, rows.Err()
}

// entry is a journal row.
type entry struct {
	Row
	State  string
	SentAt time.Time
	Error  string
}

// page returns up to n rows in state, after line, in file order.
func (j *Journal) page(ctx context.Context, state string, after, n int) ([]entry, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT line, group_id, waba_number, subject, description, mode, sent_at, error
		FROM rows WHERE state = ? AND line > ? ORDER BY line LIMIT ?`, state, after, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		e := entry{State: state}
		var mode string
		var sentAt int64
		r := &e.Request
		if err := rows.Scan(&e.Line, &r.GroupID, &r.WABANumber, &r.Subject, &r.Description, &mode, &sentAt, &e.Error); err != nil {
			return nil, err
		}
		r.JoinApprovalMode = doubletick.JoinApprovalMode(mode)
		e.SentAt = time.UnixMilli(sentAt)
		out = append(out, e)
	}
	return out, rows.Err()
}

// each calls f for every row in state, in file order, reading a page at a
// time; f may change the row's state.
func (j *Journal) each(ctx context.Context, state string, f func(entry) error) error {
	after := 0
	for {
		page, err := j.page(ctx, state, after, 256)
		if err != nil || len(page) == 0 {
			return err
		}
		for _, e := range page {
			if err := f(e); err != nil {
				return err
			}
			after = e.Line
		}
	}
}

// markSending records that the row's create request is about to be sent,
// at at. It is committed before the request leaves.
func (j *Journal) markSending(ctx context.Context, line int, at time.Time) error {
	_, err := j.db.ExecContext(ctx, `UPDATE rows SET state = ?, sent_at = ?, error = '' WHERE line = ?`,
		StateSending, at.UnixMilli(), line)
	return err
}

// mark records a row's outcome: its state, and why when it failed. The time
// it was last sent is kept.
func (j *Journal) mark(ctx context.Context, line int, state, why string) error {
	_, err := j.db.ExecContext(ctx, `UPDATE rows SET state = ?, error = ? WHERE line = ?`, state, why, line)
	return err
}

// WriteFailures writes every failed row to w in the import format, with
// the reason in the error column, and returns how many it wrote.
func (j *Journal) WriteFailures(ctx context.Context, w io.Writer) (int, error) {
	fw, err := NewFailuresWriter(w)
	if err != nil {
		return 0, err
	}
	n := 0
	err = j.each(ctx, StateFailed, func(e entry) error {
		n++
		return fw.Write(e.Request, strings.TrimSpace(e.Error))
	})
	if err != nil {
		return n, err
	}
	return n, fw.Flush()
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
