package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestWriteConfig: the config keeps the default one's device rule, takes the rootfs, cgroup
// and args given, and the edit lands in the file (the -limits bundle's resources).
func TestWriteConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "limits")
	limit, pids := int64(256<<20), int64(128)
	err := writeConfig(dir, "/shared/rootfs", "cg-x", []string{"/bin/sleep", "3600"}, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Root.Path != "/shared/rootfs" || s.Linux.CgroupsPath != "cg-x" || s.Process.Terminal ||
		!slices.Equal(s.Process.Args, []string{"/bin/sleep", "3600"}) {
		t.Errorf("root %q cgroupsPath %q terminal %v args %q", s.Root.Path, s.Linux.CgroupsPath, s.Process.Terminal, s.Process.Args)
	}
	r := s.Linux.Resources
	if r == nil || len(r.Devices) != 1 || r.Devices[0].Allow {
		t.Fatalf("resources %+v, want the default deny-all device rule", r)
	}
	if r.Memory == nil || r.Memory.Limit == nil || *r.Memory.Limit != limit || r.Pids == nil || r.Pids.Limit == nil || *r.Pids.Limit != pids {
		t.Errorf("memory %+v pids %+v, want %d and %d", r.Memory, r.Pids, limit, pids)
	}
}

// TestMakeRootfs: the applets the benches run are links to busybox.
func TestMakeRootfs(t *testing.T) {
	dir := t.TempDir()
	bb := filepath.Join(dir, "busybox")
	if err := os.WriteFile(bb, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := makeRootfs(rootfs, bb); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"true", "sh", "sleep"} {
		if l, err := os.Readlink(filepath.Join(rootfs, "bin", a)); err != nil || l != "busybox" {
			t.Errorf("bin/%s: %q %v, want a link to busybox", a, l, err)
		}
	}
}
