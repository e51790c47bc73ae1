package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeMounter records what the apply step asks of the kernel and models
// just enough of a mount table (which mount id sits on which path, with
// which filesystem) for the verification step to run. Directories are
// real (in a temp dir), so path resolution is the real one.
type fakeMounter struct {
	t        *testing.T
	rootfs   string
	calls    []string
	names    map[*os.File]string // labels of the handles we returned
	ids      map[*os.File]uint64
	types    map[*os.File]string
	attached map[string]uint64 // real path -> id of the mount on top
	onType   map[string]string
	scratch  map[*os.File]string // real dirs standing in for new mounts
	alias    map[string]string   // scratch dir -> where its mount was attached
	nextID   uint64
	// misattach records mounts one directory off, as if the destination
	// had been swapped while we mounted.
	misattach bool
	// refuse makes FSOpen of that filesystem type fail with EPERM.
	refuse string
}

func newFake(t *testing.T, rootfs string) *fakeMounter {
	f := &fakeMounter{t: t, rootfs: rootfs, names: map[*os.File]string{}, ids: map[*os.File]uint64{},
		types: map[*os.File]string{}, attached: map[string]uint64{}, onType: map[string]string{},
		scratch: map[*os.File]string{}, alias: map[string]string{}, nextID: 100}
	return f
}

func (f *fakeMounter) rec(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeMounter) realPath(file *os.File) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", file.Fd()))
	if err != nil {
		f.t.Fatalf("readlink fd of %s: %v", file.Name(), err)
	}
	// A handle below a scratch dir that was "attached" is where the mount
	// would have put it.
	for from, to := range f.alias {
		if within(p, from) {
			return to + strings.TrimPrefix(p, from)
		}
	}
	return p
}

// show names a handle: our label, or its path relative to the rootfs.
func (f *fakeMounter) show(file *os.File) string {
	if n, ok := f.names[file]; ok {
		return n
	}
	return f.showPath(f.realPath(file))
}

func (f *fakeMounter) showPath(p string) string {
	if within(p, f.rootfs) {
		return "R" + cleanPath(strings.TrimPrefix(p, f.rootfs))
	}
	return p
}

// handle returns a real O_PATH handle on a fresh scratch directory.
func (f *fakeMounter) handle(label string) *os.File {
	dir, err := filepath.EvalSymlinks(f.t.TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	h, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	f.names[h], f.scratch[h] = label, dir
	return h
}

func (f *fakeMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.rec("mount %q %s %q %#x %q", f.showPath(source), f.showPath(target), fstype, flags, data)
	return nil
}

func (f *fakeMounter) Unmount(target string, flags int) error {
	f.rec("umount2 %s %#x", f.showPath(target), flags)
	return nil
}

func (f *fakeMounter) PivotRoot(newroot, putold string) error {
	f.rec("pivot_root %s %s", newroot, putold)
	return nil
}

func (f *fakeMounter) Chroot(p string) error {
	f.rec("chroot %s", p)
	return nil
}

func (f *fakeMounter) OpenTree(from *os.File, recursive bool) (*os.File, error) {
	f.nextID++
	h := f.handle(fmt.Sprintf("tree%d", f.nextID))
	f.ids[h] = f.nextID
	// A clone of the real /sys (the user-namespace fallback) is a sysfs.
	if t, err := (kernel{}).FSType(from); err == nil && t == unix.SYSFS_MAGIC {
		f.types[h] = "sysfs"
	}
	f.rec("open_tree %s recursive=%v -> %s", f.show(from), recursive, f.names[h])
	return h, nil
}

func (f *fakeMounter) FSOpen(fstype string) (*os.File, error) {
	if fstype == f.refuse {
		return nil, &os.PathError{Op: "fsopen", Path: fstype, Err: unix.EPERM}
	}
	h := f.handle("fs:" + fstype)
	f.types[h] = fstype
	f.rec("fsopen %s", fstype)
	return h, nil
}

func (f *fakeMounter) FSConfig(fs *os.File, cmd uint, key, value string) error {
	switch cmd {
	case unix.FSCONFIG_SET_FLAG:
		f.rec("fsconfig %s flag %s", f.show(fs), key)
	case unix.FSCONFIG_SET_STRING:
		f.rec("fsconfig %s %s=%s", f.show(fs), key, value)
	case unix.FSCONFIG_CMD_CREATE:
		f.rec("fsconfig %s create", f.show(fs))
	case unix.FSCONFIG_CMD_RECONFIGURE:
		f.rec("fsconfig %s reconfigure", f.show(fs))
	}
	return nil
}

func (f *fakeMounter) FSMount(fs *os.File, attr uint64) (*os.File, error) {
	f.nextID++
	h := f.handle(fmt.Sprintf("mnt%d", f.nextID))
	f.ids[h], f.types[h] = f.nextID, f.types[fs]
	f.rec("fsmount %s attr=%#x -> %s", f.show(fs), attr, f.names[h])
	return h, nil
}

func (f *fakeMounter) FSPick(target *os.File) (*os.File, error) {
	h := f.handle("pick:" + f.show(target))
	f.rec("fspick %s", f.show(target))
	return h, nil
}

func (f *fakeMounter) MoveMount(mnt, target *os.File) error {
	p := f.realPath(target)
	f.rec("move_mount %s -> %s", f.show(mnt), f.showPath(p))
	// What was created in the detached mount shows up at the target.
	if dir, ok := f.scratch[mnt]; ok {
		mirror(f.t, dir, p)
		f.alias[dir] = p
	}
	if f.misattach {
		p += ".elsewhere"
	}
	f.attached[p] = f.ids[mnt]
	f.onType[p] = f.types[mnt]
	return nil
}

// mirror recreates the directories and symlinks of src in dst.
func mirror(t *testing.T, src, dst string) {
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case e.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(s)
			if err == nil {
				err = os.Symlink(l, d)
			}
			if err != nil {
				t.Fatal(err)
			}
		case e.IsDir():
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			mirror(t, s, d)
		}
	}
}

func (f *fakeMounter) SetAttr(mnt *os.File, recursive bool, attr unix.MountAttr) error {
	f.rec("setattr %s recursive=%v set=%#x clr=%#x prop=%#x", f.show(mnt), recursive, attr.Attr_set, attr.Attr_clr, attr.Propagation)
	return nil
}

func (f *fakeMounter) Mknod(dir *os.File, name string, mode uint32, dev uint64, uid, gid uint32) error {
	f.rec("mknod %s/%s mode=%#o dev=%d:%d owner=%d:%d", f.show(dir), name, mode, unix.Major(dev), unix.Minor(dev), uid, gid)
	// Stand-in node, so that later existence checks see something.
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return unix.Close(fd)
}

func (f *fakeMounter) MountID(file *os.File) (uint64, error) {
	if id, ok := f.ids[file]; ok {
		return id, nil
	}
	if id, ok := f.attached[f.realPath(file)]; ok {
		return id, nil
	}
	return 1, nil // the rootfs's own mount
}

var fakeMagic = map[string]int64{"proc": unix.PROC_SUPER_MAGIC, "sysfs": unix.SYSFS_MAGIC, "tmpfs": unix.TMPFS_MAGIC}

func (f *fakeMounter) FSType(file *os.File) (int64, error) {
	if t, ok := f.types[file]; ok {
		return fakeMagic[t], nil
	}
	if t, ok := f.onType[f.realPath(file)]; ok {
		return fakeMagic[t], nil
	}
	return kernel{}.FSType(file)
}

// fakeHost is a cgroup v1 host with cpu and cpuacct co-mounted (to
// exercise the symlinks), its hierarchies in real directories under cg.
func fakeHost(t *testing.T, cg string) *hostInfo {
	for _, d := range []string{"cpu,cpuacct", "memory/user/ctr"} {
		if err := os.MkdirAll(filepath.Join(cg, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &hostInfo{
		mounts: []mountInfo{{ID: 1, Mountpoint: "/", Optional: []string{"shared:1"}}},
		cgroups: hostCgroups{
			V1: []cgroupHierarchy{
				{Mountpoint: cg + "/cpu,cpuacct", Root: "/", Subsystems: []string{"cpu", "cpuacct"}},
				{Mountpoint: cg + "/memory", Root: "/", Subsystems: []string{"memory"}},
			},
			Own: map[string]string{"cpu": "/", "cpuacct": "/", "memory": "/user/ctr", "": "/"},
		},
		kcore: true,
	}
}

func newFakeApplier(t *testing.T, rootfs string, opts Options) (*applier, *fakeMounter, *hostInfo) {
	t.Helper()
	fm := newFake(t, rootfs)
	a := newApplier(fm, opts)
	host := fakeHost(t, filepath.Join(filepath.Dir(rootfs), "cgroup"))
	a.readHost = func() (*hostInfo, error) { return host, nil }
	return a, fm, host
}

func fakeRootfs(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"proc", "sys/fs/cgroup", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

func diffCalls(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	var b strings.Builder
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s got:  %s\n   want: %s\n", mark, g, w)
	}
	t.Errorf("kernel calls differ:\n%s", b.String())
}
