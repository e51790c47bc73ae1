// Package runtime is the container lifecycle of unha-runtime: create, start,
// state, kill, delete, exec and the rest, as the OCI runtime-spec defines
// them and runc's command line has made them work. It keeps one directory
// per container under the runtime root (state.json written atomically under
// an flock), spawns the container's init from a sealed copy of the runtime
// binary, and drives it through the typed protocol of package initmsg.
package runtime
