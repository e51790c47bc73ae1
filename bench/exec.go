package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// sleeper is one runtime's long-running container of the -exec bench.
type sleeper struct {
	r   runtime
	id  string
	pid int // its init, ours once `run -d` returns (we are a subreaper)
}

// benchExec times `RUNTIME exec ID /bin/true` into a running container: one
// per runtime, `run -d` of `sleep 3600` from its own bundle (the two run at
// the same time, so each needs a cgroup of its own), started before the
// first sample and killed and deleted after the last. Every iteration execs
// once into each, in a rotating order. ru_maxrss of an exec covers the
// runtime and the children it reaped: its re-exec'd init and /bin/true.
func benchExec(rts []runtime, n, warmup int, busybox, ref string) error {
	s, err := newSession()
	if err != nil {
		return err
	}
	defer s.close()
	rootfs := s.path("rootfs")
	if err := makeRootfs(rootfs, busybox); err != nil {
		return err
	}
	probe := s.path("probe")
	if err := writeConfig(probe, rootfs, s.cgroup(""), []string{"/bin/true"}, nil); err != nil {
		return err
	}
	live, err := s.probe(rts, probe)
	if err != nil {
		return err
	}

	var sleepers []*sleeper
	stopAll := func() error {
		var errs []error
		for _, sl := range sleepers {
			errs = append(errs, sl.stop())
		}
		sleepers = nil
		errs = append(errs, s.finish(live))
		return errors.Join(errs...)
	}
	for i, r := range live {
		sl, err := startSleeper(s, r, i)
		if err != nil {
			return errors.Join(err, stopAll())
		}
		sleepers = append(sleepers, sl)
		if err := sl.check(); err != nil {
			return errors.Join(err, stopAll())
		}
	}

	res := make([][]sample, len(live))
	orphans := make([]int, len(live))
	t0, cpu0 := time.Now(), readCPUTimes()
	for it := -warmup; it < n; it++ {
		for k := range live {
			i := (k + it + warmup) % len(live)
			smp, err := live[i].invoke("exec", sleepers[i].id, "/bin/true")
			if err != nil {
				return errors.Join(err, stopAll())
			}
			// Whatever an exec leaves orphaned is re-parented to us.
			reaped := reapOrphans()
			if slices.Contains(reaped, sleepers[i].pid) {
				return errors.Join(fmt.Errorf("%s: the container's init exited during exec", live[i].name), stopAll())
			}
			if it >= 0 {
				res[i] = append(res[i], smp)
				orphans[i] += len(reaped)
			}
		}
	}
	elapsed, steal := time.Since(t0), stealNote(cpu0, readCPUTimes())
	problems := stopAll()
	reportExec(live, res, orphans, n, elapsed, ref)
	fmt.Println(steal)
	return problems
}

func startSleeper(s *session, r runtime, i int) (*sleeper, error) {
	bundle := s.path(fmt.Sprintf("sleeper-%d", i))
	if err := writeConfig(bundle, s.path("rootfs"), s.cgroup(fmt.Sprintf("-sleeper-%d", i)), []string{"/bin/sleep", "3600"}, nil); err != nil {
		return nil, err
	}
	sl := &sleeper{r: r, id: fmt.Sprintf("ube%d-%d", os.Getpid(), i)}
	pidFile := s.path(fmt.Sprintf("sleeper-%d.pid", i))
	if _, err := r.invoke("run", "-d", "--pid-file", pidFile, "--bundle", bundle, sl.id); err != nil {
		_, _ = r.invoke("delete", "--force", sl.id)
		return nil, err
	}
	pid, err := readPid(pidFile)
	if err != nil {
		_, _ = r.invoke("delete", "--force", sl.id)
		return nil, err
	}
	sl.pid = pid
	return sl, nil
}

// check execs a shell that reports itself and the container's pid 1: the
// exec ran, in the container's pid namespace.
func (sl *sleeper) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sl.r.path, "--root", sl.r.root, "exec", sl.id, "/bin/sh", "-c", "echo exec-ok; cat /proc/1/cmdline")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "exec-ok\n/bin/sleep\x003600") {
		return fmt.Errorf("%s exec into %s: %v: %q", sl.r.name, sl.id, err, out)
	}
	return nil
}

// stop kills the container, reaps its init and deletes it.
func (sl *sleeper) stop() error {
	if _, err := sl.r.invoke("kill", sl.id, "KILL"); err != nil {
		_, _ = sl.r.invoke("delete", "--force", sl.id)
		return err
	}
	if !reap(sl.pid) {
		if err := sl.r.waitStopped(sl.id, 10*time.Second); err != nil {
			_, _ = sl.r.invoke("delete", "--force", sl.id)
			return err
		}
	}
	_, err := sl.r.invoke("delete", sl.id)
	return err
}

func reportExec(rts []runtime, res [][]sample, orphans []int, n int, elapsed time.Duration, ref string) {
	refIdx := slices.IndexFunc(rts, func(r runtime) bool { return r.name == ref })
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("bench -exec: `RUNTIME exec ID /bin/true` into a running busybox container (sleep 3600), %d interleaved iterations each, kernel %s, %.0fs\n",
		n, strings.TrimSpace(string(kernel)), elapsed.Seconds())
	fmt.Printf("%-14s %9s %9s %9s | %9s %9s | %7s\n", "runtime", "exec p50", "exec p90", "vs "+ref, "RSS p50", "maxRSS", "orphans")
	for i, r := range rts {
		d := durations(res[i])
		var rss []int64
		for _, smp := range res[i] {
			rss = append(rss, smp.rss)
		}
		rr := "-"
		if refIdx >= 0 {
			rr = ratio(d, durations(res[refIdx]))
		}
		fmt.Printf("%-14s %9s %9s %9s | %9s %9s | %7d\n", r.name, ms(quantile(d, 0.5)), ms(quantile(d, 0.9)), rr,
			mib(medianInt64(rss)), mib(maxInt64(rss)), orphans[i])
	}
	fmt.Println("RSS is wait4's ru_maxrss of the exec command (the runtime and the children it reaped); orphans: processes an exec left to us to reap")
}
