// Package seccomp turns the OCI seccomp profile (specs.LinuxSeccomp) into a
// kernel filter. Plan validates and normalises the profile into a Filter, a
// plain value that is table-tested without root or cgo and that the runtime
// can log or send to init. Filter.Compile builds BPF with libseccomp (cgo)
// and settles the seccomp(2) flags against this kernel; Program.Load, which
// needs neither cgo nor libseccomp, installs the result with seccomp(2)
// itself on every thread (TSYNC), so that every flag the kernel knows is
// honoured (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV included, which
// libseccomp 2.5 cannot set) and the SCMP_ACT_NOTIFY fd comes straight back.
// SendNotifyFd hands that fd to the seccomp agent at listenerPath as the
// runtime-spec prescribes, and Features reports what this libseccomp and
// kernel support. Where the spec is silent the semantics are runc's:
// SCMP_ACT_KILL means SCMP_ACT_KILL_THREAD, rules for syscalls libseccomp
// does not know are skipped, rules whose action equals the default are
// dropped, several conditions on one argument make each condition a rule of
// its own, no flags at all means SPEC_ALLOW, and syscalls numbered above all
// those the profile names get ENOSYS rather than the default (enosys_linux.go).
package seccomp
