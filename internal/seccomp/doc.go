// Package seccomp turns the OCI seccomp profile (specs.LinuxSeccomp) into a
// kernel filter. Plan validates and normalises the profile into a Filter, a
// plain value that is table-tested without root or cgo and that the runtime
// can send to init; Filter.Load compiles it with libseccomp (cgo) into BPF and
// installs it with seccomp(2) itself, so that every flag the kernel knows
// (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV included, which libseccomp 2.5 cannot
// set) is honoured and the notify fd of SCMP_ACT_NOTIFY comes straight back.
// SendNotifyFd hands that fd to the seccomp agent at listenerPath as the
// runtime-spec describes, and Features reports what this libseccomp and kernel
// support. Semantics follow runc where the spec is silent: SCMP_ACT_KILL means
// SCMP_ACT_KILL_THREAD, rules for syscalls libseccomp does not know are
// skipped, rules whose action equals the default are dropped, and several
// conditions on one argument turn each condition into its own rule.
package seccomp
