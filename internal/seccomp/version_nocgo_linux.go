//go:build !cgo

package seccomp

// LibraryVersion names the libseccomp that compiles filters: none in a
// build without cgo.
func LibraryVersion() string { return "no libseccomp" }
