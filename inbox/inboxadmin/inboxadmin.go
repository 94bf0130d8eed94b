// Package inboxadmin is what an operator does to an inbox's database from a
// shell: open it without running any callback, and read or act on it with
// output for people (tables) or programs (JSON). The doubletick CLI's
// "inbox" commands and the crmsync example's flags are built on it, and an
// app that runs an inbox can give its own operators the same commands.
package inboxadmin

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/doubletick-go/doubletick/inbox"
)

// Inbox is what the commands need of an inbox: an [inbox.Admin] (or an
// [inbox.Inbox]), of either driver.
type Inbox interface {
	Stats(context.Context) (inbox.Stats, error)
	DeadLetters(context.Context, int) ([]inbox.DeadLetter, error)
	Replay(context.Context, int64) error
	ReplayAll(context.Context) (int, error)
	PurgeDeadLetters(context.Context, time.Time) (int, error)
}

// Open opens the inbox in the SQLite file at sqlitePath, or else in the
// PostgreSQL database at postgresURL, to be read and acted on: no worker
// runs in this process, and no migration is run. Close it with the
// function returned.
func Open(ctx context.Context, sqlitePath, postgresURL string) (Inbox, func(), error) {
	switch {
	case sqlitePath != "":
		db, err := openExistingSQLite(ctx, sqlitePath)
		if err != nil {
			return nil, nil, err
		}
		admin, err := newAdmin(riversqlite.New(db))
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return admin, func() { db.Close() }, nil
	case postgresURL != "":
		pool, err := pgxpool.New(ctx, postgresURL)
		if err != nil {
			return nil, nil, errors.New("inboxadmin: the PostgreSQL URL does not parse") // its error would quote the password
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("inboxadmin: reaching PostgreSQL: %w", err)
		}
		admin, err := newAdmin(riverpgxv5.New(pool))
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return admin, pool.Close, nil
	}
	return nil, nil, errors.New("inboxadmin: no database: give a SQLite file or a PostgreSQL URL")
}

// ForOrg returns in limited to the deliveries of the organisation id (see
// [inbox.Admin.ForOrg]), for an inbox that serves many organisations. in is
// an inbox.Admin or an inbox.Inbox of either driver, as [Open] returns.
func ForOrg(in Inbox, id string) (Inbox, error) {
	var (
		admin Inbox
		err   error
	)
	switch a := in.(type) {
	case interface {
		ForOrg(string) (*inbox.Admin[*sql.Tx], error)
	}:
		admin, err = asInbox(a.ForOrg(id))
	case interface {
		ForOrg(string) (*inbox.Admin[pgx.Tx], error)
	}:
		admin, err = asInbox(a.ForOrg(id))
	default:
		return nil, fmt.Errorf("inboxadmin: ForOrg: %T is neither an inbox.Admin nor an inbox.Inbox", in)
	}
	return admin, err
}

// asInbox is an Admin as an Inbox, nil (not a nil *Admin) on error.
func asInbox[TTx any](a *inbox.Admin[TTx], err error) (Inbox, error) {
	if err != nil {
		return nil, err
	}
	return a, nil
}

// newAdmin returns the Admin of the inbox in driver's database, through a
// River client that runs no worker.
func newAdmin[TTx any](driver riverdriver.Driver[TTx]) (*inbox.Admin[TTx], error) {
	client, err := river.NewClient(driver, &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("inboxadmin: %w", err)
	}
	return inbox.NewAdmin(client)
}

// openExistingSQLite opens an inbox's SQLite file, which must exist: an
// operator's typo must not create an empty inbox that reports "all clear".
func openExistingSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("inboxadmin: %w", err)
	}
	return inbox.OpenSQLite(ctx, path)
}

// Status writes in's counts: a table, or JSON with asJSON.
func Status(ctx context.Context, in Inbox, w io.Writer, asJSON bool) error {
	st, err := in.Stats(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, map[string]any{
			"waiting": st.Waiting, "running": st.Running, "retrying": st.Retrying, "dead": st.Dead,
			"oldestWaitingSeconds": st.OldestWaiting.Seconds(), "storedBytes": st.StoredBytes,
		})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "waiting\t%d\n", st.Waiting)
	fmt.Fprintf(tw, "running\t%d\n", st.Running)
	fmt.Fprintf(tw, "retrying\t%d\n", st.Retrying)
	fmt.Fprintf(tw, "dead letters\t%s\n", capped(st.Dead))
	fmt.Fprintf(tw, "oldest waiting\t%s\n", st.OldestWaiting.Round(time.Millisecond))
	fmt.Fprintf(tw, "bytes kept\t%d\n", st.StoredBytes)
	return tw.Flush()
}

// capped writes a count that stops at inbox.StatsCap.
func capped(n int) string {
	if n >= inbox.StatsCap {
		return fmt.Sprintf("%d or more", n)
	}
	return fmt.Sprint(n)
}

// deadLetter is a dead letter as DeadLetters shows it.
type deadLetter struct {
	ID        int64     `json:"id"`
	Org       string    `json:"org,omitempty"`
	Event     string    `json:"event"`
	GroupID   string    `json:"groupId,omitempty"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError"`
	DiedAt    time.Time `json:"diedAt,omitzero"`
}

// DeadLetters writes up to limit dead letters, oldest first: each one's
// event type and group, not its body or dedup key, which hold phones, names
// and message texts (they stay in the database).
func DeadLetters(ctx context.Context, in Inbox, w io.Writer, limit int, asJSON bool) error {
	dead, err := in.DeadLetters(ctx, limit)
	if err != nil {
		return err
	}
	out := make([]deadLetter, len(dead))
	for i, d := range dead {
		out[i] = deadLetter{ID: d.ID, Org: d.Delivery.Org, Event: "(unreadable)", Attempts: d.Attempts, LastError: d.LastError, DiedAt: d.DiedAt}
		if ev, err := d.Delivery.Event(); err == nil {
			out[i].Event, out[i].GroupID = string(ev.Type()), ev.Group()
		}
	}
	if asJSON {
		return writeJSON(w, out)
	}
	// An inbox of many organisations has a column for them.
	orgs := slices.ContainsFunc(out, func(d deadLetter) bool { return d.Org != "" })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "ID\t")
	if orgs {
		fmt.Fprint(tw, "ORG\t")
	}
	fmt.Fprintln(tw, "DIED\tATTEMPTS\tEVENT\tGROUP\tLAST ERROR")
	for _, d := range out {
		fmt.Fprintf(tw, "%d\t", d.ID)
		if orgs {
			fmt.Fprintf(tw, "%s\t", cmp.Or(printable(d.Org), "-"))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", d.DiedAt.Format(time.RFC3339), d.Attempts,
			printable(d.Event), printable(d.GroupID), printable(d.LastError))
	}
	return tw.Flush()
}

// printable returns s for the table: the event type and group come from a
// payload and the error from a callback, so control characters (terminal
// escapes, and tabs and newlines that would forge columns or rows) are
// shown escaped, as Go quotes them.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// Replay queues the dead letter id again, and says so.
func Replay(ctx context.Context, in Inbox, w io.Writer, id int64, asJSON bool) error {
	if err := in.Replay(ctx, id); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, map[string]any{"replayed": []int64{id}})
	}
	_, err := fmt.Fprintf(w, "dead letter %d queued again\n", id)
	return err
}

// ReplayAll queues every dead letter again, and says how many.
func ReplayAll(ctx context.Context, in Inbox, w io.Writer, asJSON bool) error {
	n, err := in.ReplayAll(ctx)
	return writeCount(w, asJSON, n, err, "replayedCount", "%d dead letter(s) queued again\n")
}

// Purge deletes the dead letters that died more than olderThan ago, and
// says how many.
func Purge(ctx context.Context, in Inbox, w io.Writer, olderThan time.Duration, asJSON bool) error {
	if olderThan < 0 {
		return fmt.Errorf("inboxadmin: purge: older than %s: want 0 or more", olderThan)
	}
	n, err := in.PurgeDeadLetters(ctx, time.Now().Add(-olderThan))
	return writeCount(w, asJSON, n, err, "purgedCount", "%d dead letter(s) older than "+olderThan.String()+" deleted\n")
}

// writeCount says how many deliveries an action took, even when it
// stopped with err part-way: {key: n} with asJSON, else text with n in it.
// It returns err, or else the error of writing.
func writeCount(w io.Writer, asJSON bool, n int, err error, key, text string) error {
	var werr error
	if asJSON {
		werr = writeJSON(w, map[string]any{key: n})
	} else {
		_, werr = fmt.Fprintf(w, text, n)
	}
	if err != nil {
		return err
	}
	return werr
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
