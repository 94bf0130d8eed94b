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
//
// One process serves many DoubleTick organisations with -orgs acme,globex:
// each receives at -path/ORG (/doubletick/webhooks/acme), verified with its
// own DOUBLETICK_WEBHOOK_SECRET_ACME, and, with DOUBLETICK_API_KEY_ACME,
// reconciles every group of each of its WhatsApp numbers. One inbox holds
// every organisation's webhooks; each organisation's groups are kept apart
// in the store. go run . -demo -orgs acme,globex shows it offline.
package main

import (
	"cmp"
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
	"strings"
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
	ui := fs.String("ui", "", "serve River UI for the inbox on this `address`, e.g. 127.0.0.1:8081: loopback only, unless "+envUICredential+" holds user:password for HTTP basic auth and it is served over TLS")
	uiCert := fs.String("ui-tls-cert", "", "with -ui-tls-key, serve River UI over TLS with this certificate `file` (PEM)")
	uiKey := fs.String("ui-tls-key", "", "the private key `file` (PEM) of -ui-tls-cert")
	uiProxy := fs.Bool("ui-tls-proxy", false, "a proxy in front of -ui terminates TLS: serve it over plain HTTP on a non-loopback address")
	path := fs.String("path", "/doubletick/webhooks", "URL path of the webhook")
	every := fs.Duration("reconcile", 15*time.Minute, "how often to reconcile every group of -waba from the API (0: never); needs DOUBLETICK_API_KEY")
	waba := fs.String("waba", "", "the WhatsApp Business number whose groups are reconciled, digits with country code")
	demo := fs.Bool("demo", false, "run offline against the SDK's fake API: deliver duplicated, reversed and lost webhooks, reconcile, print the result")
	deadLetters := fs.Bool("dead-letters", false, "list the webhooks kept as dead letters, and exit")
	replay := fs.String("replay", "", "run a dead letter again, by `id`, or all of them with \"all\", and exit")
	baseURL := fs.String("base-url", "", "the API's `address` (default $DOUBLETICK_BASE_URL, or DoubleTick's): doubletick fake's, say")
	maxAttempts := fs.Int("max-attempts", 25, "how many times a webhook's callbacks run before it is kept as a dead letter (with River's backoff, 25 span about three weeks)")
	orgList := fs.String("orgs", "", "serve these DoubleTick `organisations` (IDs separated by commas) at -path/ID, each with its own DOUBLETICK_WEBHOOK_SECRET_ID and DOUBLETICK_API_KEY_ID")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	orgs, err := parseOrgs(*orgList)
	if err != nil {
		return err
	}
	if len(orgs) > 0 && *waba != "" {
		return errors.New("-waba names one organisation's number: with -orgs, each organisation's numbers are listed from its channels")
	}
	if *maxAttempts < 1 {
		return fmt.Errorf("-max-attempts %d: want 1 or more", *maxAttempts)
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
		return runDemo(ctx, store, d, orgs, out)
	case *deadLetters || *replay != "":
		return manageDeadLetters(ctx, d, *replay, out)
	}
	return serve(ctx, store, d, settings{orgs: orgs, addr: *addr, path: *path, rec: reconcile{*waba, *every},
		ui:      uiConfig{addr: *ui, credential: getenv(envUICredential), certFile: *uiCert, keyFile: *uiKey, tlsProxy: *uiProxy},
		baseURL: cmp.Or(*baseURL, getenv("DOUBLETICK_BASE_URL")), maxAttempts: *maxAttempts}, out, getenv, ready)
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

// settings are the receiver's flags.
type settings struct {
	orgs        []string
	addr, path  string
	ui          uiConfig
	rec         reconcile
	baseURL     string // "" for DoubleTick's
	maxAttempts int
}

// reconcile is which groups to reconcile, and how often.
type reconcile struct {
	waba  string
	every time.Duration
}

// tenant is one organisation a receiver serves: "" when it serves one,
// without -orgs.
type tenant struct {
	org     string
	client  *doubletick.Client // nil without an API key
	store   membership.Store   // the organisation's groups (storeFor)
	tracker *membership.Tracker
}

// serve receives webhooks until ctx ends, and reconciles on a schedule the
// organisations that have an API key (with -waba, for one organisation).
func serve(ctx context.Context, store membership.Store, d *database, set settings, out io.Writer, getenv func(string) string, ready chan<- string) error {
	orgs, rec := set.orgs, set.rec
	log := slog.New(slog.NewTextHandler(out, nil))
	tel, shutdownTelemetry, err := setupTelemetry(ctx, getenv)
	if err != nil {
		return fmt.Errorf("OpenTelemetry, from the OTEL_* variables: %w", err)
	}
	clientOpts := []doubletick.Option{doubletick.WithLogger(log)}
	if set.baseURL != "" {
		clientOpts = append(clientOpts, doubletick.WithBaseURL(set.baseURL))
	}
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
	tenants, handler, err := newTenants(ctx, store, orgs, log, getenv, clientOpts, handlerOpts)
	if err != nil {
		return err
	}
	inboxOpts := []inbox.Option{inbox.WithLogger(log), inbox.WithMaxAttempts(set.maxAttempts)}
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
	if set.ui.addr != "" {
		stopUI, err := serveUI(ctx, in, set.ui, log, nil)
		if err != nil {
			return err
		}
		defer stopUI()
	}
	mux := http.NewServeMux()
	pattern := set.path
	if len(orgs) > 0 {
		pattern = strings.TrimSuffix(set.path, "/") + "/{" + webhooks.DefaultOrgPathValue + "}"
	}
	mux.Handle(pattern, in)

	ln, err := net.Listen("tcp", set.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("receiving webhooks", "url", "http://"+ln.Addr().String()+pattern)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	for _, t := range tenants {
		log := log
		if t.org != "" {
			log = log.With("org", t.org)
		}
		switch {
		case t.client == nil || rec.every <= 0:
			log.Info("reconcile off: it needs " + orgVar("DOUBLETICK_API_KEY", t.org) + " and a positive -reconcile")
		case t.org == "" && rec.waba == "":
			log.Info("reconcile off: name the WhatsApp Business number with -waba")
		default:
			go reconcileEvery(ctx, t, rec, log)
		}
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

// newTenants makes the organisations' clients and trackers, and the
// Handler that verifies each webhook with its organisation's secret and
// applies it with its organisation's tracker.
func newTenants(ctx context.Context, store membership.Store, orgs []string, log *slog.Logger, getenv func(string) string,
	clientOpts []doubletick.Option, handlerOpts []webhooks.HandlerOption) ([]tenant, *webhooks.Handler, error) {
	if len(orgs) == 0 {
		orgs = []string{""}
	}
	// One Client per organisation, each with its key and rate budget,
	// all through one transport.
	clients, err := doubletick.NewOrgClients(func(_ context.Context, org string) (string, error) {
		return getenv(orgVar("DOUBLETICK_API_KEY", org)), nil
	}, doubletick.WithClientOptions(clientOpts...))
	if err != nil {
		return nil, nil, err
	}
	tenants := make([]tenant, len(orgs))
	verifiers := make([]webhooks.Verifier, len(orgs))
	for i, org := range orgs {
		secretVar := orgVar("DOUBLETICK_WEBHOOK_SECRET", org)
		secret := getenv(secretVar)
		if secret == "" {
			return nil, nil, fmt.Errorf("%s must hold the bearer token registered with the webhook", secretVar)
		}
		if verifiers[i], err = webhooks.NewBearerVerifier(secret); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", secretVar, err)
		}
		t := tenant{org: org, store: storeFor(store, org)}
		opts := []membership.Option{membership.WithLogger(log)}
		if key := getenv(orgVar("DOUBLETICK_API_KEY", org)); key != "" {
			if org == "" {
				t.client, err = doubletick.NewClient(key, clientOpts...)
			} else {
				t.client, err = clients.Client(ctx, org)
			}
			if err != nil {
				return nil, nil, err
			}
			opts = append(opts, membership.WithParticipants(t.client.Participants))
		}
		if t.tracker, err = membership.NewTracker(t.store, opts...); err != nil {
			return nil, nil, err
		}
		tenants[i] = t
	}
	h, err := tenantHandler(tenants, verifiers, handlerOpts...)
	return tenants, h, err
}

// tenantHandler returns the Handler of the tenants, each verified by its
// verifier: one of one organisation, or of many, each webhook applied by
// its organisation's tracker.
func tenantHandler(tenants []tenant, verifiers []webhooks.Verifier, opts ...webhooks.HandlerOption) (*webhooks.Handler, error) {
	if len(tenants) == 1 && tenants[0].org == "" {
		return webhooks.NewHandler(verifiers[0], append(opts, webhooks.OnEvent(tenants[0].tracker.Handle))...)
	}
	var registry webhooks.Orgs
	trackers := make(map[string]*membership.Tracker, len(tenants))
	for i, t := range tenants {
		if err := registry.Set(webhooks.Org{ID: t.org, Verifier: verifiers[i]}); err != nil {
			return nil, err
		}
		trackers[t.org] = t.tracker
	}
	return webhooks.NewOrgHandler(&registry, append(opts, webhooks.OnEvent(func(ctx context.Context, ev webhooks.Event) error {
		return trackers[webhooks.OrgFromContext(ctx)].Handle(ctx, ev)
	}))...)
}

// reconcileEvery reconciles every group of the tenant's WhatsApp numbers
// now and then on schedule: -waba's, or, for one of -orgs, those of its
// channels.
func reconcileEvery(ctx context.Context, t tenant, rec reconcile, log *slog.Logger) {
	tick := time.NewTicker(rec.every)
	defer tick.Stop()
	for {
		numbers := []string{rec.waba}
		if t.org != "" {
			numbers = numbers[:0]
			list, _, err := t.client.Channels.List(ctx, nil)
			if err != nil {
				log.Error("listing channels", "error", err)
			} else {
				for _, ch := range list.Channels {
					if ch.WABANumber != "" {
						numbers = append(numbers, ch.WABANumber)
					}
				}
			}
		}
		for _, waba := range numbers {
			reconcileNumber(ctx, t, waba, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// reconcileNumber reconciles every group of one WhatsApp number.
func reconcileNumber(ctx context.Context, t tenant, waba string, log *slog.Logger) {
	for g, err := range t.client.Groups.All(ctx, waba, nil) {
		if err != nil {
			log.Error("listing groups", "waba", waba, "error", err)
			return
		}
		r, err := t.tracker.Reconcile(ctx, g.GroupID)
		if err != nil {
			log.Error("reconciling", "group", g.GroupID, "error", err)
			continue
		}
		if len(r.Applied) > 0 || len(r.Unlisted) > 0 {
			log.Info("reconciled", "group", g.GroupID, "applied", len(r.Applied), "changed", len(r.Changed()), "unlisted", len(r.Unlisted))
		}
	}
}

// runDemo plays a group's life through the fake API and a real receiver on
// loopback: every webhook twice and in reverse order, then one lost, then a
// reconcile; and prints the members and the audit log. With orgs, it plays
// it for each organisation, each with a fake API of its own, through one
// receiver and one inbox: the same group ID and the same events in every
// organisation, each applied to its own.
func runDemo(ctx context.Context, store membership.Store, d *database, orgs []string, out io.Writer) error {
	if len(orgs) == 0 {
		orgs = []string{""}
	}
	apis := make([]*doubleticktest.Server, len(orgs))
	tenants := make([]tenant, len(orgs))
	verifiers := make([]webhooks.Verifier, len(orgs))
	tokens := make([]string, len(orgs))
	for i, org := range orgs {
		apis[i] = doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1))
		defer apis[i].Close()
		client := apis[i].Client()
		orgStore := storeFor(store, org)
		tracker, err := membership.NewTracker(orgStore, membership.WithParticipants(client.Participants))
		if err != nil {
			return err
		}
		tenants[i] = tenant{org: org, client: client, store: orgStore, tracker: tracker}
		tokens[i] = rand.Text()
		if verifiers[i], err = webhooks.NewBearerVerifier(tokens[i]); err != nil {
			return err
		}
	}
	handler, err := tenantHandler(tenants, verifiers)
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
	// lose loses deliveries: the receiver answers 503, as one that is down
	// would, and stores nothing; DoubleTick (and the fake, by default)
	// sends a failed delivery no more. It never acknowledges what it did
	// not store.
	var lose atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/hooks/{"+webhooks.DefaultOrgPathValue+"}", in)
	mux.Handle("/hooks", in)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	receiver := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if lose.Load() {
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go receiver.Serve(ln)
	defer receiver.Close()
	for i, org := range orgs {
		url := "http://" + ln.Addr().String() + "/hooks"
		if org != "" {
			url += "/" + org
		}
		if err := apis[i].AddReceiver(doubleticktest.Receiver{URL: url,
			Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: tokens[i]}}); err != nil {
			return err
		}
	}
	for i, t := range tenants {
		if t.org != "" {
			fmt.Fprintf(out, "== organisation %s\n", t.org)
		}
		lose.Store(false)
		if err := playDemo(ctx, apis[i], t, in, &lose, out); err != nil {
			return err
		}
	}
	return nil
}

// playDemo plays the demo's group in one organisation.
func playDemo(ctx context.Context, api *doubleticktest.Server, t tenant, in webhookInbox, lose *atomic.Bool, out io.Writer) error {
	const group = "crm_demo"
	api.Hold()
	api.DuplicateWebhooks(true)
	if _, _, err := t.client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "CRM demo", GroupID: group}); err != nil {
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
	report, err := t.tracker.Reconcile(ctx, group)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Reconcile listed %d participants and applied %d change(s) the webhooks missed.\n\n", report.Listed, len(report.Applied))
	return printGroup(ctx, t.store, group, out)
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
