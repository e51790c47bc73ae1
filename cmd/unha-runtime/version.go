package main

import (
	"fmt"
	"runtime/debug"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "0.1.0"

// versionText is runc's three-line --version format, which tools parse.
func versionText() string {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return fmt.Sprintf("unha-runtime version %s\ncommit: %s\nspec: %s\n", version, commit, specs.Version)
}
