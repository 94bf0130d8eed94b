package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/exp/apidiff"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/packages"
)

// reportAPI prints, for each released module, the incompatible changes of
// its API since its last release. Before v1 it only informs; from v1 on,
// an incompatible change without a new major version stops the release.
func (t *tool) reportAPI(ctx context.Context, ws *workspace, version string) error {
	var gated []string
	for _, m := range ws.modules {
		if !m.released {
			continue
		}
		last, err := t.lastRelease(ctx, m.tagPrefix())
		if err != nil {
			return err
		}
		if last == "" {
			fmt.Fprintf(t.stdout, "API of %s: first release, nothing to compare\n", m.path)
			continue
		}
		changes, err := t.apiChanges(ctx, m, m.tagPrefix()+last)
		if err != nil {
			return fmt.Errorf("API of %s since %s: %w", m.path, last, err)
		}
		if len(changes) == 0 {
			fmt.Fprintf(t.stdout, "API of %s: no incompatible change since %s\n", m.path, last)
			continue
		}
		fmt.Fprintf(t.stdout, "API of %s: incompatible changes since %s:\n", m.path, last)
		for _, c := range changes {
			fmt.Fprintf(t.stdout, "\t%s\n", c)
		}
		if semver.Major(version) != "v0" && semver.Major(version) == semver.Major(last) {
			gated = append(gated, m.path)
		}
	}
	if len(gated) > 0 {
		return fmt.Errorf("incompatible API changes in %s need a new major version, not %s", strings.Join(gated, ", "), version)
	}
	return nil
}

// apiChanges returns the incompatible changes of m's exported API between
// the tag and the tree.
func (t *tool) apiChanges(ctx context.Context, m *mod, tag string) ([]string, error) {
	old, err := os.MkdirTemp("", "release-api-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(old)
	if _, err := gitOutput(ctx, t.root, "worktree", "add", "--detach", old, tag); err != nil {
		return nil, err
	}
	defer gitOutput(context.Background(), t.root, "worktree", "remove", "--force", old)
	before, err := loadModuleAPI(ctx, filepath.Join(old, m.dir), m.path)
	if err != nil {
		return nil, err
	}
	after, err := loadModuleAPI(ctx, filepath.Join(t.root, m.dir), m.path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range apidiff.ModuleChanges(before, after).Changes {
		if !c.Compatible {
			out = append(out, c.Message)
		}
	}
	return out, nil
}

// loadModuleAPI type-checks the non-internal packages of the module at dir.
func loadModuleAPI(ctx context.Context, dir, path string) (*apidiff.Module, error) {
	cfg := &packages.Config{
		Context: ctx,
		Dir:     dir,
		Mode:    packages.NeedName | packages.NeedTypes | packages.NeedDeps | packages.NeedImports | packages.NeedSyntax | packages.NeedTypesInfo,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	mod := &apidiff.Module{Path: path}
	var loadErrs []error
	for _, p := range pkgs {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e)
		}
		if p.Types == nil || p.Name == "main" || isInternal(p.PkgPath) || !strings.HasPrefix(p.PkgPath, path) {
			continue
		}
		mod.Packages = append(mod.Packages, p.Types)
	}
	if len(loadErrs) > 0 {
		return nil, errors.Join(loadErrs...)
	}
	return mod, nil
}

func isInternal(pkgPath string) bool {
	return strings.HasSuffix(pkgPath, "/internal") || strings.Contains(pkgPath, "/internal/")
}
