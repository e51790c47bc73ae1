package cgroups

// Stats is a snapshot of the cgroup's usage, shaped like runc's
// libcontainer/cgroups Stats as `runc events` prints it.
type Stats struct{}
