package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/doubletick-go/doubletick"
)

// releaseVersion is set by the release build (GoReleaser's linker flag
// -X main.releaseVersion=…), which builds from the tagged tree rather than
// from a module version. Everywhere else the build info is the one source:
// go install …@v0.1.0 records v0.1.0.
var releaseVersion string

// versionText is what `doubletick version` and `doubletick --version`
// print: the command's version, the SDK's, the VCS revision when the build
// recorded one, and the Go toolchain.
func versionText(info *debug.BuildInfo, ok bool) string {
	version := releaseVersion
	if version == "" && ok {
		version = info.Main.Version
	}
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "doubletick %s\n", version)
	fmt.Fprintf(&b, "sdk:       %s %s\n", "github.com/doubletick-go/doubletick", doubletick.Version())
	if ok {
		var revision, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
		if revision != "" {
			fmt.Fprintf(&b, "revision:  %s%s\n", revision, modified)
		}
	}
	fmt.Fprintf(&b, "go:        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of doubletick, of the SDK it is built with, and of Go",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(a.stdout, versionText(debug.ReadBuildInfo()))
			return err
		},
	}
}
