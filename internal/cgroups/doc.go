// Package cgroups places a container's processes in control groups and applies
// its resource limits. It handles the three layouts a host can have: pure
// cgroup v2 (a cgroup2 mount at the root), v1 (one mount per controller or
// comounted group, plus named hierarchies such as name=systemd) and hybrid (v1
// plus a cgroup2 mount at <root>/unified). Everything takes the hierarchy root,
// /proc/self/cgroup and /proc/self/mountinfo as parameters (Options) so that the
// path computation and the files written by Set can be tested against a fake
// tree in a temporary directory; only the *_linux.go files talk to the kernel.
// The package never writes to a cgroup it did not create, except for enabling a
// controller in an ancestor's cgroup.subtree_control on v2 when a limit needs it
// (the kernel offers no other way, and runc does the same).
package cgroups
