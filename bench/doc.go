// Command bench times OCI runtimes against each other on one busybox bundle:
// `RUNTIME run --bundle B ID` of /bin/true, and the same lifecycle split into
// create, start and delete. Runtimes are interleaved within every iteration
// (with a rotating order) so that machine noise, which is large on a shared
// VM, lands on all of them alike. Besides time it reports peak RSS: the
// ru_maxrss that wait4(2) returns for each runtime process, which on Linux is
// the largest resident set of that process and of the children it reaped
// (for `run`, the runtime's init re-exec and the container process). The
// bench starts each runtime through a launcher (spawn_linux.go) so that
// the figure is the runtime's own and not the bench's: execve carries the
// old address space's peak into ru_maxrss. The launcher's floor is ~1.7
// MiB (/bin/true through it), below any runtime's. Each bench ends with
// the share of the machine's CPU time the hypervisor took meanwhile (steal
// in /proc/stat): on this shared VM the ratios move with it (0.40x to 0.45x
// for run at under 20%, 0.49x to 0.55x at a quarter to a half).
//
// Two other benches share the machinery. -limits (limits.go) times `run`
// with linux.resources memory and pids limits against the same bundle
// without them, after checking that every runtime wrote the limits into the
// container's cgroup. -exec (exec.go) times `exec ID /bin/true` into one
// long-running container per runtime, with the exec command's peak RSS.
//
// Usage (as root):
//
//	go run ./bench -runtime unha-runtime=./bin/unha-runtime -runtime runc=runc -n 50
//	go run ./bench -limits -runtime unha-runtime=./bin/unha-runtime -runtime runc=runc -n 50
//	go run ./bench -exec -runtime unha-runtime=./bin/unha-runtime -runtime runc=runc -n 50
//
// bench/run.sh builds the binaries and passes every runtime that is
// installed; bench/limits.sh and bench/exec.sh pass unha-runtime and runc. A
// runtime that fails its first run (crun refuses this VM's hybrid cgroup
// layout) is reported and left out.
package main
