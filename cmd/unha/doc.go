// Command unha is a Docker-like command line for containers run by an OCI
// runtime (unha-runtime by default, runc or crun with --runtime). This
// package only maps flags to internal/app options and errors to exit codes:
// 125 when unha fails, 126 when the container's command cannot be invoked,
// 127 when it is not found, else the container's own status (128+N when
// signal N killed it), as `docker run` does.
package main
