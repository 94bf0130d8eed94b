// Command release prepares a release of every module of this repository at
// one version, and checks the modules' layout between releases.
//
// It is a Go program rather than a shell script because the work is the go
// command's own file formats (go.mod, go.work, module zips, checksums),
// which golang.org/x/mod reads and writes exactly as the go command does,
// and because its refusals are tested like the rest of the code.
//
// Usage, from the repository's top directory:
//
//	go run ./internal/release check
//	go run ./internal/release tidy
//	go run ./internal/release next
//	go run ./internal/release prepare [-proxy DIR] [-skip-tests] vX.Y.Z
//	go run ./internal/release verify -proxy DIR vX.Y.Z
//
// check fails when a module is not tidy, when a go.mod has a replace
// directive, when modules require their siblings at more than one version,
// or when go.work does not map that version of each sibling to its
// directory. CI runs it.
//
// next prints the version after the last release's (its patch + 1), or
// v0.1.0 before the first.
//
// prepare refuses a version that is not semver, a tree with uncommitted
// changes, a version not above the last release's, and a tree whose tests
// fail, each in one line and with nothing changed. Otherwise it sets every
// module's requirements of its siblings to the version, tidies each module
// against the others' release zips (published to the proxy directory, as a
// module proxy would serve them from the tags), dates the CHANGELOG's
// Unreleased section, reports each module's incompatible API changes since
// the last release, and prints the commit and the tags to push. It pushes
// nothing.
//
// verify, run once the release commit is tagged, checks that each module's
// zip that prepare published is the one a module proxy will build from the
// tag, so that the checksums prepare wrote are the ones users compute.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// A tool is one run of the command, at a repository's top directory.
type tool struct {
	root   string
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: release check | tidy | next | prepare [-proxy DIR] [-skip-tests] vX.Y.Z | verify -proxy DIR vX.Y.Z")
	}
	root, err := gitOutput(ctx, ".", "rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("not in a git repository: %w", err)
	}
	t := &tool{root: root, stdout: stdout, stderr: stderr, now: time.Now}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "check":
		return t.check(ctx)
	case "tidy":
		return t.tidy(ctx)
	case "next":
		last, err := t.lastRelease(ctx, "")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, nextVersion(last))
		return nil
	case "prepare":
		fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
		fs.SetOutput(stderr)
		proxyDir := fs.String("proxy", "", "publish the release's modules to this `directory`, laid out as a module proxy (default: a temporary one, removed after)")
		skipTests := fs.Bool("skip-tests", false, "do not run the tests first (for a rehearsal of a tree whose tests already passed)")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("usage: release prepare [-proxy DIR] [-skip-tests] vX.Y.Z")
		}
		return t.prepare(ctx, fs.Arg(0), *proxyDir, *skipTests)
	case "verify":
		fs := flag.NewFlagSet("verify", flag.ContinueOnError)
		fs.SetOutput(stderr)
		proxyDir := fs.String("proxy", "", "the `directory` prepare published the release's modules to")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 1 || *proxyDir == "" {
			return errors.New("usage: release verify -proxy DIR vX.Y.Z")
		}
		return t.verify(ctx, fs.Arg(0), *proxyDir)
	default:
		return fmt.Errorf("unknown command %q: check, tidy, next, prepare or verify", cmd)
	}
}

// nextVersion is the patch release after last, or v0.1.0 when there is
// none.
func nextVersion(last string) string {
	if last == "" {
		return "v0.1.0"
	}
	var major, minor, patch int
	fmt.Sscanf(semver.Canonical(last), "v%d.%d.%d", &major, &minor, &patch)
	if semver.Prerelease(last) != "" {
		return fmt.Sprintf("v%d.%d.%d", major, minor, patch)
	}
	return fmt.Sprintf("v%d.%d.%d", major, minor, patch+1)
}

// lastRelease returns the highest version tagged with prefix ("" for the
// root module, "inbox/" for the inbox), or "" when there is none.
func (t *tool) lastRelease(ctx context.Context, prefix string) (string, error) {
	out, err := gitOutput(ctx, t.root, "tag", "--list", prefix+"v*")
	if err != nil {
		return "", err
	}
	last := ""
	for _, tag := range strings.Fields(out) {
		v := strings.TrimPrefix(tag, prefix)
		if semver.IsValid(v) && (last == "" || semver.Compare(v, last) > 0) {
			last = v
		}
	}
	return last, nil
}

// publishTree publishes every module, as the tree has it, to a temporary
// module proxy at the version siblings require, so that tidying sees what
// the next release would contain. It returns that version, the environment
// that points the go command at the proxy, and how to remove the proxy.
func (t *tool) publishTree(ws *workspace) (version string, env []string, closeProxy func(), err error) {
	if version, err = ws.siblingVersion(); err != nil {
		return "", nil, nil, err
	}
	p, err := newProxy("")
	if err != nil {
		return "", nil, nil, err
	}
	for _, m := range ws.modules {
		if err := p.publish(t.root, m, version); err != nil {
			p.close()
			return "", nil, nil, err
		}
	}
	if env, err = p.env(ws.modules[0].path); err != nil {
		p.close()
		return "", nil, nil, err
	}
	return version, env, func() { p.close() }, nil
}

// check runs the layout checks and the tidiness of every module.
func (t *tool) check(ctx context.Context) error {
	ws, err := loadWorkspace(t.root)
	if err != nil {
		return err
	}
	if err := ws.checkLayout(); err != nil {
		return err
	}
	version, env, closeProxy, err := t.publishTree(ws)
	if err != nil {
		return err
	}
	defer closeProxy()
	var untidy []error
	for _, m := range ws.modules {
		if err := t.checkTidy(ctx, ws, m, env); err != nil {
			untidy = append(untidy, err)
		}
	}
	if len(untidy) > 0 {
		return errors.Join(untidy...)
	}
	fmt.Fprintf(t.stdout, "%d modules, each tidy; siblings required at %s and mapped by go.work\n", len(ws.modules), version)
	return nil
}

// tidy runs go mod tidy in every module against its siblings as the tree
// has them, published to a temporary module proxy at the version they are
// required at (go mod tidy ignores go.work). The sums of siblings already
// in a go.sum are kept, as check expects; prepare writes a release's.
func (t *tool) tidy(ctx context.Context) error {
	ws, err := loadWorkspace(t.root)
	if err != nil {
		return err
	}
	version, env, closeProxy, err := t.publishTree(ws)
	if err != nil {
		return err
	}
	defer closeProxy()
	for _, m := range ws.modules {
		sum := filepath.Join(t.root, m.dir, "go.sum")
		old, err := os.ReadFile(sum)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		// After a release the go.sum holds the release zips' sums of the
		// siblings, which the tree's zips do not match: tidy without them,
		// as check does, and put them back below.
		if len(old) > 0 {
			if err := ws.dropSiblingSums(m.dir); err != nil {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
		cmd.Dir, cmd.Env = filepath.Join(t.root, m.dir), env
		if out, err := cmd.CombinedOutput(); err != nil {
			os.WriteFile(sum, old, 0o644)
			return fmt.Errorf("%s: go mod tidy: %w\n%s", m.dir, err, out)
		}
		tidied, err := os.ReadFile(sum)
		switch {
		case os.IsNotExist(err) && len(old) == 0:
			continue // a module that requires nothing has no go.sum
		case err != nil && !os.IsNotExist(err):
			return err
		}
		// The tree's zips of siblings are not their releases: keep the
		// sums of siblings the go.sum had, add none.
		var lines []string
		for line := range strings.Lines(string(tidied)) {
			if p, _, _ := strings.Cut(line, " "); ws.module(p) == nil {
				lines = append(lines, line)
			}
		}
		for line := range strings.Lines(string(old)) {
			if p, _, _ := strings.Cut(line, " "); ws.module(p) != nil {
				// Where go would put it; the others keep go's order.
				i := slices.IndexFunc(lines, func(l string) bool { return l > line })
				if i < 0 {
					i = len(lines)
				}
				lines = slices.Insert(lines, i, line)
			}
		}
		if err := os.WriteFile(sum, []byte(strings.Join(lines, "")), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(t.stdout, "%d modules tidied against their siblings at %s\n", len(ws.modules), version)
	return nil
}

// checkTidy runs go mod tidy -diff in m with env. The lines of siblings'
// sums are left out of the comparison: the tree's sums of a sibling are
// those of its last release, which the tree's own zip cannot match; they
// are written by prepare, and the release rehearsal checks them.
func (t *tool) checkTidy(ctx context.Context, ws *workspace, m *mod, env []string) error {
	dir := filepath.Join(t.root, m.dir)
	sum := filepath.Join(dir, "go.sum")
	saved, err := os.ReadFile(sum)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err == nil {
		defer os.WriteFile(sum, saved, 0o644)
		if err := ws.dropSiblingSums(m.dir); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy", "-diff")
	cmd.Dir, cmd.Env = dir, env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return err
	}
	var diff []string
	for line := range strings.Lines(string(out)) {
		if (strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")) &&
			!strings.HasPrefix(line, "+++") && !strings.HasPrefix(line, "---") {
			if p, _, _ := strings.Cut(strings.TrimSpace(line[1:]), " "); ws.module(p) != nil {
				continue // a sibling's sum
			}
			diff = append(diff, strings.TrimRight(line, "\n"))
		}
	}
	switch {
	case len(diff) > 0:
		return fmt.Errorf("%s is not tidy (go mod tidy there):\n\t%s", m.dir, strings.Join(diff, "\n\t"))
	case err != nil && len(out) == 0:
		return fmt.Errorf("%s: go mod tidy -diff: %s", m.dir, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// prepare prepares the release of every module at version.
func (t *tool) prepare(ctx context.Context, version, proxyDir string, skipTests bool) error {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("%q is not a semantic version vMAJOR.MINOR.PATCH[-PRERELEASE]", version)
	}
	if dirty, err := gitOutput(ctx, t.root, "status", "--porcelain"); err != nil {
		return err
	} else if dirty != "" {
		return fmt.Errorf("the tree has uncommitted changes (git status): a release is made from a commit")
	}
	last, err := t.lastRelease(ctx, "")
	if err != nil {
		return err
	}
	if last != "" && semver.Compare(version, last) <= 0 {
		return fmt.Errorf("%s is not above the last release, %s", version, last)
	}
	ws, err := loadWorkspace(t.root)
	if err != nil {
		return err
	}
	if err := ws.checkLayout(); err != nil {
		return err
	}
	if !skipTests {
		if err := t.test(ctx, ws); err != nil {
			return err
		}
	}
	order, err := ws.ordered()
	if err != nil {
		return err
	}
	p, err := newProxy(proxyDir)
	if err != nil {
		return err
	}
	defer p.close()
	env, err := p.env(ws.modules[0].path)
	if err != nil {
		return err
	}
	// The API report may stop the release: before anything is changed.
	if err := t.reportAPI(ctx, ws, version); err != nil {
		return err
	}
	if err := ws.setSiblingVersion(version); err != nil {
		return err
	}
	// The changelog is in the core module's zip: dated before it is made.
	if err := datedChangelog(filepath.Join(t.root, "CHANGELOG.md"), version, t.now()); err != nil {
		return err
	}
	// Each module after the siblings it requires: its go.sum then records
	// their zips as the proxy serves them, and its own zip has that go.sum.
	for _, m := range order {
		if len(ws.siblings(m)) > 0 {
			if err := ws.dropSiblingSums(m.dir); err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
			cmd.Dir, cmd.Env = filepath.Join(t.root, m.dir), env
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s: go mod tidy: %w\n%s", m.dir, err, out)
			}
		}
		if err := p.publish(t.root, m, version); err != nil {
			return err
		}
	}
	t.printTags(ws, version)
	return nil
}

// test runs every module's tests, as the README's test command runs the
// core's.
func (t *tool) test(ctx context.Context, ws *workspace) error {
	for _, m := range ws.modules {
		cmd := exec.CommandContext(ctx, "go", "test", "./...")
		cmd.Dir = filepath.Join(t.root, m.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.stderr.Write(out)
			return fmt.Errorf("the tests of %s fail (go test ./... there, output above): no release", m.dir)
		}
	}
	return nil
}

// printTags prints what the maintainer does next.
func (t *tool) printTags(ws *workspace, version string) {
	var tags []string
	for _, m := range ws.modules {
		if m.released {
			tags = append(tags, m.tagPrefix()+version)
		}
	}
	fmt.Fprintf(t.stdout, "\nRelease %s prepared. Review the changes (git diff), then:\n\n", version)
	fmt.Fprintf(t.stdout, "\tgit commit -am 'Release %s'\n", version)
	for _, tag := range tags {
		fmt.Fprintf(t.stdout, "\tgit tag %s\n", tag)
	}
	fmt.Fprintf(t.stdout, "\tgit push origin main %s\n", strings.Join(tags, " "))
	fmt.Fprintln(t.stdout, "\nTags:")
	for _, tag := range tags {
		fmt.Fprintln(t.stdout, tag)
	}
}

// datedChangelog turns the changelog's "## [Unreleased]" heading into the
// release's, dated, under a new empty Unreleased section.
func datedChangelog(path, version string, now time.Time) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	const unreleased = "## [Unreleased]\n"
	if !strings.Contains(string(data), unreleased) {
		return fmt.Errorf("%s has no %q section to release", path, strings.TrimSpace(unreleased))
	}
	heading := fmt.Sprintf("%s\n## [%s] - %s\n", unreleased, strings.TrimPrefix(version, "v"), now.Format(time.DateOnly))
	return os.WriteFile(path, []byte(strings.Replace(string(data), unreleased, heading, 1)), 0o644)
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(string(exit.Stderr)))
	}
	return strings.TrimSpace(string(out)), err
}
