package cgroups

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Manager owns one container's cgroup in every mounted hierarchy.
type Manager interface {
	// Create makes the cgroup directories (see the package doc for which
	// parent files it writes) and remembers which ones it made.
	Create() error
	// OpenFD opens the cgroup2 directory (v2, or hybrid's unified one) for
	// clone3(CLONE_INTO_CGROUP); (nil, nil) when there is none.
	OpenFD() (*os.File, error)
	// AddProc moves pid into the cgroup in every hierarchy.
	AddProc(pid int) error
	// CreateV2 is Create for the cgroup2 directory alone (if any), which
	// clone3's CLONE_INTO_CGROUP needs before the fork; a later Create
	// makes the rest.
	CreateV2() error
	// OpenTasks opens the "tasks" file of the cgroup in every v1
	// hierarchy, for writing. A process that writes "0" there moves its
	// calling thread; while it has one thread, that is the whole process,
	// and without the global cgroup_threadgroup_rwsem (see procs_linux.go).
	OpenTasks() ([]*os.File, error)
	// Set applies r; nil r does nothing.
	Set(r *specs.LinuxResources) error
	Freeze() error
	Thaw() error
	Paused() (bool, error)
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Signal sends sig to every process in the cgroup.
	Signal(sig unix.Signal) error
	// Destroy removes the directories Create made, bottom-up; it kills
	// nothing.
	Destroy() error
	// RemoveIfEmpty is Destroy for a cgroup with no process and no child
	// cgroup left, without waiting; false when that is not so (what was
	// empty is gone, Destroy does the rest).
	RemoveIfEmpty() bool
	// Paths maps controller name ("" for cgroup2) to directory.
	Paths() map[string]string
	// Created lists the directories Create made, parents first; pass it as
	// Options.Created to Load so a later Destroy removes them all.
	Created() []string
	// Version is 2 on a pure cgroup2 host, else 1.
	Version() int
	Stats() (*Stats, error)
	OOMEvents(ctx context.Context) (<-chan struct{}, error)
}

// cgDir is the container's directory in one hierarchy.
type cgDir struct {
	h    hierarchy
	path string
}

type manager struct {
	opts    Options
	v2      bool
	dirs    []cgDir
	created []string
	// own marks the leaf directories Destroy may remove when Create was not
	// run in this process and Options.Created was not given.
	leafOwned bool
}

// New computes, without creating anything, the container's cgroup for
// cgroupsPath (the spec's linux.cgroupsPath) and container id.
func New(cgroupsPath, id string, opts Options) (Manager, error) {
	opts = opts.withDefaults()
	if opts.Systemd {
		if _, err := os.Stat(opts.systemdRunDir); err != nil {
			return nil, ErrSystemdNotRunning
		}
		return nil, fmt.Errorf("systemd cgroup driver is not supported, run without --systemd-cgroup")
	}
	if isSystemdForm(cgroupsPath) {
		return nil, fmt.Errorf("cgroupsPath %q is in the systemd \"slice:prefix:name\" form, which needs --systemd-cgroup", cgroupsPath)
	}
	l, err := readLayout(opts)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(opts.SelfCgroup)
	if err != nil {
		return nil, fmt.Errorf("read caller's cgroup: %w", err)
	}
	defer f.Close()
	self, err := parseSelfCgroup(f)
	if err != nil {
		return nil, err
	}
	dirs, err := computeDirs(l, self, cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	return &manager{opts: opts, v2: l.v2, dirs: dirs}, nil
}

// Load rebuilds the Manager of an existing container from the Paths() saved
// in its state.
func Load(paths map[string]string, opts Options) (Manager, error) {
	opts = opts.withDefaults()
	l, err := readLayout(opts)
	if err != nil {
		return nil, err
	}
	m := &manager{opts: opts, v2: l.v2}
	for _, h := range l.hier {
		p, ok := paths[h.key()]
		if !ok {
			continue
		}
		p = filepath.Clean(p)
		if !strings.HasPrefix(p, h.mountpoint+"/") {
			return nil, fmt.Errorf("cgroup path %q for %q is not below its hierarchy %s", p, h.key(), h.mountpoint)
		}
		m.dirs = append(m.dirs, cgDir{h: h, path: p})
	}
	if len(m.dirs) == 0 {
		return nil, fmt.Errorf("no saved cgroup path matches a mounted hierarchy under %s", opts.Root)
	}
	if opts.Created != nil {
		for _, c := range opts.Created {
			c = filepath.Clean(c)
			if m.hierOf(c) == nil {
				return nil, fmt.Errorf("created cgroup %q is not inside a known hierarchy", c)
			}
			m.created = append(m.created, c)
		}
	} else {
		m.leafOwned = true
	}
	return m, nil
}

func readLayout(opts Options) (*layout, error) {
	f, err := os.Open(opts.MountInfo)
	if err != nil {
		return nil, fmt.Errorf("detect cgroup layout: %w", err)
	}
	defer f.Close()
	return parseLayout(f, opts.Root)
}

// hierOf returns the cgDir whose hierarchy contains dir (a descendant of the
// mountpoint, never the mountpoint itself).
func (m *manager) hierOf(dir string) *cgDir {
	for i := range m.dirs {
		if strings.HasPrefix(dir, m.dirs[i].h.mountpoint+"/") {
			return &m.dirs[i]
		}
	}
	return nil
}

func (m *manager) log() *slog.Logger {
	if m.opts.Logger != nil {
		return m.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (m *manager) Version() int {
	if m.v2 {
		return 2
	}
	return 1
}

func (m *manager) Paths() map[string]string {
	out := map[string]string{}
	for _, d := range m.dirs {
		if d.h.v2 {
			out[""] = d.path
			continue
		}
		for _, c := range d.h.controllers {
			out[c] = d.path
		}
	}
	return out
}

func (m *manager) Created() []string { return append([]string(nil), m.created...) }

// dir returns the directory of v1 controller ctrl, or of the cgroup2
// hierarchy for "".
func (m *manager) dir(ctrl string) (string, bool) {
	for _, d := range m.dirs {
		if ctrl == "" && d.h.v2 {
			return d.path, true
		}
		for _, c := range d.h.controllers {
			if c == ctrl {
				return d.path, true
			}
		}
	}
	return "", false
}
