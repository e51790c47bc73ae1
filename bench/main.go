package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runtimeFlags collects repeated -runtime name=path flags.
type runtimeFlags []runtime

func (f *runtimeFlags) String() string { return fmt.Sprint(*f) }

func (f *runtimeFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		name, path = filepath.Base(v), v
	}
	abs, err := exec.LookPath(path)
	if err != nil {
		return err
	}
	if abs, err = filepath.Abs(abs); err != nil {
		return err
	}
	*f = append(*f, runtime{name: name, path: abs})
	return nil
}

// results holds every sample of one runtime.
type results struct {
	run, create, start, del []time.Duration
	runRSS, allRSS          []int64
}

func (r *results) add(dst *[]time.Duration, s sample) {
	*dst = append(*dst, s.d)
	r.allRSS = append(r.allRSS, s.rss)
}

func main() {
	var rts runtimeFlags
	flag.Var(&rts, "runtime", "name=path of a runtime to time (repeatable); the first is compared with -ref")
	n := flag.Int("n", 50, "measured iterations per runtime (each: one run, one create/start/delete)")
	warmup := flag.Int("warmup", 3, "unmeasured iterations first")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox for the bundle's rootfs")
	ref := flag.String("ref", "runc", "runtime name the ratios are relative to")
	flag.Parse()
	if err := bench(rts, *n, *warmup, *busybox, *ref); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func bench(rts []runtime, n, warmup int, busybox, ref string) error {
	if len(rts) == 0 {
		return errors.New("no -runtime given")
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root")
	}
	if err := setSubreaper(); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "unha-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cgName := fmt.Sprintf("unha-bench-%d", os.Getpid())
	bundle := filepath.Join(work, "bundle")
	if err := makeBundle(bundle, busybox, cgName); err != nil {
		return err
	}
	pidFile := filepath.Join(work, "pid")

	// Keep the runtimes that can run the bundle at all.
	var live []runtime
	for i, r := range rts {
		r.root = filepath.Join(work, fmt.Sprintf("state-%d", i))
		if _, err := r.invoke("run", "--bundle", bundle, fmt.Sprintf("ub%d-probe", i)); err != nil {
			fmt.Printf("bench: %s skipped: %v\n", r.name, firstLineOf(err.Error()))
			r.cleanup()
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return errors.New("no runtime could run the bundle")
	}

	res := make([]results, len(live))
	t0 := time.Now()
	for it := -warmup; it < n; it++ {
		// Rotate the order every iteration: whoever runs first after the
		// other's teardown must not always be the same runtime.
		for k := range live {
			i := (k + it + warmup) % len(live)
			r := live[i]
			id := fmt.Sprintf("ub%d-%d-%d", os.Getpid(), i, it+warmup)
			s, err := r.invoke("run", "--bundle", bundle, id+"r")
			if err != nil {
				return err
			}
			c, st, d, err := r.split(bundle, id+"s", pidFile)
			if err != nil {
				return err
			}
			if it < 0 {
				continue
			}
			res[i].add(&res[i].run, s)
			res[i].runRSS = append(res[i].runRSS, s.rss)
			res[i].add(&res[i].create, c)
			res[i].add(&res[i].start, st)
			res[i].add(&res[i].del, d)
		}
	}
	elapsed := time.Since(t0)

	var problems []string
	for _, r := range live {
		if left := r.cleanup(); len(left) > 0 {
			problems = append(problems, fmt.Sprintf("%s left containers %v", r.name, left))
		}
	}
	if left, err := leftoverCgroups(cgName); err != nil {
		problems = append(problems, err.Error())
	} else if len(left) > 0 {
		problems = append(problems, fmt.Sprintf("cgroups left behind (removed): %v", left))
	}

	report(live, res, n, elapsed, ref)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func report(rts []runtime, res []results, n int, elapsed time.Duration, ref string) {
	refIdx := -1
	for i, r := range rts {
		if r.name == ref {
			refIdx = i
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("bench: `RUNTIME run --bundle B ID` of /bin/true, busybox bundle, %d interleaved iterations each, kernel %s, %.0fs\n",
		n, strings.TrimSpace(string(kernel)), elapsed.Seconds())
	fmt.Printf("%-14s %9s %9s %8s | %9s %9s %9s | %10s %10s\n",
		"runtime", "run p50", "run p90", "vs "+ref, "create", "start", "delete", "maxRSS", "RSS p50")
	for i, r := range rts {
		x := res[i]
		ratio := "-"
		if refIdx >= 0 {
			ratio = fmt.Sprintf("%.2fx", float64(quantile(x.run, 0.5))/float64(quantile(res[refIdx].run, 0.5)))
		}
		fmt.Printf("%-14s %9s %9s %8s | %9s %9s %9s | %10s %10s\n", r.name,
			ms(quantile(x.run, 0.5)), ms(quantile(x.run, 0.9)), ratio,
			ms(quantile(x.create, 0.5)), ms(quantile(x.start, 0.5)), ms(quantile(x.del, 0.5)),
			mib(maxInt64(x.allRSS)), mib(medianInt64(x.runRSS)))
	}
	fmt.Println("create/start/delete are medians; maxRSS is the largest ru_maxrss of any invocation, RSS p50 the median for `run`")
	fmt.Println("(wait4 ru_maxrss covers the runtime process and the children it reaped, i.e. its init for `run`)")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func mib(kib int64) string      { return fmt.Sprintf("%.1fMiB", float64(kib)/1024) }

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
