package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

type config struct {
	runtime   string        // the runtime under test, absolute path
	suite     string        // dir with runtimetest, rootfs-<arch>.tar.gz and bin/<test>
	work      string        // scratch dir: bundles, state root, wrapper
	out       string        // persistent dir for logs and results
	expected  string        // expected-failures.txt
	reference string        // results of a reference runtime (runc-results.txt), optional
	timeout   time.Duration // per executable
	total     time.Duration // whole run
	only      *regexp.Regexp
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wrap" {
		os.Exit(runWrapper(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var cfg config
	var only string
	flag.StringVar(&cfg.runtime, "runtime", "", "runtime binary under test (absolute path)")
	flag.StringVar(&cfg.suite, "suite", "", "suite directory (runtimetest, rootfs tarball, bin/)")
	flag.StringVar(&cfg.work, "work", "", "scratch directory, emptied by the driver")
	flag.StringVar(&cfg.out, "out", "", "directory for logs and results.txt")
	flag.StringVar(&cfg.expected, "expected", "", "expected failures file")
	flag.StringVar(&cfg.reference, "reference", "", "reference results (e.g. runc-results.txt) to list regressions against")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "time limit per test executable")
	flag.DurationVar(&cfg.total, "total", 13*time.Minute, "time limit for the whole run")
	flag.StringVar(&only, "run", "", "only run executables whose name matches this regexp")
	flag.Parse()
	if cfg.runtime == "" || cfg.suite == "" || cfg.work == "" || cfg.out == "" {
		fmt.Fprintln(os.Stderr, "driver: -runtime, -suite, -work and -out are required")
		return 2
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			fmt.Fprintf(os.Stderr, "driver: -run: %v\n", err)
			return 2
		}
		cfg.only = re
	}
	code, err := drive(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		return 2
	}
	return code
}

func drive(cfg config) (int, error) {
	private, err := privateMountNamespace()
	if err != nil {
		return 0, fmt.Errorf("check mount namespace: %w", err)
	}
	if !private {
		return 0, errors.New("refusing to run in the host mount namespace: start me with unshare --mount --propagation private (run.sh does)")
	}
	var exp []Expectation
	if cfg.expected != "" {
		f, err := os.Open(cfg.expected)
		if err != nil {
			return 0, err
		}
		exp, err = ParseExpectations(f)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", cfg.expected, err)
		}
	}
	exes, err := executables(filepath.Join(cfg.suite, "bin"), cfg.only)
	if err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	s := &session{
		cfg:     cfg,
		bundles: filepath.Join(cfg.work, "tmp"),
		state:   filepath.Join(cfg.work, "state"),
		leaks:   filepath.Join(cfg.work, "leaks"),
		wrapper: filepath.Join(cfg.work, "runtime"),
		logs:    filepath.Join(cfg.out, "logs"),
	}
	for _, d := range []string{s.bundles, s.state, s.logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
	}
	if err := os.WriteFile(s.wrapper, []byte(wrapperScript(self, cfg.runtime, s.state, s.bundles, s.leaks)), 0o755); err != nil {
		return 0, err
	}

	mounts, err := readMounts()
	if err != nil {
		return 0, err
	}
	selfCg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, err
	}
	cgCandidates := suiteCgroupCandidates(mounts, string(selfCg))
	cgBefore := existing(cgCandidates)

	fmt.Printf("runtime-tools: %d executables, runtime %s\n", len(exes), cfg.runtime)
	start := time.Now()
	var all []Result
	for _, exe := range exes {
		left := cfg.total - time.Since(start)
		if left <= 0 {
			all = append(all, Result{Name: exe + ": (not run: suite time limit)", Status: Fail})
			fmt.Printf("  %-32s not run: suite time limit %s reached\n", exe, cfg.total)
			continue
		}
		limit := min(cfg.timeout, left)
		t0 := time.Now()
		res := s.runOne(exe, limit)
		res = append(res, s.cleanAfter(exe)...)
		all = append(all, res...)
		printExe(exe, res, time.Since(t0))
	}
	removed, cgErr := cleanSuiteCgroups(cgCandidates, cgBefore)
	for _, p := range removed {
		fmt.Printf("runtime-tools: removed suite cgroup %s\n", p)
	}
	if cgErr != nil {
		fmt.Fprintf(os.Stderr, "runtime-tools: %v\n", cgErr)
	}
	return s.report(all, exp, time.Since(start)), nil
}

type session struct {
	cfg                                  config
	bundles, state, leaks, wrapper, logs string
}

// executables lists the test programs; runtimetest is not one (the suite
// copies it into every bundle).
func executables(dir string, only *regexp.Regexp) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || e.Name() == "runtimetest" || (only != nil && !only.MatchString(e.Name())) {
			continue
		}
		out = append(out, e.Name())
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no test executables in %s", dir)
	}
	return out, nil
}

// runOne runs one executable from the suite directory (it unpacks the
// rootfs tarball and copies runtimetest from its working directory) with
// RUNTIME and TMPDIR pointing at the session, and parses its TAP output.
func (s *session) runOne(exe string, limit time.Duration) []Result {
	fail := func(what string) []Result { return []Result{{Name: exe + ": (" + what + ")", Status: Fail}} }
	stdout, err := os.Create(filepath.Join(s.logs, exe+".tap"))
	if err != nil {
		return fail(err.Error())
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(s.logs, exe+".stderr"))
	if err != nil {
		return fail(err.Error())
	}
	defer stderr.Close()

	cmd := exec.Command(filepath.Join(s.cfg.suite, "bin", exe))
	cmd.Dir = s.cfg.suite
	cmd.Env = append(filterEnv(os.Environ(), "RUNTIME", "TMPDIR"), "RUNTIME="+s.wrapper, "TMPDIR="+s.bundles)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Own process group, so a hung test and the runtime calls it is waiting
	// on can be killed together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fail(err.Error())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timedOut := false
	var werr error
	select {
	case werr = <-done:
	case <-time.After(limit):
		timedOut = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		werr = <-done
	}
	// Whatever of the group is still alive (a runtime call that outlived the
	// test) goes too.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	exit := Exit{Code: cmd.ProcessState.ExitCode(), TimedOut: timedOut}
	if werr != nil && cmd.ProcessState == nil {
		return fail(werr.Error())
	}
	f, err := os.Open(stdout.Name())
	if err != nil {
		return fail(err.Error())
	}
	defer f.Close()
	tap, perr := ParseTAP(exe, f)
	res := Verdicts(exe, tap, exit)
	if perr != nil {
		res = append(res, fail(perr.Error())...)
	}
	return res
}

// cleanAfter removes what one executable left behind and reports each kind
// of leftover as a failure of that executable.
func (s *session) cleanAfter(exe string) []Result {
	var res []Result
	fail := func(what string) { res = append(res, Result{Name: exe + ": (" + what + ")", Status: Fail}) }

	if b, err := os.ReadFile(s.leaks); err == nil && len(b) > 0 {
		fail("mounts left under the bundle after delete")
		_ = os.Remove(s.leaks)
	}
	if ids, _ := os.ReadDir(s.state); len(ids) > 0 {
		fail("containers left behind")
		for _, id := range ids {
			cmd := exec.Command(s.cfg.runtime, "--root", s.state, "delete", "--force", id.Name())
			if out, err := runWithTimeout(cmd, 20*time.Second); err != nil {
				fmt.Fprintf(os.Stderr, "  cleanup: delete --force %s: %v: %s\n", id.Name(), err, strings.TrimSpace(string(out)))
			}
		}
		if ids, _ := os.ReadDir(s.state); len(ids) > 0 {
			for _, id := range ids {
				_ = os.RemoveAll(filepath.Join(s.state, id.Name()))
			}
		}
	}
	found, err := detachUnder(s.bundles)
	if len(found) > 0 {
		fail("mounts left under bundles")
	}
	if err != nil {
		// Never remove a tree that may still have mounts in it.
		fmt.Fprintf(os.Stderr, "  cleanup: %v; keeping %s\n", err, s.bundles)
		return res
	}
	if entries, _ := os.ReadDir(s.bundles); len(entries) > 0 {
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(s.bundles, e.Name())); err != nil {
				fmt.Fprintf(os.Stderr, "  cleanup: %v\n", err)
			}
		}
	}
	return res
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := time.AfterFunc(d, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	t.Stop()
	return []byte(buf.String()), err
}

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func printExe(exe string, res []Result, d time.Duration) {
	var p, f, sk int
	for _, r := range res {
		switch r.Status {
		case Pass:
			p++
		case Fail:
			f++
		default:
			sk++
		}
	}
	fmt.Printf("  %-32s %3d ok %3d not ok %3d skip/todo  %5.1fs\n", exe, p, f, sk, d.Seconds())
	for _, r := range res {
		if r.Status == Fail {
			fmt.Printf("      not ok: %s", r.Name)
			if r.Detail != "" {
				fmt.Printf(": %s", r.Detail)
			}
			fmt.Println()
		}
	}
}

func (s *session) report(all []Result, exp []Expectation, d time.Duration) int {
	v := Judge(filepath.Base(s.cfg.runtime), all, exp)
	header := []string{
		"runtime: " + s.cfg.runtime + " (" + firstLine(s.cfg.runtime, "--version") + ")",
		"kernel: " + firstLine("uname", "-r"),
		"date: " + time.Now().UTC().Format(time.RFC3339),
		fmt.Sprintf("%d passed, %d failed, %d skipped, %d todo", v.Passed, v.Failed, v.Skipped, v.Todo),
	}
	resultsPath := filepath.Join(s.cfg.out, "results.txt")
	if f, err := os.Create(resultsPath); err == nil {
		if err := WriteResults(f, header, all); err != nil {
			fmt.Fprintf(os.Stderr, "runtime-tools: write %s: %v\n", resultsPath, err)
		}
		f.Close()
	}
	fmt.Printf("runtime-tools: results in %s, logs in %s (%.0fs)\n", resultsPath, s.logs, d.Seconds())
	if len(v.Expected) > 0 {
		fmt.Printf("runtime-tools: %d expected failures (see %s)\n", len(v.Expected), s.cfg.expected)
	}
	for _, f := range v.Fixed {
		fmt.Printf("runtime-tools: stale expectation: %s\n", f)
	}
	if s.cfg.reference != "" {
		if f, err := os.Open(s.cfg.reference); err == nil {
			ref, err := ReadResults(f)
			f.Close()
			if err == nil {
				for _, r := range Regressions(ref, all) {
					fmt.Printf("runtime-tools: passes with the reference, not here: %s\n", r)
				}
			}
		}
	}
	for _, r := range v.Unexpected {
		fmt.Printf("runtime-tools: UNEXPECTED FAILURE: %s\n", r.Name)
	}
	fmt.Printf("runtime-tools: %d skipped, %d todo\n", v.Skipped, v.Todo)
	fmt.Printf("runtime-tools: %d passed, %d failed (%d expected)\n", v.Passed, v.Failed, len(v.Expected))
	if len(v.Unexpected) > 0 {
		return 1
	}
	return 0
}

// firstLine runs a short command (a runtime's --version) with a time limit:
// a broken runtime must not hang the report.
func firstLine(name string, args ...string) string {
	out, err := runWithTimeout(exec.Command(name, args...), 10*time.Second)
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
