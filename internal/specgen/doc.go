// Package specgen builds the specs.Spec of a `unha run` the way Docker does
// for `docker run`: Docker's default capabilities, mounts, device rules and
// masked paths, the process (args, env, cwd, user, terminal), the hostname
// and namespaces chosen by the flags, the resource limits and host devices
// (Docker's units, bounds and defaults: --memory-swap twice --memory, --cpus
// as a CFS quota over a 100ms period), and the built-in `host` image, whose
// root is an empty directory filled with read-only binds of the host's /usr
// (and friends) plus a generated /etc; and the security flags (--cap-add,
// --cap-drop, --privileged, --security-opt) with Docker's default seccomp
// profile, taken from moby's own profile module so that it stays Docker's.
// Everything here is pure: the few facts it needs from the host (which of
// /bin, /lib… exist, as what; the online CPUs; a device's numbers; the
// capabilities unha may grant) come in through function arguments, so
// every flag's effect on the spec is table-tested without root. The one
// exception is moby's profile converter, which reads the kernel version
// with uname(2) for its version-conditional rules.
package specgen
