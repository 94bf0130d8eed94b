// Package sqlstore is a membership.Store in a SQL database through
// database/sql, for SQLite and PostgreSQL, with its migrations.
//
// Several processes may share one database: each change is applied in one
// transaction that locks the member's row, inserts the change's audit entry
// (a unique key makes a second delivery roll back) and writes the merged
// row.
//
// Times are stored as Unix nanoseconds (BIGINT, NULL for none), the same in
// both databases; in PostgreSQL, to_timestamp(joined_at / 1e9) reads one.
// The tables are doubletick_members, doubletick_membership_audit and
// doubletick_schema_migrations.
//
// The audit log grows by one row per distinct change. Deleting old rows
// (by applied_at) is safe: the members' rows alone decide their state, so a
// change whose row was deleted, if delivered again, changes no member; it is
// only logged again.
//
// For SQLite, open the database with package membership/sqlstore/sqlite,
// which sets the pragmas that concurrent writers need. For PostgreSQL, use
// any driver, such as github.com/jackc/pgx/v5/stdlib.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/membership"
)

// Dialect is the SQL database a Store talks to.
type Dialect int

// The dialects a Store speaks.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Store is a membership.Store in a SQL database. It is safe for concurrent
// use, and several Stores, in one process or many, may share a database.
type Store struct {
	db *sql.DB
	d  Dialect
	q  queries
}

type queries struct {
	insertAudit, lockMember, updateMember string
	member, members, audit                string
}

// New returns a Store on db. Run [Store.Migrate] once before using it.
func New(db *sql.DB, d Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if d != SQLite && d != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown %v", d)
	}
	const cols = "state, joined_at, left_at, removed_at"
	return &Store{db: db, d: d, q: queries{
		insertAudit: d.bind(`INSERT INTO doubletick_membership_audit
			(group_id, phone, state, at, source, before_state, after_state, applied_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (group_id, phone, state, at) DO NOTHING RETURNING seq`),
		// Inserts the row if it is missing and locks it either way.
		lockMember: d.bind(`INSERT INTO doubletick_members (group_id, phone, state) VALUES (?, ?, '')
			ON CONFLICT (group_id, phone) DO UPDATE SET state = doubletick_members.state
			RETURNING ` + cols),
		updateMember: d.bind(`UPDATE doubletick_members SET state = ?, joined_at = ?, left_at = ?, removed_at = ?
			WHERE group_id = ? AND phone = ?`),
		member:  d.bind(`SELECT ` + cols + ` FROM doubletick_members WHERE group_id = ? AND phone = ? AND state <> ''`),
		members: d.bind(`SELECT phone, ` + cols + ` FROM doubletick_members WHERE group_id = ? AND state <> '' ORDER BY phone`),
		audit: d.bind(`SELECT seq, phone, state, at, source, before_state, after_state, applied_at
			FROM doubletick_membership_audit WHERE group_id = ? ORDER BY seq`),
	}}, nil
}

// bind rewrites the ? placeholders of q as the dialect wants them.
func (d Dialect) bind(q string) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrations are the schema's versions, in order; SEQ stands for the
// dialect's auto-incrementing key.
var migrations = [][]string{{
	`CREATE TABLE doubletick_members (
		group_id   TEXT NOT NULL,
		phone      TEXT NOT NULL,
		state      TEXT NOT NULL,
		joined_at  BIGINT,
		left_at    BIGINT,
		removed_at BIGINT,
		PRIMARY KEY (group_id, phone)
	)`,
	`CREATE TABLE doubletick_membership_audit (
		seq          SEQ,
		group_id     TEXT NOT NULL,
		phone        TEXT NOT NULL,
		state        TEXT NOT NULL,
		at           BIGINT NOT NULL,
		source       TEXT NOT NULL,
		before_state TEXT NOT NULL,
		after_state  TEXT NOT NULL,
		applied_at   BIGINT NOT NULL,
		UNIQUE (group_id, phone, state, at)
	)`,
	`CREATE INDEX doubletick_membership_audit_group ON doubletick_membership_audit (group_id, seq)`,
}}

// Migrate brings the schema up to date. It is safe to run from several
// processes at once, and does nothing when the schema is current.
func (s *Store) Migrate(ctx context.Context) error {
	seq := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if s.d == Postgres {
		seq = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d == Postgres {
			// Serialises concurrent migrations; SQLite's write lock does it there.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7283461902)`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS doubletick_schema_migrations
			(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM doubletick_schema_migrations`).Scan(&version); err != nil {
			return err
		}
		for v := version + 1; v <= len(migrations); v++ {
			for _, stmt := range migrations[v-1] {
				if _, err := tx.ExecContext(ctx, strings.ReplaceAll(stmt, "SEQ", seq)); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO doubletick_schema_migrations (version, applied_at) VALUES (?, ?)`),
				v, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}

// errDuplicate rolls back the transaction of a change applied before.
var errDuplicate = errors.New("duplicate")

// Apply records and merges c in one transaction; see membership.Store.
func (s *Store) Apply(ctx context.Context, c membership.Change, appliedAt time.Time) (membership.AuditEntry, bool, error) {
	if err := c.Validate(); err != nil {
		return membership.AuditEntry{}, false, err
	}
	c.At = c.At.UTC()
	e := membership.AuditEntry{Change: c, AppliedAt: appliedAt}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The member's row lock comes first: every transaction on one
		// member, duplicates included, waits for the one before it.
		before, err := scanMember(tx.QueryRowContext(ctx, s.q.lockMember, c.GroupID, c.Phone), nil)
		if err != nil {
			return err
		}
		after := before.Merge(c)
		e.Before, e.After = before.State, after.State
		err = tx.QueryRowContext(ctx, s.q.insertAudit, c.GroupID, c.Phone, string(c.State), c.At.UnixNano(),
			string(c.Source), string(e.Before), string(e.After), appliedAt.UnixNano()).Scan(&e.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			return errDuplicate // applied before: roll back the lock's write
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q.updateMember, string(after.State),
			nanos(after.JoinedAt), nanos(after.LeftAt), nanos(after.RemovedAt), c.GroupID, c.Phone)
		return err
	})
	switch {
	case errors.Is(err, errDuplicate):
		return membership.AuditEntry{}, false, nil
	case err != nil:
		return membership.AuditEntry{}, false, err
	}
	return e, true, nil
}

// Member returns one participant; see membership.Store.
func (s *Store) Member(ctx context.Context, groupID, phone string) (membership.Member, bool, error) {
	m, err := scanMember(s.db.QueryRowContext(ctx, s.q.member, groupID, phone), nil)
	if errors.Is(err, sql.ErrNoRows) {
		return membership.Member{}, false, nil
	}
	if err != nil {
		return membership.Member{}, false, fmt.Errorf("sqlstore: %w", err)
	}
	m.GroupID, m.Phone = groupID, phone
	return m, true, nil
}

// Members returns a group's participants sorted by phone; see
// membership.Store.
func (s *Store) Members(ctx context.Context, groupID string) ([]membership.Member, error) {
	rows, err := s.db.QueryContext(ctx, s.q.members, groupID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	defer rows.Close()
	var ms []membership.Member
	for rows.Next() {
		var p string
		m, err := scanMember(rows, &p)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
		m.GroupID, m.Phone = groupID, p
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return ms, nil
}

// Audit returns a group's audit log in the order applied; see
// membership.Store. With concurrent appliers, Seq follows the order in which
// their transactions began.
func (s *Store) Audit(ctx context.Context, groupID string) ([]membership.AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, s.q.audit, groupID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	defer rows.Close()
	var out []membership.AuditEntry
	for rows.Next() {
		e := membership.AuditEntry{Change: membership.Change{GroupID: groupID}}
		var at, appliedAt int64
		if err := rows.Scan(&e.Seq, &e.Phone, &e.State, &at, &e.Source, &e.Before, &e.After, &appliedAt); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
		e.At, e.AppliedAt = time.Unix(0, at).UTC(), time.Unix(0, appliedAt).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return out, nil
}

// scanMember reads state and the three times, preceded by the phone when
// phone is not nil.
func scanMember(row interface{ Scan(...any) error }, phone *string) (membership.Member, error) {
	var (
		m                 membership.Member
		state             string
		joined, left, rem sql.NullInt64
	)
	dest := []any{&state, &joined, &left, &rem}
	if phone != nil {
		dest = append([]any{phone}, dest...)
	}
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	m.State = membership.State(state)
	m.JoinedAt, m.LeftAt, m.RemovedAt = fromNanos(joined), fromNanos(left), fromNanos(rem)
	return m, nil
}

func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// transient reports whether err is a lost race worth running again.
func (d Dialect) transient(err error) bool {
	if d == SQLite {
		var coded interface{ Code() int }
		if errors.As(err, &coded) {
			switch coded.Code() & 0xff { // the primary result code
			case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
				return true
			}
		}
		return false
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		switch state.SQLState() {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// inTx runs f in a transaction and commits it, or rolls it back when f
// fails. While the database answers that the transaction lost a race it may
// win later (SQLite's "database is locked" when other processes held the
// write lock past the busy timeout, PostgreSQL's serialization failure or
// deadlock), it runs f again in a new transaction, waiting a little longer
// each time, until ctx ends.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	wait := time.Millisecond
	for {
		err := s.once(ctx, f)
		if err == nil || !s.d.transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait + rand.N(wait)):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// once runs f in one transaction.
func (s *Store) once(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	if err := f(tx); err != nil {
		return errors.Join(fmt.Errorf("sqlstore: %w", err), rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("sqlstore: rollback: %w", err)
	}
	return nil
}
