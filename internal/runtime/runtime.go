package runtime

import (
	"log/slog"

	"github.com/unha/unha/internal/cgroups"
)

// Runtime holds the global options of one unha-runtime invocation.
type Runtime struct {
	Store         Store
	Log           *slog.Logger
	SystemdCgroup bool
	LogLevel      string // passed to init: "debug" relays its debug lines
	// Rootless (--rootless, see RootlessMode): use only the cgroups
	// delegated to the caller, ignore device rules, and require a user
	// namespace.
	Rootless bool
}

func (r *Runtime) cgroupOpts() cgroups.Options {
	return cgroups.Options{Systemd: r.SystemdCgroup}
}
