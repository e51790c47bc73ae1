//go:build !cgo

package seccomp

import (
	"errors"
	"log/slog"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// errNoCgo is returned when a filter must be compiled by a binary built
// without cgo, hence without libseccomp. A Program compiled elsewhere still
// loads.
var errNoCgo = errors.New("seccomp: this binary was built without cgo, so without libseccomp")

// Load refuses any profile: see errNoCgo.
func Load(s *specs.LinuxSeccomp) (notifyFd int, err error) {
	f, err := Plan(s)
	if f == nil || err != nil {
		return -1, err
	}
	return f.Load(nil)
}

// Load refuses: see errNoCgo.
func (f *Filter) Load(*slog.Logger) (notifyFd int, err error) { return -1, errNoCgo }

// Compile refuses: see errNoCgo.
func (f *Filter) Compile(*slog.Logger) (*Program, error) { return nil, errNoCgo }

// Features reports seccomp as disabled.
func Features() *features.Seccomp {
	enabled := false
	return &features.Seccomp{Enabled: &enabled}
}
