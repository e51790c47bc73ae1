// Package specgen builds the specs.Spec of a `unha run` the way Docker does
// for `docker run`: Docker's default capabilities, mounts, device rules and
// masked paths, the process (args, env, cwd, user, terminal), the hostname
// and namespaces chosen by the flags, the resource limits and host devices
// (Docker's units, bounds and defaults: --memory-swap twice --memory, --cpus
// as a CFS quota over a 100ms period), and the built-in `host` image, whose
// root is an empty directory filled with read-only binds of the host's /usr
// (and friends) plus a generated /etc. Everything here is pure: the few
// facts it needs from the host (which of /bin, /lib… exist, as what; the
// online CPUs; a device's numbers) come in through function arguments, so
// every flag's effect on the spec is table-tested without root.
package specgen
