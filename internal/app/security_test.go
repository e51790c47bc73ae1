package app

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSecurity(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	sec, err := security(RunOptions{CapAdd: []string{"a"}, CapDrop: []string{"b"}, Privileged: true,
		SecurityOpts: []string{"seccomp=" + profile, "no-new-privileges", "systempaths=unconfined"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.SeccompProfile) != `{"defaultAction":"SCMP_ACT_ALLOW"}` || sec.SeccompUnconfined || !sec.NoNewPrivileges ||
		!sec.UnmaskSystemPaths || !sec.Privileged || sec.CapAdd[0] != "a" || sec.CapDrop[0] != "b" {
		t.Errorf("security %+v", sec)
	}
	// The test process holds CAP_CHOWN unless it runs with an empty
	// bounding set, and never holds capabilities the kernel lacks.
	if os.Geteuid() == 0 && !slices.Contains(sec.AvailableCaps, "CAP_CHOWN") {
		t.Errorf("available caps %v", sec.AvailableCaps)
	}
	for _, opt := range []string{"seccomp=unconfined", "seccomp:unconfined"} {
		if sec, err := security(RunOptions{SecurityOpts: []string{opt}}); err != nil || !sec.SeccompUnconfined || sec.SeccompProfile != nil {
			t.Errorf("%s: %+v %v", opt, sec, err)
		}
	}
	if sec, err := security(RunOptions{SecurityOpts: []string{"seccomp=builtin"}}); err != nil || sec.SeccompUnconfined || sec.SeccompProfile != nil {
		t.Errorf("builtin: %+v %v", sec, err)
	}
	_, err = security(RunOptions{SecurityOpts: []string{"seccomp=" + filepath.Join(dir, "missing.json")}})
	if err == nil || !strings.Contains(err.Error(), "opening seccomp profile") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing profile: %v", err)
	}
	if _, err := security(RunOptions{SecurityOpts: []string{"bogus"}}); err == nil {
		t.Error("bogus option accepted")
	}
}
