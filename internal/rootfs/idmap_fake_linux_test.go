package rootfs

import (
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestPrepareIDMappedCalls: the runtime's half clones the source, sets the
// mount's flags, then idmaps with the given user namespace (recursively for
// ridmap), all on the detached tree.
func TestPrepareIDMappedCalls(t *testing.T) {
	src := t.TempDir()
	userns, err := os.Open("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	defer userns.Close()
	fm := newFake(t, t.TempDir())
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s := &specs.Spec{Root: &specs.Root{Path: "/r"}, Linux: &specs.Linux{Namespaces: mountNS()},
		Mounts: []specs.Mount{{Destination: "/mnt", Type: "bind", Source: src, Options: []string{"rbind", "ro", "ridmap"},
			UIDMappings: maps, GIDMappings: maps}}}
	ops, err := Plan(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := prepareIDMapped(fm, ops[0], userns)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	diffCalls(t, fm.calls, []string{
		"open_tree " + src + " recursive=true -> tree101",
		"setattr tree101 recursive=false set=0x1 clr=0x0 prop=0x0",
		"setattr tree101 recursive=true set=0x100000 clr=0x0 prop=0x0",
	})
	ops[0].IDMap = nil
	if _, err := prepareIDMapped(fm, ops[0], userns); err == nil {
		t.Error("prepareIDMapped of a plain bind succeeded")
	}
}

// TestBindIDMapped: init attaches the tree it was given, without cloning
// anything itself, and fails clearly when the runtime sent none.
func TestBindIDMapped(t *testing.T) {
	rootfs := fakeRootfs(t)
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()},
		Mounts: []specs.Mount{{Destination: "/data", Type: "bind", Source: t.TempDir(), Options: []string{"bind", "idmap", "private"},
			UIDMappings: maps, GIDMappings: maps}}}
	a, fm, _ := newFakeApplier(t, rootfs, Options{})
	if err := a.prepare(spec); err == nil || !strings.Contains(err.Error(), "no idmapped tree") {
		t.Fatalf("prepare without the runtime's tree: %v", err)
	}
	tree := fm.handle("idmapped")
	fm.ids[tree] = 55
	a, fm2, _ := newFakeApplier(t, rootfs, Options{IDMapped: map[int]*os.File{0: tree}})
	fm2.names[tree], fm2.ids[tree], fm2.scratch[tree] = "idmapped", 55, fm.scratch[tree]
	if err := a.prepare(spec); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range fm2.calls {
		if strings.Contains(c, "idmapped") || strings.Contains(c, "R/data") {
			got = append(got, c)
		}
	}
	diffCalls(t, got, []string{
		"move_mount idmapped -> R/data",
		"setattr idmapped recursive=false set=0x0 clr=0x0 prop=0x40000",
	})
	for _, c := range fm2.calls {
		if strings.HasPrefix(c, "open_tree") && !strings.HasPrefix(c, "open_tree /dev/") {
			t.Errorf("init cloned a tree itself: %s", c)
		}
	}
}

// TestSysfsUserNSFallback: in a user namespace that may not mount sysfs,
// the host's /sys is bound, read-only all the way down.
func TestSysfsUserNSFallback(t *testing.T) {
	rootfs := fakeRootfs(t)
	spec := &specs.Spec{Root: &specs.Root{Path: rootfs}, Linux: &specs.Linux{Namespaces: mountNS()},
		Mounts: []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}}}
	for _, userns := range []bool{true, false} {
		a, fm, _ := newFakeApplier(t, rootfs, Options{InUserNS: userns})
		fm.refuse = "sysfs"
		err := a.prepare(spec)
		if !userns {
			if err == nil {
				t.Error("outside a user namespace a refused sysfs was bound anyway")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"open_tree /sys recursive=true", "setattr tree", "move_mount tree"}
		var got []string
		for _, c := range fm.calls {
			for _, w := range want {
				if strings.HasPrefix(c, w) && (w != "move_mount tree" || strings.HasSuffix(c, "-> R/sys")) {
					got = append(got, c)
				}
			}
		}
		if len(got) != 3 || !strings.Contains(got[1], fmt.Sprintf("recursive=true set=%#x", unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)) {
			t.Errorf("sysfs fallback calls %q, want a recursive read-only bind of /sys", got)
		}
	}
}
