package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/internal/pgtest"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/sqlstore/sqlite"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// The demo ends with the lost join repaired and every change audited once.
func checkDemo(t *testing.T, out string) {
	t.Helper()
	assert.Contains(t, out, "applied 1 change(s) the webhooks missed")
	assert.Regexp(t, `\+15551230000\s+joined`, out)
	assert.Regexp(t, `\+447700900123\s+joined`, out)
	assert.Regexp(t, `\+919876543210\s+left`, out)
	assert.Regexp(t, `\+447700900123\s+reconcile\s+joined`, out)
	assert.Equal(t, 4, strings.Count(out, "webhook  ")+strings.Count(out, "reconcile  "), "four audit entries:\n%s", out)
}

func TestDemoSQLite(t *testing.T) {
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "crm.db")
	require.NoError(t, run(context.Background(), []string{"-demo", "-db", path}, &out, env(nil), nil))
	checkDemo(t, out.String())
	_, err := os.Stat(path)
	assert.NoError(t, err, "the SQLite file holds the result")
}

func TestDemoPostgres(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.DSN(t))
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-demo", "-store", "postgres"}, &out,
		env(map[string]string{"DATABASE_URL": dsn}), nil))
	checkDemo(t, out.String())
}

// Serving, a verified webhook lands in the SQLite file; an unverified one
// does not.
func TestServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	addr, _, stop := serving(t, []string{"-db", path, "-addr", "127.0.0.1:0"}, map[string]string{"DOUBLETICK_WEBHOOK_SECRET": "hook-token"})
	post := func(token string) int { return postJoined(t, addr, token) }
	assert.Equal(t, http.StatusUnauthorized, post("wrong"))
	assert.Equal(t, http.StatusOK, post("hook-token"))
	assert.Equal(t, http.StatusOK, post("hook-token"), "a redelivery is acknowledged")

	store := openStore(t, path)
	m := waitMember(t, store, "g1", "+919876543210")
	require.NoError(t, stop())
	assert.Equal(t, membership.Joined, m.State)
	audit, err := store.Audit(context.Background(), "g1")
	require.NoError(t, err)
	assert.Len(t, audit, 1)
}

func TestDeadLetterCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-db", path, "-dead-letters"}, &out, env(nil), nil))
	assert.Contains(t, out.String(), "LAST ERROR", "an empty list has its header")
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"-db", path, "-replay", "all"}, &out, env(nil), nil))
	assert.Contains(t, out.String(), "0 dead letter(s) queued again")
	assert.ErrorContains(t, run(context.Background(), []string{"-db", path, "-replay", "x"}, &out, env(nil), nil), "want a dead letter's id")
	assert.Error(t, run(context.Background(), []string{"-db", path, "-replay", "42"}, &out, env(nil), nil), "no such job")
	assert.ErrorContains(t, run(context.Background(), []string{"-db", path, "stray"}, &out, env(nil), nil), "unexpected argument")
}

func TestRefusesMissingSecrets(t *testing.T) {
	dir := t.TempDir()
	err := run(context.Background(), []string{"-db", filepath.Join(dir, "a.db"), "-addr", "127.0.0.1:0"}, &bytes.Buffer{}, env(nil), nil)
	assert.ErrorContains(t, err, "DOUBLETICK_WEBHOOK_SECRET")
	err = run(context.Background(), []string{"-store", "postgres"}, &bytes.Buffer{}, env(nil), nil)
	assert.ErrorContains(t, err, "DATABASE_URL")
	err = run(context.Background(), []string{"-store", "mysql"}, &bytes.Buffer{}, env(nil), nil)
	assert.ErrorContains(t, err, "want sqlite or postgres")
}

// TestServeExportsTelemetryWhenTheEnvironmentAsks runs the receiver with
// the standard OTEL_* variables pointing at a collector on loopback: the
// metrics of deliveries, callbacks and the inbox reach it, over OTLP/HTTP.
func TestServeExportsTelemetryWhenTheEnvironmentAsks(t *testing.T) {
	var mu sync.Mutex
	var received bytes.Buffer
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		fmt.Fprintf(&received, "%s %s\n", r.URL.Path, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	vars := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_SERVICE_NAME": "crmsync-test",
	}
	for k, v := range vars {
		t.Setenv(k, v) // autoexport reads the process's environment
	}
	vars["DOUBLETICK_WEBHOOK_SECRET"] = "hook-token"
	path := filepath.Join(t.TempDir(), "crm.db")
	addr, out, stop := serving(t, []string{"-db", path, "-addr", "127.0.0.1:0"}, vars)
	assert.Equal(t, http.StatusUnauthorized, postJoined(t, addr, "wrong"))
	assert.Equal(t, http.StatusOK, postJoined(t, addr, "hook-token"))
	waitMember(t, openStore(t, path), "g1", "+919876543210")
	require.NoError(t, stop()) // the exporters flush on the way out
	assert.Contains(t, out.String(), "telemetry on")

	mu.Lock()
	defer mu.Unlock()
	got := received.String()
	assert.Contains(t, got, "/v1/metrics ")
	assert.Contains(t, got, "/v1/traces ")
	for _, name := range []string{"doubletick webhook receipt", "doubletick webhook run", "doubletick.inbox.ack.duration",
		"doubletick.inbox.delivery.duration", "doubletick.webhook.deliveries", "doubletick.webhook.callback.duration",
		"doubletick.inbox.deliveries", "doubletick.inbox.oldest_waiting", "crmsync-test"} {
		assert.Contains(t, got, name)
	}
	assert.NotContains(t, got, "919876543210", "no phone number")
}

// postJoined posts a GROUP_PARTICIPANT_JOINED delivery with token to the
// receiver at addr and returns the answer's status.
func postJoined(t *testing.T, addr, token string) int {
	t.Helper()
	return postJoinedTo(t, addr, "/doubletick/webhooks", token)
}

// postJoinedTo posts it to path.
func postJoinedTo(t *testing.T, addr, path, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(
		`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"g1","customerPhone":"919876543210","participantJoinedAt":"2026-01-15T10:30:00.000Z"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// syncWriter is a bytes.Buffer safe for the receiver's log and the test.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestDemoTwoOrganisations(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-demo", "-orgs", "acme,globex"}, &out, env(nil), nil))
	acme, globex, found := strings.Cut(out.String(), "== organisation globex\n")
	require.True(t, found, out.String())
	assert.True(t, strings.HasPrefix(acme, "== organisation acme\n"))
	checkDemo(t, acme)
	checkDemo(t, globex) // the same group ID and events, applied to each organisation's own
}

// Serving two organisations from one process: each verified with its own
// secret at its own path, each group kept apart in the store.
func TestServeManyOrganisations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	addr, out, stop := serving(t, []string{"-db", path, "-addr", "127.0.0.1:0", "-orgs", "acme,globex-eu"},
		map[string]string{"DOUBLETICK_WEBHOOK_SECRET_ACME": "acme-token", "DOUBLETICK_WEBHOOK_SECRET_GLOBEX_EU": "globex-token"})
	post := func(org, token string) int { return postJoinedTo(t, addr, "/doubletick/webhooks/"+org, token) }
	assert.Equal(t, http.StatusUnauthorized, post("globex-eu", "acme-token"), "acme's secret on globex's path")
	assert.Equal(t, http.StatusNotFound, post("initech", "acme-token"))
	assert.Equal(t, http.StatusNotFound, postJoinedTo(t, addr, "/doubletick/webhooks", "acme-token"))
	assert.Equal(t, http.StatusOK, post("acme", "acme-token"))
	assert.Equal(t, http.StatusOK, post("globex-eu", "globex-token"))

	store := openStore(t, path)
	for _, org := range []string{"acme", "globex-eu"} {
		waitMember(t, store, org+"/g1", "+919876543210") // each organisation's group apart
	}
	require.NoError(t, stop())
	assert.Contains(t, out.String(), "/doubletick/webhooks/{org}")
	assert.Contains(t, out.String(), "DOUBLETICK_API_KEY_GLOBEX_EU", "reconcile off for each organisation without a key, said so")
}

func TestOrgsFlag(t *testing.T) {
	dir := t.TempDir()
	for args, want := range map[string]string{
		"-orgs a/b":           "cannot name an organisation",
		"-orgs acme,acme":     "given twice",
		"-orgs acme -waba 91": "-waba names one organisation's number",
		"-orgs acme":          "DOUBLETICK_WEBHOOK_SECRET_ACME",
	} {
		err := run(context.Background(), append(strings.Fields(args), "-db", filepath.Join(dir, "x.db"), "-addr", "127.0.0.1:0"), &bytes.Buffer{}, env(nil), nil)
		assert.ErrorContains(t, err, want, args)
	}
}

// The receiver runs against doubletick fake (the SDK's fake API) with
// -base-url: its reconcile at start applies a member no webhook told it of.
func TestServeAgainstTheFakeWithBaseURL(t *testing.T) {
	api := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	defer api.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _, err := api.Client().Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S", GroupID: "g-fake"})
	require.NoError(t, err)
	require.NoError(t, api.WaitCreated(ctx, "g-fake"))
	require.NoError(t, api.Join("g-fake", "+919876543210", "Asha"))

	path := filepath.Join(t.TempDir(), "crm.db")
	vars := map[string]string{"DOUBLETICK_WEBHOOK_SECRET": "hook-token", "DOUBLETICK_API_KEY": doubleticktest.APIKey}
	_, _, stop := serving(t, []string{"-db", path, "-addr", "127.0.0.1:0", "-base-url", api.URL, "-waba", "911111111111",
		"-reconcile", "1h", "-max-attempts", "3"}, vars)
	m := waitMember(t, openStore(t, path), "g-fake", "+919876543210") // reconciled from the fake: no webhook said so
	assert.Equal(t, membership.Joined, m.State)
	require.NoError(t, stop())

	err = run(context.Background(), []string{"-db", path, "-max-attempts", "0"}, &bytes.Buffer{}, env(vars), nil)
	assert.ErrorContains(t, err, "-max-attempts 0")
}

// serving runs the receiver with args and the environment vars, and
// returns the address it listens on, its output, and a function that stops
// it and returns what run returned.
func serving(t *testing.T, args []string, vars map[string]string) (string, *syncWriter, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &syncWriter{}
	go func() { done <- run(ctx, args, out, env(vars), ready) }()
	select {
	case addr := <-ready:
		return addr, out, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("the receiver did not start: %v\n%s", err, out.String())
		return "", nil, nil
	}
}

// openStore opens the members' store in the SQLite file at path.
func openStore(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	store, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	return store
}

// waitMember waits until store has the member, which the inbox's worker
// applies soon after the acknowledgement, and returns it.
func waitMember(t *testing.T, store *sqlstore.Store, group, phone string) membership.Member {
	t.Helper()
	var m membership.Member
	require.Eventually(t, func() bool {
		var ok bool
		var err error
		m, ok, err = store.Member(context.Background(), group, phone)
		require.NoError(t, err)
		return ok
	}, 20*time.Second, 10*time.Millisecond, "%s %s", group, phone)
	return m
}
