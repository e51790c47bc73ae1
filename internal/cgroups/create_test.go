package cgroups

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestCreateDestroyFake(t *testing.T) {
	opts, root := fakeV1(t, "cpuset") // a fake cpuset dir lacks the kernel's files
	m, err := New("a/b", "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	created := m.Created()
	if len(created) != 2*len(m.(*manager).dirs) {
		t.Errorf("Created = %v", created)
	}
	if !slices.Contains(created, filepath.Join(root, "memory/self/a")) || slices.Contains(created, filepath.Join(root, "memory/self")) {
		t.Errorf("Created = %v", created)
	}
	// Load without the created list removes only the leaves.
	l, err := Load(m.Paths(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(root, "cpu/a/b")) || !exists(filepath.Join(root, "cpu/a")) {
		t.Errorf("leaf-only Destroy removed the wrong dirs")
	}
	// Load with it removes the parents too, but never the caller's own.
	lo := opts
	lo.Created = created
	l, err = Load(m.Paths(), lo)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range created {
		if exists(d) {
			t.Errorf("left %s", d)
		}
	}
	if !exists(filepath.Join(root, "memory/self")) || !exists(filepath.Join(root, "memory/self/ctr")) {
		t.Errorf("Destroy removed a cgroup it did not create")
	}
}

func TestCreateFailureCleansUp(t *testing.T) {
	opts, root := fakeV1(t, "cpuset")
	m, _ := New("new/leaf", "id", opts)
	// One hierarchy has a plain file where "new" should go.
	if err := os.WriteFile(filepath.Join(root, "pids", "new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err == nil {
		t.Fatal("Create succeeded over a plain file")
	}
	for _, h := range []string{"cpu", "cpuacct", "memory/self", "devices", "freezer", "blkio"} {
		if exists(filepath.Join(root, h, "new")) {
			t.Errorf("failed Create left %s/new", h)
		}
	}
	if len(m.Created()) != 0 {
		t.Errorf("Created after failure = %v", m.Created())
	}
}

func TestOOMv2Inotify(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"memory.events": "low 0\noom 0\noom_kill 0\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := oomV2(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"memory.events": "low 0\noom 2\noom_kill 2\n"})
	for i := 0; i < 2; i++ {
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatal("channel closed early")
			}
		case <-time.After(30 * time.Second): // hang guard
			t.Fatal("no event")
		}
	}
	os.Remove(filepath.Join(dir, "memory.events"))
	for range ch {
		t.Error("event after removal")
	}
}
