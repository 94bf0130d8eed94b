package doubletick

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionComesFromTheBuild(t *testing.T) {
	sdk := func(v string, replace *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{
			Main: debug.Module{Path: "example.com/app", Version: "v1.2.3"},
			Deps: []*debug.Module{{Path: "golang.org/x/time", Version: "v0.16.0"}, {Path: modulePath, Version: v, Replace: replace}},
		}
	}
	assert.Equal(t, "v0.4.0", versionIn(sdk("v0.4.0", nil), modulePath), "a program that requires the SDK")
	assert.Equal(t, "v0.4.1", versionIn(sdk("v0.4.0", &debug.Module{Path: modulePath, Version: "v0.4.1"}), modulePath), "replaced by another version")
	assert.Equal(t, "(devel)", versionIn(sdk("v0.4.0", &debug.Module{Path: "../doubletick"}), modulePath), "replaced by a directory")
	assert.Equal(t, "(devel)", versionIn(&debug.BuildInfo{Main: debug.Module{Path: modulePath}}, modulePath), "the SDK's own tests")
	assert.Equal(t, "v1.2.3", versionIn(sdk("", nil), "example.com/app"), "the main module")
	assert.Equal(t, "", versionIn(sdk("v0.4.0", nil), "example.com/other"), "not in the program")
	// In this test binary the SDK is the main module, built from the tree.
	assert.Equal(t, "(devel)", Version())
}
