package cgroups

import (
	"errors"
	"log/slog"
	"path/filepath"
)

// Defaults for Options fields left empty.
const (
	DefaultRoot       = "/sys/fs/cgroup"
	DefaultSelfCgroup = "/proc/self/cgroup"
	DefaultMountInfo  = "/proc/self/mountinfo"
	// systemdRunDir exists when systemd is PID 1 (sd_booted(3)).
	systemdRunDir = "/run/systemd/system"
)

// ErrSystemdNotRunning is returned by New when the systemd driver is asked for
// on a host where systemd is not PID 1.
var ErrSystemdNotRunning = errors.New("systemd cgroup driver: systemd is not running")

// Options locates the cgroup hierarchies. Tests point every field at files in
// a temporary directory.
type Options struct {
	// Root is where the hierarchies are mounted.
	Root string
	// SelfCgroup is the caller's /proc/self/cgroup.
	SelfCgroup string
	// MountInfo is the caller's /proc/self/mountinfo, used to tell v1, v2 and
	// hybrid apart and to find each v1 controller's mount.
	MountInfo string
	// Systemd selects the systemd driver (--systemd-cgroup). It is not
	// implemented: New reports whether systemd is running and fails.
	Systemd bool
	// Created, for Load only, lists the directories a previous Create made
	// (Manager.Created), so that Destroy also removes intermediate
	// directories it made. When nil, Destroy removes the container's own
	// directories (and their descendants) only, as runc does.
	Created []string
	// Logger receives warnings (ignored deprecated fields); nil discards.
	Logger *slog.Logger

	// systemdRunDir overrides systemdRunDir in tests.
	systemdRunDir string
}

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = DefaultRoot
	}
	o.Root = filepath.Clean(o.Root)
	if o.SelfCgroup == "" {
		o.SelfCgroup = DefaultSelfCgroup
	}
	if o.MountInfo == "" {
		o.MountInfo = DefaultMountInfo
	}
	if o.systemdRunDir == "" {
		o.systemdRunDir = systemdRunDir
	}
	return o
}
