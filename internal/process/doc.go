// Package process converts the per-process attributes of an OCI config
// (process.rlimits, user, ioPriority, scheduler, execCPUAffinity,
// oomScoreAdj, and linux.personality, linux.sysctl, hostname, domainname)
// into plain values and applies them with the system calls that set them.
//
// Each attribute has a pure Parse function, table-tested without privilege,
// and an apply function that is a thin layer over one system call. Several
// of these attributes belong to a thread, not a process (credentials via
// the kernel, I/O priority, scheduling policy, CPU affinity, personality;
// umask after unshare(CLONE_FS)): execve keeps only the calling thread's, so
// the init process must apply them on the runtime.LockOSThread'ed thread
// that later calls execve. Errors name the config field that could not be
// honoured.
package process
