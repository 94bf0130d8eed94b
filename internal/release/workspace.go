package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// A workspace is the repository's modules, as its go.work lists them.
type workspace struct {
	root    string // the repository's top directory, where go.work is
	modules []*mod // in go.work's order
	work    *modfile.WorkFile
}

// A mod is one module of the workspace.
type mod struct {
	dir  string // relative to the root, "." for the core module
	path string // the module path
	file *modfile.File
	// released says whether the module is tagged: every module but the
	// examples and this tool, which nothing imports.
	released bool
}

// tagPrefix is the prefix of the module's tags: "" for the root module,
// "inbox/" for the module in inbox.
func (m *mod) tagPrefix() string {
	if m.dir == "." {
		return ""
	}
	return filepath.ToSlash(m.dir) + "/"
}

// loadWorkspace reads go.work at root and the go.mod of every module it
// uses.
func loadWorkspace(root string) (*workspace, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	work, err := modfile.ParseWork("go.work", data, nil)
	if err != nil {
		return nil, err
	}
	ws := &workspace{root: root, work: work}
	for _, use := range work.Use {
		dir := filepath.Clean(filepath.FromSlash(use.Path))
		file, err := readModFile(filepath.Join(root, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		slashed := filepath.ToSlash(dir)
		ws.modules = append(ws.modules, &mod{
			dir:      dir,
			path:     file.Module.Mod.Path,
			file:     file,
			released: !strings.HasPrefix(slashed, "examples/") && slashed != "internal/release",
		})
	}
	if len(ws.modules) == 0 || ws.modules[0].dir != "." {
		return nil, errors.New("go.work must use the root module first")
	}
	return ws, nil
}

func readModFile(path string) (*modfile.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return modfile.Parse(path, data, nil)
}

// module returns the workspace's module with the given path, or nil.
func (ws *workspace) module(path string) *mod {
	for _, m := range ws.modules {
		if m.path == path {
			return m
		}
	}
	return nil
}

// siblings returns the workspace modules that m requires.
func (ws *workspace) siblings(m *mod) []*mod {
	var out []*mod
	for _, r := range m.file.Require {
		if s := ws.module(r.Mod.Path); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// ordered returns the modules so that each comes after the siblings it
// requires: a module's sums can only be written once theirs are final.
func (ws *workspace) ordered() ([]*mod, error) {
	var out []*mod
	state := map[*mod]int{} // 1 visiting, 2 done
	var visit func(m *mod) error
	visit = func(m *mod) error {
		switch state[m] {
		case 1:
			return fmt.Errorf("modules require each other in a cycle through %s", m.path)
		case 2:
			return nil
		}
		state[m] = 1
		for _, s := range ws.siblings(m) {
			if err := visit(s); err != nil {
				return err
			}
		}
		state[m] = 2
		out = append(out, m)
		return nil
	}
	for _, m := range ws.modules {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// required returns the modules that some module of the workspace requires,
// in go.work's order.
func (ws *workspace) required() []*mod {
	needed := map[*mod]bool{}
	for _, m := range ws.modules {
		for _, s := range ws.siblings(m) {
			needed[s] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(ws.modules), func(m *mod) bool { return !needed[m] })
}

// siblingVersion returns the one version at which modules require their
// siblings, "" when none requires one.
func (ws *workspace) siblingVersion() (string, error) {
	version := ""
	for _, m := range ws.modules {
		for _, r := range m.file.Require {
			if ws.module(r.Mod.Path) == nil {
				continue
			}
			if version != "" && r.Mod.Version != version {
				return "", fmt.Errorf("%s requires %s at %s, others require siblings at %s: one version for all",
					m.dir, r.Mod.Path, r.Mod.Version, version)
			}
			version = r.Mod.Version
		}
	}
	return version, nil
}

// checkLayout reports what breaks the repository's rules for modules: a
// go.mod that no go.work line uses, a replace directive in a go.mod,
// siblings required at more than one version, and go.work replace lines
// that do not map exactly that version of each required sibling to its
// directory.
func (ws *workspace) checkLayout() error {
	var problems []error
	used := map[string]bool{}
	for _, m := range ws.modules {
		used[m.dir] = true
		if len(m.file.Replace) > 0 {
			problems = append(problems, fmt.Errorf("%s/go.mod has a replace directive: a user's build ignores it; go.work maps siblings to their directories", m.dir))
		}
	}
	err := filepath.WalkDir(ws.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ws.root {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" {
			dir, _ := filepath.Rel(ws.root, filepath.Dir(path))
			if !used[dir] {
				problems = append(problems, fmt.Errorf("%s is a module that go.work does not use", dir))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	version, err := ws.siblingVersion()
	if err != nil {
		problems = append(problems, err)
	}
	want := map[string]string{} // module path → directory, for the siblings some module requires
	for _, s := range ws.required() {
		want[s.path] = s.dir
	}
	for _, r := range ws.work.Replace {
		dir, ok := want[r.Old.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Errorf("go.work replaces %s, which no module requires", r.Old.Path))
		case r.Old.Version != version || filepath.Clean(filepath.FromSlash(r.New.Path)) != dir:
			problems = append(problems, fmt.Errorf("go.work replaces %s %s => %s; want %s => %s",
				r.Old.Path, r.Old.Version, r.New.Path, version, workPath(dir)))
		}
		delete(want, r.Old.Path)
	}
	for _, path := range slices.Sorted(maps.Keys(want)) {
		problems = append(problems, fmt.Errorf("go.work lacks: replace %s %s => %s", path, version, workPath(want[path])))
	}
	return errors.Join(problems...)
}

// setSiblingVersion makes every module require its siblings at version and
// go.work map that version of each to its directory, and writes the files.
func (ws *workspace) setSiblingVersion(version string) error {
	for _, m := range ws.modules {
		changed := false
		for _, s := range ws.siblings(m) {
			if err := m.file.AddRequire(s.path, version); err != nil {
				return err
			}
			changed = true
		}
		if changed {
			if err := writeModFile(filepath.Join(ws.root, m.dir, "go.mod"), m.file); err != nil {
				return err
			}
		}
	}
	for _, r := range slices.Clone(ws.work.Replace) {
		if err := ws.work.DropReplace(r.Old.Path, r.Old.Version); err != nil {
			return err
		}
	}
	for _, s := range ws.required() {
		if err := ws.work.AddReplace(s.path, version, workPath(s.dir), ""); err != nil {
			return err
		}
	}
	ws.work.Cleanup()
	return os.WriteFile(filepath.Join(ws.root, "go.work"), modfile.Format(ws.work.Syntax), 0o644)
}

// workPath is how go.work writes the directory dir: "./" for the root,
// "./inbox" for inbox.
func workPath(dir string) string {
	if dir == "." {
		return "./"
	}
	return "./" + filepath.ToSlash(dir)
}

func writeModFile(path string, f *modfile.File) error {
	f.Cleanup()
	data, err := f.Format()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// dropSiblingSums removes the lines of go.sum at dir that name a module of
// the workspace: they are written anew from the release's own zips.
func (ws *workspace) dropSiblingSums(dir string) error {
	path := filepath.Join(ws.root, dir, "go.sum")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var kept []string
	for line := range strings.Lines(string(data)) {
		if p, _, _ := strings.Cut(line, " "); ws.module(p) == nil {
			kept = append(kept, line)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(kept, "")), 0o644)
}
