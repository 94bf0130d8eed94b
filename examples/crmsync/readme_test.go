package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
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
