// Package seccomp turns the OCI seccomp profile (specs.LinuxSeccomp) into a
// kernel filter. Plan validates and normalises the profile into a Filter, a
// plain value that is table-tested without root or cgo and that the runtime
// can log or send to init. Filter.Compile builds BPF with this package's own
// compiler (bpf_linux.go, db_linux.go), which needs no cgo, from syscall
// tables generated from libseccomp (ztables.go, internal/gentables): its
// programs do what the profile means (semantics_test.go), which for real
// profiles is what libseccomp 2.5.4's do (diff_cgo_test.go compares them);
// where rules with different actions match one call, the most restrictive
// action wins, the kernel's order among filters. It also settles the seccomp(2) flags against
// this kernel; Program.Load installs the result with seccomp(2) itself on
// every thread (TSYNC), so that every flag the kernel knows is honoured
// (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV included, which libseccomp 2.5
// cannot set) and the SCMP_ACT_NOTIFY fd comes straight back.
// SendNotifyFd hands that fd to the seccomp agent at listenerPath as the
// runtime-spec prescribes, and Features reports what the compiler and this
// kernel support. Where the spec is silent the semantics are runc's:
// SCMP_ACT_KILL means SCMP_ACT_KILL_THREAD, rules for syscalls libseccomp's
// tables do not know are skipped, rules whose action equals the default are
// dropped, several conditions on one argument make each condition a rule of
// its own, no flags at all means SPEC_ALLOW, and syscalls numbered above all
// those the profile names get ENOSYS rather than the default (enosys_linux.go).
package seccomp
