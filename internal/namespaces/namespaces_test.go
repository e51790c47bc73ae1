package namespaces

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestPlan(t *testing.T) {
	ns := func(t specs.LinuxNamespaceType, p string) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: t, Path: p}
	}
	tests := []struct {
		name    string
		in      []specs.LinuxNamespace
		clone   uintptr
		unshare uintptr
		joins   []specs.LinuxNamespaceType
		forks   bool
		cgroup  bool
		time    bool
	}{
		{name: "all new", in: []specs.LinuxNamespace{ns("pid", ""), ns("mount", ""), ns("network", ""), ns("cgroup", ""), ns("time", "")},
			clone: unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET, cgroup: true, time: true},
		{name: "join net, new pid", in: []specs.LinuxNamespace{ns("pid", ""), ns("network", "/proc/1/ns/net")},
			unshare: unix.CLONE_NEWPID, joins: []specs.LinuxNamespaceType{"network"}, forks: true},
		{name: "user joined first", in: []specs.LinuxNamespace{ns("mount", "/m"), ns("network", "/n"), ns("user", "/u")},
			joins: []specs.LinuxNamespaceType{"user", "network", "mount"}},
		{name: "join pid forks", in: []specs.LinuxNamespace{ns("pid", "/p")},
			joins: []specs.LinuxNamespaceType{"pid"}, forks: true},
		{name: "none", in: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Clone != tc.clone || p.Unshare != tc.unshare {
				t.Errorf("clone %#x unshare %#x, want %#x %#x", p.Clone, p.Unshare, tc.clone, tc.unshare)
			}
			var got []specs.LinuxNamespaceType
			for _, j := range p.Joins {
				got = append(got, j.Type)
			}
			if len(got) != len(tc.joins) {
				t.Fatalf("joins %v, want %v", got, tc.joins)
			}
			for i := range got {
				if got[i] != tc.joins[i] {
					t.Errorf("joins %v, want %v", got, tc.joins)
				}
			}
			if p.Forks() != tc.forks || p.NewCgroup != tc.cgroup || p.NewTime != tc.time {
				t.Errorf("forks %v cgroup %v time %v", p.Forks(), p.NewCgroup, p.NewTime)
			}
		})
	}
	if _, err := New([]specs.LinuxNamespace{ns("bogus", "")}); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := New([]specs.LinuxNamespace{ns("pid", ""), ns("pid", "")}); err == nil {
		t.Error("duplicate accepted")
	}
}
