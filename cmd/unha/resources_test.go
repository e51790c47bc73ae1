package main

import (
	"reflect"
	"testing"

	"github.com/unha/unha/internal/app"
	"github.com/unha/unha/internal/specgen"
)

// TestRunResourceFlags: the resource flags reach app.RunOptions as typed;
// their meaning is specgen's (internal/specgen/resources_test.go).
func TestRunResourceFlags(t *testing.T) {
	tests := []struct {
		args []string
		want specgen.Resources
	}{
		{[]string{"run", "--memory", "64m", "--memory-swap=-1", "--memory-reservation", "32m", "--oom-kill-disable", "host"},
			specgen.Resources{Memory: "64m", MemorySwap: "-1", MemoryReservation: "32m", OOMKillDisable: true}},
		{[]string{"run", "-m", "1g", "--memory-swap", "2g", "host"}, specgen.Resources{Memory: "1g", MemorySwap: "2g"}},
		{[]string{"run", "--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0-1", "--cpuset-mems=0", "host"},
			specgen.Resources{CPUs: "1.5", CPUShares: 512, CpusetCpus: "0-1", CpusetMems: "0"}},
		{[]string{"run", "-c", "10", "--pids-limit", "-1", "--blkio-weight", "300", "host"},
			specgen.Resources{CPUShares: 10, PidsLimit: -1, BlkioWeight: 300}},
		// Repeatable, never split at commas.
		{[]string{"run", "--device-read-bps", "/dev/sda:1mb", "--device-read-bps", "/dev/sdb:2mb", "--device-write-bps", "/dev/sda:3mb",
			"--device", "/dev/fuse", "--device", "/dev/sda:/dev/xvda:rw", "host"},
			specgen.Resources{DeviceReadBps: []string{"/dev/sda:1mb", "/dev/sdb:2mb"}, DeviceWriteBps: []string{"/dev/sda:3mb"},
				Devices: []string{"/dev/fuse", "/dev/sda:/dev/xvda:rw"}}},
	}
	for _, tt := range tests {
		rec := &recorder{}
		if code, stderr := parse(t, rec, tt.args...); code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tt.args, code, stderr)
			continue
		}
		if rec.run == nil || rec.run.Image != "host" {
			t.Errorf("%q: run %+v", tt.args, rec.run)
			continue
		}
		if !reflect.DeepEqual(rec.run.Resources, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, rec.run.Resources, tt.want)
		}
	}
	for _, args := range [][]string{
		{"run", "--blkio-weight", "70000", "host"},
		{"run", "--pids-limit", "many", "host"},
		{"run", "--cpu-shares", "1.5", "host"},
	} {
		if code, _ := parse(t, &recorder{}, args...); code != 125 {
			t.Errorf("%q: exit %d, want 125", args, code)
		}
	}
}

// TestRunOOMExit: an OOM kill is printed as unha's message and the exit
// status stays the container's.
func TestRunOOMExit(t *testing.T) {
	for _, tt := range []struct {
		err    *app.OOMError
		stderr string
	}{
		{&app.OOMError{Status: 137, Kills: 1, Limit: 64 << 20}, "unha: container was killed: out of memory (limit 64MiB)\n"},
		{&app.OOMError{Status: 137, Kills: 1}, "unha: container was killed: out of memory\n"},
		{&app.OOMError{Status: 0, Kills: 2, Limit: 3 << 29}, "unha: 2 process(es) in the container were killed: out of memory (limit 1.5GiB)\n"},
	} {
		rec := &recorder{code: tt.err.Status, err: tt.err}
		code, stderr := parse(t, rec, "run", "host", "x")
		if code != tt.err.Status || stderr != tt.stderr {
			t.Errorf("%+v: exit %d stderr %q, want %d %q", tt.err, code, stderr, tt.err.Status, tt.stderr)
		}
	}
}
