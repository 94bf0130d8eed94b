package inboxadmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/inbox/inboxadmin"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// deadInbox returns a SQLite inbox file holding n dead letters, written by
// an inbox whose callback failed, and stopped since.
func deadInbox(t *testing.T, n int) string {
	t.Helper()
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
			`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:0` + string(rune('0'+i)) + `:00.000Z"}`)
	}
	return deadLetters(t, bodies, errors.New("schema mismatch"))
}

// deadLetters returns a SQLite inbox file holding a dead letter of each
// body, posted to /hooks, whose callback failed with failure.
func deadLetters(t *testing.T, bodies [][]byte, failure error, opts ...webhooks.HandlerOption) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	db, err := inbox.OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	v, err := webhooks.NewBearerVerifier("admin-token-123")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, append(opts, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return failure }))...)
	require.NoError(t, err)
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithMaxAttempts(1))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	n := len(bodies)
	for _, body := range bodies {
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.Bearer("admin-token-123"))
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, r)
		require.Equal(t, 200, rec.Code)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		dead, err := in.DeadLetters(ctx, 100)
		require.NoError(t, err)
		if len(dead) == n {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d of %d dead letters", len(dead), n)
		time.Sleep(5 * time.Millisecond)
	}
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, in.Stop(stop))
	return path
}

func TestCommandsOnASQLiteInbox(t *testing.T) {
	ctx := context.Background()
	path := deadInbox(t, 3)
	in, closeInbox, err := inboxadmin.Open(ctx, path, "")
	require.NoError(t, err)
	defer closeInbox()

	var out bytes.Buffer
	require.NoError(t, inboxadmin.Status(ctx, in, &out, false))
	assert.Regexp(t, `dead letters\s+3\n`, out.String())
	out.Reset()
	require.NoError(t, inboxadmin.Status(ctx, in, &out, true))
	var st map[string]float64
	require.NoError(t, json.Unmarshal(out.Bytes(), &st))
	assert.Equal(t, 3.0, st["dead"])

	out.Reset()
	require.NoError(t, inboxadmin.DeadLetters(ctx, in, &out, 100, true))
	var dead []struct {
		ID        int64  `json:"id"`
		LastError string `json:"lastError"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &dead))
	require.Len(t, dead, 3)
	assert.Contains(t, dead[0].LastError, "schema mismatch")
	assert.NotContains(t, out.String(), "919876543210", "no personal data: the bodies stay in the database")
	out.Reset()
	require.NoError(t, inboxadmin.DeadLetters(ctx, in, &out, 100, false))
	assert.Regexp(t, `(?m)^ID\s+DIED\s+ATTEMPTS\s+EVENT\s+GROUP\s+LAST ERROR$`, out.String())
	assert.Regexp(t, `GROUP_PARTICIPANT_JOINED\s+g1\s+.*schema mismatch`, out.String())

	out.Reset()
	require.NoError(t, inboxadmin.Replay(ctx, in, &out, dead[0].ID, false))
	assert.Equal(t, "dead letter "+itoa(dead[0].ID)+" queued again\n", out.String())
	assert.ErrorIs(t, inboxadmin.Replay(ctx, in, &out, dead[0].ID, false), inbox.ErrNotDeadLetter, "no longer a dead letter")

	out.Reset()
	require.NoError(t, inboxadmin.Purge(ctx, in, &out, time.Hour, true))
	assert.JSONEq(t, `{"purgedCount":0}`, out.String(), "none died an hour ago")
	out.Reset()
	require.NoError(t, inboxadmin.Purge(ctx, in, &out, 0, false))
	assert.Equal(t, "2 dead letter(s) older than 0s deleted\n", out.String(), "the two not replayed")
	out.Reset()
	require.NoError(t, inboxadmin.Status(ctx, in, &out, true))
	require.NoError(t, json.Unmarshal(out.Bytes(), &st))
	assert.Greater(t, st["storedBytes"], 0.0)
	assert.Equal(t, map[string]float64{"waiting": 1, "running": 0, "retrying": 0, "dead": 0, "oldestWaitingSeconds": st["oldestWaitingSeconds"],
		"storedBytes": st["storedBytes"]}, st,
		"the replayed one waits for a worker")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestOpenRefusesAMissingFile(t *testing.T) {
	_, _, err := inboxadmin.Open(context.Background(), filepath.Join(t.TempDir(), "typo.db"), "")
	require.Error(t, err)
	_, _, err = inboxadmin.Open(context.Background(), "", "")
	require.Error(t, err)
	_, _, err = inboxadmin.Open(context.Background(), "", "postgres://user:pa55word-x@[::1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pa55word-x")
}

// A dead letter's event type and group come from its payload, and its
// error from a callback: the table shows their control characters escaped,
// so none drives the terminal or forges a row.
func TestTheDeadLettersTableEscapesWhatItPrints(t *testing.T) {
	ctx := context.Background()
	path := deadLetters(t, [][]byte{[]byte(`{"event":"EVIL\u001b]0;pwned\u0007","groupId":"g\nID  1999-01-01"}`)},
		errors.New("boom\x1b[2J\nforged row"))
	in, closeInbox, err := inboxadmin.Open(ctx, path, "")
	require.NoError(t, err)
	defer closeInbox()
	var out bytes.Buffer
	require.NoError(t, inboxadmin.DeadLetters(ctx, in, &out, 100, false))
	assert.NotContains(t, out.String(), "\x1b")
	assert.Equal(t, 2, bytes.Count(out.Bytes(), []byte("\n")), "a header and one row")
	assert.Contains(t, out.String(), `EVIL\x1b]0;pwned\a`)
	assert.Contains(t, out.String(), `g\nID  1999-01-01`)
	assert.Contains(t, out.String(), `boom\x1b[2J\nforged row`)
}

// A dead letter of an event whose payload names no type is listed as the
// type its path was given, as the worker decoded it.
func TestDeadLettersAreDecodedAsTheyWereReceived(t *testing.T) {
	ctx := context.Background()
	status := []byte(`{"messageId":"dt_1","to":"919999999999","status":"FAILED","statusTimestamp":"2026-06-04T11:48:14.000Z"}`)
	path := deadLetters(t, [][]byte{status}, errors.New("crm down"), webhooks.WithPathType("/hooks", webhooks.TypeMessageStatusUpdate))
	in, closeInbox, err := inboxadmin.Open(ctx, path, "")
	require.NoError(t, err)
	defer closeInbox()
	var out bytes.Buffer
	require.NoError(t, inboxadmin.DeadLetters(ctx, in, &out, 100, true))
	assert.Contains(t, out.String(), `"event": "MESSAGE_STATUS_UPDATE"`)
}

// TestCommandsForOneOrganisation: an inbox of many organisations shows
// each dead letter's organisation, and ForOrg limits every command to one.
func TestCommandsForOneOrganisation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	db, err := inbox.OpenSQLite(ctx, path)
	require.NoError(t, err)
	var orgs webhooks.Orgs
	for _, id := range []string{"acme", "globex"} {
		v, err := webhooks.NewBearerVerifier("token-of-" + id)
		require.NoError(t, err)
		require.NoError(t, orgs.Set(webhooks.Org{ID: id, Verifier: v}))
	}
	h, err := webhooks.NewOrgHandler(&orgs, webhooks.OnEvent(func(context.Context, webhooks.Event) error { return errors.New("crm down") }))
	require.NoError(t, err)
	in, err := inbox.New(ctx, riversqlite.New(db), h, inbox.WithMaxAttempts(1))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	for i, id := range []string{"acme", "acme", "globex"} {
		body := []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i","groupId":"g1","groupName":"G",` +
			`"customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:0` + string(rune('0'+i)) + `:00.000Z"}`)
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/"+id, body, webhookstest.Bearer("token-of-"+id))
		require.NoError(t, err)
		r.SetPathValue("org", id)
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, r)
		require.Equal(t, 200, rec.Code)
	}
	require.Eventually(t, func() bool { st, err := in.Stats(ctx); return err == nil && st.Dead == 3 }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, in.Stop(ctx))
	require.NoError(t, db.Close())

	all, closeInbox, err := inboxadmin.Open(ctx, path, "")
	require.NoError(t, err)
	defer closeInbox()
	var out bytes.Buffer
	require.NoError(t, inboxadmin.DeadLetters(ctx, all, &out, 100, false))
	assert.Regexp(t, `(?m)^ID\s+ORG\s+DIED\s+ATTEMPTS\s+EVENT\s+GROUP\s+LAST ERROR$`, out.String())
	assert.Equal(t, 2, bytes.Count(out.Bytes(), []byte(" acme ")), out.String())
	assert.Equal(t, 1, bytes.Count(out.Bytes(), []byte(" globex ")), out.String())

	acme, err := inboxadmin.ForOrg(all, "acme")
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, inboxadmin.Status(ctx, acme, &out, false))
	assert.Regexp(t, `dead letters\s+2\n`, out.String())
	out.Reset()
	require.NoError(t, inboxadmin.DeadLetters(ctx, acme, &out, 100, true))
	assert.NotContains(t, out.String(), "globex")
	out.Reset()
	require.NoError(t, inboxadmin.ReplayAll(ctx, acme, &out, false))
	assert.Equal(t, "2 dead letter(s) queued again\n", out.String())
	st, err := all.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Dead, "globex's dead letter stays")

	_, err = inboxadmin.ForOrg(all, "a/b")
	require.Error(t, err)
}
