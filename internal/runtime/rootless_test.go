package runtime

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSplitCgroups(t *testing.T) {
	hybrid := map[string]string{
		"cpu": "/cg/cpu/x", "cpuacct": "/cg/cpuacct/x", "memory": "/cg/memory/x", "pids": "/cg/pids/x",
		"devices": "/cg/devices/x", "name=systemd": "/cg/systemd/x", "": "/cg/unified/x",
	}
	v2 := map[string]string{"": "/cg/x"}
	only := func(dirs ...string) func(string) bool {
		return func(d string) bool {
			for _, x := range dirs {
				if d == x {
					return true
				}
			}
			return false
		}
	}
	limit := int64(100)
	deny := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	for _, tc := range []struct {
		name     string
		paths    map[string]string
		res      *specs.LinuxResources
		canWrite func(string) bool
		kept     []string
		err      string
	}{
		{"nothing delegated, nothing asked", hybrid, nil, only(), nil, ""},
		{"device rules are dropped, not refused", hybrid, &specs.LinuxResources{Devices: deny}, only(), nil, ""},
		{"memory limit without memory", hybrid, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}, only("/cg/pids/x"),
			[]string{"pids"}, "memory limits: the cgroup /cg/memory/x is not delegated"},
		{"pids limit with pids delegated", hybrid, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}, only("/cg/pids/x"),
			[]string{"pids"}, ""},
		{"hugetlb goes to the unified hierarchy", hybrid,
			&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}}, only("/cg/pids/x"),
			[]string{"pids"}, "hugetlb limits: the cgroup /cg/unified/x"},
		{"pure v2 delegated", v2, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}, Devices: deny}, only("/cg/x"),
			[]string{""}, ""},
		{"pure v2 not delegated", v2, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, only(),
			nil, "cpuset limits"},
		{"unified needs v2", v2, &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, only(),
			nil, "unified limits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := splitCgroups(tc.paths, tc.res, tc.canWrite)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, c := range []string{"", "cpu", "cpuacct", "memory", "pids", "devices", "name=systemd"} {
				if _, ok := sp.kept[c]; ok {
					kept = append(kept, c)
				}
			}
			if strings.Join(kept, ",") != strings.Join(tc.kept, ",") {
				t.Errorf("kept %q, want %q", kept, tc.kept)
			}
			if len(sp.kept)+len(sp.skipped) != len(tc.paths) {
				t.Errorf("kept %v + skipped %v do not cover %v", sp.kept, sp.skipped, tc.paths)
			}
			if sp.res != nil && sp.res.Devices != nil {
				t.Errorf("device rules kept: %+v", sp.res.Devices)
			}
			if tc.res != nil && len(tc.res.Devices) > 0 && tc.res.Devices[0].Access != "rwm" {
				t.Error("splitCgroups changed the caller's resources")
			}
			w := sp.warning()
			if (len(sp.skipped) > 0) != (w != "") || strings.Count(w, "\n") != 0 {
				t.Errorf("warning %q for skipped %v", w, sp.skipped)
			}
		})
	}
}

func TestRootlessMode(t *testing.T) {
	for flag, want := range map[string]bool{"true": true, "false": false, "auto": os.Geteuid() != 0 || InUserNS()} {
		got, err := RootlessMode(flag)
		if err != nil || got != want {
			t.Errorf("RootlessMode(%q) = %v, %v; want %v", flag, got, err, want)
		}
	}
	if _, err := RootlessMode("maybe"); err == nil {
		t.Error(`RootlessMode("maybe") succeeded`)
	}
}

func TestIDMaps(t *testing.T) {
	self := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	two := append(append([]specs.LinuxIDMapping(nil), self...), specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
	if !selfMapped(self, 1000) || selfMapped(self, 1001) || selfMapped(two, 1000) {
		t.Error("selfMapped is wrong")
	}
	if !mapsContainerRoot(self) || mapsContainerRoot([]specs.LinuxIDMapping{{ContainerID: 1, HostID: 1000, Size: 5}}) {
		t.Error("mapsContainerRoot is wrong")
	}
}

func TestWritable(t *testing.T) {
	d := t.TempDir()
	if !writable(d + "/not/yet") {
		t.Errorf("a missing directory below a writable one is not writable")
	}
	if os.Geteuid() != 0 && writable("/proc/sys/kernel/x") {
		t.Errorf("/proc/sys is writable for uid %d", os.Geteuid())
	}
}
