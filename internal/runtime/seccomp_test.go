package runtime

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/seccomp"
)

func TestFilterKey(t *testing.T) {
	plan := func(errno uint) *seccomp.Filter {
		f, err := seccomp.Plan(&specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: &errno}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, err := filterKey(plan(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := filterKey(plan(1))
	c, _ := filterKey(plan(2))
	if a != b {
		t.Error("the same filter gave two keys")
	}
	if a == c {
		t.Error("different filters share a key: a cached program would be wrong")
	}
}

func TestCacheDirRefusesOthersWrites(t *testing.T) {
	base := t.TempDir()
	if d := cacheDirIn(base); d != filepath.Join(base, "unha-runtime", "seccomp") {
		t.Fatalf("cache dir %q", d)
	}
	// A directory others may write into could hold a planted filter.
	if err := os.Chmod(filepath.Join(base, "unha-runtime"), 0o777); err != nil {
		t.Fatal(err)
	}
	if d := cacheDirIn(base); d != "" {
		t.Errorf("cache dir %q used although world-writable", d)
	}
}
