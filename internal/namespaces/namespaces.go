// Package namespaces turns the spec's linux.namespaces into a plan: which
// namespaces clone(2) creates, which are joined by path before Go starts (by
// the nsenter constructor), which init creates itself late (cgroup, once it
// sits in its cgroup; time, whose offsets must be written before its first
// process enters at execve), and the id maps. Pure: table-tested without root.
package namespaces

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Flags maps each namespace type to its CLONE_NEW* flag.
var Flags = map[specs.LinuxNamespaceType]uintptr{
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// ProcName is the name of a namespace under /proc/PID/ns.
var ProcName = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.MountNamespace: "mnt", specs.NetworkNamespace: "net",
	specs.UTSNamespace: "uts", specs.IPCNamespace: "ipc", specs.PIDNamespace: "pid",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// joinOrder is the order the constructor joins in. The user namespace comes
// first: after it, the process holds every capability over the namespaces
// that user namespace owns, which is what the later setns calls need.
var joinOrder = []specs.LinuxNamespaceType{
	specs.UserNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace,
	specs.PIDNamespace, specs.CgroupNamespace, specs.TimeNamespace, specs.MountNamespace,
}

// Join is a namespace to enter by path.
type Join struct {
	Type specs.LinuxNamespaceType
	Path string
	Flag uintptr
}

// Plan says who makes each namespace.
type Plan struct {
	// Clone is what clone(2) creates (the fast path: nothing is joined, no
	// C runs). Unshare is what the constructor creates after its joins,
	// so that the new namespaces are owned by a joined user namespace.
	// Only one of the two is non-zero.
	Clone   uintptr
	Unshare uintptr
	Joins   []Join
	// NewCgroup and NewTime are unshared by init itself.
	NewCgroup bool
	NewTime   bool
	// NewUser: the container has a user namespace of its own, whose maps
	// the runtime writes.
	NewUser bool
	// NewMount is false for a container that shares the caller's mount
	// namespace (runtime-tools tests this).
	NewMount bool
}

// UsesConstructor reports whether the nsenter constructor has work to do:
// namespaces to join, or to create after the joins (or instead of clone,
// when the user namespace's maps are written by newuidmap).
func (p *Plan) UsesConstructor() bool { return len(p.Joins) > 0 || p.Unshare != 0 }

// Forks reports whether the constructor forks (a joined or new pid
// namespace, or a joined time namespace, applies to children only).
func (p *Plan) Forks() bool {
	if !p.UsesConstructor() {
		return false
	}
	if p.Unshare&unix.CLONE_NEWPID != 0 {
		return true
	}
	for _, j := range p.Joins {
		if j.Flag == unix.CLONE_NEWPID || j.Flag == unix.CLONE_NEWTIME {
			return true
		}
	}
	return false
}

// Has reports whether a namespace of type t is new or joined.
func (p *Plan) Has(t specs.LinuxNamespaceType) bool {
	f := Flags[t]
	if p.Clone&f != 0 || p.Unshare&f != 0 {
		return true
	}
	for _, j := range p.Joins {
		if j.Type == t {
			return true
		}
	}
	return (t == specs.CgroupNamespace && p.NewCgroup) || (t == specs.TimeNamespace && p.NewTime)
}

// New plans the spec's namespaces.
func New(nss []specs.LinuxNamespace) (*Plan, error) {
	p := &Plan{}
	var fresh uintptr
	byType := map[specs.LinuxNamespaceType]specs.LinuxNamespace{}
	for _, ns := range nss {
		f, ok := Flags[ns.Type]
		if !ok {
			return nil, fmt.Errorf("unknown namespace type %q", ns.Type)
		}
		if _, dup := byType[ns.Type]; dup {
			return nil, fmt.Errorf("namespace %q listed twice", ns.Type)
		}
		byType[ns.Type] = ns
		if ns.Path != "" {
			continue
		}
		switch ns.Type {
		case specs.CgroupNamespace:
			p.NewCgroup = true
		case specs.TimeNamespace:
			p.NewTime = true
		default:
			fresh |= f
		}
	}
	for _, t := range joinOrder {
		if ns, ok := byType[t]; ok && ns.Path != "" {
			p.Joins = append(p.Joins, Join{Type: t, Path: ns.Path, Flag: Flags[t]})
		}
	}
	p.NewUser = fresh&unix.CLONE_NEWUSER != 0
	_, p.NewMount = byType[specs.MountNamespace]
	if len(p.Joins) == 0 {
		p.Clone = fresh
	} else {
		p.Unshare = fresh
	}
	return p, nil
}
