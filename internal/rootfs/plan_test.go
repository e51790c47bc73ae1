package rootfs

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	unhaspec "github.com/unha/unha/internal/spec"
)

const (
	aRO, aNOSUID, aNODEV, aNOEXEC = unix.MOUNT_ATTR_RDONLY, unix.MOUNT_ATTR_NOSUID, unix.MOUNT_ATTR_NODEV, unix.MOUNT_ATTR_NOEXEC
	aATIME                        = unix.MOUNT_ATTR__ATIME
)

func planOne(t *testing.T, m specs.Mount) (MountOp, error) {
	t.Helper()
	s := &specs.Spec{Root: &specs.Root{Path: "/r"}, Mounts: []specs.Mount{m},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}}
	ops, err := Plan(s, Options{})
	if err != nil {
		return MountOp{}, err
	}
	return ops[0], nil
}

func TestPlanMount(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    specs.Mount
		want MountOp
	}{
		{"proc", specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			MountOp{Kind: KindFS, Type: "proc", Source: "proc", Destination: "/proc",
				Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV, Attr: Attr{Set: aNOSUID | aNOEXEC | aNODEV}}},
		{"sysfs ro sets the superblock and the mount read-only",
			specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro", "nosuid"}},
			MountOp{Kind: KindFS, Type: "sysfs", Source: "sysfs", Destination: "/sys", Flags: unix.MS_RDONLY | unix.MS_NOSUID,
				Attr: Attr{Set: aRO | aNOSUID}, SbFlags: []string{"ro"}}},
		{"tmpfs data words and a comma-joined word",
			specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"mode=1777", "size=1m,nr_inodes=10", "huge"}},
			MountOp{Kind: KindFS, Type: "tmpfs", Source: "shm", Destination: "/dev/shm", Data: []string{"mode=1777", "size=1m", "nr_inodes=10", "huge"}}},
		{"tmpfs ro is delayed",
			specs.Mount{Destination: "/run", Type: "tmpfs", Options: []string{"ro", "nodev"}},
			MountOp{Kind: KindFS, Type: "tmpfs", Destination: "/run", Flags: unix.MS_RDONLY | unix.MS_NODEV,
				Attr: Attr{Set: aNODEV}, DelayRO: true}},
		{"bind of /dev ro is delayed",
			specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind", "ro"}},
			MountOp{Kind: KindBind, Source: "/dev", Destination: "/dev", Recursive: true,
				Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, DelayRO: true}},
		{"type bind without the option is a plain bind",
			specs.Mount{Destination: "/a", Type: "bind", Source: "/src"},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a"}},
		{"rbind ro with propagation",
			specs.Mount{Destination: "/a", Type: "none", Source: "/src", Options: []string{"rbind", "ro", "rshared", "private"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Recursive: true, Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY,
				Attr: Attr{Set: aRO}, Propagation: []uint64{unix.MS_SHARED | unix.MS_REC, unix.MS_PRIVATE}}},
		{"clearing words clear attributes",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"bind", "rw", "suid", "dev", "exec", "diratime", "symfollow"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Flags: unix.MS_BIND,
				Cleared: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NODIRATIME | unix.MS_NOSYMFOLLOW,
				Attr:    Attr{Clr: aRO | aNOSUID | aNODEV | aNOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}}},
		{"last atime word wins",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"bind", "noatime", "strictatime", "nodiratime"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Flags: unix.MS_BIND | unix.MS_NOATIME | unix.MS_STRICTATIME | unix.MS_NODIRATIME,
				Attr: Attr{Set: unix.MOUNT_ATTR_STRICTATIME | unix.MOUNT_ATTR_NODIRATIME, Clr: aATIME}}},
		{"atime means the default, relatime",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"bind", "noatime", "atime"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Flags: unix.MS_BIND, Cleared: unix.MS_NOATIME,
				Attr: Attr{Set: unix.MOUNT_ATTR_RELATIME, Clr: aATIME}}},
		{"norelatime means strictatime",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"bind", "norelatime"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Flags: unix.MS_BIND, Cleared: unix.MS_RELATIME,
				Attr: Attr{Set: unix.MOUNT_ATTR_STRICTATIME, Clr: aATIME}}},
		{"recursive attributes",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"rbind", "rro", "rnosuid", "rnoatime", "rexec"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Recursive: true, Flags: unix.MS_BIND | unix.MS_REC,
				RecAttr: &Attr{Set: aRO | aNOSUID | unix.MOUNT_ATTR_NOATIME, Clr: aATIME | aNOEXEC}}},
		{"rrw after rro",
			specs.Mount{Destination: "/a", Source: "/src", Options: []string{"rbind", "rro", "rrw"}},
			MountOp{Kind: KindBind, Source: "/src", Destination: "/a", Recursive: true, Flags: unix.MS_BIND | unix.MS_REC,
				RecAttr: &Attr{Clr: aRO}}},
		{"bind remount",
			specs.Mount{Destination: "/a", Options: []string{"remount", "bind", "ro"}},
			MountOp{Kind: KindRemount, Bind: true, Destination: "/a", Flags: unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY, Attr: Attr{Set: aRO}}},
		{"filesystem remount reconfigures the superblock",
			specs.Mount{Destination: "/a", Type: "tmpfs", Options: []string{"remount", "rw", "async", "size=2m"}},
			MountOp{Kind: KindRemount, Type: "tmpfs", Destination: "/a", Flags: unix.MS_REMOUNT,
				Cleared: unix.MS_RDONLY | unix.MS_SYNCHRONOUS, Attr: Attr{Clr: aRO}, SbFlags: []string{"rw", "async"}, Data: []string{"size=2m"}}},
		{"superblock words; silent and iversion have no fsconfig key",
			specs.Mount{Destination: "/a", Type: "ext4", Source: "/dev/vdb", Options: []string{"sync", "dirsync", "mand", "lazytime", "silent", "iversion", "defaults"}},
			MountOp{Kind: KindFS, Type: "ext4", Source: "/dev/vdb", Destination: "/a",
				Flags:   unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_LAZYTIME | unix.MS_SILENT | unix.MS_I_VERSION,
				SbFlags: []string{"sync", "dirsync", "mand", "lazytime"}}},
		{"tmpcopyup", specs.Mount{Destination: "/a", Type: "tmpfs", Options: []string{"tmpcopyup"}},
			MountOp{Kind: KindFS, Type: "tmpfs", Destination: "/a", CopyUp: true}},
		{"cgroup", specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nsdelegate"}},
			MountOp{Kind: KindCgroup, Type: "cgroup", Source: "cgroup", Destination: "/sys/fs/cgroup", Flags: unix.MS_RDONLY,
				Attr: Attr{Set: aRO}, Data: []string{"nsdelegate"}}},
		{"destinations are cleaned and rooted", specs.Mount{Destination: "../../x/./y/", Type: "tmpfs"},
			MountOp{Kind: KindFS, Type: "tmpfs", Destination: "/x/y"}},
		{"lxcfs-style file under /proc", specs.Mount{Destination: "/proc/cpuinfo", Source: "/var/lib/lxcfs/proc/cpuinfo", Options: []string{"bind"}},
			MountOp{Kind: KindBind, Source: "/var/lib/lxcfs/proc/cpuinfo", Destination: "/proc/cpuinfo", Flags: unix.MS_BIND}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planOne(t, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestPlanMountErrors(t *testing.T) {
	for _, tc := range []struct {
		m    specs.Mount
		want string
	}{
		{specs.Mount{Destination: "/a", Source: "/s", Options: []string{"bind", "idmap"}}, "needs uidMappings and gidMappings on the mount or a user namespace"},
		{specs.Mount{Destination: "/a", Source: "/s", Options: []string{"bind"}, UIDMappings: []specs.LinuxIDMapping{{Size: 1}}}, "both uidMappings and gidMappings"},
		{specs.Mount{Destination: "/a", Type: "tmpfs", Options: []string{"ridmap"}}, "only supported for bind mounts"},
		{specs.Mount{Destination: "/a", Options: []string{"rbind"}}, "no source"},
		{specs.Mount{Destination: "/a", Source: "rel/dir", Options: []string{"rbind"}}, "not absolute"},
		{specs.Mount{Destination: "/a", Source: "x"}, "no type"},
		{specs.Mount{Source: "x", Type: "tmpfs"}, "no destination"},
		{specs.Mount{Destination: "/a", Source: "/s", Options: []string{"bind", "tmpcopyup"}}, "only valid for tmpfs"},
		{specs.Mount{Destination: "/proc", Type: "tmpfs"}, "not of type proc"},
		{specs.Mount{Destination: "/proc/sys", Source: "/s", Options: []string{"bind"}}, "inside /proc"},
		{specs.Mount{Destination: "/proc/../proc/self/x", Type: "tmpfs"}, "inside /proc"},
	} {
		_, err := planOne(t, tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.m, err, tc.want)
		}
	}
}

func TestPlanSpecChecks(t *testing.T) {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	for _, tc := range []struct {
		s    *specs.Spec
		opts Options
		want string
	}{
		{&specs.Spec{}, Options{}, "no root.path"},
		{&specs.Spec{Root: &specs.Root{Path: "rootfs"}, Linux: &specs.Linux{Namespaces: ns}}, Options{}, "not absolute"},
		{&specs.Spec{Root: &specs.Root{Path: "/r"}, Linux: &specs.Linux{Namespaces: ns, RootfsPropagation: "rwhatever"}}, Options{}, "invalid linux.rootfsPropagation"},
		{&specs.Spec{Root: &specs.Root{Path: "/r"}, Linux: &specs.Linux{Namespaces: ns}}, Options{NoMountNS: true}, "has a mount namespace"},
		{&specs.Spec{Root: &specs.Root{Path: "/r"}}, Options{}, "set Options.NoMountNS"},
		{&specs.Spec{Root: &specs.Root{Path: "/r"}, Linux: &specs.Linux{ReadonlyPaths: []string{"/proc/sys"}}}, Options{NoMountNS: true},
			"unable to restrict sys entries without a private MNT namespace"},
	} {
		if _, err := Plan(tc.s, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
}

// TestPlanDefaultConfig: the config `unha-runtime spec` writes plans
// without surprises.
func TestPlanDefaultConfig(t *testing.T) {
	s := unhaspec.Default()
	s.Root.Path = "/r"
	ops, err := Plan(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, op := range ops {
		kinds = append(kinds, string(op.Kind)+":"+op.Destination)
	}
	want := "fs:/proc fs:/dev fs:/dev/pts fs:/dev/shm fs:/dev/mqueue fs:/sys cgroup:/sys/fs/cgroup"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("ops %s, want %s", got, want)
	}
	if !needsDev(ops) {
		t.Error("the default config needs /dev populated")
	}
	if dev := ops[1]; dev.Attr.Set != aNOSUID|unix.MOUNT_ATTR_STRICTATIME || dev.Attr.Clr != aATIME ||
		!reflect.DeepEqual(dev.Data, []string{"mode=755", "size=65536k"}) {
		t.Errorf("/dev: %+v", dev)
	}
	// The plan is what --debug prints and what may travel to init.
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	var back []MountOp
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, ops) {
		t.Errorf("plan does not survive JSON: %v", err)
	}
}

func TestRootPropagation(t *testing.T) {
	for in, want := range map[string]uint64{
		"": unix.MS_SLAVE | unix.MS_REC, "shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
		"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC, "private": unix.MS_PRIVATE,
		"rprivate": unix.MS_PRIVATE | unix.MS_REC, "unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	} {
		if got, err := rootPropagation(in); err != nil || got != want {
			t.Errorf("rootPropagation(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
}

func TestSplitData(t *testing.T) {
	for in, want := range map[string][]string{
		"a=1,b,c=3":                       {"a=1", "b", "c=3"},
		`lowerdir=/a\,b:/c,upperdir=/u`:   {`lowerdir=/a\,b:/c`, "upperdir=/u"},
		`context="system_u:r:s0:c1,c2",x`: {`context="system_u:r:s0:c1,c2"`, "x"},
		",,a,,":                           {"a"},
		"":                                nil,
	} {
		if got := splitData(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitData(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlanDevices(t *testing.T) {
	mode := func(m uint32) *os.FileMode { v := os.FileMode(m); return &v }
	s := &specs.Spec{Linux: &specs.Linux{Devices: []specs.LinuxDevice{
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: mode(0o600)},
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: mode(unix.S_IFCHR | 0o666), UID: ptr(uint32(5)), GID: ptr(uint32(6))},
		{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0},
		{Path: "/dev/ptmx", Type: "c", Major: 5, Minor: 2},
		{Path: "dev/kmsg/../pipe", Type: "p", Major: 9, Minor: 9},
	}}}
	devs, err := PlanDevices(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Path: "/dev/zero", Type: unix.S_IFCHR, Major: 1, Minor: 5, Mode: 0o666},
		{Path: "/dev/full", Type: unix.S_IFCHR, Major: 1, Minor: 7, Mode: 0o666},
		{Path: "/dev/random", Type: unix.S_IFCHR, Major: 1, Minor: 8, Mode: 0o666},
		{Path: "/dev/urandom", Type: unix.S_IFCHR, Major: 1, Minor: 9, Mode: 0o666},
		{Path: "/dev/tty", Type: unix.S_IFCHR, Major: 5, Minor: 0, Mode: 0o666},
		{Path: "/dev/null", Type: unix.S_IFCHR, Major: 1, Minor: 3, Mode: 0o600},
		{Path: "/dev/fuse", Type: unix.S_IFCHR, Major: 10, Minor: 229, Mode: 0o666, UID: 5, GID: 6},
		{Path: "/dev/sda", Type: unix.S_IFBLK, Major: 8, Minor: 0, Mode: 0o666},
		{Path: "/dev/pipe", Type: unix.S_IFIFO, Mode: 0o666},
	}
	if !reflect.DeepEqual(devs, want) {
		t.Errorf("got  %+v\nwant %+v", devs, want)
	}
	for _, d := range []specs.LinuxDevice{{Path: "/dev/x", Type: "q"}, {Path: "/", Type: "c"}, {Path: "/dev/x", Type: "c", Major: -1}} {
		if _, err := PlanDevices(&specs.Spec{Linux: &specs.Linux{Devices: []specs.LinuxDevice{d}}}); err == nil {
			t.Errorf("device %+v accepted", d)
		}
	}
	if l := devSymlinks(false); len(l) != 4 || devSymlinks(true)[4] != (devSymlink{"core", "/proc/kcore"}) {
		t.Errorf("devSymlinks: %v", l)
	}
}

func ptr[T any](v T) *T { return &v }
