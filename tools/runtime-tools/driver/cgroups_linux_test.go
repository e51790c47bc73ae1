package main

import (
	"os"
	"path/filepath"
	"testing"
)

// removeCgroupTree must only ever rmdir: on a plain directory tree it
// removes empty directories and refuses a directory that holds a file.
func TestRemoveCgroupTreeOnlyRmdirs(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "cgrouptest")
	if err := os.MkdirAll(filepath.Join(empty, "container", "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeCgroupTree(empty); err != nil {
		t.Fatalf("empty tree: %v", err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Fatalf("tree still there: %v", err)
	}

	full := filepath.Join(root, "testdir")
	if err := os.MkdirAll(filepath.Join(full, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(full, "sub", "file")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := removeCgroupTree(full); err == nil {
		t.Fatal("a tree holding a file was removed without error")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("file was deleted: %v", err)
	}
}

func TestCleanSuiteCgroupsKeepsPreexisting(t *testing.T) {
	root := t.TempDir()
	old, fresh := filepath.Join(root, "old"), filepath.Join(root, "fresh")
	for _, d := range []string{old, fresh} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cands := []string{old, fresh, filepath.Join(root, "absent")}
	removed, err := cleanSuiteCgroups(cands, map[string]bool{old: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != fresh {
		t.Errorf("removed %q", removed)
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("pre-existing dir removed: %v", err)
	}
}
