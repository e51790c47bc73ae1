// Package app is the engine behind the `unha` command: it keeps containers
// (a bundle directory and a small record each) under a data root, builds
// their specs with specgen, and drives an OCI runtime binary through
// ociexec only — create, start, kill, delete, state — so that any runtime
// with runc's command line works (`--runtime runc`).
//
// A foreground `run` creates the container, starts it and waits for its init
// itself: unha makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) before
// `create`, so when the runtime's create process exits, the container's init
// is re-parented to unha, which can then wait4() it for the exact exit status
// (the way conmon and containerd's shim do). The same create/start/wait code
// will serve detached containers once a monitor process runs it. Before
// `delete`, run reads the OOM-kill counter of the container's memory cgroup
// (found from /proc/PID/cgroup of init after create) and reports kills as
// an *OOMError beside the exit status. Signals
// unha receives are relayed with the runtime's `kill`; with -t unha receives
// the pty master over --console-socket and proxies it.
package app
