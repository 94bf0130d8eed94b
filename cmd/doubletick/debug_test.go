package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// TestDebugDumpsEveryExchangeWithNoSecret runs commands that carry every
// kind of credential with --debug, --debug=full and DOUBLETICK_DEBUG: the
// dump shows each request and answer, and none of the credentials; phone
// numbers only with full.
func TestDebugDumpsEveryExchangeWithNoSecret(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0))
	c.createGroup(t, "vip")
	require.NoError(t, c.srv.Join("vip", "+919876543210", "Asha"))
	secrets := []string{doubleticktest.APIKey, webhookSecret, "hookuser-tok-1", "hookpass-123", "qtok-123456", "tok-param-123"}
	commands := [][]string{
		{"participants", "list", "vip"},
		{"webhooks", "register", "--name", "crm", "--url", "https://hookuser-tok-1:hookpass-123@crm.example.com/h?token=qtok-123456",
			"--event", "MESSAGE_RECEIVED", "--waba", "911111111111", "--auth-type", "bearer"},
		{"api", "/customer/details", "-f", "phone=+919876543210", "-f", "token=tok-param-123"},
		{"api", "/whatsapp/wa-group/info", "-f", "groupId=missing"},
	}
	for _, level := range []string{"--debug", "--debug=api", "--debug=full", "env"} {
		for _, args := range commands {
			if level == "env" {
				c.env[envDebug] = "full"
			} else {
				args = append([]string{level}, args...)
			}
			r := c.run(t, args...)
			delete(c.env, envDebug)
			assert.Contains(t, r.stderr, "> ", "%s %v: a dump", level, args)
			assert.Contains(t, r.stderr, "< HTTP/1.1 ", "%s %v: the answer too", level, args)
			for _, s := range secrets {
				assert.NotContains(t, r.stderr+r.stdout, s, "%s %v", level, args)
			}
			full := level == "--debug=full" || level == "env"
			if joined := strings.Join(args, " "); strings.Contains(joined, "participants list") || strings.Contains(joined, "customer/details") {
				assert.Equal(t, full, strings.Contains(r.stderr, "9876543210"), "%s %v: phone numbers only with full", level, args)
			}
		}
	}
	r := c.run(t, "--debug=verbose", "participants", "list", "vip")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "want api (the default) or full")
	assert.NotContains(t, c.run(t, "participants", "list", "vip").stderr, "> GET", "no dump unless asked")
}

func TestDebugTransportReplacesCredentialsItFindsInText(t *testing.T) {
	tr := (&app{stderr: &strings.Builder{}, getenv: func(string) string { return "" }}).newDebugTransport(debugAPI, "key_0123456789", `quo"te-secret`)
	for in, hidden := range map[string]string{
		`{"error":"bad key key_0123456789"}`:                    "key_0123456789",
		`echoed "quo\"te-secret" back`:                          `quo\"te-secret`,
		`see https://user-tok-9:pw-9@h.example/x`:               "user-tok-9",
		`url=https://h.example/x?a=1&access_token=zz-top-9&b=2`: "zz-top-9",
		"a \x1b]52;c;AAAA\x07 terminal escape":                  "\x1b",
	} {
		assert.NotContains(t, tr.text(in), hidden, in)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "X-Signature": {"abc"}, "Content-Type": {"application/json"}}
	var b strings.Builder
	tr.headers(&b, ">", h)
	assert.Equal(t, "> Authorization: [REDACTED]\n> Content-Type: application/json\n> X-Signature: [REDACTED]\n", b.String())
}
