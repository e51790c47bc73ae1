// Package ociexec drives any OCI runtime binary (unha-runtime, runc, crun)
// through its command line, the way containerd's shim and podman's conmon do:
// global flags (--root, --log, --log-format) before the verb, one process per
// call, the runtime's own error message recovered from its JSON log (or its
// stderr) and mapped onto the sentinels callers match on (ErrNotExist for
// runc's "container does not exist", ErrNotRunning for "container not
// running"). Keeping the high level on this narrow contract is what lets
// `unha --runtime runc` work unchanged.
package ociexec
