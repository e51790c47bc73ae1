package rootfs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// applier carries out MountOps below one root.
type applier struct {
	m        mounter
	log      *slog.Logger
	opts     Options
	rootPath string   // the rootfs as the caller named it
	rootReal string   // the rootfs as the kernel names it
	root     *os.File // the top mount at rootPath
	readHost func() (*hostInfo, error)
	host     *hostInfo
	cgroupns bool   // the spec has a cgroup namespace
	label    string // SELinux mount label, when SELinux is enabled
}

func newApplier(m mounter, opts Options) *applier {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &applier{m: m, opts: opts, log: log, readHost: readHostInfo}
}

func (a *applier) setRoot(p string) error {
	f, err := os.OpenFile(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	real, err := procfs.ProcSelfFdReadlink(f)
	if err != nil {
		f.Close()
		return err
	}
	if a.root != nil {
		a.root.Close()
	}
	a.root, a.rootPath, a.rootReal = f, p, real
	return nil
}

func (a *applier) hostInfo() (*hostInfo, error) {
	if a.host == nil {
		h, err := a.readHost()
		if err != nil {
			return nil, err
		}
		a.host = h
	}
	return a.host, nil
}

func (a *applier) apply(op MountOp) error {
	a.log.Debug("mount", "kind", op.Kind, "source", op.Source, "destination", op.Destination,
		"type", op.Type, "attr", op.Attr, "data", op.Data, "propagation", op.Propagation)
	switch op.Kind {
	case KindBind:
		return a.bind(op)
	case KindFS:
		return a.newFS(op)
	case KindRemount:
		return a.remount(op)
	case KindCgroup:
		return a.cgroup(op)
	}
	return fmt.Errorf("unknown mount kind %q", op.Kind)
}

func (a *applier) bind(op MountOp) error {
	if op.IDMap != nil {
		return a.bindIDMapped(op)
	}
	// The source is a host path chosen by the caller, so host symlinks are
	// followed; the handle is what gets cloned, so what was checked is
	// what is mounted.
	src, err := os.OpenFile(op.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	target, err := a.bindTarget(op, src)
	if err != nil {
		return err
	}
	defer target.Close()
	return a.bindOnto(op, src, target)
}

// bindTarget opens (creating it if missing) the destination of a bind of
// src: a directory or a file to match the source, a real directory where
// the destination must be one, and checked against /proc's rules.
func (a *applier) bindTarget(op MountOp, src *os.File) (*os.File, error) {
	dir, err := isDirFile(src)
	if err != nil {
		return nil, err
	}
	var target *os.File
	var cpath string
	if needsRealDir(op) {
		if !dir {
			return nil, fmt.Errorf("%s must be a directory to be mounted on %s", op.Source, op.Destination)
		}
		target, cpath, _, err = a.openRealDir(op.Destination, "a bind mount")
	} else {
		target, cpath, _, err = a.openDest(op.Destination, dir)
	}
	if err != nil {
		return nil, err
	}
	if err := a.checkProc(op, cpath, src); err != nil {
		target.Close()
		return nil, err
	}
	return target, nil
}

// bindOnto clones src, sets the flags on the still-detached clone (so it
// is never visible with the wrong ones), then attaches it.
func (a *applier) bindOnto(op MountOp, src, target *os.File) error {
	tree, err := a.m.OpenTree(src, op.Recursive)
	if err != nil {
		return err
	}
	defer tree.Close()
	if op.Attr.Set|op.Attr.Clr != 0 {
		if err := a.m.SetAttr(tree, false, unix.MountAttr{Attr_set: op.Attr.Set, Attr_clr: op.Attr.Clr}); err != nil {
			return err
		}
	}
	if err := a.setRecAttr(tree, op); err != nil {
		return err
	}
	return a.attach(op, tree, target)
}

func (a *applier) setRecAttr(mnt *os.File, op MountOp) error {
	if op.RecAttr == nil {
		return nil
	}
	return a.m.SetAttr(mnt, true, unix.MountAttr{Attr_set: op.RecAttr.Set, Attr_clr: op.RecAttr.Clr})
}

// attach moves mnt onto target, applies the propagation flags (they only
// mean something once the mount has a parent) and checks that the
// destination path now leads to mnt.
func (a *applier) attach(op MountOp, mnt, target *os.File) error {
	if err := a.m.MoveMount(mnt, target); err != nil {
		return err
	}
	for _, p := range op.Propagation {
		attr := unix.MountAttr{Propagation: p &^ unix.MS_REC}
		if err := a.m.SetAttr(mnt, p&unix.MS_REC != 0, attr); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	return a.verify(op, mnt)
}

// verify re-resolves the destination and requires the new mount on top,
// and a real procfs or sysfs where one was asked for.
func (a *applier) verify(op MountOp, mnt *os.File) error {
	want, err := a.m.MountID(mnt)
	if err != nil {
		return err
	}
	if op.Destination == "/" {
		// A mount on the root covers our handle; start again from the path.
		if err := a.setRoot(a.rootPath); err != nil {
			return err
		}
	}
	f, err := openInRoot(a.root, op.Destination, 0, 0)
	if err != nil {
		return fmt.Errorf("verify %s: %w", op.Destination, err)
	}
	defer f.Close()
	got, err := a.m.MountID(f)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("verify %s: it leads to mount %d, not the new mount %d (the path changed under us)", op.Destination, got, want)
	}
	magic := map[string]int64{"proc": unix.PROC_SUPER_MAGIC, "sysfs": unix.SYSFS_MAGIC}[op.Type]
	if magic != 0 {
		t, err := a.m.FSType(f)
		if err != nil {
			return err
		}
		if t != magic {
			return fmt.Errorf("verify %s: filesystem type %#x, not %s", op.Destination, t, op.Type)
		}
	}
	return nil
}

// checkProc repeats Plan's /proc check on p, the path the destination
// really resolved to, and for a bind onto /proc requires a procfs source.
func (a *applier) checkProc(op MountOp, p string, src *os.File) error {
	var srcIsProc *bool
	if src != nil && p == "/proc" {
		t, err := a.m.FSType(src)
		if err != nil {
			return err
		}
		isProc := t == unix.PROC_SUPER_MAGIC
		srcIsProc = &isProc
	}
	return checkProcPath(p, op, srcIsProc)
}

func (a *applier) newFS(op MountOp) error {
	var (
		target  *os.File
		cpath   string
		created bool
		err     error
	)
	if needsRealDir(op) {
		target, cpath, created, err = a.openRealDir(op.Destination, fmt.Sprintf("filesystem %q", op.Type))
	} else {
		target, cpath, created, err = a.openDest(op.Destination, true)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if err := a.checkProc(op, cpath, nil); err != nil {
		return err
	}
	data := op.Data
	if op.Type == "tmpfs" && !created {
		// runc: a tmpfs over an existing directory keeps its mode (an
		// image's /tmp stays 1777) unless the options say otherwise.
		var st unix.Stat_t
		if err := unix.Fstat(int(target.Fd()), &st); err != nil {
			return &os.PathError{Op: "fstat", Path: op.Destination, Err: err}
		}
		data = append([]string{fmt.Sprintf("mode=%04o", st.Mode&0o7777)}, data...)
	}
	mnt, err := a.createFS(op, data)
	if err != nil {
		if op.Type == "sysfs" && a.opts.InUserNS && errors.Is(err, unix.EPERM) {
			return a.bindSysfs(op, target, err)
		}
		return err
	}
	defer mnt.Close()
	if op.CopyUp {
		if err := copyUp(target, mnt); err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
	}
	return a.attach(op, mnt, target)
}

// bindSysfs binds the host's /sys where a user namespace may not mount a
// new sysfs: the kernel allows that only to the owner of the network
// namespace (sysfs shows its devices), so a container that shares the
// host's, or joins one it does not own, gets a recursive bind of /sys, as
// runc does. The spec's flags go on every mount of the tree, so that
// "ro" covers /sys/fs/cgroup and the rest too.
func (a *applier) bindSysfs(op MountOp, target *os.File, mountErr error) error {
	a.log.Debug("sysfs mount refused in the user namespace, binding /sys", "error", mountErr)
	src, err := os.OpenFile("/sys", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	b := op
	b.Kind, b.Source, b.Recursive, b.Data, b.SbFlags = KindBind, "/sys", true, nil, nil
	b.RecAttr = &Attr{Set: op.Attr.Set &^ unix.MOUNT_ATTR__ATIME}
	if op.RecAttr != nil {
		b.RecAttr.Set |= op.RecAttr.Set
		b.RecAttr.Clr |= op.RecAttr.Clr
	}
	b.Attr = Attr{}
	return a.bindOnto(b, src, target)
}

// needsRealDir: procfs and sysfs, and whatever is mounted on /proc or
// /sys, go on a real directory reached without symlinks.
func needsRealDir(op MountOp) bool {
	return op.Type == "proc" || op.Type == "sysfs" || op.Destination == "/proc" || op.Destination == "/sys"
}

// labelled are the filesystems runc gives the SELinux mount label.
func labelled(fstype string) bool {
	switch fstype {
	case "proc", "sysfs", "mqueue", "cgroup", "cgroup2":
		return false
	}
	return true
}

// createFS makes a new, still detached, filesystem mount.
func (a *applier) createFS(op MountOp, data []string) (*os.File, error) {
	if a.label != "" && labelled(op.Type) {
		// fsconfig takes the value whole: no quoting as in mount(2) data.
		data = append(data, "context="+a.label)
	}
	fs, err := a.m.FSOpen(op.Type)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	if op.Source != "" {
		if err := a.m.FSConfig(fs, unix.FSCONFIG_SET_STRING, "source", op.Source); err != nil {
			return nil, err
		}
	}
	if err := a.configure(fs, op.SbFlags, data); err != nil {
		return nil, err
	}
	if err := a.m.FSConfig(fs, unix.FSCONFIG_CMD_CREATE, "", ""); err != nil {
		return nil, err
	}
	mnt, err := a.m.FSMount(fs, op.Attr.Set)
	if err != nil {
		return nil, err
	}
	if err := a.setRecAttr(mnt, op); err != nil {
		mnt.Close()
		return nil, err
	}
	return mnt, nil
}

func (a *applier) configure(fs *os.File, sb, data []string) error {
	for _, f := range sb {
		if err := a.m.FSConfig(fs, unix.FSCONFIG_SET_FLAG, f, ""); err != nil {
			return err
		}
	}
	for _, d := range data {
		var err error
		if k, v, ok := strings.Cut(d, "="); ok {
			if strings.HasSuffix(k, "context") && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				// mount(2) data quotes SELinux contexts because they may
				// hold commas; fsconfig gets the bare value.
				v = v[1 : len(v)-1]
			}
			err = a.m.FSConfig(fs, unix.FSCONFIG_SET_STRING, k, v)
		} else {
			err = a.m.FSConfig(fs, unix.FSCONFIG_SET_FLAG, d, "")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// remount changes the mount already at the destination, like mount(8)'s
// "-o remount": the superblock through fspick (unless a bind remount),
// then the per-mount flags and propagation.
func (a *applier) remount(op MountOp) error {
	target, err := openInRoot(a.root, op.Destination, 0, 0)
	if err != nil {
		return err
	}
	defer target.Close()
	if !op.Bind {
		fs, err := a.m.FSPick(target)
		if err != nil {
			return err
		}
		defer fs.Close()
		if err := a.configure(fs, op.SbFlags, op.Data); err != nil {
			return err
		}
		if err := a.m.FSConfig(fs, unix.FSCONFIG_CMD_RECONFIGURE, "", ""); err != nil {
			return err
		}
	}
	if op.Attr.Set|op.Attr.Clr != 0 {
		if err := a.m.SetAttr(target, false, unix.MountAttr{Attr_set: op.Attr.Set, Attr_clr: op.Attr.Clr}); err != nil {
			return err
		}
	}
	if err := a.setRecAttr(target, op); err != nil {
		return err
	}
	for _, p := range op.Propagation {
		if err := a.m.SetAttr(target, p&unix.MS_REC != 0, unix.MountAttr{Propagation: p &^ unix.MS_REC}); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	return nil
}

func (a *applier) cgroup(op MountOp) error {
	host, err := a.hostInfo()
	if err != nil {
		return err
	}
	if host.cgroups.Unified {
		m, fallback := planCgroupV2(op, host.cgroups, a.opts.CgroupPaths, a.cgroupns)
		err := a.newFS(m)
		if err == nil || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
			return err
		}
		// A user namespace without its own cgroup namespace may not mount
		// cgroup2 (runc#2158): bind it instead.
		a.log.Debug("cgroup2 mount refused, binding instead", "error", err, "source", fallback.Source)
		return a.bind(fallback)
	}
	pl, err := planCgroupV1(op, host.cgroups, a.opts.CgroupPaths, a.cgroupns)
	if err != nil {
		return err
	}
	target, _, _, err := a.openDest(op.Destination, true)
	if err != nil {
		return err
	}
	defer target.Close()
	mnt, err := a.createFS(pl.Tmpfs, pl.Tmpfs.Data)
	if err != nil {
		return err
	}
	defer mnt.Close()
	// Populate the tmpfs while it is still detached and private to us.
	for _, sub := range pl.Subs {
		if err := unix.Mkdirat(int(mnt.Fd()), path.Base(sub.Destination), 0o755); err != nil {
			return &os.PathError{Op: "mkdirat", Path: sub.Destination, Err: err}
		}
	}
	for _, l := range pl.Links {
		if err := unix.Symlinkat(l.target, int(mnt.Fd()), l.name); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "symlinkat", Path: path.Join(op.Destination, l.name), Err: err}
		}
	}
	if err := a.attach(pl.Tmpfs, mnt, target); err != nil {
		return err
	}
	for _, sub := range pl.Subs {
		if err := a.cgroupSub(sub, mnt); err != nil {
			return fmt.Errorf("cgroup %s: %w", sub.Destination, err)
		}
	}
	if pl.ReadOnly {
		return a.m.SetAttr(mnt, false, unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	}
	return nil
}

func (a *applier) cgroupSub(sub MountOp, tmpfs *os.File) error {
	dir, err := openNoFollow(tmpfs, path.Base(sub.Destination), unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer dir.Close()
	if sub.Kind == KindFS {
		mnt, err := a.createFS(sub, sub.Data)
		if err != nil {
			return err
		}
		defer mnt.Close()
		return a.attach(sub, mnt, dir)
	}
	src, err := os.OpenFile(sub.Source, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	return a.bindOnto(sub, src, dir)
}
