package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// verify checks that each released module's zip in the proxy directory is
// the zip a module proxy will build from its tag (the same files, so the
// same h1: hash): the sums that prepare wrote into the modules' go.sum are
// then the ones every user's go command computes.
func (t *tool) verify(ctx context.Context, version, proxyDir string) error {
	ws, err := loadWorkspace(t.root)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "release-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for _, m := range ws.modules {
		if !m.released {
			continue
		}
		tag := m.tagPrefix() + version
		if _, err := gitOutput(ctx, t.root, "rev-parse", "--verify", "--quiet", "refs/tags/"+tag); err != nil {
			return fmt.Errorf("no tag %s: tag the release commit first", tag)
		}
		fromTag := filepath.Join(scratch, filepath.Base(m.path)+".zip")
		f, err := os.Create(fromTag)
		if err != nil {
			return err
		}
		subdir := filepath.ToSlash(m.dir)
		if subdir == "." {
			subdir = ""
		}
		mv := module.Version{Path: m.path, Version: version}
		err = zip.CreateFromVCS(f, mv, t.root, tag, subdir)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		escaped, err := module.EscapePath(m.path)
		if err != nil {
			return err
		}
		published := filepath.Join(proxyDir, escaped, "@v", version+".zip")
		want, err := dirhash.HashZip(fromTag, dirhash.Hash1)
		if err != nil {
			return err
		}
		got, err := dirhash.HashZip(published, dirhash.Hash1)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s@%s: the published zip is %s, the tag's %s", m.path, version, got, want)
		}
		fmt.Fprintf(t.stdout, "%s@%s %s: the published zip is the tag's\n", m.path, version, got)
	}
	return nil
}
