// Package caps turns the capability sets of an OCI process
// (process.capabilities) into bit masks and applies them to the calling
// thread.
//
// Capabilities are per thread in Linux: DropBounding, SetKeepCaps and Apply
// act on the calling OS thread only, so the caller must hold
// runtime.LockOSThread from before DropBounding until execve. The order that
// works, and the one runc uses, is: DropBounding while still privileged ->
// SetKeepCaps(true) -> setgroups/setgid/setuid -> Apply -> SetKeepCaps(false)
// -> execve. The sets that matter are those after execve
// (capabilities(7), "Transformation of capabilities during execve()"):
// a root process gets bounding | inheritable, a non-root one its ambient set.
package caps
