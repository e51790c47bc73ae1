package app

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 4097: "4KiB", 64 << 20: "64MiB", 3 << 29: "1.5GiB",
		(1 << 30) + (1 << 20): "1GiB", 6 << 20: "6MiB", 1 << 40: "1TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCgroupMountsParse(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	data := "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n" +
		"41 31 0:38 /sub /sys/fs/cgroup/unified\\040dir rw,relatime - cgroup2 cgroup2 rw\n"
	if err := os.WriteFile(mi, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := cgroupMounts(mi)
	if err != nil {
		t.Fatal(err)
	}
	if m["memory"].point != "/sys/fs/cgroup/memory" || m["cpuacct"].point != "/sys/fs/cgroup/cpu,cpuacct" {
		t.Errorf("mounts %+v", m)
	}
	if u := m[""]; u.point != "/sys/fs/cgroup/unified dir" || u.dir("/sub/c/x") != "/sys/fs/cgroup/unified dir/c/x" {
		t.Errorf("cgroup2 %+v -> %s", u, u.dir("/sub/c/x"))
	}
}

func TestOOMKills(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
	write("memory.limit_in_bytes", "67108864\n")
	v1 := &memoryCgroup{dir: dir}
	if k, l, err := v1.oomKills(); err != nil || k != 2 || l != 64<<20 {
		t.Errorf("v1: %d %d %v", k, l, err)
	}
	write("memory.limit_in_bytes", "9223372036854771712\n")
	if _, l, _ := v1.oomKills(); l != 0 {
		t.Errorf("v1 unlimited read as %d", l)
	}
	write("memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n")
	write("memory.max", "max\n")
	v2 := &memoryCgroup{dir: dir, v2: true}
	if k, l, err := v2.oomKills(); err != nil || k != 1 || l != 0 {
		t.Errorf("v2: %d %d %v", k, l, err)
	}
	write("memory.events", "low 0\n")
	if _, _, err := v2.oomKills(); err == nil {
		t.Error("no oom_kill line accepted")
	}
	if oomReport(nil, 137) != nil {
		t.Error("report without a cgroup")
	}
	write("memory.oom_control", "oom_kill 0\n")
	if oomReport(v1, 137) != nil {
		t.Error("report without kills")
	}
	write("memory.oom_control", "oom_kill 1\n")
	if e := oomReport(v1, 137); e == nil || e.Status != 137 || e.Kills != 1 {
		t.Errorf("report %+v", e)
	}
}
