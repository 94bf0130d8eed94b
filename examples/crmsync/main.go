// Command crmsync is a webhook receiver that keeps a CRM's record of who is
// in which WhatsApp group, in a SQLite file or a PostgreSQL database, right
// through duplicated, reordered and lost webhooks.
//
//	cd examples/crmsync   # its own module
//	go run . -demo                       # offline, against the SDK's fake API
//	go run . -addr 127.0.0.1:8080         # SQLite file crmsync.db
//	go run . -store postgres              # PostgreSQL at $DATABASE_URL
//
// Each webhook is stored in a durable inbox (package inbox, on River) in the
// same database before it is acknowledged, and applied from there by a
// membership.Tracker; several replicas may share one PostgreSQL database.
// With DOUBLETICK_API_KEY and -waba set, every group of that number is
// reconciled from the participants endpoint at start and then every
// -reconcile, which repairs what lost webhooks missed.
//
//	go run . -dead-letters     # list the webhooks whose every attempt failed
//	go run . -replay all       # run them again (or -replay <id>)
//
// Secrets come from the environment, never from flags: DOUBLETICK_API_KEY,
// DOUBLETICK_WEBHOOK_SECRET (the bearer token registered with the webhook)
// and DATABASE_URL (it may hold a password).
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/inbox/inboxadmin"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
	"github.com/doubletick-go/doubletick/otel/otelinbox"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv, nil); err != nil {
		fmt.Fprintln(os.Stderr, "crmsync:", err)
		os.Exit(2)
	}
}

// run runs the receiver, or the demo; getenv reads the environment, and
// ready, when not nil, receives the address the receiver listens on.
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string, ready chan<- string) error {
	fs := flag.NewFlagSet("crmsync", flag.ContinueOnError)
	fs.SetOutput(out)
	storeKind := fs.String("store", "sqlite", "where to keep members: sqlite, or postgres at $DATABASE_URL")
	dbPath := fs.String("db", "crmsync.db", "the SQLite file, with -store sqlite")
	addr := fs.String("addr", "127.0.0.1:8080", "address to receive webhooks on")
	ui := fs.String("ui", "", "serve River UI for the inbox on this `address`, e.g. 127.0.0.1:8081: loopback only, unless "+envUICredential+" holds user:password for HTTP basic auth")
	path := fs.String("path", "/doubletick/webhooks", "URL path of the webhook")
	every := fs.Duration("reconcile", 15*time.Minute, "how often to reconcile every group of -waba from the API (0: never); needs DOUBLETICK_API_KEY")
	waba := fs.String("waba", "", "the WhatsApp Business number whose groups are reconciled, digits with country code")
	demo := fs.Bool("demo", false, "run offline against the SDK's fake API: deliver duplicated, reversed and lost webhooks, reconcile, print the result")
	deadLetters := fs.Bool("dead-letters", false, "list the webhooks kept as dead letters, and exit")
	replay := fs.String("replay", "", "run a dead letter again, by `id`, or all of them with \"all\", and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *demo && !isSet(fs, "db") {
		// The demo leaves nothing behind unless told where to write.
		dir, err := os.MkdirTemp("", "crmsync")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "crmsync.db")
	}

	d, err := openDB(ctx, *storeKind, *dbPath, getenv)
	if err != nil {
		return err
	}
	defer d.close()
	store, err := sqlstore.New(d.db, d.dialect)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	switch {
	case *demo:
		return runDemo(ctx, store, d, out)
	case *deadLetters || *replay != "":
		return manageDeadLetters(ctx, d, *replay, out)
	}
	return serve(ctx, store, d, *addr, *path, *ui, reconcile{*waba, *every}, out, getenv, ready)
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// database is where the members and the inbox live: one SQLite file, or
// one PostgreSQL database.
type database struct {
	db      *sql.DB // the membership store's
	dialect sqlstore.Dialect
	// inbox stores webhooks in the same database and runs h's callbacks.
	inbox func(ctx context.Context, h *webhooks.Handler, opts ...inbox.Option) (webhookInbox, error)
	close func()
}

// webhookInbox is an inbox.Inbox of either driver.
type webhookInbox interface {
	http.Handler
	Start(context.Context) error
	Stop(context.Context) error
	Idle(context.Context) (bool, error)
	inboxadmin.Inbox
}

// admin opens the inbox to be read and acted on: no worker runs, so its
// callbacks are never needed.
func (d *database) admin(ctx context.Context) (inboxadmin.Inbox, error) {
	v, err := webhooks.NewBearerVerifier("not-used-by-this-command")
	if err != nil {
		return nil, err
	}
	h, err := webhooks.NewHandler(v)
	if err != nil {
		return nil, err
	}
	return d.inbox(ctx, h, inbox.WithoutWorkers())
}

func openDB(ctx context.Context, kind, path string, getenv func(string) string) (*database, error) {
	switch kind {
	case "sqlite":
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		// River's SQLite driver wants a pool of one connection of its own.
		riverDB, err := inbox.OpenSQLite(ctx, path)
		if err != nil {
			db.Close()
			return nil, err
		}
		return &database{db: db, dialect: sqlstore.SQLite,
			inbox: func(ctx context.Context, h *webhooks.Handler, opts ...inbox.Option) (webhookInbox, error) {
				return inbox.New(ctx, riversqlite.New(riverDB), h, opts...)
			},
			close: func() { riverDB.Close(); db.Close() }}, nil
	case "postgres":
		dsn := getenv("DATABASE_URL")
		if dsn == "" {
			return nil, errors.New("-store postgres needs DATABASE_URL")
		}
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, err
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, err
		}
		db := stdlib.OpenDBFromPool(pool)
		return &database{db: db, dialect: sqlstore.Postgres,
			inbox: func(ctx context.Context, h *webhooks.Handler, opts ...inbox.Option) (webhookInbox, error) {
				return inbox.New(ctx, riverpgxv5.New(pool), h, opts...)
			},
			close: func() { db.Close(); pool.Close() }}, nil
	}
	return nil, fmt.Errorf("-store %q: want sqlite or postgres", kind)
}

// manageDeadLetters lists the dead letters, or replays one or all of them,
// with the commands the doubletick CLI's "inbox" commands run.
func manageDeadLetters(ctx context.Context, d *database, replay string, out io.Writer) error {
	in, err := d.admin(ctx)
	if err != nil {
		return err
	}
	switch replay {
	case "":
		return inboxadmin.DeadLetters(ctx, in, out, 1000, false)
	case "all":
		return inboxadmin.ReplayAll(ctx, in, out, false)
	}
	id, err := strconv.ParseInt(replay, 10, 64)
	if err != nil {
		return fmt.Errorf("-replay %q: want a dead letter's id or \"all\"", replay)
	}
	return inboxadmin.Replay(ctx, in, out, id, false)
}

// reconcile is which groups to reconcile, and how often.
type reconcile struct {
	waba  string
	every time.Duration
}

// serve receives webhooks until ctx ends, and reconciles on a schedule when
// it has an API key and a WABA number.
func serve(ctx context.Context, store membership.Store, d *database, addr, path, uiAddr string, rec reconcile, out io.Writer, getenv func(string) string, ready chan<- string) error {
	secret := getenv("DOUBLETICK_WEBHOOK_SECRET")
	if secret == "" {
		return errors.New("DOUBLETICK_WEBHOOK_SECRET must hold the bearer token registered with the webhook")
	}
	verifier, err := webhooks.NewBearerVerifier(secret)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	tel, shutdownTelemetry, err := setupTelemetry(ctx, getenv)
	if err != nil {
		return fmt.Errorf("OpenTelemetry, from the OTEL_* variables: %w", err)
	}
	clientOpts := []doubletick.Option{doubletick.WithLogger(log)}
	handlerOpts := []webhooks.HandlerOption{webhooks.WithLogger(log)}
	if tel != nil {
		defer func() {
			flush, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := shutdownTelemetry(flush); err != nil {
				log.Warn("flushing telemetry", "error", err)
			}
		}()
		clientOpts = append(clientOpts, doubletick.WithCallObserver(tel.CallObserver()))
		handlerOpts = append(handlerOpts, webhooks.WithObserver(tel.WebhookObserver()))
		log.Info("telemetry on, configured by the OTEL_* variables")
	}
	opts := []membership.Option{membership.WithLogger(log)}
	var client *doubletick.Client
	if key := getenv("DOUBLETICK_API_KEY"); key != "" {
		if client, err = doubletick.NewClient(key, clientOpts...); err != nil {
			return err
		}
		opts = append(opts, membership.WithParticipants(client.Participants))
	}
	tracker, err := membership.NewTracker(store, opts...)
	if err != nil {
		return err
	}
	handler, err := webhooks.NewHandler(verifier, append(handlerOpts, webhooks.OnEvent(tracker.Handle))...)
	if err != nil {
		return err
	}
	inboxOpts := []inbox.Option{inbox.WithLogger(log)}
	if tel != nil {
		obs, err := otelinbox.Observer(tel)
		if err != nil {
			return err
		}
		inboxOpts = append(inboxOpts, inbox.WithObserver(obs))
	}
	in, err := d.inbox(ctx, handler, inboxOpts...)
	if err != nil {
		return err
	}
	if tel != nil {
		if err := otelinbox.ObserveStats(tel, in); err != nil {
			return err
		}
	}
	if err := in.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Stop(stopCtx)
	}()
	if uiAddr != "" {
		stopUI, err := serveUI(ctx, in, uiAddr, getenv(envUICredential), log, nil)
		if err != nil {
			return err
		}
		defer stopUI()
	}
	mux := http.NewServeMux()
	mux.Handle(path, in)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("receiving webhooks", "url", "http://"+ln.Addr().String()+path)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	switch {
	case client == nil || rec.every <= 0:
		log.Info("reconcile off: it needs DOUBLETICK_API_KEY and a positive -reconcile")
	case rec.waba == "":
		log.Info("reconcile off: name the WhatsApp Business number with -waba")
	default:
		go reconcileEvery(ctx, client, tracker, rec, log)
	}

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// reconcileEvery reconciles every group of a WABA number now and then on
// schedule.
func reconcileEvery(ctx context.Context, c *doubletick.Client, tracker *membership.Tracker, rec reconcile, log *slog.Logger) {
	t := time.NewTicker(rec.every)
	defer t.Stop()
	for {
		for g, err := range c.Groups.All(ctx, rec.waba, nil) {
			if err != nil {
				log.Error("listing groups", "error", err)
				break
			}
			r, err := tracker.Reconcile(ctx, g.GroupID)
			if err != nil {
				log.Error("reconciling", "group", g.GroupID, "error", err)
				continue
			}
			if len(r.Applied) > 0 || len(r.Unlisted) > 0 {
				log.Info("reconciled", "group", g.GroupID, "applied", len(r.Applied), "changed", len(r.Changed()), "unlisted", len(r.Unlisted))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runDemo plays a group's life through the fake API and a real receiver on
// loopback: every webhook twice and in reverse order, then one lost, then a
// reconcile; and prints the members and the audit log.
func runDemo(ctx context.Context, store membership.Store, d *database, out io.Writer) error {
	api := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1))
	defer api.Close()
	client := api.Client()
	tracker, err := membership.NewTracker(store, membership.WithParticipants(client.Participants))
	if err != nil {
		return err
	}
	token := rand.Text()
	verifier, err := webhooks.NewBearerVerifier(token)
	if err != nil {
		return err
	}
	handler, err := webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle))
	if err != nil {
		return err
	}
	in, err := d.inbox(ctx, handler)
	if err != nil {
		return err
	}
	if err := in.Start(ctx); err != nil {
		return err
	}
	defer in.Stop(context.Background())
	// lose drops deliveries unseen, as if DoubleTick never sent them.
	var lose atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	receiver := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lose.Load() {
			return
		}
		in.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go receiver.Serve(ln)
	defer receiver.Close()
	if err := api.AddReceiver(doubleticktest.Receiver{URL: "http://" + ln.Addr().String(),
		Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: token}}); err != nil {
		return err
	}

	const group = "crm_demo"
	api.Hold()
	api.DuplicateWebhooks(true)
	if _, _, err := client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "CRM demo", GroupID: group}); err != nil {
		return err
	}
	if err := errors.Join(
		api.Join(group, "+919876543210", "Asha"),
		api.Join(group, "+15551230000", "Bo"),
		api.Leave(group, "+919876543210"),
	); err != nil {
		return err
	}
	api.Release(true)
	if err := api.WaitDeliveries(ctx, 8); err != nil {
		return err
	}
	fmt.Fprintln(out, "4 webhooks delivered twice each, newest first.")

	lose.Store(true)
	if err := api.Join(group, "+447700900123", "Cy"); err != nil {
		return err
	}
	if err := api.WaitDeliveries(ctx, 10); err != nil {
		return err
	}
	fmt.Fprintln(out, "Cy's GROUP_PARTICIPANT_JOINED was lost.")
	if err := waitIdle(ctx, in); err != nil {
		return err
	}
	report, err := tracker.Reconcile(ctx, group)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Reconcile listed %d participants and applied %d change(s) the webhooks missed.\n\n", report.Listed, len(report.Applied))
	return printGroup(ctx, store, group, out)
}

// waitIdle waits until the inbox has handled every stored webhook.
func waitIdle(ctx context.Context, in webhookInbox) error {
	for {
		idle, err := in.Idle(ctx)
		if err != nil || idle {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// printGroup prints a group's members and audit log.
func printGroup(ctx context.Context, store membership.Store, group string, out io.Writer) error {
	members, err := store.Members(ctx, group)
	if err != nil {
		return err
	}
	audit, err := store.Audit(ctx, group)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "members of %s\tstate\tjoined\tleft\tremoved\n", group)
	for _, m := range members {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Phone, m.State, clock(m.JoinedAt), clock(m.LeftAt), clock(m.RemovedAt))
	}
	fmt.Fprintf(w, "\naudit\tsource\tchange\tbefore\tafter\n")
	for _, e := range audit {
		before := string(e.Before)
		if before == "" {
			before = "-"
		}
		fmt.Fprintf(w, "%d %s\t%s\t%s\t%s\t%s\n", e.Seq, e.Phone, e.Source, e.State, before, e.After)
	}
	return w.Flush()
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05.000")
}
