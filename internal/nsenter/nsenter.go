// Package nsenter holds the runtime's only C: a constructor that runs before
// the Go runtime starts its threads, when the runtime re-executes itself as a
// container's init or exec helper and must join existing namespaces; and the
// exec spawner (spawn.c, Spawn), which starts a process in a running
// container straight from the runtime, without the helper.
//
// Go cannot do this itself: setns(2) into a user namespace fails with EINVAL
// in a multi-threaded process, and setns into a mount namespace needs a
// thread that does not share its fs_struct, which every Go thread does.
// Before main, the process has exactly one thread, so the constructor can
// join a user namespace, then the others, create the namespaces that must be
// owned by that user namespace, and fork once so that a joined or new pid
// namespace applies (setns and unshare of CLONE_NEWPID only affect children).
//
// The constructor joins nothing unless _UNHA_NSENTER is set, so the common
// path (every namespace new, created by clone(2) from Go) pays only for one
// wait (_UNHA_PLACE) while the runtime finishes the container's cgroups,
// and for entering the cgroup v1 ones itself: one write of "0" to each
// "tasks" file the runtime sends, the one way in that costs no RCU grace
// period. The protocol is described in nsenter.c; the Go side that speaks
// it lives in internal/runtime.
package nsenter

// #cgo CFLAGS: -Wall -Werror -std=gnu11
// #include <sys/resource.h>
// extern void unha_nsenter(void);
// extern struct rlimit unha_start_nofile;
// extern int unha_start_nofile_ok;
// void __attribute__((constructor)) unha_nsenter_init(void) { unha_nsenter(); }
import "C"

// StartNofile returns the RLIMIT_NOFILE the process had when it was
// executed, before the Go runtime raised its soft limit to the hard one
// (the syscall package does at init; syscall.Exec puts it back for the
// program it executes, and so must anyone who calls execve(2) directly).
func StartNofile() (soft, hard uint64, ok bool) {
	return uint64(C.unha_start_nofile.rlim_cur), uint64(C.unha_start_nofile.rlim_max), C.unha_start_nofile_ok != 0
}

// Env names the constructor reads. Keep in sync with nsenter.c.
const (
	// EnvJoin lists "fd:flag,fd:flag" pairs: namespace fds to setns, in
	// order, with their CLONE_NEW* flag.
	EnvJoin = "_UNHA_NSENTER"
	// EnvUnshare is a decimal CLONE_NEW* mask to unshare after joining.
	EnvUnshare = "_UNHA_NSUNSHARE"
	// EnvSync is the fd of the SOCK_SEQPACKET sync socket to the runtime.
	EnvSync = "_UNHA_SYNCFD"
	// EnvPlace makes the constructor wait for one packet before anything
	// else, while the runtime finishes (or places it in) the container's
	// cgroups; it writes "0" to the cgroup "tasks" files the packet
	// carries.
	EnvPlace = "_UNHA_PLACE"
)
