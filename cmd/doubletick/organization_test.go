package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

func TestChannelsTeamAndWalletCommands(t *testing.T) {
	c := newCLI(t, doubleticktest.WithWABANumbers("911111111111", "912222222222"), doubleticktest.WithWalletBalance("INR", 42.5))

	out := c.ok(t, "channels", "list")
	assert.Regexp(t, `(?m)^911111111111\s+Acme 1\s+CONNECTED\s+intg_0000000001$`, out)
	assert.Regexp(t, `(?m)^912222222222\s+Acme 2\s+CONNECTED\s+intg_0000000002$`, out)
	out = c.ok(t, "channels", "list", "--waba", "+912222222222", "--json")
	var list doubletick.ChannelList
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list.Channels, 1)
	assert.Equal(t, "912222222222", list.Channels[0].WABANumber)

	out = c.ok(t, "team", "list")
	assert.Regexp(t, `(?m)^919000000002\s+Ravi Agent\s+ravi@example.com\s+AGENT\s`, out)
	out = c.ok(t, "team", "get", "+919000000002")
	assert.Regexp(t, `(?m)^role on 912222222222\s+AGENT$`, out)
	out = c.ok(t, "team", "roles", "--json")
	var roles []doubletick.Role
	require.NoError(t, json.Unmarshal([]byte(out), &roles))
	assert.NotEmpty(t, roles)
	assert.Equal(t, "42.50 INR\n", c.ok(t, "wallet"))

	// Bad input is named in the CLI's words before anything is sent.
	before := c.srv.Requests()
	r := c.run(t, "team", "get", "not-a-number")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "AGENT_NUMBER")
	r = c.run(t, "channels", "list", "--waba", "91x")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--waba")
	assert.Equal(t, before, c.srv.Requests())
	r = c.run(t, "team", "get", "15550000000")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "Team member not found")
}

func TestTablesEscapeControlCharactersFromTheAPI(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.srv.AddTeamMember(doubleticktest.TeamMember{Name: "Mallory\x1b]0;owned\x07\tX", Phone: "919000000009"}))
	out := c.ok(t, "team", "list")
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, `Mallory\x1b]0;owned\a\tX`)
}

func TestTemplatesListCommand(t *testing.T) {
	c := newCLI(t, doubleticktest.WithWABANumbers("911111111111"))
	out := c.ok(t, "templates", "list", "--waba", "911111111111")
	assert.Regexp(t, `(?m)^welcome\s+en\s+APPROVED\s+UTILITY\s+911111111111\s+1\s*$`, out)
	assert.Regexp(t, `(?m)^promo_offer\s+en\s+REJECTED\s+MARKETING\s+911111111111\s+3\s+The template was rejected`, out)
	out = c.ok(t, "templates", "list", "--status", "APPROVED", "--json")
	var list []doubletick.Template
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)
	assert.Equal(t, "welcome", list[0].Name)

	before := c.srv.Requests()
	r := c.run(t, "templates", "list", "--status", "LIVE", "--language", "klingon")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--status")
	assert.Contains(t, r.stderr, "--language")
	assert.Equal(t, before, c.srv.Requests())
}
