package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs the command against a fake DoubleTick.
type cli struct {
	srv *doubleticktest.Server
	env map[string]string
}

type result struct {
	code           int
	stdout, stderr string
}

const webhookSecret = "whsec-for-the-cli-tests"

func newCLI(t *testing.T, opts ...doubleticktest.Option) *cli {
	t.Helper()
	srv := doubleticktest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return &cli{srv: srv, env: map[string]string{
		envAPIKey:        doubleticktest.APIKey,
		envBaseURL:       srv.URL,
		envWebhookSecret: webhookSecret,
	}}
}

func (c *cli) run(t *testing.T, args ...string) result {
	t.Helper()
	return c.runContext(context.Background(), t, args...)
}

func (c *cli) runContext(ctx context.Context, t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// ok runs args and requires exit 0.
func (c *cli) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := c.run(t, args...)
	require.Equal(t, exitOK, r.code, "doubletick %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r.stdout
}

// createGroup creates a group through the CLI and waits until it exists.
func (c *cli) createGroup(t *testing.T, id string) {
	t.Helper()
	c.ok(t, "groups", "create", "--waba", "911111111111", "--subject", "Support "+id, "--group-id", id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.srv.WaitCreated(ctx, id))
}

func TestGroupsCommands(t *testing.T) {
	c := newCLI(t)

	out := c.ok(t, "groups", "create", "--waba", "911111111111", "--subject", "VIP", "--description", "d",
		"--mode", "approval_required", "--group-id", "vip-1", "--json")
	var created doubletick.CreateGroupResult
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	assert.Equal(t, "vip-1", created.GroupID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.srv.WaitCreated(ctx, "vip-1"))

	out = c.ok(t, "groups", "get", "vip-1")
	assert.Regexp(t, `subject\s+VIP\n`, out)
	out = c.ok(t, "groups", "get", "vip-1", "--json")
	var g doubletick.Group
	require.NoError(t, json.Unmarshal([]byte(out), &g))
	assert.Equal(t, "VIP", g.Subject)

	c.ok(t, "groups", "update", "vip-1", "--waba", "911111111111", "--subject", "VIP 2")
	assert.Equal(t, "VIP 2", c.srv.Groups()[0].Subject)

	c.createGroup(t, "vip-2")
	out = c.ok(t, "groups", "list", "--waba", "911111111111", "--all")
	assert.Regexp(t, `(?m)^vip-1\s+VIP 2\s`, out)
	assert.Regexp(t, `(?m)^vip-2\s+Support vip-2\s`, out)

	out = c.ok(t, "groups", "ai-summary", "vip-1", "--from", time.Now().UTC().Format(time.DateOnly), "--to", time.Now().UTC().Format(time.DateOnly), "--json")
	var sum doubletick.GroupAISummary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))

	r := c.run(t, "groups", "delete", "vip-2")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--yes")
	assert.Len(t, c.srv.Groups(), 2, "nothing deleted without --yes")
	c.ok(t, "groups", "delete", "vip-2", "--yes")
	assert.Len(t, c.srv.Groups(), 1)

	// An API failure exits 1 with the server's message; bad input exits 2
	// before anything is sent.
	r = c.run(t, "groups", "get", "no-such-group")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "404")
	before := c.srv.Requests()
	r = c.run(t, "groups", "create", "--waba", "911111111111", "--subject", strings.Repeat("s", 129))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "subject")
	assert.Equal(t, before, c.srv.Requests())
}

func TestParticipantsAndTagsCommands(t *testing.T) {
	c := newCLI(t)
	c.createGroup(t, "g1")
	require.NoError(t, c.srv.Join("g1", "919999999999", "Asha"))
	require.NoError(t, c.srv.Join("g1", "918888888888", "Ravi"))

	out := c.ok(t, "participants", "list", "g1")
	assert.Contains(t, out, "Asha")
	assert.Contains(t, out, "Ravi")
	c.ok(t, "participants", "remove", "g1", "918888888888")
	out = c.ok(t, "participants", "list", "g1", "--all", "--current", "--json")
	var page doubletick.ParticipantPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Participants, 1)
	assert.Equal(t, "Asha", page.Participants[0].Name)
	assert.Contains(t, out, `"dateJoined"`)
	assert.NotContains(t, out, `"dateLeft"`, "a member who never left has no leaving date")
	assert.NotContains(t, out, "0001-01-01", "no Go zero time")
	assert.Contains(t, out, "\n  \"participants\": [", "indented as every --json is")

	out = c.ok(t, "tags", "assign", "g1", "--tag", "vip", "--tag", "gold", "--field", "tier=1")
	assert.Regexp(t, `tag\s+vip\s+added`, out)
	assert.ElementsMatch(t, []string{"vip", "gold"}, c.srv.Groups()[0].Tags)
	assert.Equal(t, map[string]string{"tier": "1"}, c.srv.Groups()[0].CustomFields)
	c.ok(t, "tags", "remove", "g1", "--tag", "gold", "--field", "tier", "--no-chat-log")
	assert.Equal(t, []string{"vip"}, c.srv.Groups()[0].Tags)

	r := c.run(t, "tags", "assign", "g1", "--field", "no-equals-sign")
	assert.Equal(t, exitUsage, r.code)
}

func TestMessagesCommands(t *testing.T) {
	c := newCLI(t)
	c.createGroup(t, "g1")

	out := c.ok(t, "messages", "text", "--group", "g1", "--text", "hello", "--json")
	var sent doubletick.SendResult
	require.NoError(t, json.Unmarshal([]byte(out), &sent))
	c.ok(t, "messages", "image", "--group", "g1", "--url", "https://example.com/a.png", "--caption", "c")
	c.ok(t, "messages", "video", "--group", "g1", "--url", "https://example.com/a.mp4")
	c.ok(t, "messages", "audio", "--to", "+919999999999", "--url", "https://example.com/a.mp3")
	c.ok(t, "messages", "document", "--group", "g1", "--url", "https://example.com/a.pdf", "--filename", "a.pdf")
	c.ok(t, "messages", "location", "--group", "g1", "--lat", "12.9", "--lng", "77.6", "--name", "Office")

	templates := filepath.Join(t.TempDir(), "t.json")
	require.NoError(t, os.WriteFile(templates, []byte(`[{"groupId":"g1","content":{"templateName":"welcome","language":"en"}}]`), 0o600))
	c.ok(t, "messages", "template", "--file", templates)
	out = c.ok(t, "messages", "template", "--file", templates, "--v2")
	assert.Regexp(t, `(?m)^\S+\s+SENT`, out)

	var types []string
	for _, m := range c.srv.Sent() {
		types = append(types, m.Type)
	}
	assert.Equal(t, []string{"text", "image", "video", "audio", "document", "location", "template", "template"}, types)
	assert.Equal(t, sent.MessageID, c.srv.Sent()[0].MessageID)

	out = c.ok(t, "messages", "status", sent.MessageID)
	assert.Contains(t, out, sent.MessageID)

	file := filepath.Join(t.TempDir(), "invoice.pdf")
	require.NoError(t, os.WriteFile(file, bytes.Repeat([]byte("x"), 10_000), 0o600))
	out = c.ok(t, "messages", "upload", file)
	assert.Regexp(t, `url\s+http`, out)
	assert.Equal(t, int64(10_000), c.srv.UploadedBytes())

	// Exactly one of --group and --to: the SDK refuses before sending.
	r := c.run(t, "messages", "text", "--text", "hi")
	assert.Equal(t, exitUsage, r.code)
}

func TestWebhookSubscriptionCommands(t *testing.T) {
	c := newCLI(t)
	out := c.ok(t, "webhooks", "register", "--name", "crm", "--url", "https://crm.example.com/hook",
		"--waba", "+911111111111", "--event", "MESSAGE_RECEIVED", "--auth-type", "bearer", "--retry-on-timeout")
	assert.Regexp(t, `911111111111\s+MESSAGE_RECEIVED\s+yes`, out)
	assert.NotContains(t, out, webhookSecret)

	out = c.ok(t, "webhooks", "list", "--json")
	var hooks []doubletick.Webhook
	require.NoError(t, json.Unmarshal([]byte(out), &hooks))
	require.Len(t, hooks, 1)
	assert.Equal(t, "crm", hooks[0].Name)

	c.ok(t, "webhooks", "update", hooks[0].WebhookID, "--name", "crm2", "--url", "https://crm.example.com/hook2",
		"--waba", "+911111111111", "--event", "MESSAGE_RECEIVED", "--auth-type", "basic")
	out = c.ok(t, "webhooks", "list")
	assert.Contains(t, out, "crm2")

	c.ok(t, "webhooks", "deregister", hooks[0].WebhookID)
	out = c.ok(t, "webhooks", "list", "--json")
	assert.JSONEq(t, "[]", out)

	// A registration DoubleTick refuses, or answers without accepting
	// anything, fails (exit 1) and says why: group events come from the
	// dashboard; a number without an integration receives nothing.
	r := c.run(t, "webhooks", "register", "--name", "groups", "--url", "https://crm.example.com/g", "--waba", "911111111111",
		"--event", "GROUP_CREATED")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "Settings → Webhooks (WhatsApp Group Webhooks")
	elsewhere := newCLI(t, doubleticktest.WithWABANumbers("911111111111"))
	r = elsewhere.run(t, "webhooks", "register", "--name", "x", "--url", "https://crm.example.com/x", "--waba", "919999999999",
		"--event", "MESSAGE_RECEIVED")
	assert.Equal(t, exitAPI, r.code)
	assert.Regexp(t, `(?m)^919999999999\s+-\s+no: not a number of this account$`, r.stdout)
	assert.Contains(t, r.stderr, "no webhook was registered: numbers without an integration: 919999999999")

	// Several secrets (a rotation) cannot be registered.
	c.env[envWebhookSecret] = "one-secret,two-secret"
	r = c.run(t, "webhooks", "register", "--name", "x", "--url", "https://x.example.com", "--waba", "911111111111",
		"--event", "MESSAGE_RECEIVED", "--auth-type", "bearer")
	assert.Equal(t, exitUsage, r.code)
	assert.NotContains(t, r.stderr, "one-secret")
}

func TestWebhookSecretInAHeaderOrQueryComesFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct{ auth, flag string }{{"header", "--auth-header"}, {"query", "--auth-query"}} {
		t.Run(tc.auth, func(t *testing.T) {
			c := newCLI(t, doubleticktest.WithGroupEventSubscriptions()) // to register a group event's receiver through the API
			c.createGroup(t, "g1")
			addr, stop := c.listening(t, "--auth", tc.auth, "--name", "X-Token")
			out := c.ok(t, "webhooks", "register", "--name", "crm", "--url", "http://"+addr+"/", "--waba", "911111111111",
				"--event", "WA_GROUP_MESSAGE_RECEIVED", tc.flag, "X-Token")
			assert.Regexp(t, `WA_GROUP_MESSAGE_RECEIVED\s+yes`, out)
			require.NoError(t, c.srv.SendMessage("g1", "+919999999999", "hello"))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, c.srv.WaitDeliveries(ctx, 1))
			res := stop()
			assert.Contains(t, res.stdout, `text="hello"`, "listen checked the secret the registration sent: %s", res.stderr)

			r := c.run(t, "webhooks", "register", "--name", "crm", "--url", "http://"+addr+"/", "--waba", "911111111111",
				"--event", "MESSAGE_RECEIVED", tc.flag, "X-Token", "--"+tc.auth, "X-Token=plain")
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, "also gives X-Token a value")
		})
	}
}

// listening starts "doubletick listen" and returns its address and how to
// stop it and read what it wrote.
func (c *cli) listening(t *testing.T, args ...string) (addr string, stop func() result) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), stdout, stderr,
			func(k string) string { return c.env[k] })
	}()
	listening := regexp.MustCompile(`listening on http://(\S+)`)
	require.Eventually(t, func() bool { return listening.MatchString(stderr.String()) }, 10*time.Second, 5*time.Millisecond)
	addr = listening.FindStringSubmatch(stderr.String())[1]
	return addr, func() result {
		cancel()
		return result{code: <-done, stdout: stdout.String(), stderr: stderr.String()}
	}
}

func post(t *testing.T, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

const joinedEvent = `{"event":"GROUP_PARTICIPANT_JOINED","orgId":"org_1","integrationId":"int_1","groupId":"g1",` +
	`"groupName":"Support","customerPhone":"+919999999999","participantJoinedAt":"2026-11-25T10:00:00.000Z"}`

func TestListenPrintsEventsAndWhyDeliveriesWereRefused(t *testing.T) {
	c := newCLI(t)
	saved := t.TempDir()
	addr, stop := c.listening(t, "--auth", "bearer", "--save", saved, "--save-refused", "2")

	assert.Equal(t, http.StatusUnauthorized, post(t, "http://"+addr+"/", "wrong-token-123", joinedEvent))
	assert.Equal(t, http.StatusBadRequest, post(t, "http://"+addr+"/", webhookSecret, `{"event":`))
	assert.Equal(t, http.StatusOK, post(t, "http://"+addr+"/", webhookSecret, joinedEvent))
	res := stop()

	assert.Equal(t, exitOK, res.code)
	assert.Regexp(t, `refused 401 Unauthorized: POST / from 127\.0\.0\.1:\d+: \S`, res.stderr)
	assert.Regexp(t, `refused 400 Bad Request: POST / from 127\.0\.0\.1:\d+: \S`, res.stderr)
	assert.NotContains(t, res.stderr, "wrong-token-123")
	assert.NotContains(t, res.stderr, webhookSecret)
	assert.Contains(t, res.stdout, `GROUP_PARTICIPANT_JOINED group="g1"`)
	assert.Contains(t, res.stdout, "participant=+919999999999")

	// Each delivery was saved; verify reads them back as listen judged them.
	files, err := filepath.Glob(filepath.Join(saved, "*.http"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	for _, f := range files {
		info, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "a saved delivery holds its credential")
		r := c.run(t, "verify", "--request", f)
		switch {
		case strings.HasSuffix(f, "-200.http"):
			assert.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "verified")
			r = c.run(t, "verify", "--request", f, "--json")
			assert.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "\n  \"payload\": {", "indented as every --json is")
			assert.True(t, json.Valid([]byte(r.stdout)))
		case strings.HasSuffix(f, "-401.http"):
			assert.Equal(t, exitAPI, r.code)
			assert.Contains(t, r.stderr, "refused 401")
		case strings.HasSuffix(f, "-400.http"):
			assert.Equal(t, exitAPI, r.code)
			assert.Contains(t, r.stderr, "refused 400")
		default:
			t.Errorf("unexpected saved file %s", f)
		}
	}

	// The same delivery checked against another secret is refused.
	ok, _ := filepath.Glob(filepath.Join(saved, "*-200.http"))
	c.env[envWebhookSecret] = "another-secret-456"
	r := c.run(t, "verify", "--request", ok[0])
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "refused 401")
}

func TestListenSavesRefusedDeliveriesOnlyWhenAskedAndCapped(t *testing.T) {
	c := newCLI(t)
	saved := t.TempDir()
	addr, stop := c.listening(t, "--auth", "bearer", "--save", saved)
	assert.Equal(t, http.StatusUnauthorized, post(t, "http://"+addr+"/", "wrong-token-123", joinedEvent))
	assert.Equal(t, http.StatusOK, post(t, "http://"+addr+"/", webhookSecret, joinedEvent))
	stop()
	files, _ := filepath.Glob(filepath.Join(saved, "*.http"))
	require.Len(t, files, 1, "only the verified delivery is saved by default")
	assert.True(t, strings.HasSuffix(files[0], "-200.http"))

	saved = t.TempDir()
	addr, stop = c.listening(t, "--auth", "bearer", "--save", saved, "--save-refused", "2")
	big := `{"event":"` + strings.Repeat("x", 200<<10) // malformed, read in full by the check
	assert.Equal(t, http.StatusBadRequest, post(t, "http://"+addr+"/", webhookSecret, big))
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, post(t, "http://"+addr+"/", "wrong-token-123", joinedEvent))
	}
	stop()
	files, _ = filepath.Glob(filepath.Join(saved, "*.http"))
	require.Len(t, files, 2, "no more refused deliveries than --save-refused")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		_, body, _ := strings.Cut(string(raw), "\r\n\r\n")
		switch {
		case strings.HasSuffix(f, "-400.http"):
			assert.Len(t, body, 64<<10, "a refused body is cut at 64 KiB")
		case strings.HasSuffix(f, "-401.http"):
			assert.Empty(t, body, "a delivery refused on its header credential is not read")
		default:
			t.Errorf("unexpected saved file %s", f)
		}
	}

	r := c.run(t, "listen", "--save-refused", "3")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--save-refused needs --save")
}

func TestListenAnswersAnUnauthenticatedRequestBeforeItsBody(t *testing.T) {
	c := newCLI(t)
	addr, stop := c.listening(t, "--auth", "bearer", "--save", t.TempDir(), "--save-refused", "5")
	defer stop()
	// A sender that announces a body, sends a few bytes of it and then
	// nothing more.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer wrong-token-123\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"event\":", addr, 1000)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a bound, not a measurement
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "answered although the body never came")
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestListenWithoutASecretIsAUsageError(t *testing.T) {
	c := newCLI(t)
	delete(c.env, envWebhookSecret)
	r := c.run(t, "listen", "--addr", "127.0.0.1:0")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, envWebhookSecret)

	secretFile := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(webhookSecret+"\n"), 0o600))
	c.env[envWebhookSecretFile] = secretFile
	addr, stop := c.listening(t)
	assert.Equal(t, http.StatusOK, post(t, "http://"+addr+"/", webhookSecret, joinedEvent), "the secret read from the file, without its line end")
	stop()
}

func TestHelpOnEveryLevelNamesTheEnvironment(t *testing.T) {
	c := newCLI(t)
	for _, help := range [][]string{{"help"}, {"-h"}, {"--help"}, {"help", "groups", "import"}, {"groups", "help"}} {
		r := c.run(t, help...)
		assert.Equal(t, exitOK, r.code, "%v: %s", help, r.stderr)
		assert.Contains(t, r.stdout, "Usage:", help)
	}
	root := (&app{getenv: os.Getenv}).rootCommand()
	for _, cmd := range commandTree(root) {
		// version reads no variable.
		if cmd.Hidden || cmd.IsAdditionalHelpTopicCommand() || cmd.Name() == "help" || cmd.Name() == "version" || strings.HasPrefix(cmd.CommandPath(), "doubletick completion") {
			continue
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		r := c.run(t, append(path, "-h")...)
		assert.Equal(t, exitOK, r.code, "%v -h", path)
		assert.Contains(t, r.stdout, "Environment:", "%v -h names no environment variable", path)
		for _, v := range strings.Fields(cmd.Annotations["env"]) {
			assert.Contains(t, r.stdout, v, "%v -h", path)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"groups"},
		{"groups", "bogus"},
		{"groups", "get"},
		{"groups", "get", "a", "b"},
		{"groups", "list", "--no-such-flag"},
		{"groups", "import"},
		{"listen", "--auth", "telepathy"},
	} {
		r := c.run(t, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.NotEmpty(t, r.stderr, args)
	}

	delete(c.env, envAPIKey)
	r := c.run(t, "groups", "get", "g1")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, envAPIKey)

	c.env[envAPIKey] = doubleticktest.APIKey
	c.env[envBaseURL] = "http://api.example.com"
	r = c.run(t, "groups", "get", "g1")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "clear text")
	assert.NotContains(t, r.stderr, "WithInsecureHTTP", "errors name this tool's flags, not SDK options")

	// A base URL is printed without its password, query or fragment.
	for _, base := range []string{
		"http://user:pa55word-x@api.example.com/?token=pa55word-x#pa55word-x",
		"ftp://user:pa55word-x@api.example.com/",
		"http://user:pa55word-x@[::1/",
		"%zz-pa55word-x",
	} {
		c.env[envBaseURL] = base
		r = c.run(t, "groups", "get", "g1")
		assert.Equal(t, exitUsage, r.code, base)
		assert.NotContains(t, r.stderr, "pa55word-x", base)
		assert.Contains(t, r.stderr, envBaseURL, base)
	}
	c.env[envBaseURL] = "http://user:pa55word-x@api.example.com/"
	r = c.run(t, "groups", "get", "g1")
	assert.Contains(t, r.stderr, `"http://api.example.com/"`, "no user information: a token may be given as the user name")
}

func TestNoFlagTakesASecret(t *testing.T) {
	secretish := regexp.MustCompile(`(?i)key|secret|token|password|credential|payload`)
	root := (&app{getenv: os.Getenv}).rootCommand()
	for _, cmd := range commandTree(root) {
		check := func(f *pflag.Flag) {
			assert.False(t, secretish.MatchString(f.Name), "%s --%s looks like it takes a secret", cmd.CommandPath(), f.Name)
		}
		cmd.Flags().VisitAll(check)
		cmd.PersistentFlags().VisitAll(check)
	}

	// And one given anyway is refused, without being echoed.
	c := newCLI(t)
	for _, args := range [][]string{
		{"groups", "get", "g1", "--api-key", "sk-live-abc"},
		{"verify", "--secret", "sk-live-abc"},
		{"listen", "--credential=sk-live-abc"},
	} {
		r := c.run(t, args...)
		assert.Equal(t, exitUsage, r.code, args)
		assert.NotContains(t, r.stderr+r.stdout, "sk-live-abc", args)
	}
}

func TestTheAPIKeyIsNeverPrinted(t *testing.T) {
	const key = "sk-live-must-not-print"
	c := newCLI(t, doubleticktest.WithAPIKey(key))
	c.env[envAPIKey] = key
	c.createGroup(t, "g1")
	for _, args := range [][]string{{"groups", "get", "g1", "--json"}, {"groups", "get", "nope"}, {"groups", "list", "--waba", "911111111111"}} {
		r := c.run(t, args...)
		assert.NotContains(t, r.stdout+r.stderr, key, args)
	}
	c.env[envAPIKey] = "sk-wrong-must-not-print"
	r := c.run(t, "groups", "get", "g1")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "401")
	assert.NotContains(t, r.stderr, "sk-wrong-must-not-print")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVerifyASavedBodyAgainstItsSignature(t *testing.T) {
	c := newCLI(t)
	body := filepath.Join(t.TempDir(), "body.json")
	require.NoError(t, os.WriteFile(body, []byte(joinedEvent), 0o600))
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(joinedEvent))
	signature := hex.EncodeToString(mac.Sum(nil))

	out := c.ok(t, "verify", "--body", body, "--auth", "hmac", "--name", "X-Signature", "--header", "X-Signature: sha256="+signature)
	assert.Contains(t, out, "verified")
	assert.Contains(t, out, "GROUP_PARTICIPANT_JOINED")

	r := c.run(t, "verify", "--body", body, "--auth", "hmac", "--name", "X-Signature", "--header", "X-Signature: "+strings.Repeat("0", 64))
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "refused 401")

	// A credential sent as is cannot be given in argv, in any form.
	for _, args := range [][]string{
		{"verify", "--body", body, "--auth", "bearer", "--header", "Authorization: Bearer " + webhookSecret},
		{"verify", "--body", body, "--auth", "hmac", "--name", "X-Signature", "--header", "authorization: Bearer x"},
		{"verify", "--body", body, "--auth", "header", "--name", "X-Token", "--header", "X-Token: " + webhookSecret},
		{"verify", "--request", body, "--body", body},
		{"verify"},
	} {
		r := c.run(t, args...)
		assert.Equal(t, exitUsage, r.code, args)
		assert.NotContains(t, r.stderr, webhookSecret, args)
	}
}

func TestVersionPrintsTheModuleVersions(t *testing.T) {
	c := newCLI(t)
	out := c.ok(t, "version")
	// Built from the tree by go test, the command and the SDK have no
	// module version; `go install …@v0.1.0` records v0.1.0 (the release
	// rehearsal in .ci/run checks that).
	assert.Equal(t, "doubletick (devel)\nsdk:       github.com/doubletick-go/doubletick (devel)\n"+
		"go:        "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n", out)
	assert.Equal(t, out, c.ok(t, "--version"))
	assert.Equal(t, exitUsage, c.run(t, "version", "extra").code)

	info := &debug.BuildInfo{
		Main:     debug.Module{Path: "github.com/doubletick-go/doubletick/cmd/doubletick", Version: "v0.3.1"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "4f1e0c2"}, {Key: "vcs.modified", Value: "true"}},
	}
	assert.Contains(t, versionText(info, true), "doubletick v0.3.1\n")
	assert.Contains(t, versionText(info, true), "revision:  4f1e0c2 (modified)\n")
}

// TestErrorsSpeakTheCLIsLanguage: a refused request names the flags and
// arguments, not the API's JSON fields; API failures say what to do next;
// typos get a suggestion; a flag for a secret says where secrets come from.
func TestErrorsSpeakTheCLIsLanguage(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(time.Hour))
	for _, tc := range []struct {
		args []string
		code int
		want []string
		not  []string
	}{
		{[]string{"groups", "list"}, exitUsage, []string{"doubletick groups list: --waba: "}, []string{"wabaNumber", "GroupsService"}},
		{[]string{"groups", "create", "--subject", "S", "--mode", "sometimes"}, exitUsage,
			[]string{"--waba: ", "--mode: "}, []string{"joinApprovalMode"}},
		{[]string{"messages", "text", "--group", "g1", "--to", "+15551230000", "--text", "hi"}, exitUsage, []string{"--group: "}, []string{"groupId"}},
		{[]string{"webhooks", "register", "--name", "n", "--url", "https://x.example.com", "--waba", "1"}, exitUsage,
			[]string{"--event: ", "--waba (value 1): "}, []string{"webhookEvents", "wabaNumbers"}},
		{[]string{"groups", "update", "g1", "--waba", "911111111111", "--new-group-id", strings.Repeat("x", 51)}, exitUsage, []string{"--new-group-id: "}, nil},
		{[]string{"groups", "get", "g-pending"}, exitAPI, []string{"404", "hint: a group is created asynchronously"}, nil},
		{[]string{"groups", "list", "--wabba", "1"}, exitUsage, []string{"did you mean --waba?"}, nil},
		{[]string{"grups"}, exitUsage, []string{`did you mean "groups"?`}, nil},
		{[]string{"groups", "get", "g1", "--api-key=sk-live-abc"}, exitUsage, []string{envAPIKey, envAPIKeyFile}, []string{"sk-live-abc"}},
		{[]string{"groups", "get", "g1", "-ksk-live-abc"}, exitUsage, []string{"unknown flag -k"}, []string{"sk-live-abc"}},
	} {
		if slices.Contains(tc.args, "g-pending") {
			c.ok(t, "groups", "create", "--waba", "911111111111", "--subject", "S", "--group-id", "g-pending")
		}
		r := c.run(t, tc.args...)
		assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.stderr)
		for _, w := range tc.want {
			assert.Contains(t, r.stderr, w, tc.args)
		}
		for _, n := range tc.not {
			assert.NotContains(t, r.stderr, n, tc.args)
		}
	}

	c.env[envAPIKey] = "sk-wrong-key"
	r := c.run(t, "groups", "get", "g1")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "hint: DoubleTick refused the API key: check "+envAPIKey)
}

func TestCompletionIsListedAndWorks(t *testing.T) {
	c := newCLI(t)
	assert.Regexp(t, `(?m)^\s+completion\s`, c.ok(t, "help"))
	assert.Contains(t, c.ok(t, "completion", "bash"), "__start_doubletick")
}

func TestListsTakeLimitAndRate(t *testing.T) {
	c := newCLI(t, doubleticktest.WithPageSize(1), doubleticktest.WithCreationDelay(0))
	for i := range 6 {
		c.createGroup(t, fmt.Sprint("g", i))
	}

	before := c.srv.Requests()
	out := c.ok(t, "groups", "list", "--waba", "911111111111", "--limit", "3", "--json")
	var page doubletick.GroupPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	assert.Len(t, page.Groups, 3)
	assert.Equal(t, 3, c.srv.Requests()-before, "no page fetched past the limit")

	// At 4 requests/s, one second's burst and then one each 250 ms: six
	// pages take at least 0.5 s (unpaced, a few ms). A lower bound only: a
	// loaded machine can only be slower.
	began := time.Now()
	out = c.ok(t, "groups", "list", "--waba", "911111111111", "--all", "--rate", "4")
	assert.GreaterOrEqual(t, time.Since(began), 500*time.Millisecond, "paced at --rate")
	assert.Equal(t, 6, strings.Count(out, "Support g"))

	require.NoError(t, c.srv.Join("g0", "919999999999", "Asha"))
	require.NoError(t, c.srv.Join("g0", "918888888888", "Ravi"))
	require.NoError(t, c.srv.Join("g0", "917777777777", "Meera"))
	c.ok(t, "participants", "remove", "g0", "919999999999")
	out = c.ok(t, "participants", "list", "g0", "--current", "--limit", "2", "--json")
	var members doubletick.ParticipantPage
	require.NoError(t, json.Unmarshal([]byte(out), &members))
	require.Len(t, members.Participants, 2, "--limit counts the members --current keeps")
	for _, p := range members.Participants {
		assert.True(t, p.IsCurrent())
	}

	for _, bad := range [][]string{{"--limit", "-1"}, {"--rate", "-2"}, {"--rate", "NaN"}} {
		r := c.run(t, append([]string{"groups", "list", "--waba", "911111111111"}, bad...)...)
		assert.Equal(t, exitUsage, r.code, bad)
		assert.Contains(t, r.stderr, bad[0], bad)
	}
}

func TestListCountsOnATerminalOnly(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr}
	c := a.newCounter("groups")
	c.add(1)
	c.finish()
	assert.Empty(t, stderr.String(), "not a terminal: nothing drawn")

	a.stderrIsTerminal = true
	c = a.newCounter("groups")
	c.add(1)
	c.add(1)
	c.finish()
	assert.True(t, strings.HasPrefix(stderr.String(), "\rlisting groups: 1"), stderr.String())
	assert.True(t, strings.HasSuffix(stderr.String(), "\rlisting groups: 2, done\n"), stderr.String())
}
