//go:build cgo

package seccomp

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Features reports what profiles can use here, for `unha-runtime features`.
// Every list is probed rather than copied from the spec: an action counts
// when libseccomp can express it and the kernel has it (SECCOMP_GET_ACTION_AVAIL),
// an architecture when libseccomp can add it to a filter for this machine
// (it refuses unknown ones and ones of the other byte order), a flag when
// seccomp(2) accepts it.
func Features() *features.Seccomp {
	enabled := true
	out := &features.Seccomp{Enabled: &enabled}
	// libseccomp API levels (seccomp_api_get(3)): 3 brought LOG and
	// KILL_PROCESS, 6 brought NOTIFY.
	api, _ := libseccomp.GetAPI()
	for _, a := range knownActions {
		need := uint(0)
		switch a {
		case specs.ActLog, specs.ActKillProcess:
			need = 3
		case specs.ActNotify:
			need = 6
		}
		if api >= need && actionAvailable(kernelActions[a]) {
			out.Actions = append(out.Actions, string(a))
		}
	}
	for _, op := range knownOperators {
		out.Operators = append(out.Operators, string(op))
	}
	for _, a := range knownArchs {
		if archUsable(a) {
			out.Archs = append(out.Archs, string(a))
		}
	}
	for _, fl := range knownFlags {
		out.KnownFlags = append(out.KnownFlags, string(fl))
		if probeFlags(flagProbe(fl)) == nil {
			out.SupportedFlags = append(out.SupportedFlags, string(fl))
		}
	}
	slices.Sort(out.Actions)
	slices.Sort(out.Operators)
	slices.Sort(out.Archs)
	return out
}

var knownActions = []specs.LinuxSeccompAction{
	specs.ActAllow, specs.ActErrno, specs.ActKill, specs.ActKillProcess, specs.ActKillThread,
	specs.ActLog, specs.ActNotify, specs.ActTrace, specs.ActTrap,
}

func archUsable(a specs.Arch) bool {
	sf, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return false
	}
	defer sf.Release()
	return sf.AddArch(scmpArchs[a]) == nil
}
