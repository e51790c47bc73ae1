package clients

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// enterPrivateView runs first in the inner stage, in its new cgroup and mount namespaces.
func enterPrivateView(p *plan) error {
	own, err := ownCgroups()
	if err != nil {
		return err
	}
	for k, v := range own {
		if v != "/" {
			return fmt.Errorf("cgroup namespace not in effect: %q is at %s", k, v)
		}
	}
	// Detach the inherited tree: its v1 mounts are rooted at the host's hierarchy roots (they
	// show as "/.." here), and clients that match mountinfo would find those first.
	if err := unix.Unmount(cgroupRoot, unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount", Path: cgroupRoot, Err: err}
	}
	const flags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if p.CgroupTop == "tmpfs" {
		if err := mount("tmpfs", cgroupRoot, "tmpfs", flags, "mode=755"); err != nil {
			return err
		}
	}
	// Mounted inside the new cgroup namespace, each hierarchy is rooted at the namespace's root.
	for _, h := range p.Hierarchies {
		target := h.mountPoint()
		if h.Name != "" {
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
		}
		if err := mount(h.FSType, target, h.FSType, flags, h.Options); err != nil {
			return err
		}
	}
	for name, target := range p.Links {
		if err := os.Symlink(target, filepath.Join(cgroupRoot, name)); err != nil {
			return err
		}
	}
	// Paths the clients use whatever they are told, made private to the suite.
	if err := mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755"); err != nil {
		return err
	}
	if err := mount("tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return err
	}
	upper, work := filepath.Join(p.Base, "var-lib", "upper"), filepath.Join(p.Base, "var-lib", "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return mount("overlay", "/var/lib", "overlay", 0,
		fmt.Sprintf("lowerdir=/var/lib,upperdir=%s,workdir=%s", upper, work))
}

func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (%s): %w", fstype, target, data, err)
	}
	return nil
}

// suiteLeftovers runs in the inner stage after the tests: the per-test checks should have
// left nothing; what the clients wrote into /var/lib (kept in the overlay's upper directory) is
// only reported, being confined to the suite.
func suiteLeftovers(p *plan) error {
	var errs []error
	for _, pid := range waitPidsGone(p, 10*time.Second) {
		errs = append(errs, fmt.Errorf("process %d %s", pid, cmdline(pid)))
	}
	for name := range nsCgroupDirs(p) {
		errs = append(errs, fmt.Errorf("cgroup %s", name))
	}
	upper := filepath.Join(p.Base, "var-lib", "upper")
	var wrote []string
	_ = filepath.WalkDir(upper, func(path string, d os.DirEntry, err error) error {
		if err == nil && path != upper && strings.Count(strings.TrimPrefix(path, upper), "/") <= 3 {
			wrote = append(wrote, "/var/lib"+strings.TrimPrefix(path, upper))
		}
		return nil
	})
	if len(wrote) > 0 {
		fmt.Fprintf(os.Stderr, "clients: the clients wrote into /var/lib (private to the suite): %s\n", strings.Join(wrote, " "))
	}
	return errors.Join(errs...)
}

// waitPidsGone waits, bounded, for the processes in the suite's cgroups to exit (conmon and the
// shims outlive the client command by a moment) and returns those still there.
func waitPidsGone(p *plan, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		pids := nsPids(p)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeBase removes the suite's directory in the outer stage, after detaching any mount left
// under it (which the private mount namespace should have made impossible), so RemoveAll never
// recurses into a host directory.
func removeBase(base string) error {
	mounts, err := readMountinfo()
	if err != nil {
		return err
	}
	var errs []error
	var points []string
	for _, m := range mounts {
		if m.Point == base || strings.HasPrefix(m.Point, base+"/") {
			points = append(points, m.Point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, pt := range points {
		errs = append(errs, fmt.Errorf("mount on %s", pt))
		_ = unix.Unmount(pt, unix.MNT_DETACH)
	}
	if err := os.RemoveAll(base); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
