package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/inbox"
	// This example is not released, so no user's build can pair it with
	// another version of the core: it may use the core's internal packages,
	// which released modules may not (CONTRIBUTING.md).
	"github.com/doubletick-go/doubletick/examples/crmsync/internal/readmetest"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// readmeMembership is the README's snippet on keeping membership in sync;
// keep receives what it made.
func readmeMembership(ctx context.Context, client *doubletick.Client, verifier webhooks.Verifier,
	keep func(*sql.DB, *membership.Tracker, *webhooks.Handler, []membership.Member)) error {
	// README:membership:begin
	db, err := sqlite.Open(ctx, "members.db") // or any *sql.DB on PostgreSQL
	if err != nil {
		return err
	}
	store, err := sqlstore.New(db, sqlstore.SQLite) // sqlstore.Postgres
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	tracker, err := membership.NewTracker(store, membership.WithParticipants(client.Participants))
	if err != nil {
		return err
	}
	handler, err := webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle))
	if err != nil {
		return err
	}

	members, err := store.Members(ctx, "grp_01") // []membership.Member: State, JoinedAt, LeftAt, RemovedAt
	// README:membership:end
	keep(db, tracker, handler, members)
	return err
}

// readmeInbox is the README's snippet on the inbox; keep receives what it
// made.
func readmeInbox(ctx context.Context, mux *http.ServeMux, verifier webhooks.Verifier, tracker *membership.Tracker,
	keep func(*inbox.Inbox[*sql.Tx], *sql.DB)) error {
	// README:inbox:begin
	handler, err := webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle)) // verifier, body format, callbacks
	if err != nil {
		return err
	}
	db, err := inbox.OpenSQLite(ctx, "webhooks.db") // or riverpgxv5.New(pgxPool)
	if err != nil {
		return err
	}
	in, err := inbox.New(ctx, riversqlite.New(db), handler) // runs River's migrations
	if err != nil {
		return err
	}
	if err := in.Start(ctx); err != nil {
		return err
	}
	mux.Handle("/doubletick/webhooks", in)
	// README:inbox:end
	keep(in, db)
	return nil
}

// TestREADMEMembershipAndInboxRun runs both snippets, in a directory of
// their own, and a delivery through them.
func TestREADMEMembershipAndInboxRun(t *testing.T) {
	readmetest.Check(t, "../../README.md", "readme_test.go", "membership")
	readmetest.Check(t, "../../README.md", "readme_test.go", "inbox")
	t.Chdir(t.TempDir())
	ctx := context.Background()
	srv := doubleticktest.NewServer()
	defer srv.Close()
	verifier, err := webhooks.NewBearerVerifier("readme-token-123")
	require.NoError(t, err)

	var tracker *membership.Tracker
	var members []membership.Member
	require.NoError(t, readmeMembership(ctx, srv.Client(), verifier, func(db *sql.DB, tr *membership.Tracker, _ *webhooks.Handler, m []membership.Member) {
		t.Cleanup(func() { db.Close() })
		tracker, members = tr, m
	}))
	assert.Empty(t, members)

	mux := http.NewServeMux()
	require.NoError(t, readmeInbox(ctx, mux, verifier, tracker, func(in *inbox.Inbox[*sql.Tx], db *sql.DB) {
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, in.Stop(stop))
			db.Close()
		})
	}))
	r, err := webhookstest.NewRequest("http://127.0.0.1/doubletick/webhooks",
		[]byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"grp_01","groupName":"G",`+
			`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`),
		webhookstest.Bearer("readme-token-123"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Eventually(t, func() bool {
		m, err := readMembers(ctx)
		require.NoError(t, err)
		return len(m) == 1 && m[0].State == membership.Joined
	}, 20*time.Second, 10*time.Millisecond, "the delivery reached the store through the inbox")
}

// readMembers reads grp_01's members from the snippet's file.
func readMembers(ctx context.Context) ([]membership.Member, error) {
	db, err := sqlite.Open(ctx, "members.db")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		return nil, err
	}
	return store.Members(ctx, "grp_01")
}

// customer is one of the README's connector's customers.
type customer struct{ ID, WebhookToken string }

// readmeOrgs is the README's snippet on serving many organisations; keep
// receives what it made.
func readmeOrgs(ctx context.Context, mux *http.ServeMux, db *sql.DB, customers []customer,
	keys doubletick.KeyFunc, created func(org, group string), keep func(*inbox.Inbox[*sql.Tx], *doubletick.Client)) error {
	// README:orgs:begin
	var orgs webhooks.Orgs // or an OrgLookupFunc that reads your database through a cache
	for _, c := range customers {
		v, err := webhooks.NewBearerVerifier(c.WebhookToken) // each organisation's own credential
		if err != nil {
			return err
		}
		if err := orgs.Set(webhooks.Org{ID: c.ID, Verifier: v}); err != nil {
			return err
		}
	}
	handler, err := webhooks.NewOrgHandler(&orgs, webhooks.OnGroupCreated(func(ctx context.Context, e *webhooks.GroupCreated) error {
		created(webhooks.OrgFromContext(ctx), e.GroupID) // whose event it is
		return nil
	}))
	if err != nil {
		return err
	}
	in, err := inbox.New(ctx, riversqlite.New(db), handler) // one inbox for every organisation
	if err != nil {
		return err
	}
	if err := in.Start(ctx); err != nil {
		return err
	}
	mux.Handle("POST /doubletick/webhooks/{org}", in) // each organisation registers its own URL

	clients, err := doubletick.NewOrgClients(keys) // keys: func(ctx, org) (string, error), from your vault
	if err != nil {
		return err
	}
	acme, err := clients.Client(ctx, "acme") // acme's key and rate budget; one transport for all
	// README:orgs:end
	keep(in, acme)
	return err
}

func TestREADMEOrgsRuns(t *testing.T) {
	readmetest.Check(t, "../../README.md", "readme_test.go", "orgs")
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "webhooks.db"))
	require.NoError(t, err)
	defer db.Close()
	mux := http.NewServeMux()
	got := make(chan string, 2)
	var acme *doubletick.Client
	customers := []customer{{"acme", "acme-token-123"}, {"globex", "globex-token-123"}}
	keys := func(_ context.Context, org string) (string, error) { return "key_of_" + org + "_0123456789", nil }
	require.NoError(t, readmeOrgs(ctx, mux, db, customers, keys, func(org, group string) { got <- org + " " + group },
		func(in *inbox.Inbox[*sql.Tx], c *doubletick.Client) {
			acme = c
			t.Cleanup(func() { assert.NoError(t, in.Stop(context.Background())) })
		}))
	require.NotNil(t, acme)
	for _, c := range customers {
		r, err := webhookstest.NewRequest("http://127.0.0.1/doubletick/webhooks/"+c.ID,
			[]byte(`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":"grp_01","groupName":"G","inviteLink":null,"groupCreatedAt":"2026-01-15T10:00:00.000Z"}`),
			webhookstest.Bearer(c.WebhookToken))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		require.Equal(t, http.StatusOK, rec.Code)
	}
	var seen []string
	for range 2 {
		select {
		case s := <-got:
			seen = append(seen, s)
		case <-time.After(20 * time.Second):
			t.Fatal("a delivery never ran")
		}
	}
	assert.ElementsMatch(t, []string{"acme grp_01", "globex grp_01"}, seen)
}
