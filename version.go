package doubletick

import (
	"runtime/debug"
	"sync"
)

// modulePath is the SDK's module path.
const modulePath = "github.com/doubletick-go/doubletick"

// Version returns the version of the SDK in the running program, as the go
// command recorded it in the build (runtime/debug.ReadBuildInfo): "v0.1.0"
// in a program that requires v0.1.0, and "(devel)" when the SDK is built
// from a working tree (its own tests, a go.work). It is sent in the
// User-Agent header. There is no version constant to keep in step with the
// tags: the version is the module's.
func Version() string { return moduleVersion() }

var moduleVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	return versionIn(info, modulePath)
})

// versionIn returns the version of the module at path in the build
// info: the main module's or a dependency's, the replacement's when it is
// replaced by another version, "(devel)" when its code came from a
// directory (a replace by a directory, a workspace, the module's own tree),
// and "" when the program does not contain it.
func versionIn(info *debug.BuildInfo, path string) string {
	m := &info.Main
	if m.Path != path {
		m = nil
		for _, dep := range info.Deps {
			if dep.Path == path {
				m = dep
				break
			}
		}
	}
	switch {
	case m == nil:
		return ""
	case m.Replace != nil && m.Replace.Version != "":
		return m.Replace.Version
	case m.Replace != nil, m.Version == "": // a directory's code
		return "(devel)"
	}
	return m.Version
}
