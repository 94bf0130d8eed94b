package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

func TestNextCursorFollowsDoubleTicksListShapes(t *testing.T) {
	for name, c := range map[string]struct {
		page string
		want map[string]any
		more bool
	}{
		"groups": {`{"groups":[{}],"hasMore":true,"lastGroupId":"g2","olderThanTimestamp":"2026-01-15T10:00:00Z"}`,
			map[string]any{"lastGroupId": "g2", "olderThanTimestamp": "2026-01-15T10:00:00Z"}, true},
		"chats, nested": {`{"chats":[],"paginationOptions":{"hasMoreChats":true,"nextChatId":"c9","nextChatTimestamp":1768471200000}}`,
			map[string]any{"nextChatId": "c9", "nextChatTimestamp": json.Number("1768471200000")}, true},
		"last page":   {`{"notes":[],"hasMore":false,"lastNoteId":"n1"}`, nil, false},
		"not a list":  {`{"groupId":"g1","subject":"S"}`, nil, false},
		"not JSON":    {`<html>`, nil, false},
		"null cursor": {`{"hasMore":true,"lastPhoneNumber":null,"olderThanTimestamp":""}`, map[string]any{}, true},
	} {
		got, more := nextCursor(json.RawMessage(c.page))
		assert.Equal(t, c.more, more, name)
		if c.more {
			assert.Equal(t, c.want, got, name)
		}
	}
}

func TestAPIRefusesBadInputBeforeSending(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"api", "/whatsapp/wa-group/list", "--jq", ".groups["}, `--jq ".groups[" does not parse`},
		{[]string{"api", "whatsapp/wa-group/list"}, "is not a path of the API"},
		{[]string{"api", "/whatsapp/../../etc/passwd"}, "leaves the API's paths"},
		{[]string{"api", "https://attacker.example/v2/webhooks"}, "is not on the API's host"},
		{[]string{"api", "/_doubleticktest/join"}, "the fake's control API"},
		{[]string{"api", "-X", "POST", "/notes", "--input", "-"}, "is not JSON"},
		{[]string{"api", "/x", "-f", "novalue"}, `-f "novalue": want key=value`},
		{[]string{"api", "/x", "-F", "f=@/nonexistent/file"}, "-F f=@…"},
	} {
		r := c.run(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
	assert.Zero(t, c.srv.Requests(), "nothing was sent")
}

// TestNewCommandsAsProcesses runs the built command against the fake, as
// a support engineer would: api (pages followed and filtered, an endpoint
// no other command covers, a body from standard input, DoubleTick's errors
// with exit 1), --debug, a help topic, completion and profiles.
func TestNewCommandsAsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildCLI(t, t.TempDir())
	srv := doubleticktest.NewServer(doubleticktest.WithPageSize(2), doubleticktest.WithCreationDelay(0))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := srv.Client()
	for _, id := range []string{"g1", "g2", "g3", "g4", "g5"} {
		_, _, err := client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S " + id, GroupID: id})
		require.NoError(t, err)
		require.NoError(t, srv.WaitCreated(ctx, id))
	}
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha")) // a customer of the fake's
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), envAPIKey+"="+doubleticktest.APIKey, envBaseURL+"="+srv.URL)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, stderr, code := run("", "api", "/whatsapp/wa-group/list", "-f", "wabaNumber=911111111111", "--paginate", "--jq", ".groups[].groupId")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "g5\ng4\ng3\ng2\ng1\n", out, "three pages of two, followed")

	out, stderr, code = run("", "api", "/whatsapp/wa-group/list", "-f", "wabaNumber=911111111111", "--jq", ".hasMore")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "true\n", out, "one page without --paginate")

	out, stderr, code = run(`{"phone":"+919876543210"}`, "api", "-X", "POST", "/customer/block", "--input", "-")
	require.Equal(t, 0, code, "an endpoint no other command covers: %s", stderr)
	assert.True(t, json.Valid([]byte(out)) || out == "", out)

	out, stderr, code = run("", "api", srv.URL+"/whatsapp/wa-group/info?groupId=g3", "--jq", ".subject")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "S g3\n", out, "a full URL on the base URL's host")

	_, stderr, code = run("", "api", "/whatsapp/wa-group/info", "-f", "groupId=missing")
	assert.Equal(t, exitAPI, code)
	assert.Contains(t, stderr, "404 Not Found: Group not found")

	_, stderr, code = run("", "api", "/whatsapp/wa-group/list", "--jq", "][")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "does not parse")

	// The round's other new commands, as processes too: --debug, a help
	// topic, a flag value's completion, profiles.
	out, stderr, code = run("", "--debug", "groups", "get", "g2")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "S g2")
	assert.Contains(t, stderr, "> GET "+srv.URL+"/whatsapp/wa-group/info?groupId=g2")
	assert.Contains(t, stderr, "< HTTP/1.1 200 OK")
	assert.NotContains(t, stderr, doubleticktest.APIKey)

	out, _, code = run("", "help", "exit-codes")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "130  interrupted")

	out, _, code = run("", "__complete", "groups", "create", "--waba", "")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "911111111111")

	config := filepath.Join(t.TempDir(), "config.json")
	t.Setenv(envConfig, config) // the processes' environment comes from os.Environ
	t.Setenv("ACME_KEY", doubleticktest.APIKey)
	_, stderr, code = run("", "profiles", "add", "acme", "--from-env", "ACME_KEY", "--base-url", srv.URL)
	require.Equal(t, 0, code, stderr)
	out, stderr, code = run("", "--profile", "acme", "api", "/whatsapp/wa-group/info", "-f", "groupId=g4", "--jq", ".groupId")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "g4\n", out)
	out, _, _ = run("", "profiles", "list")
	assert.Contains(t, out, "acme")
}
