package runtime

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, string(rune('a'+i))+".json")
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		ts := time.Unix(int64(1000+i), 0)
		if err := os.Chtimes(p, ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	pruneCache(dir, 3)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 || ents[0].Name() != "c.json" {
		t.Errorf("left %v, want the three newest (c, d, e)", ents)
	}
}
