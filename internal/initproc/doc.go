// Package initproc is the child side of container creation and exec: the
// code that runs as `unha-runtime init` inside the new namespaces, builds
// the container from the config the runtime sends over the sync socket, in
// runc's order (rootfs mounts -> hooks -> pivot_root -> console -> hostname
// -> sysctls -> read-only and masked paths -> rlimits and friends ->
// capabilities, user and seccomp -> ready -> exec fifo -> execve), and turns
// every failure into an error message for the caller.
//
// It runs on the main thread, locked there before main: every per-thread
// kernel attribute it sets (capabilities, no_new_privs, the cgroup and time
// namespaces) belongs to the thread that finally calls execve.
package initproc
