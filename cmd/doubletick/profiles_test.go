package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// TestProfiles adds, lists, uses and removes profiles, in a config file of
// the test's: the key is read from where a profile says, never stored, and
// never taken from $DOUBLETICK_API_KEY while a profile is chosen.
func TestProfiles(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "conf", "config.json")
	c.env[envConfig] = config
	c.env[envAPIKey] = "key_of_another_customer_0000" // left in the shell: must not be used
	c.env["ACME_KEY"] = doubleticktest.APIKey
	keyFile := filepath.Join(dir, "globex.key")
	require.NoError(t, os.WriteFile(keyFile, []byte("key_wrong_for_the_fake_0000\n"), 0o600))

	assert.Contains(t, c.ok(t, "profiles", "list"), "NAME", "no file yet: an empty list")
	c.ok(t, "profiles", "add", "acme", "--from-env", "ACME_KEY", "--base-url", c.srv.URL, "--org", "acme")
	c.ok(t, "profiles", "add", "globex", "--from-file", keyFile, "--base-url", c.srv.URL)
	info, err := os.Stat(config)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the profiles' file is its owner's alone")
	raw, err := os.ReadFile(config)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), doubleticktest.APIKey, "no key in the file")
	assert.NotContains(t, string(raw), "key_wrong_for_the_fake", "no key in the file")

	r := c.run(t, "profiles", "add", "acme", "--from-env", "X")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `profile "acme" exists`)
	for _, bad := range [][]string{
		{"profiles", "add", "x"},
		{"profiles", "add", "x", "--from-env", "A", "--from-file", "f"},
		{"profiles", "add", "a/b", "--from-env", "A"},
		{"profiles", "add", "x", "--key", "secret"},
		{"profiles", "add", "x", "--from-env", "A", "--base-url", "http://example.com"},
	} {
		assert.Equal(t, exitUsage, c.run(t, bad...).code, "%v", bad)
	}

	var rows []struct {
		Name    string `json:"name"`
		Current bool   `json:"current"`
		KeyEnv  string `json:"key_env"`
		KeyFile string `json:"key_file"`
	}
	c.env[envProfile] = "acme"
	require.NoError(t, json.Unmarshal([]byte(c.ok(t, "profiles", "list", "--json")), &rows))
	require.Len(t, rows, 2)
	assert.True(t, rows[0].Current)
	assert.Equal(t, "ACME_KEY", rows[0].KeyEnv)
	assert.Equal(t, keyFile, rows[1].KeyFile)

	// $DOUBLETICK_PROFILE chooses acme, whose key is the fake's: it works,
	// though $DOUBLETICK_API_KEY holds another.
	c.ok(t, "channels", "list")
	// --profile overrides it: globex's key file holds a key the fake
	// refuses, and the hint names the profile.
	r = c.run(t, "--profile", "globex", "channels", "list")
	assert.Equal(t, exitAPI, r.code)
	assert.Contains(t, r.stderr, "profile globex's API key")
	assert.Contains(t, r.stderr, keyFile)
	delete(c.env, "ACME_KEY")
	r = c.run(t, "channels", "list")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "profile acme takes its API key from $ACME_KEY, which is not set")
	r = c.run(t, "--profile", "initech", "channels", "list")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `no profile "initech"`)
	assert.Contains(t, r.stderr, "acme, globex")

	c.ok(t, "profiles", "remove", "globex")
	assert.Equal(t, exitUsage, c.run(t, "profiles", "remove", "globex").code)
	assert.NotContains(t, c.ok(t, "profiles", "list"), "globex")
}
