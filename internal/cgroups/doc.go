// Package cgroups places a container's processes in control groups and applies
// its resource limits. It handles the three layouts a host can have: pure
// cgroup v2 (a cgroup2 mount at the root), v1 (one mount per controller or
// comounted group, plus named hierarchies such as name=systemd) and hybrid (v1
// plus a cgroup2 mount at <root>/unified, used for placement, cgroup.kill,
// clone3 CLONE_INTO_CGROUP and any controller the v1 side lacks, such as
// hugetlb on some hosts). Everything takes the hierarchy root,
// /proc/self/cgroup and /proc/self/mountinfo as parameters (Options), so the
// path computation and the files Set writes are tested against a fake tree in
// a temporary directory; only the *_linux.go files talk to the kernel.
//
// A new process enters its v1 cgroups itself (OpenTasks), before it has a
// second thread: writing a pid to cgroup.procs makes the kernel wait for an
// RCU grace period each time, a thread moving itself does not.
//
// Set turns specs.LinuxResources into a plan (a list of file writes and, on v2,
// one BPF device program) the way runc maps each field, converting v1 values
// for v2 as runc and crun do; a field the host cannot honour is an error naming
// it. The package never writes to a cgroup it did not create, with one
// exception: on v2 a controller a limit needs is enabled in the ancestors'
// cgroup.subtree_control, because the kernel offers no other way (runc does the
// same). On pure v2 a relative cgroupsPath nests under the parent of the
// caller's cgroup, as runc's fs2 driver does: the caller's own cgroup holds
// processes, and the "no internal processes" rule would forbid enabling any
// controller in it.
package cgroups
