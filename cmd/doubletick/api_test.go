package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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

// TestAPICommandAsAProcess runs the built command against the fake, as a
// support engineer would: pages followed and filtered, an endpoint no
// other command covers, a body from standard input, and DoubleTick's
// errors with exit 1.
func TestAPICommandAsAProcess(t *testing.T) {
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
}
