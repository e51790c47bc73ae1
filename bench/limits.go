package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// limitConfigs are the two bundles of the -limits bench, in sample order.
var limitConfigs = []string{"plain", "limits"}

// benchLimits times `run` of /bin/true on two bundles sharing one rootfs:
// "plain", the default config (its resources hold only the device rule, so
// the runtime still creates the container's cgroups), and "limits", the same
// with linux.resources.memory.limit and pids.limit. Every iteration runs each
// runtime on each bundle once, in a rotating order. Before timing, it checks
// that each runtime wrote the limits where the kernel enforces them: a bench
// of a runtime that ignored them would measure nothing.
func benchLimits(rts []runtime, n, warmup int, busybox, ref string, memory, pids int64) error {
	s, err := newSession()
	if err != nil {
		return err
	}
	defer s.close()
	cg := s.cgroup("")
	rootfs := s.path("rootfs")
	if err := makeRootfs(rootfs, busybox); err != nil {
		return err
	}
	bundles := []string{s.path("plain"), s.path("limits")}
	args := []string{"/bin/true"}
	if err := writeConfig(bundles[0], rootfs, cg, args, nil); err != nil {
		return err
	}
	if err := writeConfig(bundles[1], rootfs, cg, args, func(sp *specs.Spec) {
		sp.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &memory}
		sp.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	}); err != nil {
		return err
	}
	live, err := s.probe(rts, bundles...)
	if err != nil {
		return err
	}
	for i, r := range live {
		if err := checkLimits(r, bundles[1], cg, s.path("pid"), fmt.Sprintf("ubl%d-check-%d", os.Getpid(), i), memory, pids); err != nil {
			return errors.Join(err, s.finish(live))
		}
	}

	// samples[runtime][config]; the iteration's index is the same in both
	// configs, so cost can be taken pairwise.
	samples := make([][][]sample, len(live))
	for i := range samples {
		samples[i] = make([][]sample, len(limitConfigs))
	}
	t0, cpu0 := time.Now(), readCPUTimes()
	jobs := len(live) * len(limitConfigs)
	for it := -warmup; it < n; it++ {
		for k := range jobs {
			j := (k + it + warmup) % jobs
			ri, ci := j/len(limitConfigs), j%len(limitConfigs)
			id := fmt.Sprintf("ubl%d-%d-%d", os.Getpid(), j, it+warmup)
			smp, err := live[ri].invoke("run", "--bundle", bundles[ci], id)
			if err != nil {
				_, _ = live[ri].invoke("delete", "--force", id)
				return errors.Join(err, s.finish(live))
			}
			if it >= 0 {
				samples[ri][ci] = append(samples[ri][ci], smp)
			}
		}
	}
	elapsed, steal := time.Since(t0), stealNote(cpu0, readCPUTimes())
	problems := s.finish(live)
	reportLimits(live, samples, n, memory, pids, elapsed, ref)
	fmt.Println(steal)
	return problems
}

// checkLimits creates a container from the limits bundle, reads the limits
// back from its cgroup (cgroup v1 files where the controller has a v1
// hierarchy, else cgroup2's), and deletes it.
func checkLimits(r runtime, bundle, cg, pidFile, id string, memory, pids int64) error {
	if _, err := r.invoke("create", "--bundle", bundle, "--pid-file", pidFile, id); err != nil {
		return err
	}
	pid, perr := readPid(pidFile)
	var problems []string
	for _, f := range []struct {
		v1ctl, v1file, v2file string
		want                  int64
	}{
		// The kernel keeps whole pages (page_counter_memparse).
		{"memory", "memory.limit_in_bytes", "memory.max", memory &^ int64(os.Getpagesize()-1)},
		{"pids", "pids.max", "pids.max", pids},
	} {
		got, where, err := readCgroupFile(cg, f.v1ctl, f.v1file, f.v2file)
		if err != nil {
			problems = append(problems, err.Error())
		} else if got != strconv.FormatInt(f.want, 10) {
			problems = append(problems, fmt.Sprintf("%s is %s, want %d", where, got, f.want))
		}
	}
	if _, err := r.invoke("delete", "--force", id); err != nil {
		problems = append(problems, err.Error())
	}
	// The init, orphaned by create, is ours (we are a subreaper).
	if perr == nil {
		reap(pid)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not apply the limits: %s", r.name, strings.Join(problems, "; "))
	}
	return nil
}

func reportLimits(rts []runtime, samples [][][]sample, n int, memory, pids int64, elapsed time.Duration, ref string) {
	refIdx := slices.IndexFunc(rts, func(r runtime) bool { return r.name == ref })
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("bench -limits: `RUNTIME run` of /bin/true, busybox bundle, without and with linux.resources memory.limit=%s pids.limit=%d;\n",
		mib(memory/1024), pids)
	fmt.Printf("%d interleaved iterations each, kernel %s, %.0fs\n", n, strings.TrimSpace(string(kernel)), elapsed.Seconds())
	fmt.Printf("%-14s %10s %10s | %10s %10s | %10s | %9s %9s | %9s\n",
		"runtime", "plain p50", "plain p90", "limits p50", "limits p90", "cost p50", "plain/"+ref, "limits/"+ref, "RSS p50")
	for i, r := range rts {
		plain, lim := durations(samples[i][0]), durations(samples[i][1])
		// Pairwise: the two configs of one iteration ran back to back.
		var cost []time.Duration
		for k := range min(len(plain), len(lim)) {
			cost = append(cost, lim[k]-plain[k])
		}
		rp, rl := "-", "-"
		if refIdx >= 0 {
			rp = ratio(plain, durations(samples[refIdx][0]))
			rl = ratio(lim, durations(samples[refIdx][1]))
		}
		var rss []int64
		for _, smp := range samples[i][1] {
			rss = append(rss, smp.rss)
		}
		fmt.Printf("%-14s %10s %10s | %10s %10s | %10s | %9s %9s | %9s\n", r.name,
			ms(quantile(plain, 0.5)), ms(quantile(plain, 0.9)), ms(quantile(lim, 0.5)), ms(quantile(lim, 0.9)),
			ms(quantile(cost, 0.5)), rp, rl, mib(medianInt64(rss)))
	}
	fmt.Println("cost p50 is the median over iterations of (limits - plain) for one runtime; ratios are of medians; RSS p50 is `run` with limits")
}

func durations(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.d
	}
	return out
}

// ratio is median(a)/median(b).
func ratio(a, b []time.Duration) string {
	return fmt.Sprintf("%.2fx", float64(quantile(a, 0.5))/float64(quantile(b, 0.5)))
}
