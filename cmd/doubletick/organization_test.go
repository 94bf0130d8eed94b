package main

import (
	"encoding/json"
	"net/http"
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
	assert.JSONEq(t, "[]", c.ok(t, "templates", "list", "--status", "PAUSED", "--json"), "an empty list is [], not null")

	before := c.srv.Requests()
	r := c.run(t, "templates", "list", "--status", "LIVE", "--language", "klingon")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--status")
	assert.Contains(t, r.stderr, "--language")
	assert.Equal(t, before, c.srv.Requests())
}

// The group integration's first hour, in the CLI: find the WABA number,
// check a template, create a group, assign it, note it, read the chat list.
func TestAGroupIntegrationsFirstHour(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0))
	assert.Regexp(t, `(?m)^911111111111\s+Acme 1\s+CONNECTED`, c.ok(t, "channels", "list"))
	assert.Regexp(t, `(?m)^welcome\s+en\s+APPROVED`, c.ok(t, "templates", "list", "--waba", "911111111111", "--status", "APPROVED"))
	c.createGroup(t, "acme-vip")
	require.NoError(t, c.srv.Join("acme-vip", "+919876543210", "Asha"))
	assert.Equal(t, "assigned to 919000000002\n", c.ok(t, "chats", "assign", "--group", "acme-vip", "--agent", "919000000002"))
	out := c.ok(t, "notes", "add", "--group", "acme-vip", "--text", "Renewal due in March")
	assert.Contains(t, out, "Renewal due in March")
	out = c.ok(t, "chats", "list", "--agent", "919000000002")
	assert.Regexp(t, `(?m)^WA_GROUP\s+Support acme-vip\s+911111111111\s+Ravi Agent\s+0\s`, out)
	var notes []doubletick.Note
	require.NoError(t, json.Unmarshal([]byte(c.ok(t, "notes", "list", "--group", "acme-vip", "--all", "--json")), &notes))
	require.Len(t, notes, 1)
	c.ok(t, "notes", "update", notes[0].ID, "--text", "Renewal due in April")
	assert.Contains(t, c.ok(t, "notes", "get", notes[0].ID), "April")
	c.ok(t, "notes", "delete", notes[0].ID)
	assert.Equal(t, "unassigned\n", c.ok(t, "chats", "unassign", "--group", "acme-vip"))
	assert.Regexp(t, `(?m)^WA_GROUP\s+Support acme-vip\s+911111111111\s+-\s`, c.ok(t, "chats", "list", "--unassigned", "--all"))

	// In the CLI's words, before anything is sent.
	before := c.srv.Requests()
	r := c.run(t, "chats", "assign", "--group", "acme-vip", "--customer", "919876543210", "--agent", "12")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--group")
	assert.Contains(t, r.stderr, "--agent")
	r = c.run(t, "notes", "add", "--group", "acme-vip")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--text")
	assert.Equal(t, before, c.srv.Requests())
	r = c.run(t, "chats", "assign", "--group", "acme-vip", "--agent", "15550009999")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "User is not a member of the team")
}

func TestCustomersCommands(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0))
	c.createGroup(t, "vip")
	require.NoError(t, c.srv.Join("vip", "+919876543210", "Asha"))
	out := c.ok(t, "customers", "tag", "919876543210", "--tag", "vip", "--field", "plan=gold", "--waba", "911111111111")
	assert.Regexp(t, `(?m)^added\s+vip,plan$`, out)
	out = c.ok(t, "customers", "get", "+919876543210", "--waba", "911111111111")
	assert.Regexp(t, `(?m)^tags\s+vip$`, out)
	assert.Regexp(t, `(?m)^plan\s+gold$`, out)
	out = c.ok(t, "customers", "untag", "919876543210", "--tag", "vip", "--tag", "ghost")
	assert.Regexp(t, `(?m)^removed\s+vip$`, out)
	assert.Regexp(t, `(?m)^not removed\s+ghost: Tag is not assigned`, out)

	r := c.run(t, "customers", "delete", "919876543210")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--yes")
	out = c.ok(t, "customers", "delete", "919876543210", "919800000000", "--yes")
	assert.Contains(t, out, "queued for deletion")
	assert.Contains(t, out, "919800000000")
	r = c.run(t, "customers", "get", "919876543210")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "404")

	before := c.srv.Requests()
	r = c.run(t, "customers", "tag", "91x", "--field", "plan")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--field")
	r = c.run(t, "customers", "get", "91-98")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "PHONE")
	assert.Equal(t, before, c.srv.Requests())
}

// Text from the API drives no terminal: a group subject set by a member,
// with an escape sequence, is printed escaped in every table; and a refused
// request's path, which anyone can send to listen, is logged escaped.
func TestGroupTablesAndListenLogsEscapeTerminalControls(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0))
	c.ok(t, "groups", "create", "--waba", "911111111111", "--subject", "VIP\x1b]0;owned\x07\x1b[2J", "--group-id", "vip")
	for _, args := range [][]string{{"groups", "get", "vip"}, {"groups", "list", "--waba", "911111111111"}} {
		out := c.ok(t, args...)
		assert.NotContains(t, out, "\x1b", args)
		assert.Contains(t, out, `VIP\x1b]0;owned\a\x1b[2J`, args)
	}
	addr, stop := c.listening(t, "--auth", "bearer")
	resp, err := http.Get("http://" + addr + "/%1B%5D0%3Bowned%07")
	require.NoError(t, err)
	resp.Body.Close()
	r := stop()
	assert.NotContains(t, r.stderr, "\x1b")
	assert.Contains(t, r.stderr, `/\x1b]0;owned\a`)
}
