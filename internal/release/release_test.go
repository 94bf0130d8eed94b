package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newRepo makes a git repository laid out as this one: a root module and a
// nested one that requires it, in a go.work, with a changelog; committed.
// The test runs in it.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":       "module example.com/r\n\ngo 1.26.0\n",
		"r.go":         "// Package r is a module to release.\npackage r\n\n// A is its API.\nfunc A() int { return 1 }\n",
		"CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n\n### Added\n- A.\n",
		"sub/go.mod":   "module example.com/r/sub\n\ngo 1.26.0\n\nrequire example.com/r v0.1.0\n",
		"sub/sub.go":   "// Package sub uses r.\npackage sub\n\nimport \"example.com/r\"\n\n// B calls A.\nfunc B() int { return r.A() }\n",
		"go.work":      "go 1.26.0\n\nuse (\n\t.\n\t./sub\n)\n\nreplace example.com/r v0.1.0 => ./\n",
	}
	for name, content := range files {
		write(t, filepath.Join(dir, name), content)
	}
	git(t, dir, "init", "-q", "-b", "main")
	commitAll(t, dir, "start")
	t.Chdir(dir)
	return dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
}

// release runs the command and returns what it printed and its error.
func release(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestPrepareReleasesEveryModuleAtOneVersion(t *testing.T) {
	dir := newRepo(t)
	proxyDir := filepath.Join(t.TempDir(), "proxy")
	out, err := release(t, "prepare", "-proxy", proxyDir, "-skip-tests", "v0.1.0")
	require.NoError(t, err, out)

	assert.Contains(t, read(t, "sub/go.mod"), "require example.com/r v0.1.0")
	assert.Regexp(t, `(?m)^example.com/r v0.1.0 h1:\S+=$`, read(t, "sub/go.sum"), "the sum of the sibling's release zip")
	assert.Contains(t, read(t, "go.work"), "replace example.com/r v0.1.0 => ./")
	assert.Contains(t, read(t, "CHANGELOG.md"), "## [Unreleased]\n\n## [0.1.0] - "+time.Now().Format(time.DateOnly)+"\n\n### Added")
	assert.Contains(t, out, "API of example.com/r: first release, nothing to compare")
	assert.True(t, strings.HasSuffix(out, "Tags:\nv0.1.0\nsub/v0.1.0\n"), out)
	for _, f := range []string{"example.com/r/@v/v0.1.0.zip", "example.com/r/@v/v0.1.0.mod", "example.com/r/sub/@v/v0.1.0.info", "example.com/r/sub/@v/list"} {
		assert.FileExists(t, filepath.Join(proxyDir, f))
	}

	// Committed and tagged as printed, the published zips are the tags'.
	commitAll(t, dir, "Release v0.1.0")
	git(t, dir, "tag", "v0.1.0")
	git(t, dir, "tag", "sub/v0.1.0")
	out, err = release(t, "verify", "-proxy", proxyDir, "v0.1.0")
	require.NoError(t, err, out)
	assert.Contains(t, out, "example.com/r/sub@v0.1.0 h1:")

	// A file changed after the zip was made is caught.
	write(t, filepath.Join(dir, "r.go"), "package r\n\nfunc A() int { return 2 }\n")
	commitAll(t, dir, "after the release")
	git(t, dir, "tag", "-f", "v0.1.0")
	_, err = release(t, "verify", "-proxy", proxyDir, "v0.1.0")
	assert.ErrorContains(t, err, "example.com/r@v0.1.0: the published zip is h1:")

	out, err = release(t, "next")
	require.NoError(t, err)
	assert.Equal(t, "v0.1.1\n", out)
}

func TestPrepareRefusesWithOneLineAndChangesNothing(t *testing.T) {
	dir := newRepo(t)
	git(t, dir, "tag", "v0.2.0")
	before := git(t, dir, "rev-parse", "HEAD")
	for _, tc := range []struct {
		name, version, want string
		setup               func()
		skipTests           bool
	}{
		{name: "not semver", version: "0.3.0", want: `"0.3.0" is not a semantic version`},
		{name: "short semver", version: "v0.3", want: `"v0.3" is not a semantic version`},
		{name: "build metadata", version: "v0.3.0+meta", want: `"v0.3.0+meta" is not a semantic version`},
		{name: "same as the last", version: "v0.2.0", want: "v0.2.0 is not above the last release, v0.2.0"},
		{name: "lower than the last", version: "v0.1.9", want: "v0.1.9 is not above the last release, v0.2.0"},
		{name: "a prerelease of the last", version: "v0.2.0-rc.1", want: "v0.2.0-rc.1 is not above the last release, v0.2.0"},
		{name: "dirty tree", version: "v0.3.0", want: "the tree has uncommitted changes", setup: func() {
			write(t, filepath.Join(dir, "notes.txt"), "not committed")
		}},
		{name: "failing tests", version: "v0.3.0", want: "the tests of sub fail (go test ./... there, output above): no release", setup: func() {
			write(t, filepath.Join(dir, "sub", "sub_test.go"), "package sub\n\nimport \"testing\"\n\nfunc TestB(t *testing.T) {\n\tif B() != 2 {\n\t\tt.Fatal(\"B is not 2\")\n\t}\n}\n")
			commitAll(t, dir, "a failing test")
			before = git(t, dir, "rev-parse", "HEAD")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := release(t, "prepare", "-skip-tests="+map[bool]string{true: "true", false: "false"}[tc.skipTests], tc.version)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			os.Remove(filepath.Join(dir, "notes.txt"))
			assert.Empty(t, git(t, dir, "status", "--porcelain"), "nothing changed")
			assert.Equal(t, before, git(t, dir, "rev-parse", "HEAD"))
		})
	}
}

func TestCheckFindsWhatBreaksTheLayout(t *testing.T) {
	dir := newRepo(t)
	out, err := release(t, "check")
	require.NoError(t, err, out)
	assert.Contains(t, out, "2 modules, each tidy; siblings required at v0.1.0 and mapped by go.work")

	write(t, filepath.Join(dir, "sub", "go.mod"), read(t, "sub/go.mod")+"\nreplace example.com/r => ../\n")
	write(t, filepath.Join(dir, "lost", "go.mod"), "module example.com/r/lost\n\ngo 1.26.0\n")
	_, err = release(t, "check")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sub/go.mod has a replace directive")
	assert.Contains(t, err.Error(), "lost is a module that go.work does not use")
	git(t, dir, "checkout", "--", ".")
	os.RemoveAll(filepath.Join(dir, "lost"))

	// A requirement the code does not need; tidy takes it out.
	write(t, filepath.Join(dir, "sub", "go.mod"), read(t, "sub/go.mod")+"\nrequire example.com/r/unused v1.0.0\n")
	_, err = release(t, "check")
	assert.ErrorContains(t, err, "sub is not tidy")
	out, err = release(t, "tidy")
	require.NoError(t, err, out)
	assert.Contains(t, out, "2 modules tidied against their siblings at v0.1.0")
	assert.NotContains(t, read(t, "sub/go.mod"), "unused")
	out, err = release(t, "check")
	require.NoError(t, err, out)
	git(t, dir, "checkout", "--", ".")

	// go.work mapping another version than the one modules require.
	write(t, filepath.Join(dir, "go.work"), strings.Replace(read(t, "go.work"), "v0.1.0", "v0.0.9", 1))
	_, err = release(t, "check")
	assert.ErrorContains(t, err, "go.work replaces example.com/r v0.0.9 => ./; want v0.1.0 => ./")
}

func TestPrepareReportsIncompatibleAPIChanges(t *testing.T) {
	dir := newRepo(t)
	git(t, dir, "tag", "v0.1.0")
	git(t, dir, "tag", "sub/v0.1.0")
	write(t, filepath.Join(dir, "r.go"), "// Package r is a module to release.\npackage r\n\n// A is its API.\nfunc A(n int) int { return n }\n")
	write(t, filepath.Join(dir, "sub", "sub.go"), "// Package sub uses r.\npackage sub\n\nimport \"example.com/r\"\n\n// B calls A.\nfunc B() int { return r.A(1) }\n")
	commitAll(t, dir, "A takes n")

	// Before v1 the report informs.
	out, err := release(t, "prepare", "-skip-tests", "v0.2.0")
	require.NoError(t, err, out)
	assert.Contains(t, out, "API of example.com/r: incompatible changes since v0.1.0:\n\tA: changed from func() int to func(int) int\n")
	assert.Contains(t, out, "API of example.com/r/sub: no incompatible change since v0.1.0")

	// From v1 on, it gates, before anything is changed.
	git(t, dir, "reset", "-q", "--hard")
	git(t, dir, "clean", "-fdq")
	git(t, dir, "tag", "v1.0.0", "HEAD~1")
	_, err = release(t, "prepare", "-skip-tests", "v1.1.0")
	assert.ErrorContains(t, err, "incompatible API changes in example.com/r need a new major version, not v1.1.0")
	assert.Empty(t, git(t, dir, "status", "--porcelain"))
}

func TestCheckKeepsModulesOffTheCoresInternalPackages(t *testing.T) {
	dir := newRepo(t)
	write(t, filepath.Join(dir, "internal", "wait", "wait.go"), "// Package wait waits.\npackage wait\n\n// N is how long.\nconst N = 1\n")
	write(t, filepath.Join(dir, "sub", "sub_test.go"), "package sub\n\nimport (\n\t\"testing\"\n\n\t\"example.com/r/internal/wait\"\n)\n\nfunc TestW(t *testing.T) { _ = wait.N }\n")
	_, err := release(t, "check")
	assert.ErrorContains(t, err, "sub/sub_test.go imports example.com/r/internal/wait, an internal package of the core module: keep a copy in sub/internal/")

	// A copy, identical, is what the rule asks for.
	write(t, filepath.Join(dir, "sub", "internal", "wait", "wait.go"), read(t, "internal/wait/wait.go"))
	write(t, filepath.Join(dir, "sub", "sub_test.go"), "package sub\n\nimport (\n\t\"testing\"\n\n\t\"example.com/r/sub/internal/wait\"\n)\n\nfunc TestW(t *testing.T) { _ = wait.N }\n")
	out, err := release(t, "check")
	require.NoError(t, err, out)

	// A copy that drifted, or holds a file the original lacks.
	write(t, filepath.Join(dir, "sub", "internal", "wait", "wait.go"), strings.Replace(read(t, "internal/wait/wait.go"), "= 1", "= 2", 1))
	write(t, filepath.Join(dir, "sub", "internal", "wait", "more.go"), "package wait\n")
	_, err = release(t, "check")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sub/internal/wait/wait.go differs from internal/wait/wait.go")
	assert.Contains(t, err.Error(), "sub/internal/wait/more.go is in a copy of internal/wait, which has no such file")
}
