// Command driver runs the OCI runtime-tools validation suite against one
// runtime binary and judges the outcome against a committed list of expected
// failures.
//
// The suite (github.com/opencontainers/runtime-tools/validation/*) is a set of
// executables that each print one or more TAP streams. `prove` and similar
// harnesses misread several streams from one executable, so the driver counts
// `ok` / `not ok` lines itself. It also cleans up after the suite, which is not
// careful about the host: every executable runs with a time limit, containers
// left behind are force-deleted through the runtime, mounts left under the
// bundle directory are detached (linux_ns_itype runs a container without a
// mount namespace, so the runtime mounts /proc, /sys and /dev into the
// caller's namespace), and the fixed-name cgroups the cgroup tests create at
// hierarchy roots ("cgrouptest", "testdir") are removed after the run when
// they did not exist before it. The driver refuses to run in the host's mount
// namespace; tools/runtime-tools/run.sh starts it under
// `unshare --mount --propagation private`.
package main
