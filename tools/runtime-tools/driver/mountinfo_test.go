package main

import (
	"reflect"
	"strings"
	"testing"
)

const sampleMountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup/memory rw,nosuid master:5 - cgroup cgroup rw,memory
31 22 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
40 22 0:40 / /tmp/w/tmp/ocitest1/proc rw - proc proc rw
41 40 0:41 / /tmp/w/tmp/ocitest1/proc/sys\040x rw - tmpfs tmpfs rw
42 22 0:42 / /tmp/w/tmp2 rw - tmpfs tmpfs rw
`

func TestParseMountinfo(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Fatalf("got %d mounts", len(ms))
	}
	if ms[0].Point != "/" || !ms[0].Shared || ms[1].Shared {
		t.Errorf("shared: %+v %+v", ms[0], ms[1])
	}
	if ms[1].FSType != "cgroup" || ms[1].SuperOpts != "rw,memory" {
		t.Errorf("cgroup mount: %+v", ms[1])
	}
	if ms[4].Point != "/tmp/w/tmp/ocitest1/proc/sys x" {
		t.Errorf("octal escape: %q", ms[4].Point)
	}
	if _, err := ParseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("malformed line accepted")
	}
}

func TestMountsUnder(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	got := MountsUnder(ms, "/tmp/w/tmp/")
	want := []string{"/tmp/w/tmp/ocitest1/proc/sys x", "/tmp/w/tmp/ocitest1/proc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q (children first, not the /tmp/w/tmp2 sibling)", got, want)
	}
}

func TestSuiteCgroupCandidates(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	self := "4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
	got := suiteCgroupCandidates(ms, self)
	want := []string{
		"/sys/fs/cgroup/memory/cgrouptest",
		"/sys/fs/cgroup/memory/process_api/abc/cgrouptest",
		"/sys/fs/cgroup/memory/testdir",
		"/sys/fs/cgroup/memory/process_api/abc/testdir",
		"/sys/fs/cgroup/unified/cgrouptest",
		"/sys/fs/cgroup/unified/process_api/abc/cgrouptest",
		"/sys/fs/cgroup/unified/testdir",
		"/sys/fs/cgroup/unified/process_api/abc/testdir",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
