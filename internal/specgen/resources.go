package specgen

import (
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"regexp"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources are the resource flags of `unha run` as typed, in Docker's
// units and with Docker's meaning (moby's daemon/daemon_unix.go checks and
// defaults, docker/cli's opts parsing).
type Resources struct {
	Memory            string   // --memory: bytes, with an optional unit (64m, 1.5g)
	MemorySwap        string   // --memory-swap: memory plus swap; -1 for unlimited swap
	MemoryReservation string   // --memory-reservation: the soft limit
	CPUs              string   // --cpus: a decimal number of CPUs (1.5)
	CPUShares         int64    // --cpu-shares: relative weight; 0 leaves the default
	CpusetCpus        string   // --cpuset-cpus: 0-3 or 0,1
	CpusetMems        string   // --cpuset-mems
	PidsLimit         int64    // --pids-limit: 0 or negative for unlimited
	BlkioWeight       uint16   // --blkio-weight: 10 to 1000; 0 leaves the default
	DeviceReadBps     []string // --device-read-bps PATH:RATE
	DeviceWriteBps    []string // --device-write-bps PATH:RATE
	Devices           []string // --device HOST[:CONTAINER][:PERMISSIONS]
	OOMKillDisable    bool     // --oom-kill-disable
}

// ResourceHost is what the resource flags need to know about the host.
type ResourceHost struct {
	NumCPU    int    // CPUs the caller may use: the bound of --cpus
	CPUs      string // online CPUs ("0-1"), the bound of --cpuset-cpus
	Mems      string // online memory nodes ("0"), the bound of --cpuset-mems
	SwapLimit bool   // the kernel accounts swap (memory.memsw.*, memory.swap.max)
	// OOMControl is true where the OOM killer can be disabled per cgroup:
	// cgroup v1's memory.oom_control; v2 has no such switch.
	OOMControl bool
	// Stat describes the file at a host path, following symlinks as Docker
	// does for --device.
	Stat func(path string) (DeviceNode, error)
}

// DeviceNode is a host file as stat(2) shows it.
type DeviceNode struct {
	Type         string      // "c" or "b"; "" for anything that is not a device node
	Dir          bool        // a directory
	Major, Minor int64       // of a device node
	Perm         fs.FileMode // permission bits
	UID, GID     uint32
}

// ResourceSpec is what the resource flags add to a container's spec.
type ResourceSpec struct {
	// Resources holds the limits; its Devices are allow rules that follow
	// the default device rules (DeviceRules).
	Resources *specs.LinuxResources
	// Devices are the host devices to create in the container's /dev.
	Devices []specs.LinuxDevice
	// Warnings are Docker's: limits adjusted to what the kernel takes.
	Warnings []string
}

// Docker's bounds (moby daemon/daemon_unix.go).
const (
	minMemory    = 6 << 20 // linuxMinMemory
	minCPUShares = 2
	maxCPUShares = 262144
	// cpuPeriod is the CFS period --cpus uses: 100ms, as Docker.
	cpuPeriod = 100000
)

// Spec checks the flags against the host and turns them into spec fields.
// Every message names the flag at fault.
func (r Resources) Spec(h ResourceHost) (*ResourceSpec, error) {
	out := &ResourceSpec{Resources: &specs.LinuxResources{}}
	res := out.Resources
	warn := func(format string, args ...any) { out.Warnings = append(out.Warnings, fmt.Sprintf(format, args...)) }

	mem, err := r.memory(h, warn)
	if err != nil {
		return nil, err
	}
	res.Memory = mem

	cpu := &specs.LinuxCPU{}
	if r.CPUs != "" {
		nano, err := parseNanoCPUs(r.CPUs)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for --cpus: %w", r.CPUs, err)
		}
		if nano != 0 {
			// A quota below 1ms (0.01 CPUs) is refused by the kernel.
			if nano < 1e7 || nano > int64(h.NumCPU)*1e9 {
				return nil, fmt.Errorf("--cpus %s: range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", r.CPUs, h.NumCPU, h.NumCPU)
			}
			period, quota := uint64(cpuPeriod), nano*cpuPeriod/1e9
			cpu.Period, cpu.Quota = &period, &quota
		}
	}
	switch s := r.CPUShares; {
	case s < 0:
		return nil, fmt.Errorf("--cpu-shares %d: shares must be positive", s)
	case s == 0:
	case s < minCPUShares:
		warn("changing requested CPUShares of %d to minimum allowed of %d", s, minCPUShares)
		cpu.Shares = ptrTo(uint64(minCPUShares))
	case s > maxCPUShares:
		warn("changing requested CPUShares of %d to maximum allowed of %d", s, maxCPUShares)
		cpu.Shares = ptrTo(uint64(maxCPUShares))
	default:
		cpu.Shares = ptrTo(uint64(s))
	}
	if r.CpusetCpus != "" {
		if err := checkCpuset("--cpuset-cpus", "CPUs", r.CpusetCpus, h.CPUs); err != nil {
			return nil, err
		}
		cpu.Cpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		if err := checkCpuset("--cpuset-mems", "memory nodes", r.CpusetMems, h.Mems); err != nil {
			return nil, err
		}
		cpu.Mems = r.CpusetMems
	}
	if *cpu != (specs.LinuxCPU{}) {
		res.CPU = cpu
	}

	// Zero and negative both mean unlimited, which is what a new cgroup
	// already is.
	if r.PidsLimit > 0 {
		res.Pids = &specs.LinuxPids{Limit: &r.PidsLimit}
	}

	blk := &specs.LinuxBlockIO{}
	if w := r.BlkioWeight; w != 0 {
		if w < 10 || w > 1000 {
			return nil, fmt.Errorf("--blkio-weight %d: range of blkio weight is from 10 to 1000", w)
		}
		blk.Weight = &w
	}
	if blk.ThrottleReadBpsDevice, err = throttles("--device-read-bps", r.DeviceReadBps, h); err != nil {
		return nil, err
	}
	if blk.ThrottleWriteBpsDevice, err = throttles("--device-write-bps", r.DeviceWriteBps, h); err != nil {
		return nil, err
	}
	if blk.Weight != nil || len(blk.ThrottleReadBpsDevice) > 0 || len(blk.ThrottleWriteBpsDevice) > 0 {
		res.BlockIO = blk
	}

	for _, d := range r.Devices {
		dev, rule, err := hostDevice(d, h)
		if err != nil {
			return nil, err
		}
		out.Devices = append(out.Devices, dev)
		res.Devices = append(res.Devices, rule)
	}
	return out, nil
}

// memory applies Docker's rules: --memory-swap is the total of memory and
// swap, needs --memory, and defaults to twice --memory (as much swap as
// memory); without swap accounting in the kernel memory is limited alone.
func (r Resources) memory(h ResourceHost, warn func(string, ...any)) (*specs.LinuxMemory, error) {
	var mem, swap, resv int64
	var err error
	if r.Memory != "" {
		if mem, err = ParseBytes(r.Memory); err != nil {
			return nil, fmt.Errorf("invalid argument %q for --memory: %w", r.Memory, err)
		}
		if mem != 0 && mem < minMemory {
			return nil, fmt.Errorf("--memory %s: minimum memory limit allowed is 6MB", r.Memory)
		}
	}
	switch r.MemorySwap {
	case "":
	case "-1":
		swap = -1
	default:
		if swap, err = ParseBytes(r.MemorySwap); err != nil {
			return nil, fmt.Errorf("invalid argument %q for --memory-swap: %w", r.MemorySwap, err)
		}
	}
	if r.MemoryReservation != "" {
		if resv, err = ParseBytes(r.MemoryReservation); err != nil {
			return nil, fmt.Errorf("invalid argument %q for --memory-reservation: %w", r.MemoryReservation, err)
		}
	}
	switch {
	case mem == 0 && swap > 0:
		return nil, fmt.Errorf("--memory-swap %s: you should always set the memory limit (--memory) when using a memory-swap limit", r.MemorySwap)
	case mem > 0 && swap > 0 && swap < mem:
		return nil, fmt.Errorf("--memory-swap %s: minimum memory-swap limit should be larger than the memory limit (--memory %s)", r.MemorySwap, r.Memory)
	case resv > 0 && resv < minMemory:
		return nil, fmt.Errorf("--memory-reservation %s: minimum memory reservation allowed is 6MB", r.MemoryReservation)
	case mem > 0 && resv > mem:
		return nil, fmt.Errorf("--memory %s: minimum memory limit can not be less than the memory reservation limit (--memory-reservation %s)", r.Memory, r.MemoryReservation)
	}
	if mem > 0 && swap == 0 {
		swap = 2 * mem
	}
	if swap != 0 && !h.SwapLimit {
		warn("your kernel does not support swap limit capabilities or the cgroup is not mounted: memory limited without swap")
		swap = 0
	}
	if r.OOMKillDisable {
		if !h.OOMControl {
			return nil, fmt.Errorf("--oom-kill-disable: the kernel cannot disable the OOM killer of a cgroup (cgroup v2 has no memory.oom_control)")
		}
		if mem == 0 {
			warn("disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous")
		}
	}
	m := &specs.LinuxMemory{}
	if mem > 0 {
		m.Limit = &mem
	}
	if swap != 0 {
		m.Swap = &swap
	}
	if resv > 0 {
		m.Reservation = &resv
	}
	if r.OOMKillDisable {
		m.DisableOOMKiller = ptrTo(true)
	}
	if *m == (specs.LinuxMemory{}) {
		return nil, nil
	}
	return m, nil
}

// bytesRE is docker/go-units' RAMInBytes syntax: a decimal number, an
// optional space, then b, k, m, g, t or p, optionally followed by i and b,
// in any case.
var bytesRE = regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

// ParseBytes reads a size as Docker does: binary multiples, so 64m is
// 64 MiB and 1.5g is 1536 MiB.
func ParseBytes(s string) (int64, error) {
	m := bytesRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid size %q: a number with an optional unit b, k, m, g, t or p", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}[strings.ToLower(m[2])]
	v := f * float64(uint64(1)<<shift)
	if v >= 1<<63 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(v), nil
}

// parseNanoCPUs reads --cpus exactly, as docker/cli's NanoCPUs does.
func parseNanoCPUs(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return 0, fmt.Errorf("not a non-negative decimal number")
	}
	n := r.Mul(r, big.NewRat(1e9, 1))
	if !n.IsInt() {
		return 0, fmt.Errorf("value is too precise")
	}
	if !n.Num().IsInt64() {
		return 0, fmt.Errorf("value is too large")
	}
	return n.Num().Int64(), nil
}

// parseList reads the kernel's list format ("0-3,5"; cpuset(7)).
func parseList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad element %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("range %q too large", part)
		}
		for i := a; i <= b; i++ {
			out[i] = true
		}
	}
	return out, nil
}

func checkCpuset(flag, what, want, avail string) error {
	w, err := parseList(want)
	if err != nil {
		return fmt.Errorf("invalid value %q for %s: %w", want, flag, err)
	}
	if avail == "" {
		return nil // unknown: the kernel will check
	}
	a, err := parseList(avail)
	if err != nil {
		return fmt.Errorf("host's online %s %q: %w", what, avail, err)
	}
	for i := range w {
		if !a[i] {
			return fmt.Errorf("%s %s: requested %s are not available - requested %s, available: %s", flag, want, what, want, avail)
		}
	}
	return nil
}

// throttles reads PATH:RATE entries (docker/cli ValidateThrottleBpsDevice)
// and finds each path's device number.
func throttles(flag string, vals []string, h ResourceHost) ([]specs.LinuxThrottleDevice, error) {
	var out []specs.LinuxThrottleDevice
	for _, v := range vals {
		p, rate, ok := strings.Cut(v, ":")
		if !ok || p == "" {
			return nil, fmt.Errorf("%s %s: bad format, want <device-path>:<number>[<unit>]", flag, v)
		}
		if !strings.HasPrefix(p, "/dev/") {
			return nil, fmt.Errorf("%s %s: bad format for device path, want a path in /dev", flag, v)
		}
		n, err := ParseBytes(rate)
		if err != nil {
			return nil, fmt.Errorf("%s %s: invalid rate: the format is <device-path>:<number>[<unit>], the unit one of kb, mb or gb", flag, v)
		}
		d, err := statDevice(h, p)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, v, err)
		}
		if d.Type != "b" {
			return nil, fmt.Errorf("%s %s: %s is not a block device", flag, v, p)
		}
		t := specs.LinuxThrottleDevice{Rate: uint64(n)}
		t.Major, t.Minor = d.Major, d.Minor
		out = append(out, t)
	}
	return out, nil
}

func statDevice(h ResourceHost, p string) (DeviceNode, error) {
	if h.Stat == nil {
		return DeviceNode{}, fmt.Errorf("no way to look at host devices")
	}
	return h.Stat(p)
}

// validPerms is docker/cli's validDeviceMode: some of r, w and m, each at
// most once.
func validPerms(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range s {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// hostDevice reads --device HOST[:CONTAINER][:PERMISSIONS] (docker/cli
// parseLinuxDevice: with two parts the second is the permissions when it
// reads as such) and describes the host's node: the device to create and the
// cgroup rule that lets the container use it.
func hostDevice(v string, h ResourceHost) (specs.LinuxDevice, specs.LinuxDeviceCgroup, error) {
	fail := func(format string, args ...any) (specs.LinuxDevice, specs.LinuxDeviceCgroup, error) {
		return specs.LinuxDevice{}, specs.LinuxDeviceCgroup{}, fmt.Errorf("--device %s: "+format, append([]any{v}, args...)...)
	}
	parts := strings.Split(v, ":")
	src, dst, perms := parts[0], "", "rwm"
	switch len(parts) {
	case 1:
	case 2:
		if validPerms(parts[1]) {
			perms = parts[1]
		} else {
			dst = parts[1]
		}
	case 3:
		dst, perms = parts[1], parts[2]
		if !validPerms(perms) {
			return fail("bad mode %q: some of r, w and m", perms)
		}
	default:
		return fail("invalid device specification, want HOST[:CONTAINER][:PERMISSIONS]")
	}
	if dst == "" {
		dst = src
	}
	if !path.IsAbs(src) || !path.IsAbs(dst) {
		return fail("device paths must be absolute")
	}
	dst = path.Clean(dst)
	d, err := statDevice(h, src)
	if err != nil {
		return specs.LinuxDevice{}, specs.LinuxDeviceCgroup{}, fmt.Errorf("--device %s: %w", v, err)
	}
	if d.Dir {
		return fail("%s is a directory: give each device node of it", src)
	}
	if d.Type != "c" && d.Type != "b" {
		return fail("%s is not a device node", src)
	}
	mode := d.Perm & fs.ModePerm
	uid, gid := d.UID, d.GID
	dev := specs.LinuxDevice{Path: dst, Type: d.Type, Major: d.Major, Minor: d.Minor, FileMode: &mode, UID: &uid, GID: &gid}
	major, minor := d.Major, d.Minor
	rule := specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: perms}
	return dev, rule, nil
}

// applyResources adds the resource flags' limits and devices to a spec whose
// device rules are the defaults.
func applyResources(s *specs.Spec, rs *ResourceSpec) {
	if rs == nil {
		return
	}
	if r := rs.Resources; r != nil {
		dst := s.Linux.Resources
		dst.Memory, dst.CPU, dst.Pids, dst.BlockIO = r.Memory, r.CPU, r.Pids, r.BlockIO
		dst.Devices = append(dst.Devices, r.Devices...)
	}
	s.Linux.Devices = append(s.Linux.Devices, rs.Devices...)
}

func ptrTo[T any](v T) *T { return &v }
