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
	limits := flag.Bool("limits", false, "time `run` with memory and pids limits against the same bundle without them (see limits.go)")
	memory := flag.Int64("memory", 256<<20, "with -limits: linux.resources.memory.limit in bytes")
	pids := flag.Int64("pids", 128, "with -limits: linux.resources.pids.limit")
	execMode := flag.Bool("exec", false, "time `exec ID /bin/true` into one running container per runtime (see exec.go)")
	flag.Parse()
	var err error
	switch {
	case len(rts) == 0:
		err = errors.New("no -runtime given")
	case *limits && *execMode:
		err = errors.New("-limits and -exec are separate benches: give one")
	case *limits:
		err = benchLimits(rts, *n, *warmup, *busybox, *ref, *memory, *pids)
	case *execMode:
		err = benchExec(rts, *n, *warmup, *busybox, *ref)
	default:
		err = bench(rts, *n, *warmup, *busybox, *ref)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// session is what every bench shares: root, the subreaper bit, a work
// directory and the cgroup names its bundles use, checked at the end.
type session struct {
	work    string
	cgNames []string
}

func newSession() (*session, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("must run as root")
	}
	if err := setSubreaper(); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "unha-bench-")
	if err != nil {
		return nil, err
	}
	return &session{work: work}, nil
}

// cgroup returns a fresh relative cgroupsPath, to be checked by finish.
func (s *session) cgroup(suffix string) string {
	name := fmt.Sprintf("unha-bench-%d%s", os.Getpid(), suffix)
	s.cgNames = append(s.cgNames, name)
	return name
}

func (s *session) path(name string) string { return filepath.Join(s.work, name) }

func (s *session) close() { os.RemoveAll(s.work) }

// probe gives every runtime a state root and keeps those that can run each
// of the bundles once.
func (s *session) probe(rts []runtime, bundles ...string) ([]runtime, error) {
	var live []runtime
	for i, r := range rts {
		r.root = s.path(fmt.Sprintf("state-%d", i))
		var err error
		for j, b := range bundles {
			if _, err = r.invoke("run", "--bundle", b, fmt.Sprintf("ub%d-probe-%d", i, j)); err != nil {
				break
			}
		}
		if err != nil {
			fmt.Printf("bench: %s skipped: %v\n", r.name, firstLineOf(err.Error()))
			r.cleanup()
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return nil, errors.New("no runtime could run the bundle")
	}
	return live, nil
}

// finish removes what the runtimes left behind, containers in their state
// roots and cgroups of the session, and reports each as a problem.
func (s *session) finish(live []runtime) error {
	var problems []string
	for _, r := range live {
		if left := r.cleanup(); len(left) > 0 {
			problems = append(problems, fmt.Sprintf("%s left containers %v", r.name, left))
		}
	}
	for _, name := range s.cgNames {
		if left, err := leftoverCgroups(name); err != nil {
			problems = append(problems, err.Error())
		} else if len(left) > 0 {
			problems = append(problems, fmt.Sprintf("cgroups left behind (removed): %v", left))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func bench(rts []runtime, n, warmup int, busybox, ref string) error {
	s, err := newSession()
	if err != nil {
		return err
	}
	defer s.close()
	bundle := s.path("bundle")
	if err := makeBundle(bundle, busybox, s.cgroup("")); err != nil {
		return err
	}
	pidFile := s.path("pid")
	live, err := s.probe(rts, bundle)
	if err != nil {
		return err
	}

	res := make([]results, len(live))
	t0, cpu0 := time.Now(), readCPUTimes()
	for it := -warmup; it < n; it++ {
		// Rotate the order every iteration: whoever runs first after the
		// other's teardown must not always be the same runtime.
		for k := range live {
			i := (k + it + warmup) % len(live)
			r := live[i]
			id := fmt.Sprintf("ub%d-%d-%d", os.Getpid(), i, it+warmup)
			rs, err := r.invoke("run", "--bundle", bundle, id+"r")
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
			res[i].add(&res[i].run, rs)
			res[i].runRSS = append(res[i].runRSS, rs.rss)
			res[i].add(&res[i].create, c)
			res[i].add(&res[i].start, st)
			res[i].add(&res[i].del, d)
		}
	}
	elapsed, steal := time.Since(t0), stealNote(cpu0, readCPUTimes())
	problems := s.finish(live)
	report(live, res, n, elapsed, ref)
	fmt.Println(steal)
	return problems
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
