package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	problems = append(problems, ws.checkSharing()...)
	return errors.Join(problems...)
}

// checkSharing reports what breaks the rule that modules share no code
// through the core's internal packages (CONTRIBUTING.md): a file of another
// module, tests included, that imports one, and a module's copy of one
// (in its own internal/NAME, where the core has internal/NAME) whose files
// are not the core's, byte for byte.
func (ws *workspace) checkSharing() []error {
	core := ws.modules[0]
	var problems []error
	for _, m := range ws.modules[1:] {
		err := filepath.WalkDir(filepath.Join(ws.root, m.dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != filepath.Join(ws.root, m.dir) && ws.isModuleDir(path) {
					return filepath.SkipDir // a nested module checks its own
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(ws.root, path)
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(p, core.path+"/internal/") && ws.owner(p) == core {
					problems = append(problems, fmt.Errorf("%s imports %s, an internal package of the core module: keep a copy in %s/internal/", filepath.ToSlash(rel), p, m.dir))
				}
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err)
		}
		copies, _ := filepath.Glob(filepath.Join(ws.root, m.dir, "internal", "*"))
		for _, dir := range copies {
			original := filepath.Join(ws.root, "internal", filepath.Base(dir))
			if info, err := os.Stat(original); err != nil || !info.IsDir() || ws.isModuleDir(original) {
				continue
			}
			problems = append(problems, compareCopy(ws.root, original, dir)...)
		}
	}
	return problems
}

// isModuleDir reports whether dir holds a go.mod.
func (ws *workspace) isModuleDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// owner returns the workspace module whose path is the longest prefix of
// the package path p.
func (ws *workspace) owner(p string) *mod {
	var best *mod
	for _, m := range ws.modules {
		if (p == m.path || strings.HasPrefix(p, m.path+"/")) && (best == nil || len(m.path) > len(best.path)) {
			best = m
		}
	}
	return best
}

// compareCopy reports each Go file of the core's package in original that
// the copy in dir lacks or has otherwise, and each Go file of the copy that
// the original does not have.
func compareCopy(root, original, dir string) []error {
	var problems []error
	rel := func(p string) string { r, _ := filepath.Rel(root, p); return filepath.ToSlash(r) }
	files, _ := filepath.Glob(filepath.Join(original, "*.go"))
	copied, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, c := range copied {
		if !slices.Contains(files, filepath.Join(original, filepath.Base(c))) {
			problems = append(problems, fmt.Errorf("%s is in a copy of %s, which has no such file", rel(c), rel(original)))
		}
	}
	for _, o := range files {
		c := filepath.Join(dir, filepath.Base(o))
		want, err := os.ReadFile(o)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		got, err := os.ReadFile(c)
		switch {
		case os.IsNotExist(err) && strings.HasSuffix(o, "_test.go"):
			// A copy may leave the original's tests behind.
		case err != nil:
			problems = append(problems, fmt.Errorf("%s is a copy of %s without %s", rel(dir), rel(original), filepath.Base(o)))
		case !bytes.Equal(got, want):
			problems = append(problems, fmt.Errorf("%s differs from %s: copies of the core's internal packages are kept identical (cp the original)", rel(c), rel(o)))
		}
	}
	return problems
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
