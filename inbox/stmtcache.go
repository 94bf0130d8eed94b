package inbox

import (
	"context"
	"database/sql/driver"
	"errors"
)

// stmtCacheSize bounds the prepared statements kept per connection. River's
// SQLite driver runs a few dozen distinct statements; a larger set keeps the
// most recently prepared ones.
const stmtCacheSize = 128

// stmtCacheConnector opens connections that keep each statement they run
// prepared, so that running it again skips SQLite's parser.
//
// Why: modernc.org/sqlite prepares a statement anew for each query not run
// through a database/sql Stmt, and River's SQLite driver runs its queries
// that way, one per job when it completes a batch (SQLite has no array
// parameters). Parsing was three quarters of a completion batch's time:
// at a steady 200 deliveries/s, River's batch of about 50 completions every
// 250 ms held the one connection for 25–35 ms, and the inserts that
// waited behind it made the ack p99 (BenchmarkSteady).
type stmtCacheConnector struct {
	driver.Connector
}

// Connect implements driver.Connector.
func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(cacheableConn)
	if !ok { // not modernc.org/sqlite's connection: use it as it is
		return conn, nil
	}
	return &stmtCacheConn{cacheableConn: inner, stmts: map[string]*cachedStmt{}}, nil
}

// cacheableConn is what stmtCacheConn needs of the connection it wraps, all
// of which modernc.org/sqlite's connection implements.
type cacheableConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtCacheConn is a connection with a cache of prepared statements keyed
// by their text. database/sql uses a connection from one goroutine at a
// time, so the cache needs no lock. A statement whose rows are still open
// (the same query run again inside a loop over its own results) is not
// shared: the second run prepares a statement of its own.
type stmtCacheConn struct {
	cacheableConn
	stmts map[string]*cachedStmt
	order []string // the keys of stmts, oldest first
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // its rows are open
}

// prepared returns the cached statement for query, preparing it if needed;
// nil when it is busy or cannot be cached.
func (c *stmtCacheConn) prepared(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{}
	var ok bool
	if s.stmt, ok = st.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}); !ok {
		st.Close()
		return nil, nil
	}
	if len(c.order) == stmtCacheSize {
		oldest := c.stmts[c.order[0]]
		delete(c.stmts, c.order[0])
		c.order = c.order[1:]
		if !oldest.busy { // a busy one is closed when its rows are
			oldest.stmt.Close()
		}
	}
	c.stmts[query] = s
	c.order = append(c.order, query)
	return s, nil
}

// ExecContext implements driver.ExecerContext.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.cacheableConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.cacheableConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, release: func() {
		s.busy = false
		if c.stmts[query] != s { // evicted meanwhile
			s.stmt.Close()
		}
	}}, nil
}

// Close closes the cached statements and the connection.
func (c *stmtCacheConn) Close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
	}
	clear(c.stmts)
	c.order = nil
	return errors.Join(append(errs, c.cacheableConn.Close())...)
}

// cachedRows gives its statement back to the cache when closed.
type cachedRows struct {
	driver.Rows
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}
