package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// A proxy is a directory laid out as a Go module proxy (GOPROXY=file://…):
// the release's modules are published there exactly as a module proxy
// would serve them from the release's tags, so that the go command can
// tidy, fetch and install them before anything is pushed.
type proxy struct {
	dir string
	// cache is the module cache the release's go commands use: a scratch
	// one, so that a rehearsed version never lingers in the user's cache
	// and is never mistaken later for the real release.
	cache string
	// scratch says dir is a temporary directory of the proxy's own.
	scratch bool
}

// newProxy makes the proxy in dir (created if need be), or in a temporary
// directory when dir is "", with a scratch module cache beside it.
func newProxy(dir string) (*proxy, error) {
	p := &proxy{scratch: dir == ""}
	var err error
	if p.scratch {
		p.dir, err = os.MkdirTemp("", "release-proxy-")
	} else if p.dir, err = filepath.Abs(dir); err == nil {
		err = os.MkdirAll(p.dir, 0o755)
	}
	if err != nil {
		return nil, err
	}
	if p.cache, err = os.MkdirTemp("", "release-modcache-"); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// close removes the scratch module cache, and the directory when it is
// temporary.
func (p *proxy) close() error {
	err := os.RemoveAll(p.cache)
	if p.scratch {
		err = errors.Join(err, os.RemoveAll(p.dir))
	}
	return err
}

// publish writes the module in dir (of the repository at root) as version:
// its .info, .mod and .zip, and the version in its list.
func (p *proxy) publish(root string, m *mod, version string) error {
	escaped, err := module.EscapePath(m.path)
	if err != nil {
		return err
	}
	at := filepath.Join(p.dir, escaped, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	var zipped bytes.Buffer
	if err := zip.CreateFromDir(&zipped, module.Version{Path: m.path, Version: version}, filepath.Join(root, m.dir)); err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(root, m.dir, "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{version + ".zip": zipped.Bytes(), version + ".mod": goMod, version + ".info": info} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			return err
		}
	}
	list, err := os.ReadFile(filepath.Join(at, "list"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for line := range strings.Lines(string(list)) {
		if strings.TrimSpace(line) == version {
			return nil
		}
	}
	return os.WriteFile(filepath.Join(at, "list"), append(list, version+"\n"...), 0o644)
}

// env is the environment in which the go command sees the published
// modules as a user would: no workspace, the proxy before the usual ones
// (and the user's module cache, read as a proxy, so that nothing already
// downloaded is fetched again), no checksum database for the release's
// modules (it has never seen them).
func (p *proxy) env(prefix string) ([]string, error) {
	out, err := exec.Command("go", "env", "GOPROXY", "GOMODCACHE", "GOFLAGS").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 3 {
		return nil, fmt.Errorf("go env printed %q", out)
	}
	upstream, userCache, flags := lines[0], lines[1], lines[2]
	proxies := []string{fileURL(p.dir)}
	if userCache != "" {
		proxies = append(proxies, fileURL(filepath.Join(userCache, "cache", "download")))
	}
	if upstream != "" && upstream != "off" {
		proxies = append(proxies, upstream)
	}
	return append(os.Environ(),
		"GOWORK=off",
		"GOPROXY="+strings.Join(proxies, ","),
		"GONOSUMDB="+prefix,
		"GOMODCACHE="+p.cache,
		"GOFLAGS="+strings.TrimSpace(flags+" -modcacherw"),
	), nil
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }
