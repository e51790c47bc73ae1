package seccomp

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Features reports what profiles can use here, for `unha-runtime features`.
// Every list is probed rather than copied from the spec: an action counts
// when the kernel has it (SECCOMP_GET_ACTION_AVAIL; the compiler expresses
// all), an architecture when it can join a filter on this machine (the
// syscall tables know it and it has this machine's byte order, as
// libseccomp requires), a flag when seccomp(2) accepts it.
func Features() *features.Seccomp {
	enabled := true
	out := &features.Seccomp{Enabled: &enabled}
	for _, a := range knownActions {
		if actionAvailable(kernelActions[a]) {
			out.Actions = append(out.Actions, string(a))
		}
	}
	for _, op := range knownOperators {
		out.Operators = append(out.Operators, string(op))
	}
	for _, a := range knownArchs {
		if archUsable(a) == nil {
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
