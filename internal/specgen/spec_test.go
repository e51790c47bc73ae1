package specgen

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func base() Options {
	return Options{Root: "/b/rootfs", Args: []string{"sh"}, Env: []string{DefaultPath}, Hostname: "0123456789ab"}
}

func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return n.Path == ""
		}
	}
	return false
}

func TestGenerateDefaults(t *testing.T) {
	s, err := Generate(base())
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != specs.Version || s.Root.Path != "/b/rootfs" || s.Root.Readonly {
		t.Errorf("root %+v version %s", s.Root, s.Version)
	}
	if s.Hostname != "0123456789ab" {
		t.Errorf("hostname %q", s.Hostname)
	}
	p := s.Process
	if p.Terminal || p.Cwd != "/" || p.User.UID != 0 || p.User.GID != 0 || !reflect.DeepEqual(p.Args, []string{"sh"}) {
		t.Errorf("process %+v", p)
	}
	if p.NoNewPrivileges {
		t.Error("no_new_privs set: Docker leaves it off by default")
	}
	if !reflect.DeepEqual(p.Capabilities.Effective, DefaultCaps) || !reflect.DeepEqual(p.Capabilities.Bounding, DefaultCaps) ||
		!reflect.DeepEqual(p.Capabilities.Permitted, DefaultCaps) || len(p.Capabilities.Inheritable) != 0 || len(p.Capabilities.Ambient) != 0 {
		t.Errorf("caps %+v", p.Capabilities)
	}
	if slices.Contains(DefaultCaps, "CAP_SYS_ADMIN") || len(DefaultCaps) != 14 {
		t.Errorf("default caps %v", DefaultCaps)
	}
	for _, n := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace,
		specs.MountNamespace, specs.CgroupNamespace, specs.NetworkNamespace} {
		if !hasNS(s, n) {
			t.Errorf("no new %s namespace", n)
		}
	}
	if hasNS(s, specs.UserNamespace) {
		t.Error("user namespace requested")
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	if want := []string{"/proc", "/dev", "/dev/pts", "/sys", "/dev/mqueue", "/dev/shm"}; !reflect.DeepEqual(dests, want) {
		t.Errorf("mounts %v, want %v", dests, want)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys" && !slices.Contains(m.Options, "ro") {
			t.Error("/sys is writable")
		}
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Errorf("masked %v readonly %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	d := s.Linux.Resources.Devices
	if d[0].Allow || d[0].Access != "rwm" || d[0].Type != "" {
		t.Errorf("first device rule %+v is not deny-all", d[0])
	}
	allowed := map[[2]int64]bool{}
	for _, r := range d[1:] {
		if r.Allow && r.Type == "c" && r.Major != nil && r.Access == "rwm" {
			minor := int64(-1)
			if r.Minor != nil {
				minor = *r.Minor
			}
			allowed[[2]int64{*r.Major, minor}] = true
		}
	}
	for _, dev := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {136, -1}} {
		if !allowed[dev] {
			t.Errorf("device %d:%d not allowed", dev[0], dev[1])
		}
	}
}

func TestGenerateFlags(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Options)
		check func(*testing.T, *specs.Spec)
	}{
		{"hostname", func(o *Options) { o.Hostname = "x" }, func(t *testing.T, s *specs.Spec) {
			if s.Hostname != "x" || !hasNS(s, specs.UTSNamespace) {
				t.Errorf("hostname %q", s.Hostname)
			}
		}},
		{"env", func(o *Options) { o.Env = []string{"A=B", "C=D"} }, func(t *testing.T, s *specs.Spec) {
			if !reflect.DeepEqual(s.Process.Env, []string{"A=B", "C=D"}) {
				t.Errorf("env %q", s.Process.Env)
			}
		}},
		{"cwd", func(o *Options) { o.Cwd = "/tmp/" }, func(t *testing.T, s *specs.Spec) {
			if s.Process.Cwd != "/tmp" {
				t.Errorf("cwd %q", s.Process.Cwd)
			}
		}},
		{"user", func(o *Options) { o.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5}} },
			func(t *testing.T, s *specs.Spec) {
				u := s.Process.User
				if u.UID != 1000 || u.GID != 1000 || !reflect.DeepEqual(u.AdditionalGids, []uint32{5}) {
					t.Errorf("user %+v", u)
				}
				c := s.Process.Capabilities
				if len(c.Effective) != 0 || len(c.Permitted) != 0 || !reflect.DeepEqual(c.Bounding, DefaultCaps) {
					t.Errorf("non-root user keeps caps %+v", c)
				}
			}},
		{"read-only", func(o *Options) { o.ReadOnly = true }, func(t *testing.T, s *specs.Spec) {
			if !s.Root.Readonly {
				t.Error("root not read-only")
			}
		}},
		{"network none", func(o *Options) { o.Network = NetworkNone }, func(t *testing.T, s *specs.Spec) {
			if !hasNS(s, specs.NetworkNamespace) {
				t.Error("no network namespace")
			}
		}},
		{"network host", func(o *Options) { o.Network = NetworkHost }, func(t *testing.T, s *specs.Spec) {
			for _, n := range s.Linux.Namespaces {
				if n.Type == specs.NetworkNamespace {
					t.Error("network namespace with --network host")
				}
			}
			if !hasNS(s, specs.UTSNamespace) || !hasNS(s, specs.PIDNamespace) {
				t.Error("host network dropped other namespaces")
			}
		}},
		{"tty", func(o *Options) { o.TTY = true; o.ConsoleSize = &specs.Box{Height: 24, Width: 80} },
			func(t *testing.T, s *specs.Spec) {
				if !s.Process.Terminal || s.Process.ConsoleSize == nil || s.Process.ConsoleSize.Width != 80 {
					t.Errorf("terminal %v size %+v", s.Process.Terminal, s.Process.ConsoleSize)
				}
			}},
		{"no tty ignores size", func(o *Options) { o.ConsoleSize = &specs.Box{Height: 24, Width: 80} },
			func(t *testing.T, s *specs.Spec) {
				if s.Process.Terminal || s.Process.ConsoleSize != nil {
					t.Error("console size without terminal")
				}
			}},
		{"image mounts", func(o *Options) {
			o.Mounts = []specs.Mount{{Destination: "/usr", Type: "bind", Source: "/usr", Options: []string{"rbind", "ro"}}}
		}, func(t *testing.T, s *specs.Spec) {
			if last := s.Mounts[len(s.Mounts)-1]; last.Destination != "/usr" || last.Source != "/usr" {
				t.Errorf("last mount %+v", last)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.edit(&o)
			s, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"relative root", func(o *Options) { o.Root = "rootfs" }, "root"},
		{"no command", func(o *Options) { o.Args = nil }, "no command"},
		{"empty command", func(o *Options) { o.Args = []string{""} }, "no command"},
		{"relative cwd", func(o *Options) { o.Cwd = "tmp" }, "absolute path"},
		{"bridge", func(o *Options) { o.Network = "bridge" }, `network "bridge" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.edit(&o)
			_, err := Generate(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Generate must not alias the caller's slices: the app reuses options.
func TestGenerateCopies(t *testing.T) {
	o := base()
	s, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Process.Args[0] = "changed"
	s.Process.Capabilities.Bounding[0] = "changed"
	if o.Args[0] != "sh" || DefaultCaps[0] != "CAP_CHOWN" {
		t.Error("spec aliases its inputs")
	}
}
