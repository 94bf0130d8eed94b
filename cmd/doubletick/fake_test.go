package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// TestFakeServesTheCLIAndAnyHTTPClient runs "doubletick fake" as its own
// process, as a test in another language would, and drives it with the CLI
// (another process) and plain HTTP.
func TestFakeServesTheCLIAndAnyHTTPClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildCLI(t, t.TempDir())
	fake := exec.Command(bin, "fake", "--addr", "127.0.0.1:0", "--json", "--page-size", "1", "--creation-delay", "0", "--log")
	stdout, err := fake.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	fake.Stderr = &stderr
	require.NoError(t, fake.Start())
	defer fake.Process.Kill()

	// The first output is where it listens, as JSON.
	var where struct{ URL, APIKey, ControlURL string }
	require.NoError(t, json.NewDecoder(bufio.NewReader(stdout)).Decode(&where))
	assert.Equal(t, doubleticktest.APIKey, where.APIKey)
	assert.True(t, strings.HasPrefix(where.URL, "http://127.0.0.1:"), where.URL)

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), envBaseURL+"="+where.URL, envAPIKey+"="+where.APIKey)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "doubletick %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	cli("groups", "create", "--waba", "911111111111", "--subject", "VIP", "--group-id", "vip")
	cli("groups", "create", "--waba", "911111111111", "--subject", "Gold", "--group-id", "gold")
	assert.Regexp(t, `(?m)^vip\s+VIP\s`, cli("groups", "list", "--waba", "911111111111", "--all"), "two pages of one")

	control := func(name, body string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, where.ControlURL+name, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", where.APIKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
	}
	control("join", `{"groupId":"vip","phone":"+919876543210","name":"Asha"}`)
	assert.Contains(t, cli("participants", "list", "vip"), "Asha")

	// A fault set over HTTP reaches the CLI as DoubleTick's would.
	control("fail-next", `{"n":5,"status":401}`)
	cmd := exec.Command(bin, "groups", "get", "vip")
	cmd.Env = append(os.Environ(), envBaseURL+"="+where.URL, envAPIKey+"="+where.APIKey)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), envAPIKey, "the 401 hint names the key's variable")

	// --log: a line per request, none of the key or the body.
	logged := stderr.String()
	assert.Contains(t, logged, "msg=request method=POST path=/whatsapp/wa-group/create status=200")
	assert.Contains(t, logged, "msg=request method=GET path=/whatsapp/wa-group/info status=401")
	assert.NotContains(t, logged, where.APIKey)
	assert.NotContains(t, logged, "Asha")

	require.NoError(t, fake.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- fake.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "Ctrl-C is how the fake stops: exit 0; stderr: %s", stderr.String())
	case <-ctx.Done():
		t.Fatal("the fake did not stop on SIGINT")
	}
	assert.Contains(t, stderr.String(), "fake: stopped")
}

func TestFakeRefusesWhatItCannotServe(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--page-size", "0"}, "--page-size 0"},
		{[]string{"--rate-limit", "create=5"}, "METHOD PATH=N/PERIOD"},
		{[]string{"--rate-limit", "POST /x=0/1s"}, "METHOD PATH=N/PERIOD"},
		{[]string{"--receiver-auth", "digest"}, "--receiver-auth"},
		{[]string{"--webhook-retries", "0"}, "--webhook-retries"},
	} {
		r := c.run(t, append([]string{"fake", "--addr", "127.0.0.1:0"}, tc.args...)...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
}

func TestFakePrintsHowToUseIt(t *testing.T) {
	c := newCLI(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"fake", "--addr", "127.0.0.1:0"}, strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	}()
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "doubletick.NewClient") }, 10*time.Second, 5*time.Millisecond)
	cancel()
	assert.Equal(t, exitOK, <-done)
	out := stdout.String()
	assert.Regexp(t, `fake DoubleTick API on http://127\.0\.0\.1:\d+ `, out)
	assert.Contains(t, out, "export "+envBaseURL+"=http://127.0.0.1:")
	assert.Contains(t, out, "curl -s -H 'Authorization: "+doubleticktest.APIKey+"'")
	assert.Contains(t, out, doubleticktest.ControlPath+"join")
}
