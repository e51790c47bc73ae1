package seccomp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func uptr(v uint) *uint { return &v }

func TestPlan(t *testing.T) {
	allow := Action{Kind: specs.ActAllow}
	eperm := Action{Kind: specs.ActErrno, Ret: 1}
	tests := []struct {
		name string
		in   *specs.LinuxSeccomp
		want *Filter
		err  string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty object disables seccomp", in: &specs.LinuxSeccomp{}, want: nil},
		{
			name: "syscalls without defaultAction",
			in:   &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno}}},
			err:  "defaultAction is required",
		},
		{
			name: "flags without defaultAction",
			in:   &specs.LinuxSeccomp{Flags: []specs.LinuxSeccompFlag{}},
			err:  "defaultAction is required",
		},
		{
			name: "unknown default action",
			in:   &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"},
			err:  `defaultAction: unknown action "SCMP_ACT_NOPE"`,
		},
		{
			name: "defaultErrnoRet with an action that has no errno",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uptr(38)},
			err:  "defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno",
		},
		{
			name: "ERRNO default is EPERM, flags unset",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
			want: &Filter{DefaultAction: eperm, FlagsUnset: true},
		},
		{
			name: "defaultErrnoRet",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(38), Flags: []specs.LinuxSeccompFlag{}},
			want: &Filter{DefaultAction: Action{Kind: specs.ActErrno, Ret: 38}},
		},
		{
			name: "errno 0 is kept (the syscall fakes success)",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(0), Flags: []specs.LinuxSeccompFlag{}},
			want: &Filter{DefaultAction: Action{Kind: specs.ActErrno, Ret: 0}},
		},
		{
			name: "errno above MAX_ERRNO",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(4096)},
			err:  "defaultErrnoRet: 4096 is out of range for SCMP_ACT_ERRNO (max 4095)",
		},
		{
			name: "trace message fills 16 bits",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActTrace, DefaultErrnoRet: uptr(65535), Flags: []specs.LinuxSeccompFlag{}},
			want: &Filter{DefaultAction: Action{Kind: specs.ActTrace, Ret: 65535}},
		},
		{
			name: "trace message beyond 16 bits",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActTrace, DefaultErrnoRet: uptr(65536)},
			err:  "out of range for SCMP_ACT_TRACE (max 65535)",
		},
		{
			name: "TRACE without errnoRet is EPERM as in runc",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"ptrace"}, Action: specs.ActTrace},
			}},
			want: &Filter{DefaultAction: allow, Rules: []Rule{{Syscall: "ptrace", Action: Action{Kind: specs.ActTrace, Ret: 1}}}, Listed: []string{"ptrace"}},
		},
		{
			name: "NOTIFY cannot be the default",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/run/agent.sock"},
			err:  "SCMP_ACT_NOTIFY cannot be the default action",
		},
		{
			name: "listenerMetadata needs listenerPath",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "x"},
			err:  "listenerMetadata is set but listenerPath is not",
		},
		{
			name: "NOTIFY rule needs listenerPath",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir"}, Action: specs.ActNotify},
			}},
			err: "syscalls[0]: SCMP_ACT_NOTIFY needs listenerPath",
		},
		{
			name: "NOTIFY on write would hang init",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a", Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "write"}, Action: specs.ActNotify},
			}},
			err: `SCMP_ACT_NOTIFY cannot be used for "write"`,
		},
		{
			name: "NOTIFY with listener",
			in: &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow, ListenerPath: "/a", ListenerMetadata: "m",
				Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
				Syscalls: []specs.LinuxSyscall{
					{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify},
				},
			},
			want: &Filter{
				DefaultAction: allow, ListenerPath: "/a", ListenerMetadata: "m",
				Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
				Rules: []Rule{
					{Syscall: "mkdir", Action: Action{Kind: specs.ActNotify}},
					{Syscall: "mkdirat", Action: Action{Kind: specs.ActNotify}},
				},
				Listed: []string{"mkdir", "mkdirat"},
			},
		},
		{
			name: "architectures deduplicated, order kept",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{
				specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchX86,
			}},
			want: &Filter{DefaultAction: allow, FlagsUnset: true, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
		},
		{
			name: "unknown architecture",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}},
			err:  `architectures: unknown architecture "SCMP_ARCH_VAX"`,
		},
		{
			name: "flags: TSYNC implied, duplicates dropped",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{
				FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagLog,
			}},
			want: &Filter{DefaultAction: allow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}},
		},
		{
			name: "unknown flag",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NEW_LISTENER"}},
			err:  `flags: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"`,
		},
		{
			name: "names must not be empty",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}},
			err:  "syscalls[0]: names must contain at least one entry",
		},
		{
			name: "empty syscall name",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read", ""}, Action: specs.ActErrno}}},
			err:  "syscalls[0].names: empty syscall name",
		},
		{
			name: "rule action missing",
			in:   &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}}}},
			err:  "syscalls[0].action is required",
		},
		{
			name: "errnoRet on LOG",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"getcwd"}, Action: specs.ActErrno},
				{Names: []string{"read"}, Action: specs.ActLog, ErrnoRet: uptr(1)},
			}},
			err: "syscalls[1].errnoRet: SCMP_ACT_LOG does not take an errno",
		},
		{
			name: "argument index out of range",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}},
			}},
			err: "syscalls[0].args[0].index: 6 is out of range",
		},
		{
			name: "unknown operator",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_ROUGHLY"}}},
			}},
			err: `syscalls[0].args[0].op: unknown operator "SCMP_CMP_ROUGHLY"`,
		},
		{
			name: "valueTwo only for MASKED_EQ",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpGreaterThan, Value: 1, ValueTwo: 2}}},
			}},
			err: "syscalls[0].args[0].valueTwo: only SCMP_CMP_MASKED_EQ uses a second value",
		},
		{
			name: "different arguments are ANDed in one rule per name",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"kill", "tkill"}, Action: specs.ActErrno, ErrnoRet: uptr(74), Args: []specs.LinuxSeccompArg{
					{Index: 0, Op: specs.OpEqualTo, Value: 7},
					{Index: 1, Op: specs.OpMaskedEqual, Value: 0xf0, ValueTwo: 0x10},
				}},
			}},
			want: &Filter{DefaultAction: allow, Rules: []Rule{
				{Syscall: "kill", Action: Action{Kind: specs.ActErrno, Ret: 74}, Conditions: []Condition{
					{Index: 0, Op: specs.OpEqualTo, Value: 7}, {Index: 1, Op: specs.OpMaskedEqual, Value: 0xf0, ValueTwo: 0x10},
				}},
				{Syscall: "tkill", Action: Action{Kind: specs.ActErrno, Ret: 74}, Conditions: []Condition{
					{Index: 0, Op: specs.OpEqualTo, Value: 7}, {Index: 1, Op: specs.OpMaskedEqual, Value: 0xf0, ValueTwo: 0x10},
				}},
			}, Listed: []string{"kill", "tkill"}},
		},
		{
			// runc: once one index repeats, every condition of the entry
			// (the other indexes' too) becomes a rule of its own.
			name: "a repeated argument splits every condition into its own rule",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
					{Index: 0, Op: specs.OpEqualTo, Value: 0},
					{Index: 0, Op: specs.OpEqualTo, Value: 8},
					{Index: 1, Op: specs.OpLessThan, Value: 3},
				}},
			}},
			want: &Filter{DefaultAction: eperm, Rules: []Rule{
				{Syscall: "personality", Action: allow, Conditions: []Condition{{Index: 0, Op: specs.OpEqualTo, Value: 0}}},
				{Syscall: "personality", Action: allow, Conditions: []Condition{{Index: 0, Op: specs.OpEqualTo, Value: 8}}},
				{Syscall: "personality", Action: allow, Conditions: []Condition{{Index: 1, Op: specs.OpLessThan, Value: 3}}},
			}, Listed: []string{"personality"}},
		},
		{
			name: "rules equal to the default are dropped, others kept",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActErrno},                       // EPERM == default
				{Names: []string{"write"}, Action: specs.ActErrno, ErrnoRet: uptr(1)},   // EPERM == default
				{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: uptr(38)}, // ENOSYS != default
				{Names: []string{"getpid", "read"}, Action: specs.ActAllow},
			}},
			want: &Filter{DefaultAction: eperm, Rules: []Rule{
				{Syscall: "getcwd", Action: Action{Kind: specs.ActErrno, Ret: 38}},
				{Syscall: "getpid", Action: allow},
				{Syscall: "read", Action: allow},
			}, Listed: []string{"read", "write", "getcwd", "getpid"}},
		},
		{
			name: "SCMP_ACT_KILL is KILL_THREAD, so a KILL_THREAD rule under a KILL default is dropped",
			in: &specs.LinuxSeccomp{DefaultAction: specs.ActKill, Flags: []specs.LinuxSeccompFlag{}, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"reboot"}, Action: specs.ActKillThread},
				{Names: []string{"kexec_load"}, Action: specs.ActKillProcess},
				{Names: []string{"read"}, Action: specs.ActAllow},
				{Names: []string{"uname"}, Action: specs.ActLog},
				{Names: []string{"getcwd"}, Action: specs.ActTrap},
			}},
			want: &Filter{DefaultAction: Action{Kind: specs.ActKillThread}, Rules: []Rule{
				{Syscall: "kexec_load", Action: Action{Kind: specs.ActKillProcess}},
				{Syscall: "read", Action: allow},
				{Syscall: "uname", Action: Action{Kind: specs.ActLog}},
				{Syscall: "getcwd", Action: Action{Kind: specs.ActTrap}},
			}, Listed: []string{"reboot", "kexec_load", "read", "uname", "getcwd"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Plan(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Plan() error = %v, want it to contain %q", err, tc.err)
				}
				if got != nil {
					t.Fatalf("Plan() = %+v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan(): %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Plan() =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// The Filter is what the runtime sends to init, so it must survive JSON.
func TestFilterJSONRoundTrip(t *testing.T) {
	f, err := Plan(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(38),
		Architectures: []specs.Arch{specs.ArchX86},
		ListenerPath:  "/run/a.sock", ListenerMetadata: "meta",
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActNotify},
			{Names: []string{"kill"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 1, Op: specs.OpMaskedEqual, Value: 3, ValueTwo: 1}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Filter
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, f) {
		t.Fatalf("round trip:\n%s\ngave %+v, want %+v", b, back, *f)
	}
}

func TestHasNotify(t *testing.T) {
	f := &Filter{Rules: []Rule{{Syscall: "read", Action: Action{Kind: specs.ActAllow}}}}
	if f.HasNotify() {
		t.Fatal("HasNotify() = true without NOTIFY rules")
	}
	f.Rules = append(f.Rules, Rule{Syscall: "mkdir", Action: Action{Kind: specs.ActNotify}})
	if !f.HasNotify() {
		t.Fatal("HasNotify() = false with a NOTIFY rule")
	}
}
