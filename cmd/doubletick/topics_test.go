package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHelpTopics(t *testing.T) {
	c := newCLI(t)
	for topic, want := range map[string]string{
		"exit-codes":  "130  interrupted",
		"environment": envDebug,
		"formats":     "JSON Lines",
		"fake":        "/_doubleticktest/",
	} {
		r := c.run(t, "help", topic)
		assert.Equal(t, exitOK, r.code, topic)
		assert.Contains(t, r.stdout, want, topic)
		assert.NotContains(t, r.stdout, "Available Commands", "%s: the topic, not the root's help", topic)
	}
	assert.Contains(t, c.ok(t, "help"), "Additional help topics")
}

// TestFlagValuesComplete asks the shell completion for flags whose values
// are known, the WABA numbers from the key's channels among them.
func TestFlagValuesComplete(t *testing.T) {
	c := newCLI(t)
	complete := func(args ...string) []string {
		t.Helper()
		out := c.ok(t, append([]string{"__complete"}, args...)...)
		var values []string
		for _, line := range strings.Split(out, "\n") {
			if line == "" || strings.HasPrefix(line, ":") {
				continue
			}
			value, _, _ := strings.Cut(line, "\t")
			values = append(values, value)
		}
		return values
	}
	assert.Contains(t, complete("groups", "create", "--waba", ""), "911111111111", "the key's channels, from the API")
	c.env[envDebug] = "full"
	r := c.run(t, "__complete", "groups", "create", "--waba", "")
	assert.NotContains(t, r.stderr+r.stdout, "> GET", "no dump into the shell")
	delete(c.env, envDebug)
	assert.Contains(t, complete("webhooks", "register", "--event", ""), "MESSAGE_STATUS_UPDATE")
	assert.Contains(t, complete("webhooks", "register", "--format", ""), "form-data")
	assert.Contains(t, complete("listen", "--auth", ""), "hmac")
	assert.Contains(t, complete("api", "--method", ""), "PATCH")
	assert.Contains(t, complete("groups", "create", "--mode", ""), "approval_required")
	assert.Contains(t, complete("trigger", ""), "GROUP_CREATED")
	assert.Equal(t, []string{"api", "full"}, complete("--debug="))

	c.env[envBaseURL] = "http://127.0.0.1:9"
	assert.Empty(t, complete("groups", "create", "--waba", ""), "no API: nothing offered, no error in the shell")
}
