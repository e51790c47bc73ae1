package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/runtime"
)

func pauseCmd(g *globals) *command {
	c := newCommand("pause", "<container-id>", "suspend all processes in the container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error { return g.runtime().Pause(args[0]) }
	return c
}

func resumeCmd(g *globals) *command {
	c := newCommand("resume", "<container-id>", "resume all processes in a paused container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error { return g.runtime().Resume(args[0]) }
	return c
}

func psCmd(g *globals) *command {
	var format string
	c := newCommand("ps", "[flags] <container-id> [ps options]", "list the processes running inside a container")
	// What follows the container id are ps(1)'s own options.
	c.stopAtArg = true
	c.args = func(_ string, args []string) error {
		if len(args) < 1 {
			return fmt.Errorf("ps: requires a container id: %w", runtime.ErrInvalid)
		}
		return nil
	}
	c.run = func(args []string) error {
		pids, err := g.runtime().Pids(args[0])
		if err != nil {
			return err
		}
		switch format {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			return psTable(pids, args[1:])
		}
		return fmt.Errorf("invalid format %q: %w", format, runtime.ErrInvalid)
	}
	c.flags.String(&format, "format", "f", "table", "table or json")
	return c
}

// psTable runs the host's ps and keeps the header and the container's lines,
// as runc does.
func psTable(pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return fmt.Errorf("ps: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps: no PID column in %q", lines[0])
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) > col {
			if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
				b.WriteString(l + "\n")
			}
		}
	}
	_, err = io.Copy(os.Stdout, &b)
	return err
}

func eventsCmd(g *globals) *command {
	var stats bool
	var interval time.Duration
	c := newCommand("events", "[flags] <container-id>", "display container events such as OOM notifications and stats")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error {
		rt := g.runtime()
		enc := json.NewEncoder(os.Stdout)
		if stats {
			ev, err := rt.Stats(args[0])
			if err != nil {
				return err
			}
			return enc.Encode(ev)
		}
		if interval <= 0 {
			return fmt.Errorf("duration interval must be greater than 0: %w", runtime.ErrInvalid)
		}
		ctx, stop := signal.NotifyContext(context.Background(), unix.SIGINT, unix.SIGTERM)
		defer stop()
		return rt.Events(ctx, args[0], interval, func(ev *runtime.Event) error { return enc.Encode(ev) })
	}
	c.flags.Bool(&stats, "stats", "", false, "display the container's stats then exit")
	c.flags.Duration(&interval, "interval", "", 5*time.Second, "set the stats collection interval")
	return c
}

type updateFlags struct {
	resources                             string
	blkioWeight                           uint16
	cpuPeriod, cpuRtPeriod, cpuShare      uint64
	cpuQuota, cpuRtRuntime                int64
	cpuBurst                              uint64
	cpusetCpus, cpusetMems                string
	memory, memoryReservation, memorySwap string
	kernelMemory, kernelMemoryTCP         string
	pidsLimit                             int64
}

func updateCmd(g *globals) *command {
	var u updateFlags
	c := newCommand("update", "[flags] <container-id>", "update container resource constraints")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error {
		res, err := u.build(c.flags.changed)
		if err != nil {
			return err
		}
		return g.runtime().Update(args[0], res)
	}
	f := c.flags
	f.String(&u.resources, "resources", "r", "", "path to a file with the resources to update (- for stdin), as LinuxResources JSON")
	f.Uint16(&u.blkioWeight, "blkio-weight", "", 0, "block IO weight (10 to 1000)")
	f.Uint64(&u.cpuPeriod, "cpu-period", "", 0, "CPU CFS period in microseconds")
	f.Int64(&u.cpuQuota, "cpu-quota", "", 0, "CPU CFS quota in microseconds")
	f.Uint64(&u.cpuBurst, "cpu-burst", "", 0, "CPU CFS burst in microseconds")
	f.Uint64(&u.cpuShare, "cpu-share", "", 0, "CPU shares (relative weight)")
	f.Uint64(&u.cpuRtPeriod, "cpu-rt-period", "", 0, "CPU realtime period in microseconds")
	f.Int64(&u.cpuRtRuntime, "cpu-rt-runtime", "", 0, "CPU realtime runtime in microseconds")
	f.String(&u.cpusetCpus, "cpuset-cpus", "", "", "CPUs allowed (0-3, 0,1)")
	f.String(&u.cpusetMems, "cpuset-mems", "", "", "memory nodes allowed (0-3, 0,1)")
	f.String(&u.memory, "memory", "", "", "memory limit (in bytes, or with a unit: 64m)")
	f.String(&u.memoryReservation, "memory-reservation", "", "", "memory reservation or soft limit")
	f.String(&u.memorySwap, "memory-swap", "", "", "total memory usage (memory + swap); -1 for unlimited")
	f.String(&u.kernelMemory, "kernel-memory", "", "", "kernel memory limit (deprecated, refused by cgroup v2 kernels)")
	f.String(&u.kernelMemoryTCP, "kernel-memory-tcp", "", "", "kernel memory limit for TCP buffers")
	f.Int64(&u.pidsLimit, "pids-limit", "", 0, "maximum number of pids allowed in the container")
	return c
}

// build reads --resources, then each flag that changed reports set: one
// left out leaves its resource alone, where its zero value would reset it.
func (u *updateFlags) build(changed func(string) bool) (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	if u.resources != "" {
		var in io.Reader = os.Stdin
		if u.resources != "-" {
			f, err := os.Open(u.resources)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			in = f
		}
		if err := json.NewDecoder(in).Decode(res); err != nil {
			return nil, fmt.Errorf("decode resources: %v: %w", err, runtime.ErrInvalid)
		}
	}
	ch := changed
	mem := func() *specs.LinuxMemory {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		return res.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		return res.CPU
	}
	sizes := []struct {
		flag string
		val  string
		dst  func() **int64
	}{
		{"memory", u.memory, func() **int64 { return &mem().Limit }},
		{"memory-reservation", u.memoryReservation, func() **int64 { return &mem().Reservation }},
		{"memory-swap", u.memorySwap, func() **int64 { return &mem().Swap }},
		// runc's command line still has it (cgroup v1's memory.kmem.limit_in_bytes).
		//lint:ignore SA1019 kept for runc's command line
		{"kernel-memory", u.kernelMemory, func() **int64 { return &mem().Kernel }}, //nolint:staticcheck
		{"kernel-memory-tcp", u.kernelMemoryTCP, func() **int64 { return &mem().KernelTCP }},
	}
	for _, s := range sizes {
		if !ch(s.flag) {
			continue
		}
		n, err := parseSize(s.val)
		if err != nil {
			return nil, fmt.Errorf("--%s: %v: %w", s.flag, err, runtime.ErrInvalid)
		}
		*s.dst() = &n
	}
	if ch("cpu-period") {
		cpu().Period = &u.cpuPeriod
	}
	if ch("cpu-quota") {
		cpu().Quota = &u.cpuQuota
	}
	if ch("cpu-burst") {
		cpu().Burst = &u.cpuBurst
	}
	if ch("cpu-share") {
		cpu().Shares = &u.cpuShare
	}
	if ch("cpu-rt-period") {
		cpu().RealtimePeriod = &u.cpuRtPeriod
	}
	if ch("cpu-rt-runtime") {
		cpu().RealtimeRuntime = &u.cpuRtRuntime
	}
	if ch("cpuset-cpus") {
		cpu().Cpus = u.cpusetCpus
	}
	if ch("cpuset-mems") {
		cpu().Mems = u.cpusetMems
	}
	if ch("blkio-weight") {
		res.BlockIO = &specs.LinuxBlockIO{Weight: &u.blkioWeight}
	}
	if ch("pids-limit") {
		res.Pids = &specs.LinuxPids{Limit: &u.pidsLimit}
	}
	return res, nil
}

// parseSize reads a byte count: a number with an optional unit (b, k, m,
// g, t, p, with or without a trailing "b" or "ib"; binary multiples, as
// Docker and runc read them), or -1 for unlimited.
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "-1" {
		return -1, nil
	}
	num := strings.TrimRight(s, "kmgtpib")
	unit := strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "b"), "i")
	shift, ok := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(f * float64(int64(1)<<shift)), nil
}
