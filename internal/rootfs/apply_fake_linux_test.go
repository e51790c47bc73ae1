package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func mountNS() []specs.LinuxNamespace { return []specs.LinuxNamespace{{Type: specs.MountNamespace}} }

// TestPrepareCalls runs Prepare against the recording fake and compares
// every kernel call with what the spec asks for.
func TestPrepareCalls(t *testing.T) {
	rootfs := fakeRootfs(t)
	base := filepath.Dir(rootfs)
	hostFile := filepath.Join(base, "hosts")
	hostDir := filepath.Join(base, "data")
	if err := os.WriteFile(hostFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := &specs.Spec{
		Root: &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k", "ro"}},
			{Destination: "/etc/hosts", Type: "bind", Source: hostFile, Options: []string{"rbind", "ro", "rprivate"}},
			{Destination: "/data", Source: hostDir, Options: []string{"rbind", "rro", "nosuid", "rshared"}},
			{Destination: "/data", Options: []string{"remount", "bind", "noexec"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"sync", "lazytime", "silent"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		},
		Linux: &specs.Linux{Namespaces: mountNS(), RootfsPropagation: "shared"},
	}
	a, fm, host := newFakeApplier(t, rootfs, Options{})
	if err := a.prepare(spec); err != nil {
		t.Fatal(err)
	}
	cg := filepath.Dir(host.cgroups.V1[0].Mountpoint)
	want := []string{
		// linux.rootfsPropagation on /, then the shared parent of the rootfs made private.
		`mount "" / "" 0x100000 ""`,
		`mount "" / "" 0x40000 ""`,
		`mount "R/" R/ "" 0x5000 ""`,
		// procfs: flags as fsmount attributes.
		`fsopen proc`, `fsconfig fs:proc source=proc`, `fsconfig fs:proc create`,
		`fsmount fs:proc attr=0xe -> mnt101`, `move_mount mnt101 -> R/proc`,
		// /dev: "ro" is held back for Finish; strictatime is attr 0x20.
		`fsopen tmpfs`, `fsconfig fs:tmpfs source=tmpfs`, `fsconfig fs:tmpfs mode=755`, `fsconfig fs:tmpfs size=65536k`,
		`fsconfig fs:tmpfs create`, `fsmount fs:tmpfs attr=0x22 -> mnt102`, `move_mount mnt102 -> R/dev`,
		// A file bind: ro on the detached clone, propagation once attached.
		fmt.Sprintf(`open_tree %s recursive=true -> tree103`, hostFile),
		`setattr tree103 recursive=false set=0x1 clr=0x0 prop=0x0`,
		`move_mount tree103 -> R/etc/hosts`,
		`setattr tree103 recursive=true set=0x0 clr=0x0 prop=0x40000`,
		// rbind with rro: nosuid on the top mount, ro on the whole tree.
		fmt.Sprintf(`open_tree %s recursive=true -> tree104`, hostDir),
		`setattr tree104 recursive=false set=0x2 clr=0x0 prop=0x0`,
		`setattr tree104 recursive=true set=0x1 clr=0x0 prop=0x0`,
		`move_mount tree104 -> R/data`,
		`setattr tree104 recursive=true set=0x0 clr=0x0 prop=0x100000`,
		// A bind remount changes the flags of what is there.
		`setattr R/data recursive=false set=0x8 clr=0x0 prop=0x0`,
		// Superblock flags go to fsconfig; "silent" has no key.
		`fsopen tmpfs`, `fsconfig fs:tmpfs source=tmpfs`, `fsconfig fs:tmpfs flag sync`, `fsconfig fs:tmpfs flag lazytime`,
		`fsconfig fs:tmpfs mode=0755`, `fsconfig fs:tmpfs create`, `fsmount fs:tmpfs attr=0x0 -> mnt105`, `move_mount mnt105 -> R/tmp`,
		// cgroup v1: a tmpfs with the container's cgroups bound into it.
		`fsopen tmpfs`, `fsconfig fs:tmpfs source=tmpfs`, `fsconfig fs:tmpfs mode=755`, `fsconfig fs:tmpfs create`,
		`fsmount fs:tmpfs attr=0xe -> mnt106`, `move_mount mnt106 -> R/sys/fs/cgroup`,
		fmt.Sprintf(`open_tree %s/cpu,cpuacct recursive=true -> tree107`, cg),
		`setattr tree107 recursive=false set=0xf clr=0x0 prop=0x0`,
		`move_mount tree107 -> R/sys/fs/cgroup/cpu,cpuacct`,
		fmt.Sprintf(`open_tree %s/memory/user/ctr recursive=true -> tree108`, cg),
		`setattr tree108 recursive=false set=0xf clr=0x0 prop=0x0`,
		`move_mount tree108 -> R/sys/fs/cgroup/memory`,
		`setattr mnt106 recursive=false set=0x1 clr=0x0 prop=0x0`,
		// Devices, with the spec's modes and owners.
		`mknod R/dev/null mode=020666 dev=1:3 owner=0:0`,
		`mknod R/dev/zero mode=020666 dev=1:5 owner=0:0`,
		`mknod R/dev/full mode=020666 dev=1:7 owner=0:0`,
		`mknod R/dev/random mode=020666 dev=1:8 owner=0:0`,
		`mknod R/dev/urandom mode=020666 dev=1:9 owner=0:0`,
		`mknod R/dev/tty mode=020666 dev=5:0 owner=0:0`,
	}
	diffCalls(t, fm.calls, want)
	for name, target := range map[string]string{"dev/ptmx": "pts/ptmx", "dev/fd": "/proc/self/fd",
		"dev/stdin": "/proc/self/fd/0", "dev/core": "/proc/kcore", "sys/fs/cgroup/cpu": "cpu,cpuacct",
		"sys/fs/cgroup/cpuacct": "cpu,cpuacct"} {
		if l, err := os.Readlink(filepath.Join(rootfs, name)); err != nil || l != target {
			t.Errorf("%s -> %q (%v), want %s", name, l, err, target)
		}
	}
	// Finish makes /dev read-only, with mount_setattr.
	fm.calls = nil
	a.opts.NoMountNS = false
	if err := a.finish(spec, rootfs); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, fm.calls, []string{`mount "" R/ "" 0x100000 ""`, `setattr R/dev recursive=false set=0x1 clr=0x0 prop=0x0`})
}

// TestPrepareUserNSDevices: in a user namespace devices are the host's,
// checked and bound.
func TestPrepareUserNSDevices(t *testing.T) {
	rootfs := fakeRootfs(t)
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()}}
	a, fm, _ := newFakeApplier(t, rootfs, Options{InUserNS: true})
	if err := a.prepare(spec); err != nil {
		t.Fatal(err)
	}
	var binds []string
	for _, c := range fm.calls {
		if strings.HasPrefix(c, "move_mount") {
			binds = append(binds, c[strings.Index(c, "-> ")+3:])
		}
		if strings.HasPrefix(c, "mknod") {
			t.Errorf("mknod in a user namespace: %s", c)
		}
	}
	want := "R/dev/null R/dev/zero R/dev/full R/dev/random R/dev/urandom R/dev/tty"
	if got := strings.Join(binds, " "); got != want {
		t.Errorf("device binds onto %s, want %s", got, want)
	}
	for _, c := range fm.calls {
		if strings.HasPrefix(c, "open_tree") && !strings.HasPrefix(c, "open_tree /dev/") {
			t.Errorf("device bound from somewhere else: %s", c)
		}
	}
}

// TestPrepareBadHostDevice: a spec device whose host node differs is
// refused instead of binding whatever sits at that path.
func TestPrepareBadHostDevice(t *testing.T) {
	rootfs := fakeRootfs(t)
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{
		Namespaces: mountNS(),
		Devices:    []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 5}},
	}}
	a, _, _ := newFakeApplier(t, rootfs, Options{InUserNS: true})
	if err := a.prepare(spec); err == nil || !strings.Contains(err.Error(), "is not the device 1:5") {
		t.Errorf("binding a host node that is not the spec's device: %v", err)
	}
}

// TestVerifyCatchesSwap: if the destination no longer leads to the new
// mount after attaching it, Prepare fails instead of carrying on.
func TestVerifyCatchesSwap(t *testing.T) {
	rootfs := fakeRootfs(t)
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()},
		Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}}}
	a, fm, _ := newFakeApplier(t, rootfs, Options{})
	fm.misattach = true
	if err := a.prepare(spec); err == nil || !strings.Contains(err.Error(), "path changed") {
		t.Errorf("a mount that did not end up on its destination: %v", err)
	}
}

// TestProcMustBeProc: a bind onto /proc needs a procfs source, and the
// check uses where the destination really resolves, not the spec's words.
func TestProcMustBeProc(t *testing.T) {
	rootfs := fakeRootfs(t)
	if err := os.Symlink("proc", filepath.Join(rootfs, "p")); err != nil {
		t.Fatal(err)
	}
	for _, m := range []specs.Mount{
		{Destination: "/proc", Source: t.TempDir(), Options: []string{"rbind"}},
		{Destination: "/p", Source: t.TempDir(), Options: []string{"rbind"}},
		{Destination: "/p/sys", Type: "tmpfs", Source: "tmpfs"},
	} {
		spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()}, Mounts: []specs.Mount{m}}
		a, _, _ := newFakeApplier(t, rootfs, Options{})
		if err := a.prepare(spec); err == nil || !strings.Contains(err.Error(), "/proc") {
			t.Errorf("%s on %s: %v, want it refused", m.Source, m.Destination, err)
		}
	}
}

// TestCgroup2Fallback: when the kernel refuses a cgroup2 mount (a user
// namespace without a cgroup namespace), the hierarchy is bound instead.
func TestCgroup2Fallback(t *testing.T) {
	rootfs := fakeRootfs(t)
	unified := t.TempDir()
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()},
		Mounts: []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro"}}}}
	a, fm, host := newFakeApplier(t, rootfs, Options{})
	host.cgroups = hostCgroups{Unified: true, UnifiedMountpoint: unified, UnifiedRoot: "/", Own: map[string]string{"": "/"}}
	fm.refuse = "cgroup2"
	if err := a.prepare(spec); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("open_tree %s recursive=false", unified)
	found := false
	for _, c := range fm.calls {
		found = found || strings.HasPrefix(c, want)
	}
	if !found {
		t.Errorf("no bind of %s in %q", unified, fm.calls)
	}
}

// TestFinishCalls: readonly paths are cloned and made read-only before
// they are attached; masks are a read-only tmpfs on directories; a file
// is masked only with a real /dev/null.
func TestFinishCalls(t *testing.T) {
	rootfs := fakeRootfs(t)
	for _, d := range []string{"proc/sys", "proc/acpi", "proc/scsi", "dev"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs, Readonly: true}, Linux: &specs.Linux{
		Namespaces:    mountNS(),
		ReadonlyPaths: []string{"/proc/sys", "/proc/missing"},
		MaskedPaths:   []string{"/proc/acpi", "/proc/nothere", "/proc/scsi"},
	}}
	a, fm, _ := newFakeApplier(t, rootfs, Options{})
	if err := a.finish(spec, rootfs); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, fm.calls, []string{
		`setattr R/ recursive=false set=0x1 clr=0x0 prop=0x0`,
		`open_tree R/proc/sys recursive=true -> tree101`,
		`setattr tree101 recursive=false set=0x1 clr=0x0 prop=0x0`,
		`move_mount tree101 -> R/proc/sys`,
		`fsopen tmpfs`, `fsconfig fs:tmpfs source=tmpfs`, `fsconfig fs:tmpfs flag ro`, `fsconfig fs:tmpfs create`,
		`fsmount fs:tmpfs attr=0x1 -> mnt102`, `move_mount mnt102 -> R/proc/acpi`,
		// The next masked directory gets a clone of that tmpfs.
		`open_tree mnt102 recursive=false -> tree103`,
		`setattr tree103 recursive=false set=0x1 clr=0x0 prop=0x0`,
		`move_mount tree103 -> R/proc/scsi`,
	})
	// A file to mask, and a /dev/null that is only a regular file.
	if err := os.WriteFile(filepath.Join(rootfs, "proc/kcore"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "dev/null"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec.Linux.ReadonlyPaths, spec.Linux.MaskedPaths, spec.Root.Readonly = nil, []string{"/proc/kcore"}, false
	if err := a.finish(spec, rootfs); err == nil || !strings.Contains(err.Error(), "not the null device") {
		t.Errorf("masking with a fake /dev/null: %v", err)
	}
}

// TestEnterCalls: pivot_root(".", ".") then the old root made rslave and
// detached; --no-pivot moves the rootfs onto / and chroots, after taking
// the host's procfs and sysfs away.
func TestEnterCalls(t *testing.T) {
	rootfs := fakeRootfs(t)
	t.Chdir(rootfs) // restored after the test
	a, fm, _ := newFakeApplier(t, rootfs, Options{})
	if err := a.enter(rootfs); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, fm.calls, []string{`pivot_root . .`, `mount "" . "" 0x84000 ""`, `umount2 . 0x2`})
	if wd, _ := os.Getwd(); wd != "/" {
		t.Errorf("cwd after Enter = %s, want /", wd)
	}

	a, fm, _ = newFakeApplier(t, rootfs, Options{NoPivot: true})
	if err := a.enter(rootfs); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fm.calls, "\n")
	for _, w := range []string{`mount "" /proc "" 0x84000 ""`, `umount2 /proc 0x2`, `mount "R/" / "" 0x2000 ""`, `chroot .`} {
		if !strings.Contains(got, w) {
			t.Errorf("--no-pivot: no %q in\n%s", w, got)
		}
	}

	a, fm, _ = newFakeApplier(t, rootfs, Options{NoMountNS: true})
	if err := a.enter(rootfs); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, fm.calls, []string{`chroot .`})
}

// TestSELinuxLabel: with SELinux on, new filesystems other than procfs,
// sysfs, mqueue and cgroups get the spec's mountLabel; quoted contexts in
// the data lose the quotes mount(2) needed.
func TestSELinuxLabel(t *testing.T) {
	rootfs := fakeRootfs(t)
	const label = "system_u:object_r:container_file_t:s0:c1,c2"
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS(), MountLabel: label},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{`rootcontext="a:b:c:s0:c1,c2"`}},
		}}
	for _, selinux := range []bool{false, true} {
		a, fm, host := newFakeApplier(t, rootfs, Options{})
		host.selinux = selinux
		if err := a.prepare(spec); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(fm.calls, "\n")
		labelled := strings.Count(got, "context="+label)
		if want := map[bool]int{false: 0, true: 1}[selinux]; labelled != want {
			t.Errorf("selinux=%v: %d mounts labelled, want %d:\n%s", selinux, labelled, want, got)
		}
		if !strings.Contains(got, "fsconfig fs:tmpfs rootcontext=a:b:c:s0:c1,c2\n") {
			t.Errorf("quoted context not passed bare:\n%s", got)
		}
	}
}
