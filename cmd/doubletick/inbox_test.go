package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// inboxWithDeadLetters writes an inbox's SQLite file holding n dead letters,
// as an app whose callback failed would leave it.
func inboxWithDeadLetters(t *testing.T, n int) string {
	return orgInboxWithDeadLetters(t, make([]string, n))
}

// orgInboxWithDeadLetters writes an inbox's SQLite file holding a dead
// letter addressed to each of orgs: an inbox of one organisation when they
// are all "", else of those named.
func orgInboxWithDeadLetters(t *testing.T, orgs []string) string {
	t.Helper()
	n := len(orgs)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	db, err := inbox.OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	v, err := webhooks.NewBearerVerifier(webhookSecret)
	require.NoError(t, err)
	fail := webhooks.OnEvent(func(context.Context, webhooks.Event) error { return errors.New("schema mismatch") })
	h, err := webhooks.NewHandler(v, fail)
	require.NoError(t, err)
	if slices.ContainsFunc(orgs, func(o string) bool { return o != "" }) {
		var registry webhooks.Orgs
		for _, id := range orgs {
			require.NoError(t, registry.Set(webhooks.Org{ID: id, Verifier: v}))
		}
		h, err = webhooks.NewOrgHandler(&registry, fail)
		require.NoError(t, err)
	}
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithMaxAttempts(1))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	for i, org := range orgs {
		body := fmt.Sprintf(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",`+
			`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:%02d:00.000Z"}`, i)
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", []byte(body), webhookstest.Bearer(webhookSecret))
		require.NoError(t, err)
		r.SetPathValue(webhooks.DefaultOrgPathValue, org)
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, r)
		require.Equal(t, 200, rec.Code)
	}
	require.Eventually(t, func() bool {
		dead, err := in.DeadLetters(ctx, 100)
		require.NoError(t, err)
		return len(dead) == n
	}, 20*time.Second, 5*time.Millisecond)
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, in.Stop(stop))
	return path
}

func TestInboxCommands(t *testing.T) {
	c := newCLI(t)
	path := inboxWithDeadLetters(t, 3)

	out := c.ok(t, "inbox", "status", "--sqlite", path)
	assert.Regexp(t, `dead letters\s+3\n`, out)
	out = c.ok(t, "inbox", "dead-letters", "--sqlite", path, "--json")
	var dead []struct {
		ID      int64  `json:"id"`
		Event   string `json:"event"`
		GroupID string `json:"groupId"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &dead))
	require.Len(t, dead, 3)
	assert.Equal(t, "GROUP_PARTICIPANT_JOINED", dead[0].Event)
	assert.NotContains(t, out, "9876543210", "no phone number")

	out = c.ok(t, "inbox", "replay", fmt.Sprint(dead[0].ID), "--sqlite", path)
	assert.Contains(t, out, "queued again")
	r := c.run(t, "inbox", "replay", fmt.Sprint(dead[0].ID), "--sqlite", path)
	assert.Equal(t, exitUsage, r.code, "no longer a dead letter: %s", r.stderr)
	assert.Contains(t, r.stderr, "not a dead letter")

	out = c.ok(t, "inbox", "replay", "--all", "--sqlite", path, "--json")
	assert.JSONEq(t, `{"replayedCount":2}`, out)
	out = c.ok(t, "inbox", "purge", "--older-than", "7d", "--sqlite", path)
	assert.Equal(t, "0 dead letter(s) older than 168h0m0s deleted\n", out)
	out = c.ok(t, "inbox", "status", "--sqlite", path, "--json")
	var st map[string]float64
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, 3.0, st["waiting"], "the three replayed wait for the app's workers")
	assert.Zero(t, st["dead"])

	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"inbox", "status"}, envInboxDatabaseURL},
		{[]string{"inbox", "status", "--sqlite", filepath.Join(t.TempDir(), "typo.db")}, "typo.db"},
		{[]string{"inbox", "purge", "--sqlite", path}, "--older-than is required"},
		{[]string{"inbox", "purge", "--sqlite", path, "--older-than", "soon"}, "--older-than"},
		{[]string{"inbox", "replay", "--sqlite", path}, "--all"},
		{[]string{"inbox", "replay", "x", "--sqlite", path}, "not a dead letter's ID"},
		{[]string{"inbox", "dead-letters", "--sqlite", path, "--limit", "0"}, "--limit"},
		// A bad flag is named before any database is opened, even one that
		// would not open.
		{[]string{"inbox", "dead-letters", "--sqlite", missing, "--limit", "0"}, "--limit 0"},
		{[]string{"inbox", "purge", "--sqlite", missing, "--older-than", "soon"}, "--older-than \"soon\""},
		{[]string{"inbox", "purge"}, "--older-than is required"},
	} {
		r := c.run(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
}

// TestInboxCommandsForOneOrganisation: --org, or the profile's org, limits
// the inbox commands to one organisation's deliveries.
func TestInboxCommandsForOneOrganisation(t *testing.T) {
	c := newCLI(t)
	path := orgInboxWithDeadLetters(t, []string{"acme", "acme", "globex"})
	all := c.ok(t, "inbox", "dead-letters", "--sqlite", path)
	assert.Regexp(t, `(?m)^ID\s+ORG\s+DIED`, all)
	assert.Contains(t, c.ok(t, "inbox", "status", "--sqlite", path), "dead letters    3")
	assert.Contains(t, c.ok(t, "inbox", "status", "--sqlite", path, "--org", "acme"), "dead letters    2")
	assert.NotContains(t, c.ok(t, "inbox", "dead-letters", "--sqlite", path, "--org", "acme"), "globex")

	c.env[envConfig] = filepath.Join(t.TempDir(), "config.json")
	c.env["GLOBEX_KEY"] = "key_0000000000000000"
	c.ok(t, "profiles", "add", "globex", "--from-env", "GLOBEX_KEY", "--org", "globex")
	assert.Contains(t, c.ok(t, "--profile", "globex", "inbox", "status", "--sqlite", path), "dead letters    1")
	assert.Contains(t, c.ok(t, "--profile", "globex", "inbox", "replay", "--all", "--sqlite", path), "1 dead letter(s) queued again")
	assert.Contains(t, c.ok(t, "inbox", "status", "--sqlite", path), "dead letters    2", "acme's stay")
	assert.Equal(t, exitUsage, c.run(t, "inbox", "status", "--sqlite", path, "--org", "a/b").code)
}
