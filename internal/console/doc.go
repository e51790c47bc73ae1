// Package console allocates the pseudo-terminal of a container whose
// process.terminal is true, hands the master side to whoever asked for it
// (the --console-socket of runc's command line, or the runtime's own
// internal socket) with SCM_RIGHTS, and proxies a master to the caller's
// terminal when the runtime itself runs the container in the foreground.
//
// The pty is allocated inside the container, from the container's own devpts
// instance, so that the slave's /dev/pts/N exists in the container's mount
// namespace; the peer is obtained with TIOCGPTPEER rather than opened by name
// so that a path the container controls is never involved (CVE-2016-9962,
// and the reason TIOCGPTPEER was added to Linux 4.13).
package console
