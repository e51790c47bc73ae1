package app

import (
	"fmt"
	"os"

	"github.com/unha/unha/internal/specgen"
)

// security turns the security flags of `unha run` into specgen's terms.
// As Docker's CLI does, it reads a --security-opt seccomp=FILE profile on
// the caller's side, relative to the caller's working directory.
func security(o RunOptions) (specgen.Security, error) {
	so, err := specgen.ParseSecurityOpts(o.SecurityOpts)
	if err != nil {
		return specgen.Security{}, err
	}
	sec := specgen.Security{
		CapAdd:            o.CapAdd,
		CapDrop:           o.CapDrop,
		Privileged:        o.Privileged,
		NoNewPrivileges:   so.NoNewPrivileges,
		UnmaskSystemPaths: so.UnmaskSystemPaths,
		AvailableCaps:     availableCaps(),
	}
	switch so.Seccomp {
	case "", specgen.SeccompDefault:
	case specgen.SeccompUnconfined:
		sec.SeccompUnconfined = true
	default:
		data, err := os.ReadFile(so.Seccomp)
		if err != nil {
			// Docker's wording.
			return sec, fmt.Errorf("opening seccomp profile (%s) failed: %w", so.Seccomp, err)
		}
		sec.SeccompProfile = data
	}
	return sec, nil
}
