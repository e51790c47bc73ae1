package seccomp

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FlagTsync is accepted in profiles (the runtime-spec lists it) but is not a
// specs constant. The filter is always installed with TSYNC: Go has started
// threads long before init loads the filter, and a filter on one thread only
// would leave the others unconfined until execve.
const FlagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// maxErrno is MAX_ERRNO in include/linux/err.h: the kernel clamps larger
// SECCOMP_RET_ERRNO data to it, so such a value could never be returned.
const maxErrno = 4095

// eperm is EPERM (asm-generic/errno-base.h), the runtime-spec's default for
// errnoRet; spelled out so that planning needs no platform package.
const eperm = 1

// Syscalls that must not notify: init still writes to the runtime (the notify
// fd among other things) after the filter is loaded, and nobody would answer
// a notification before the runtime has passed the fd on to the agent. runc
// refuses "write" for the same reason.
var notifyForbidden = []string{"write", "sendmsg"}

// Action is a seccomp action as the kernel sees it.
type Action struct {
	// Kind is the profile's action name, with SCMP_ACT_KILL normalised to
	// SCMP_ACT_KILL_THREAD, which is what it means (seccomp(2)).
	Kind specs.LinuxSeccompAction `json:"kind"`
	// Ret is SECCOMP_RET_DATA: the errno of SCMP_ACT_ERRNO, or the message a
	// tracer reads with PTRACE_GETEVENTMSG for SCMP_ACT_TRACE. Both default
	// to EPERM as in the runtime-spec (and runc, for TRACE).
	Ret uint16 `json:"ret,omitempty"`
}

// Condition compares one syscall argument. For SCMP_CMP_MASKED_EQ, Value is
// the mask and ValueTwo the datum: (arg & Value) == ValueTwo, libseccomp's
// order and the one runc and Docker's profiles use.
type Condition struct {
	Index    uint                       `json:"index"`
	Op       specs.LinuxSeccompOperator `json:"op"`
	Value    uint64                     `json:"value"`
	ValueTwo uint64                     `json:"valueTwo,omitempty"`
}

// Rule applies Action to Syscall when all Conditions hold.
type Rule struct {
	Syscall    string      `json:"syscall"`
	Action     Action      `json:"action"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// Filter is a validated profile, ready to compile. It is plain data so the
// runtime can log it and send it to init.
type Filter struct {
	DefaultAction Action `json:"defaultAction"`
	// Architectures are added to the native one, which is always present.
	Architectures []specs.Arch `json:"architectures,omitempty"`
	// Flags are the filter flags besides TSYNC (always used), deduplicated.
	Flags []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	// FlagsUnset records that the profile had no flags at all (not even an
	// empty list). As runc does, SECCOMP_FILTER_FLAG_SPEC_ALLOW is then used
	// where the kernel has it: kernels since 5.16 no longer force the
	// Speculative Store Bypass mitigation on seccomp tasks anyway, and this
	// makes older kernels behave the same.
	FlagsUnset       bool   `json:"flagsUnset,omitempty"`
	ListenerPath     string `json:"listenerPath,omitempty"`
	ListenerMetadata string `json:"listenerMetadata,omitempty"`
	Rules            []Rule `json:"rules,omitempty"`
	// Listed is every syscall name of the profile, those of dropped rules
	// too: the highest of them bounds the ENOSYS stub (enosys_linux.go).
	Listed []string `json:"listed,omitempty"`
}

// HasNotify reports whether any rule uses SCMP_ACT_NOTIFY.
func (f *Filter) HasNotify() bool {
	for _, r := range f.Rules {
		if r.Action.Kind == specs.ActNotify {
			return true
		}
	}
	return false
}

// Plan validates s and converts it into a Filter. It returns nil, nil when
// there is nothing to load: no profile, or an empty one ("seccomp": {}),
// which runc also treats as seccomp disabled.
func Plan(s *specs.LinuxSeccomp) (*Filter, error) {
	if s == nil || isEmpty(s) {
		return nil, nil
	}
	f := &Filter{
		ListenerPath:     s.ListenerPath,
		ListenerMetadata: s.ListenerMetadata,
		FlagsUnset:       s.Flags == nil,
	}
	if s.DefaultAction == "" {
		return nil, errors.New("seccomp: defaultAction is required")
	}
	def, err := parseAction(s.DefaultAction, s.DefaultErrnoRet, "defaultAction", "defaultErrnoRet")
	if err != nil {
		return nil, err
	}
	if def.Kind == specs.ActNotify {
		return nil, errors.New("seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (init could not pass the notify fd on)")
	}
	f.DefaultAction = def
	if s.ListenerMetadata != "" && s.ListenerPath == "" {
		return nil, errors.New("seccomp: listenerMetadata is set but listenerPath is not")
	}
	for _, a := range s.Architectures {
		if !slices.Contains(knownArchs, a) {
			return nil, fmt.Errorf("seccomp: architectures: unknown architecture %q", a)
		}
		if !slices.Contains(f.Architectures, a) {
			f.Architectures = append(f.Architectures, a)
		}
	}
	for _, fl := range s.Flags {
		switch fl {
		case FlagTsync:
		case specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv:
			if !slices.Contains(f.Flags, fl) {
				f.Flags = append(f.Flags, fl)
			}
		default:
			return nil, fmt.Errorf("seccomp: flags: unknown flag %q", fl)
		}
	}
	for i, sc := range s.Syscalls {
		rules, err := planSyscall(sc, fmt.Sprintf("syscalls[%d]", i))
		if err != nil {
			return nil, err
		}
		for _, name := range sc.Names {
			if !slices.Contains(f.Listed, name) {
				f.Listed = append(f.Listed, name)
			}
		}
		for _, r := range rules {
			if r.Action.Kind == specs.ActNotify && s.ListenerPath == "" {
				return nil, fmt.Errorf("seccomp: syscalls[%d]: SCMP_ACT_NOTIFY needs listenerPath, the agent's socket", i)
			}
			// libseccomp refuses a rule that repeats the default action
			// (EACCES); it would change nothing, so drop it as runc does.
			if r.Action == def {
				continue
			}
			f.Rules = append(f.Rules, r)
		}
	}
	return f, nil
}

func isEmpty(s *specs.LinuxSeccomp) bool {
	return s.DefaultAction == "" && s.DefaultErrnoRet == nil && len(s.Architectures) == 0 &&
		s.Flags == nil && s.ListenerPath == "" && s.ListenerMetadata == "" && len(s.Syscalls) == 0
}

// planSyscall expands one syscalls[] entry into rules, one name at a time.
func planSyscall(sc specs.LinuxSyscall, field string) ([]Rule, error) {
	if len(sc.Names) == 0 {
		return nil, fmt.Errorf("seccomp: %s: names must contain at least one entry", field)
	}
	act, err := parseAction(sc.Action, sc.ErrnoRet, field+".action", field+".errnoRet")
	if err != nil {
		return nil, err
	}
	conds := make([]Condition, 0, len(sc.Args))
	var perIndex [6]int
	for j, a := range sc.Args {
		c, err := parseCondition(a, fmt.Sprintf("%s.args[%d]", field, j))
		if err != nil {
			return nil, err
		}
		perIndex[c.Index]++
		conds = append(conds, c)
	}
	// libseccomp cannot AND two comparisons of the same argument (EINVAL).
	// runc then adds every condition of the entry as a rule of its own, so
	// the entry matches when any one condition holds; profiles in the wild
	// (Docker's personality rules) rely on exactly that, so do the same.
	groups := [][]Condition{conds}
	if slices.ContainsFunc(perIndex[:], func(n int) bool { return n > 1 }) {
		groups = groups[:0]
		for _, c := range conds {
			groups = append(groups, []Condition{c})
		}
	}
	var rules []Rule
	for _, name := range sc.Names {
		if name == "" {
			return nil, fmt.Errorf("seccomp: %s.names: empty syscall name", field)
		}
		if act.Kind == specs.ActNotify && slices.Contains(notifyForbidden, name) {
			return nil, fmt.Errorf("seccomp: %s: SCMP_ACT_NOTIFY cannot be used for %q: init needs it to hand over the notify fd", field, name)
		}
		for _, g := range groups {
			r := Rule{Syscall: name, Action: act}
			if len(g) > 0 {
				r.Conditions = slices.Clone(g)
			}
			rules = append(rules, r)
		}
	}
	return rules, nil
}

func parseAction(a specs.LinuxSeccompAction, ret *uint, field, retField string) (Action, error) {
	switch a {
	case specs.ActKill, specs.ActKillThread:
		a = specs.ActKillThread
	case specs.ActKillProcess, specs.ActTrap, specs.ActAllow, specs.ActLog, specs.ActNotify:
	case specs.ActErrno, specs.ActTrace:
		act := Action{Kind: a, Ret: eperm}
		if ret == nil {
			return act, nil
		}
		// SECCOMP_RET_DATA is 16 bits; errno values above MAX_ERRNO are
		// clamped by the kernel, so neither could be returned as written.
		limit := uint(0xffff)
		if a == specs.ActErrno {
			limit = maxErrno
		}
		if *ret > limit {
			return Action{}, fmt.Errorf("seccomp: %s: %d is out of range for %s (max %d)", retField, *ret, a, limit)
		}
		act.Ret = uint16(*ret)
		return act, nil
	case "":
		return Action{}, fmt.Errorf("seccomp: %s is required", field)
	default:
		return Action{}, fmt.Errorf("seccomp: %s: unknown action %q", field, a)
	}
	if ret != nil {
		// The runtime-spec: "When the action doesn't support an errno, the
		// runtime MUST print and error and fail."
		return Action{}, fmt.Errorf("seccomp: %s: %s does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)", retField, a)
	}
	return Action{Kind: a}, nil
}

func parseCondition(a specs.LinuxSeccompArg, field string) (Condition, error) {
	if a.Index > 5 {
		return Condition{}, fmt.Errorf("seccomp: %s.index: %d is out of range (syscalls have 6 arguments, 0-5)", field, a.Index)
	}
	if !slices.Contains(knownOperators, a.Op) {
		return Condition{}, fmt.Errorf("seccomp: %s.op: unknown operator %q", field, a.Op)
	}
	if a.ValueTwo != 0 && a.Op != specs.OpMaskedEqual {
		return Condition{}, fmt.Errorf("seccomp: %s.valueTwo: only SCMP_CMP_MASKED_EQ uses a second value, %s does not", field, a.Op)
	}
	return Condition{Index: a.Index, Op: a.Op, Value: a.Value, ValueTwo: a.ValueTwo}, nil
}

// The names the runtime-spec (v1.3.0, libseccomp v2.6.0) defines. Whether
// this libseccomp and kernel can use one is Load's and Features' business.
var (
	knownOperators = []specs.LinuxSeccompOperator{
		specs.OpEqualTo, specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpLessEqual,
		specs.OpLessThan, specs.OpMaskedEqual, specs.OpNotEqual,
	}
	knownArchs = []specs.Arch{
		specs.ArchAARCH64, specs.ArchARM, specs.ArchLOONGARCH64, specs.ArchM68K, specs.ArchMIPS,
		specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
		specs.ArchMIPSEL64N32, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchPPC,
		specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchRISCV64, specs.ArchS390, specs.ArchS390X,
		specs.ArchSH, specs.ArchSHEB, specs.ArchX32, specs.ArchX86, specs.ArchX86_64,
	}
	knownFlags = []specs.LinuxSeccompFlag{
		specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, FlagTsync,
		specs.LinuxSeccompFlagWaitKillableRecv,
	}
)
