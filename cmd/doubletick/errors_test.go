package main

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// sdkWords matches what an error in the CLI's words never shows: an SDK
// package's prefix, a Go function or type, or the API's camel-case field
// names (the flags name them).
var sdkWords = regexp.MustCompile(`\b(?:webhooks|inbox|inboxadmin|doubleticktest|membership|river|riversqlite|pgx|strconv|json|cobra|pflag): ` +
	`|\b[A-Z][A-Za-z]*Service\b|\bNew[A-Z][A-Za-z]+\b|\bdoubletick\.[A-Z]|\b[A-Z][A-Za-z]+\.[A-Z][A-Za-z]+\(` +
	`|\b[a-z]+[A-Z][A-Za-z]*\b`)

// badInput is what each command is run with to make it fail: nothing, for
// most; for those that would serve until stopped, a flag that is wrong.
var badInput = map[string][]string{
	"doubletick listen":  {"--auth", "hmac"},
	"doubletick fake":    {"--page-size", "-1"},
	"doubletick trigger": {"NOT_AN_EVENT"},
}

// TestEveryErrorSpeaksInFlagsAndCommands runs every command with bad input,
// and again (those that send) against an address where nothing listens,
// and finds no SDK package, Go name or API field name in what it says.
func TestEveryErrorSpeaksInFlagsAndCommands(t *testing.T) {
	c := newCLI(t)
	c.env[envBaseURL] = "http://127.0.0.1:9" // nothing listens: a network error, not an answer
	root := (&app{getenv: c.env2()}).rootCommand()
	// Run at once: those that send wait out the client's retries (about
	// 3 s) against the closed port.
	var ran atomic.Int32
	var all sync.WaitGroup
	for _, cmd := range commandTree(root) {
		if cmd.HasSubCommands() || !cmd.Runnable() || strings.HasPrefix(cmd.CommandPath(), "doubletick completion") ||
			cmd.Name() == "help" || cmd.Name() == "version" {
			continue
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		args := append(path, badInput[cmd.CommandPath()]...)
		all.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := c.runContext(ctx, t, args...)
			ran.Add(1)
			if r.code == exitOK {
				return // a command that needs nothing (a list of profiles)
			}
			assert.NotEqual(t, exitInterrupted, r.code, "%v did not stop: %s", args, r.stderr)
			for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "Usage:") {
					break // cobra's usage text follows: flags, not errors
				}
				assert.Empty(t, sdkWords.FindAllString(line, -1), "%v: %q", args, line)
			}
		})
	}
	all.Wait()
	assert.Greater(t, ran.Load(), int32(40), "every command")

	// Commands whose input is right, against an address where nothing
	// listens: the network error names the address and what to check
	// (each takes the client's retries, about 3 s: two commands, a
	// typed one and api, run at once).
	var wg sync.WaitGroup
	for _, args := range [][]string{
		{"groups", "get", "g1"},
		{"api", "/v2/webhooks"},
	} {
		wg.Go(func() { checkNetworkError(t, c, args) })
	}
	wg.Wait()
}

// checkNetworkError runs args, which the CLI sends to an address where
// nothing listens.
func checkNetworkError(t *testing.T, c *cli, args []string) {
	{
		r := c.run(t, args...)
		assert.Equal(t, exitAPI, r.code, "%v", args)
		assert.Contains(t, r.stderr, "could not reach the API at http://127.0.0.1:9: connection refused", "%v", args)
		assert.Contains(t, r.stderr, "hint: check --base-url, $DOUBLETICK_BASE_URL", "%v", args)
		assert.Empty(t, sdkWords.FindAllString(r.stderr, -1), "%v: %s", args, r.stderr)
	}
}

// env2 is the CLI's environment as a function.
func (c *cli) env2() func(string) string { return func(k string) string { return c.env[k] } }
