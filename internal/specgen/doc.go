// Package specgen builds the specs.Spec of a `unha run` the way Docker does
// for `docker run`: Docker's default capabilities, mounts, device rules and
// masked paths, the process (args, env, cwd, user, terminal), the hostname
// and namespaces chosen by the flags, and the built-in `host` image, whose
// root is an empty directory filled with read-only binds of the host's /usr
// (and friends) plus a generated /etc. Everything here is pure: the few
// facts it needs from the host (which of /bin, /lib… exist, as what) come in
// through function arguments, so every flag's effect on the spec is
// table-tested without root.
package specgen
