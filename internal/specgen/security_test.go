package specgen

import (
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/caps"
)

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(clone(list), func(c string) bool { return slices.Contains(drop, c) })
}

func TestCapList(t *testing.T) {
	avail := caps.Names()[:38] // as if the kernel stopped at CAP_AUDIT_READ
	tests := []struct {
		name string
		sec  Security
		want []string
		err  string
	}{
		{name: "default", want: DefaultCaps},
		{name: "drop, lower case and no prefix", sec: Security{CapDrop: []string{"chown", "Net_Raw"}},
			want: without(DefaultCaps, "CAP_CHOWN", "CAP_NET_RAW")},
		{name: "add", sec: Security{CapAdd: []string{"sys_admin", "CAP_NET_ADMIN"}},
			want: append(clone(DefaultCaps), "CAP_SYS_ADMIN", "CAP_NET_ADMIN")},
		{name: "add one already there", sec: Security{CapAdd: []string{"CHOWN"}}, want: DefaultCaps},
		{name: "add beats drop", sec: Security{CapAdd: []string{"sys_nice"}, CapDrop: []string{"SYS_NICE", "kill"}},
			want: append(without(DefaultCaps, "CAP_KILL"), "CAP_SYS_NICE")},
		{name: "drop ALL keeps the adds", sec: Security{CapDrop: []string{"ALL"}, CapAdd: []string{"net_raw", "chown"}},
			want: []string{"CAP_NET_RAW", "CAP_CHOWN"}},
		{name: "drop all, lower case", sec: Security{CapDrop: []string{"all"}}, want: nil},
		{name: "add ALL minus drops", sec: Security{CapAdd: []string{"ALL"}, CapDrop: []string{"net_raw"}},
			want: without(avail, "CAP_NET_RAW")},
		{name: "add ALL beats drop ALL", sec: Security{CapAdd: []string{"all"}, CapDrop: []string{"ALL"}}, want: avail},
		{name: "privileged ignores the lists", sec: Security{Privileged: true, CapDrop: []string{"ALL"}}, want: avail},
		{name: "unknown", sec: Security{CapAdd: []string{"bogus"}}, err: `invalid --cap-add: unknown capability: "CAP_BOGUS"`},
		{name: "unknown drop", sec: Security{CapDrop: []string{"CAP_BOGUS"}}, err: `invalid --cap-drop: unknown capability: "CAP_BOGUS"`},
		{name: "not available", sec: Security{CapAdd: []string{"bpf"}}, err: "capability CAP_BPF is not available"},
		{name: "dropping an unavailable one is fine", sec: Security{CapDrop: []string{"bpf"}}, want: DefaultCaps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sec.AvailableCaps = avail
			got, err := capList(tt.sec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 || len(tt.want) != 0 {
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("caps %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestParseSecurityOpts(t *testing.T) {
	tests := []struct {
		opts []string
		want SecurityOpts
		err  string
	}{
		{opts: nil},
		{opts: []string{"no-new-privileges"}, want: SecurityOpts{NoNewPrivileges: true}},
		{opts: []string{"no-new-privileges=true"}, want: SecurityOpts{NoNewPrivileges: true}},
		{opts: []string{"no-new-privileges", "no-new-privileges=false"}, want: SecurityOpts{}},
		{opts: []string{"no-new-privileges:true"}, want: SecurityOpts{NoNewPrivileges: true}},
		{opts: []string{"seccomp=unconfined"}, want: SecurityOpts{Seccomp: SeccompUnconfined}},
		{opts: []string{"seccomp:/p.json"}, want: SecurityOpts{Seccomp: "/p.json"}},
		// As in Docker, an "=" anywhere makes it the separator.
		{opts: []string{"seccomp:/p/with=equals.json"}, err: `unknown option "seccomp:/p/with"`},
		{opts: []string{"seccomp=/etc/p.json"}, want: SecurityOpts{Seccomp: "/etc/p.json"}},
		{opts: []string{"systempaths=unconfined", "apparmor=unconfined", "label=disable"}, want: SecurityOpts{UnmaskSystemPaths: true}},
		{opts: []string{"no-new-privileges=maybe"}, err: "no-new-privileges takes true or false"},
		{opts: []string{"seccomp="}, err: "seccomp needs a profile file"},
		{opts: []string{"apparmor=docker-default"}, err: "AppArmor profiles are not supported"},
		{opts: []string{"label=type:svirt_t"}, err: "SELinux labels are not supported"},
		{opts: []string{"systempaths=confined"}, err: "systempaths takes only unconfined"},
		{opts: []string{"bogus"}, err: "want KEY=VALUE"},
		{opts: []string{"writable-cgroups=true"}, err: `unknown option "writable-cgroups"`},
	}
	for _, tt := range tests {
		got, err := ParseSecurityOpts(tt.opts)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.opts, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.opts, got, err, tt.want)
		}
	}
}

// allows reports whether the profile has an unconditional rule allowing name.
func allows(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestGenerateSecurity(t *testing.T) {
	gen := func(t *testing.T, sec Security, edit ...func(*Options)) *specs.Spec {
		t.Helper()
		o := base()
		o.Security = sec
		for _, e := range edit {
			e(&o)
		}
		s, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("default is Docker's profile", func(t *testing.T) {
		s := gen(t, Security{})
		p := s.Linux.Seccomp
		if p == nil {
			t.Fatal("no seccomp profile by default")
		}
		if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
			t.Errorf("default action %s %v, want Docker's ERRNO(EPERM)", p.DefaultAction, p.DefaultErrnoRet)
		}
		if runtime.GOARCH == "amd64" && !reflect.DeepEqual(p.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
			t.Errorf("architectures %v", p.Architectures)
		}
		for _, name := range []string{"read", "execve", "getpgid"} {
			if !allows(p, name) {
				t.Errorf("%s not allowed", name)
			}
		}
		// Without CAP_SYS_ADMIN these stay denied, and clone may not make
		// namespaces (the MASKED_EQ rule).
		for _, name := range []string{"mount", "unshare", "setns", "keyctl", "clone", "bpf"} {
			if allows(p, name) {
				t.Errorf("%s allowed without CAP_SYS_ADMIN", name)
			}
		}
		masked := false
		for _, r := range p.Syscalls {
			if slices.Contains(r.Names, "clone") && len(r.Args) == 1 && r.Args[0].Op == specs.OpMaskedEqual {
				masked = true
			}
		}
		if runtime.GOARCH == "amd64" && !masked {
			t.Error("no MASKED_EQ rule for clone's namespace flags")
		}
		if s.Process.NoNewPrivileges || len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 {
			t.Errorf("nnp %v masked %v readonly %v", s.Process.NoNewPrivileges, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
		}
	})
	t.Run("cap-add SYS_ADMIN widens the profile", func(t *testing.T) {
		p := gen(t, Security{CapAdd: []string{"SYS_ADMIN"}}).Linux.Seccomp
		for _, name := range []string{"mount", "unshare", "setns", "clone"} {
			if !allows(p, name) {
				t.Errorf("%s not allowed with CAP_SYS_ADMIN", name)
			}
		}
		if allows(p, "keyctl") {
			t.Error("keyctl allowed")
		}
	})
	t.Run("the profile follows the bounding set of a non-root user", func(t *testing.T) {
		s := gen(t, Security{CapAdd: []string{"SYS_PTRACE"}}, func(o *Options) { o.User = specs.User{UID: 1000, GID: 1000} })
		c := s.Process.Capabilities
		if len(c.Effective) != 0 || len(c.Permitted) != 0 || !slices.Contains(c.Bounding, "CAP_SYS_PTRACE") {
			t.Errorf("caps %+v", c)
		}
		if !allows(s.Linux.Seccomp, "process_vm_readv") || !allows(s.Linux.Seccomp, "ptrace") {
			t.Error("ptrace rules missing with CAP_SYS_PTRACE")
		}
	})
	t.Run("cap-drop ALL", func(t *testing.T) {
		c := gen(t, Security{CapDrop: []string{"ALL"}}).Process.Capabilities
		if len(c.Bounding)+len(c.Effective)+len(c.Permitted)+len(c.Inheritable)+len(c.Ambient) != 0 {
			t.Errorf("caps %+v", c)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		s := gen(t, Security{Privileged: true, AvailableCaps: caps.Names(), SeccompProfile: []byte(`{"defaultAction":"SCMP_ACT_KILL"}`)})
		c := s.Process.Capabilities
		if !reflect.DeepEqual(c.Bounding, caps.Names()) || !reflect.DeepEqual(c.Effective, caps.Names()) {
			t.Errorf("caps %+v", c)
		}
		if s.Linux.Seccomp != nil || s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
			t.Errorf("seccomp %v masked %v readonly %v", s.Linux.Seccomp, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
		}
		for _, m := range s.Mounts {
			if m.Destination == "/sys" && slices.Contains(m.Options, "ro") {
				t.Errorf("/sys %v", m.Options)
			}
			if m.Destination == "/proc" && !slices.Contains(m.Options, "nosuid") {
				t.Errorf("/proc lost its options: %v", m.Options)
			}
		}
		if d := s.Linux.Resources.Devices; len(d) != 1 || !d[0].Allow || d[0].Access != "rwm" || d[0].Type != "" || d[0].Major != nil {
			t.Errorf("devices %+v", d)
		}
	})
	t.Run("unconfined, no-new-privileges, systempaths", func(t *testing.T) {
		s := gen(t, Security{SeccompUnconfined: true, NoNewPrivileges: true, UnmaskSystemPaths: true})
		if s.Linux.Seccomp != nil || !s.Process.NoNewPrivileges || s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
			t.Errorf("seccomp %v nnp %v masked %v readonly %v", s.Linux.Seccomp, s.Process.NoNewPrivileges, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
		}
		for _, m := range s.Mounts {
			if m.Destination == "/sys" && !slices.Contains(m.Options, "ro") {
				t.Error("/sys writable without --privileged")
			}
		}
	})
	t.Run("custom profile in Docker's format", func(t *testing.T) {
		profile := []byte(`{
			"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [
				{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122},
				{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
				{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_CHROOT"]}}
			]}`)
		p := gen(t, Security{SeccompProfile: profile}).Linux.Seccomp
		if p == nil || p.DefaultAction != specs.ActAllow || len(p.Syscalls) != 3 {
			t.Fatalf("profile %+v", p)
		}
		if r := p.Syscalls[0]; r.Names[0] != "mkdir" || r.ErrnoRet == nil || *r.ErrnoRet != 122 {
			t.Errorf("first rule %+v", r)
		}
		// No CAP_SYS_ADMIN, and CAP_SYS_CHROOT is a default capability.
		if p.Syscalls[1].Names[0] != "mount" || p.Syscalls[2].Names[0] != "chroot" {
			t.Errorf("rules %+v, want mkdir, mount, chroot", p.Syscalls)
		}
		p = gen(t, Security{SeccompProfile: profile, CapAdd: []string{"SYS_ADMIN"}, CapDrop: []string{"SYS_CHROOT"}}).Linux.Seccomp
		if len(p.Syscalls) != 1 {
			t.Errorf("rules %+v, want only mkdir's", p.Syscalls)
		}
	})
	t.Run("bad profile", func(t *testing.T) {
		o := base()
		o.Security.SeccompProfile = []byte(`{"defaultAction": `)
		if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "seccomp profile") {
			t.Errorf("error %v", err)
		}
	})
}
