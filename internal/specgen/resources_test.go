package specgen

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeHost has two CPUs, one memory node, swap accounting, and a few nodes.
func fakeHost() ResourceHost {
	nodes := map[string]DeviceNode{
		"/dev/sda":          {Type: "b", Major: 8, Minor: 0, Perm: 0o660, GID: 6},
		"/dev/vdb":          {Type: "b", Major: 254, Minor: 16, Perm: 0o660},
		"/dev/fuse":         {Type: "c", Major: 10, Minor: 229, Perm: 0o666},
		"/dev/loop-control": {Type: "c", Major: 10, Minor: 237, Perm: 0o600},
		"/dev/snd":          {Dir: true, Perm: 0o755},
		"/dev/shm/file":     {Perm: 0o644},
	}
	return ResourceHost{NumCPU: 2, CPUs: "0-1", Mems: "0", SwapLimit: true, OOMControl: true,
		Stat: func(p string) (DeviceNode, error) {
			if d, ok := nodes[p]; ok {
				return d, nil
			}
			return DeviceNode{}, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		}}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1024": 1024, "64m": 64 << 20, "64M": 64 << 20, "64mb": 64 << 20, "64MiB": 64 << 20, "64 m": 64 << 20,
		"1.5g": 3 << 29, "2k": 2048, "1t": 1 << 40, "1p": 1 << 50, "10b": 10, "0.5k": 512,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "m", "1x", "1.2.3m", "64 mb b", "1e3", "99999999p"} {
		if got, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestResourcesSpec(t *testing.T) {
	tests := []struct {
		name string
		in   Resources
		want string // JSON of the LinuxResources
	}{
		{"none", Resources{}, `{}`},
		// Docker: no --memory-swap means as much swap as memory.
		{"memory", Resources{Memory: "64m"}, `{"memory":{"limit":67108864,"swap":134217728}}`},
		{"memory and swap", Resources{Memory: "64m", MemorySwap: "100m"}, `{"memory":{"limit":67108864,"swap":104857600}}`},
		{"no swap", Resources{Memory: "64m", MemorySwap: "64m"}, `{"memory":{"limit":67108864,"swap":67108864}}`},
		{"unlimited swap", Resources{Memory: "1g", MemorySwap: "-1"}, `{"memory":{"limit":1073741824,"swap":-1}}`},
		{"swap 0 is unset", Resources{Memory: "64m", MemorySwap: "0"}, `{"memory":{"limit":67108864,"swap":134217728}}`},
		{"reservation", Resources{Memory: "64m", MemoryReservation: "32m"},
			`{"memory":{"limit":67108864,"reservation":33554432,"swap":134217728}}`},
		{"reservation alone", Resources{MemoryReservation: "32m"}, `{"memory":{"reservation":33554432}}`},
		{"oom kill disable", Resources{Memory: "64m", MemorySwap: "64m", OOMKillDisable: true},
			`{"memory":{"limit":67108864,"swap":67108864,"disableOOMKiller":true}}`},
		{"cpus 1.5", Resources{CPUs: "1.5"}, `{"cpu":{"quota":150000,"period":100000}}`},
		{"cpus 0.5", Resources{CPUs: "0.5"}, `{"cpu":{"quota":50000,"period":100000}}`},
		{"cpus 0.01", Resources{CPUs: "0.01"}, `{"cpu":{"quota":1000,"period":100000}}`},
		{"cpus 2", Resources{CPUs: "2"}, `{"cpu":{"quota":200000,"period":100000}}`},
		{"cpus 0 is unset", Resources{CPUs: "0"}, `{}`},
		{"shares", Resources{CPUShares: 512}, `{"cpu":{"shares":512}}`},
		{"cpuset", Resources{CpusetCpus: "0-1", CpusetMems: "0"}, `{"cpu":{"cpus":"0-1","mems":"0"}}`},
		{"cpuset list", Resources{CpusetCpus: "1,0"}, `{"cpu":{"cpus":"1,0"}}`},
		{"pids", Resources{PidsLimit: 100}, `{"pids":{"limit":100}}`},
		{"pids unlimited", Resources{PidsLimit: -1}, `{}`},
		{"blkio weight", Resources{BlkioWeight: 300}, `{"blockIO":{"weight":300}}`},
		{"bps", Resources{DeviceReadBps: []string{"/dev/sda:1mb", "/dev/vdb:512"}, DeviceWriteBps: []string{"/dev/sda:10m"}},
			`{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576},{"major":254,"minor":16,"rate":512}],` +
				`"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":10485760}]}}`},
		{"device", Resources{Devices: []string{"/dev/fuse"}},
			`{"devices":[{"allow":true,"type":"c","major":10,"minor":229,"access":"rwm"}]}`},
		{"device perms", Resources{Devices: []string{"/dev/fuse:r", "/dev/sda:/dev/xvda:rw", "/dev/loop-control:/dev/lc"}},
			`{"devices":[{"allow":true,"type":"c","major":10,"minor":229,"access":"r"},` +
				`{"allow":true,"type":"b","major":8,"minor":0,"access":"rw"},{"allow":true,"type":"c","major":10,"minor":237,"access":"rwm"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := tt.in.Spec(fakeHost())
			if err != nil {
				t.Fatal(err)
			}
			if got := toJSON(rs.Resources); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if len(rs.Warnings) != 0 {
				t.Errorf("warnings %q", rs.Warnings)
			}
		})
	}
}

func TestResourcesDevices(t *testing.T) {
	rs, err := Resources{Devices: []string{"/dev/sda:/dev/xvda:rw", "/dev/fuse"}}.Spec(fakeHost())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"path":"/dev/xvda","type":"b","major":8,"minor":0,"fileMode":432,"uid":0,"gid":6},` +
		`{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}]`
	if got := toJSON(rs.Devices); got != want {
		t.Errorf("linux.devices\n got %s\nwant %s", got, want)
	}
}

func TestResourcesErrors(t *testing.T) {
	tests := []struct {
		in   Resources
		want string
	}{
		{Resources{Memory: "1m"}, "--memory 1m: minimum memory limit allowed is 6MB"},
		{Resources{Memory: "lots"}, `invalid argument "lots" for --memory`},
		{Resources{MemorySwap: "1g"}, "--memory-swap 1g: you should always set the memory limit"},
		{Resources{Memory: "1g", MemorySwap: "512m"}, "--memory-swap 512m: minimum memory-swap limit should be larger than the memory limit"},
		{Resources{Memory: "1g", MemorySwap: "-2"}, `invalid argument "-2" for --memory-swap`},
		{Resources{MemoryReservation: "1m"}, "minimum memory reservation allowed is 6MB"},
		{Resources{Memory: "64m", MemoryReservation: "128m"}, "minimum memory limit can not be less than the memory reservation limit"},
		{Resources{CPUs: "3"}, "--cpus 3: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{Resources{CPUs: "0.001"}, "range of CPUs is from 0.01"},
		{Resources{CPUs: "-1"}, `invalid argument "-1" for --cpus`},
		{Resources{CPUs: "0.0000000001"}, "value is too precise"},
		{Resources{CPUs: "one"}, `invalid argument "one" for --cpus`},
		{Resources{CPUShares: -5}, "--cpu-shares -5: shares must be positive"},
		{Resources{CpusetCpus: "2"}, "--cpuset-cpus 2: requested CPUs are not available - requested 2, available: 0-1"},
		{Resources{CpusetCpus: "0-"}, `invalid value "0-" for --cpuset-cpus`},
		{Resources{CpusetCpus: "1-0"}, `invalid value "1-0" for --cpuset-cpus`},
		{Resources{CpusetMems: "1"}, "--cpuset-mems 1: requested memory nodes are not available"},
		{Resources{BlkioWeight: 5}, "--blkio-weight 5: range of blkio weight is from 10 to 1000"},
		{Resources{BlkioWeight: 1001}, "range of blkio weight is from 10 to 1000"},
		{Resources{DeviceReadBps: []string{"/dev/sda"}}, "--device-read-bps /dev/sda: bad format"},
		{Resources{DeviceReadBps: []string{"sda:1m"}}, "bad format for device path"},
		{Resources{DeviceWriteBps: []string{"/dev/sda:fast"}}, "--device-write-bps /dev/sda:fast: invalid rate"},
		{Resources{DeviceReadBps: []string{"/dev/nope:1m"}}, "--device-read-bps /dev/nope:1m: stat /dev/nope"},
		{Resources{DeviceReadBps: []string{"/dev/fuse:1m"}}, "/dev/fuse is not a block device"},
		{Resources{Devices: []string{"/dev/fuse:/dev/f:rwx"}}, `--device /dev/fuse:/dev/f:rwx: bad mode "rwx"`},
		{Resources{Devices: []string{"/dev/fuse:/dev/f:rr"}}, `bad mode "rr"`},
		{Resources{Devices: []string{"/dev/fuse:relative"}}, "device paths must be absolute"},
		{Resources{Devices: []string{"fuse"}}, "device paths must be absolute"},
		{Resources{Devices: []string{"/a:/b:r:x"}}, "invalid device specification"},
		{Resources{Devices: []string{"/dev/snd"}}, "/dev/snd is a directory"},
		{Resources{Devices: []string{"/dev/shm/file"}}, "/dev/shm/file is not a device node"},
		{Resources{Devices: []string{"/dev/nope"}}, "--device /dev/nope: stat /dev/nope"},
	}
	for _, tt := range tests {
		_, err := tt.in.Spec(fakeHost())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.in, err, tt.want)
		}
	}
	// The device's stat error stays reachable.
	_, err := Resources{Devices: []string{"/dev/nope"}}.Spec(fakeHost())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestResourcesHostLimits(t *testing.T) {
	h := fakeHost()
	h.SwapLimit = false
	rs, err := Resources{Memory: "64m", MemorySwap: "128m"}.Spec(h)
	if err != nil {
		t.Fatal(err)
	}
	if got := toJSON(rs.Resources); got != `{"memory":{"limit":67108864}}` || len(rs.Warnings) != 1 ||
		!strings.Contains(rs.Warnings[0], "memory limited without swap") {
		t.Errorf("no swap accounting: %s, warnings %q", got, rs.Warnings)
	}

	rs, err = Resources{CPUShares: 1}.Spec(fakeHost())
	if err != nil || toJSON(rs.Resources) != `{"cpu":{"shares":2}}` || len(rs.Warnings) != 1 {
		t.Errorf("shares 1: %v %s %q", err, toJSON(rs.Resources), rs.Warnings)
	}
	rs, err = Resources{CPUShares: 1 << 20}.Spec(fakeHost())
	if err != nil || toJSON(rs.Resources) != `{"cpu":{"shares":262144}}` || len(rs.Warnings) != 1 {
		t.Errorf("shares 1M: %v %s %q", err, toJSON(rs.Resources), rs.Warnings)
	}
	rs, err = Resources{OOMKillDisable: true}.Spec(fakeHost())
	if err != nil || toJSON(rs.Resources) != `{"memory":{"disableOOMKiller":true}}` || len(rs.Warnings) != 1 ||
		!strings.Contains(rs.Warnings[0], "may be dangerous") {
		t.Errorf("oom-kill-disable alone: %v %s %q", err, toJSON(rs.Resources), rs.Warnings)
	}

	h = fakeHost()
	h.OOMControl = false
	if _, err := (Resources{Memory: "64m", OOMKillDisable: true}).Spec(h); err == nil || !strings.Contains(err.Error(), "--oom-kill-disable") {
		t.Errorf("oom-kill-disable without memory.oom_control: %v", err)
	}
	// Unknown online CPUs leave the check to the kernel.
	h = fakeHost()
	h.CPUs = ""
	if _, err := (Resources{CpusetCpus: "7"}).Spec(h); err != nil {
		t.Errorf("cpuset with unknown host CPUs: %v", err)
	}
}

// TestGenerateResources: the flags' device rules come after the default
// deny-all and allow list; limits and devices land in the spec.
func TestGenerateResources(t *testing.T) {
	o := base()
	rs, err := Resources{Memory: "64m", PidsLimit: 10, Devices: []string{"/dev/fuse:r"}}.Spec(fakeHost())
	if err != nil {
		t.Fatal(err)
	}
	o.Resources = rs
	s, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Linux.Resources
	if r.Memory == nil || *r.Memory.Limit != 64<<20 || r.Pids == nil || *r.Pids.Limit != 10 {
		t.Errorf("resources %s", toJSON(r))
	}
	defaults := DeviceRules()
	if len(r.Devices) != len(defaults)+1 || toJSON(r.Devices[:len(defaults)]) != toJSON(defaults) {
		t.Fatalf("device rules %s", toJSON(r.Devices))
	}
	if last := r.Devices[len(r.Devices)-1]; toJSON(last) != `{"allow":true,"type":"c","major":10,"minor":229,"access":"r"}` {
		t.Errorf("the flag's rule is %s", toJSON(last))
	}
	if len(s.Linux.Devices) != 1 || s.Linux.Devices[0].Path != "/dev/fuse" {
		t.Errorf("linux.devices %s", toJSON(s.Linux.Devices))
	}
	// Without flags the spec has only the default rules.
	s, err = Generate(base())
	if err != nil {
		t.Fatal(err)
	}
	if toJSON(s.Linux.Resources) != toJSON(specs.LinuxResources{Devices: DeviceRules()}) || s.Linux.Devices != nil {
		t.Errorf("default resources %s devices %s", toJSON(s.Linux.Resources), toJSON(s.Linux.Devices))
	}
}
