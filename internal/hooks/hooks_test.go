package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// report is what the test binary writes when it runs as a hook.
type report struct {
	Args  []string
	Env   []string
	Stdin string
}

// TestMain lets the test binary act as a hook: with UNHA_HOOK_REPORT set it
// records its argv, environment and stdin there, which a shell script could
// not do faithfully (a #! script never sees its argv0, and the shell adds
// variables of its own).
func TestMain(m *testing.M) {
	if out := os.Getenv("UNHA_HOOK_REPORT"); out != "" {
		stdin, _ := io.ReadAll(os.Stdin)
		b, _ := json.Marshal(report{Args: os.Args, Env: os.Environ(), Stdin: string(stdin)})
		if err := os.WriteFile(out, b, 0o600); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	code := m.Run()
	if left := leftoverChildren(); left != "" {
		fmt.Fprintf(os.Stderr, "tests left child processes behind: %s\n", left)
		code = 1
	}
	os.Exit(code)
}

func testState() *specs.State {
	return &specs.State{
		Version: specs.Version, ID: "c1", Status: specs.StateCreating,
		Pid: 4242, Bundle: "/run/bundle", Annotations: map[string]string{"a": "b"},
	}
}

func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hook did not report: %v", err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStateEnvArgv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	// A variable of the runtime's own environment must not reach the hook.
	t.Setenv("UNHA_SHOULD_NOT_LEAK", "1")
	env := []string{"UNHA_HOOK_REPORT=" + out, "FOO=bar", "EMPTY="}
	h := specs.Hook{Path: self(t), Args: []string{"my-argv0", "one", "two words"}, Env: env}
	if err := Run(context.Background(), []specs.Hook{h}, testState()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := readReport(t, out)
	if want := h.Args; !reflect.DeepEqual(r.Args, want) {
		t.Errorf("argv %q, want %q", r.Args, want)
	}
	if !reflect.DeepEqual(r.Env, env) {
		t.Errorf("env %q, want exactly %q", r.Env, env)
	}
	var got specs.State
	if err := json.Unmarshal([]byte(r.Stdin), &got); err != nil {
		t.Fatalf("stdin %q is not state JSON: %v", r.Stdin, err)
	}
	if !reflect.DeepEqual(&got, testState()) {
		t.Errorf("state %+v, want %+v", got, testState())
	}
}

func TestEmptyArgsAndEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	// Env carries only the report path; with no Args argv0 is the path.
	h := specs.Hook{Path: self(t), Env: []string{"UNHA_HOOK_REPORT=" + out}}
	if err := Run(context.Background(), []specs.Hook{h}, testState()); err != nil {
		t.Fatal(err)
	}
	if r := readReport(t, out); !reflect.DeepEqual(r.Args, []string{h.Path}) {
		t.Errorf("argv %q, want [%q]", r.Args, h.Path)
	}
}

func TestNilEnvInheritsNothing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("UNHA_SHOULD_NOT_LEAK", "1")
	// With no env at all the hook's environment is empty; /proc/$$/environ
	// is the environment the shell was executed with, before it adds its own.
	script := writeScript(t, dir, "env.sh", `cat /proc/$$/environ > "$1"`)
	out := filepath.Join(dir, "environ")
	h := specs.Hook{Path: script, Args: []string{script, out}}
	if err := Run(context.Background(), []specs.Hook{h}, testState()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0 {
		t.Errorf("environment %q, want empty", b)
	}
}

func TestArgv0WithShell(t *testing.T) {
	out := filepath.Join(t.TempDir(), "argv0")
	// sh -c: $0 is the shell's argv0 when no further argument follows.
	h := specs.Hook{Path: "/bin/sh", Args: []string{"custom0", "-c", `printf %s "$0" > ` + out}}
	if err := Run(context.Background(), []specs.Hook{h}, testState()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "custom0" {
		t.Errorf("argv0 %q, want custom0", b)
	}
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFailureStopsAndReports(t *testing.T) {
	dir := t.TempDir()
	fail := writeScript(t, dir, "fail.sh", "echo to-stdout; echo to-stderr >&2; exit 3")
	marker := filepath.Join(dir, "ran")
	after := writeScript(t, dir, "after.sh", "touch "+marker)
	err := Run(context.Background(), []specs.Hook{{Path: fail}, {Path: after}}, testState())
	if err == nil {
		t.Fatal("failing hook succeeded")
	}
	for _, want := range []string{fail, "exit status 3", "to-stdout", "to-stderr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.HasSuffix(err.Error(), "\n") {
		t.Errorf("error %q is not trimmed", err)
	}
	if _, serr := os.Stat(marker); serr == nil {
		t.Error("hook after the failing one ran")
	}
}

func TestSequence(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	var hs []specs.Hook
	for _, n := range []string{"a", "b", "c"} {
		hs = append(hs, specs.Hook{Path: writeScript(t, dir, n, "echo "+n+" >> "+log)})
	}
	if err := Run(context.Background(), hs, testState()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(log); string(b) != "a\nb\nc\n" {
		t.Errorf("order %q", b)
	}
}

func TestTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// The hook leaves a child behind and blocks: both must be killed.
	script := writeScript(t, dir, "slow.sh", "echo started; sleep 1000 & echo $! > "+pidFile+"; wait")
	one := 1
	err := Run(context.Background(), []specs.Hook{{Path: script, Timeout: &one}}, testState())
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timeout") ||
		!strings.Contains(err.Error(), script) || !strings.Contains(err.Error(), "started") {
		t.Fatalf("error %v, want a timeout naming the hook with its output", err)
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatal(rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitGone(t, pid)
}

// waitGone waits for pid to be dead (gone or a zombie awaiting its new
// parent); it checks that the process dies, not how fast.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d survived the hook's timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestContextCancel(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "slow.sh", "exec sleep 1000")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	err := Run(ctx, []specs.Hook{{Path: script}}, testState())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// A hook that daemonizes with its output still open must not hang Run.
func TestDaemonHoldingOutput(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := writeScript(t, dir, "daemon.sh", "sleep 1000 & echo $! > "+pidFile)
	if err := Run(context.Background(), []specs.Hook{{Path: script}}, testState()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// Not ours to keep: clean up the daemon the hook left.
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
}

func TestInvalid(t *testing.T) {
	zero := 0
	for name, h := range map[string]specs.Hook{
		"relative path": {Path: "bin/true"},
		"zero timeout":  {Path: "/bin/true", Timeout: &zero},
		"missing":       {Path: filepath.Join(t.TempDir(), "nope")},
	} {
		if err := Run(context.Background(), []specs.Hook{h}, testState()); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
	if err := Run(context.Background(), []specs.Hook{{Path: "/bin/true"}}, nil); err == nil {
		t.Error("nil state accepted")
	}
	if err := Run(context.Background(), nil, nil); err != nil {
		t.Errorf("no hooks: %v", err)
	}
}

func TestReadOutputTail(t *testing.T) {
	f, err := memFile("t", []byte(strings.Repeat("x", 2*maxOutput)+"the end\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := readOutput(f)
	if !strings.HasPrefix(got, "...") || !strings.HasSuffix(got, "the end") || len(got) > maxOutput+3 {
		t.Errorf("readOutput: %d bytes, prefix %q suffix %q", len(got), got[:5], got[len(got)-7:])
	}
}
