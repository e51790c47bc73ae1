package ociexec

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeRuntime is a shell script speaking the runtime CLI: it records its
// argv (one argument a line) in $dir/argv and answers per verb. The id
// "gone" does not exist, "stopped" is not running; errors go to the --log
// file as JSON when one is given, else to stderr, as runc does.
const fakeRuntime = `#!/bin/sh
for a; do printf '%s\n' "$a"; done > "$(dirname "$0")/argv"
log=""
while [ $# -gt 0 ]; do
	case "$1" in
	--root|--log-format) shift 2;;
	--log) log=$2; shift 2;;
	--debug) shift;;
	*) break;;
	esac
done
verb=$1; shift
for a; do id=$a; done
fail() {
	if [ -n "$log" ]; then printf '{"level":"error","msg":"%s","time":"2024-01-01T00:00:00Z"}\n' "$1" >> "$log"
	else echo "$1" >&2; fi
	exit 1
}
case "$verb" in
--version) printf 'fake version 1\ncommit: x\nspec: 1.2.0\n';;
state)
	[ "$id" = gone ] && fail "container does not exist"
	printf '{"ociVersion":"1.0.2","id":"%s","pid":42,"status":"running","bundle":"/b","rootfs":"/b/rootfs","created":"2024-01-02T03:04:05Z","owner":"","annotations":{"a":"b"}}' "$id";;
kill)
	case "$*" in *stopped*) fail "container not running";; esac;;
delete) if [ "$id" = gone ]; then fail "container does not exist"; fi;;
create) echo "hello from create"; echo "to stderr" >&2;;
run)
	case "$id" in
	exit3) exit 3;;
	broken) fail "unable to start container process: exec: \"nosuch\": executable file not found in \$PATH";;
	esac;;
exec) for a; do [ "$prev" = --process ] && cp "$a" "$(dirname "$0")/process.json"; prev=$a; done;;
start) ;;
*) fail "unknown verb $verb";;
esac
`

func newFake(t *testing.T) (*Runtime, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "fake-runtime")
	if err := os.WriteFile(path, []byte(fakeRuntime), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Runtime{Path: path, Root: "/run/x"}, dir
}

func argv(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "argv"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCreateArgsAndIO(t *testing.T) {
	r, dir := newFake(t)
	r.Log = filepath.Join(dir, "log.json")
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	err = r.Create(ctx(t), "c1", CreateOpts{
		Bundle: "/b", PidFile: "/b/pid", ConsoleSocket: "/s", NoPivot: true, NoNewKeyring: true,
		ExtraFiles: []*os.File{extra}, IO: IO{Stdout: out, Stderr: out},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--root", "/run/x", "--log", r.Log, "--log-format", "json", "create",
		"--bundle", "/b", "--pid-file", "/b/pid", "--console-socket", "/s", "--no-pivot",
		"--no-new-keyring", "--preserve-fds", "1", "c1"}
	if got := argv(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("argv\n got %q\nwant %q", got, want)
	}
	data, _ := os.ReadFile(out.Name())
	if string(data) != "hello from create\nto stderr\n" {
		t.Errorf("container stdio got %q", data)
	}
}

func TestCreateNeedsBundle(t *testing.T) {
	r, _ := newFake(t)
	if err := r.Create(ctx(t), "c1", CreateOpts{}); err == nil {
		t.Fatal("create without bundle succeeded")
	}
}

func TestState(t *testing.T) {
	r, dir := newFake(t)
	st, err := r.State(ctx(t), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "c1" || st.Pid != 42 || st.Status != specs.StateRunning || st.Bundle != "/b" ||
		st.Rootfs != "/b/rootfs" || st.Annotations["a"] != "b" || st.Created.Year() != 2024 {
		t.Errorf("state parsed as %+v", st)
	}
	if got := argv(t, dir); !reflect.DeepEqual(got, []string{"--root", "/run/x", "state", "c1"}) {
		t.Errorf("argv %q", got)
	}
}

func TestNotExistFromLog(t *testing.T) {
	r, dir := newFake(t)
	r.Log = filepath.Join(dir, "log.json")
	// An earlier, unrelated error in the same log must not be reported.
	if err := os.WriteFile(r.Log, []byte(`{"level":"error","msg":"old failure"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := r.State(ctx(t), "gone")
	if !errors.Is(err, ErrNotExist) {
		t.Fatalf("state of missing container: %v, want ErrNotExist", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Msg != "container does not exist" || e.Status != 1 || e.Verb != "state" {
		t.Errorf("error %#v", e)
	}
	if err := r.Delete(ctx(t), "gone", false); !errors.Is(err, ErrNotExist) {
		t.Errorf("delete of missing container: %v", err)
	}
}

func TestNotRunningFromStderr(t *testing.T) {
	r, dir := newFake(t)
	err := r.Kill(ctx(t), "stopped", syscall.SIGTERM, true)
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "container not running") {
		t.Fatalf("kill of stopped container: %v", err)
	}
	want := []string{"--root", "/run/x", "kill", "--all", "stopped", "15"}
	if got := argv(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("argv %q, want %q", got, want)
	}
	if err := r.Kill(ctx(t), "c1", syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if got := argv(t, dir); !reflect.DeepEqual(got, []string{"--root", "/run/x", "kill", "c1", "9"}) {
		t.Errorf("argv %q", got)
	}
}

func TestDeleteForce(t *testing.T) {
	r, dir := newFake(t)
	r.Root = ""
	r.Debug = true
	if err := r.Delete(ctx(t), "c1", true); err != nil {
		t.Fatal(err)
	}
	if got := argv(t, dir); !reflect.DeepEqual(got, []string{"--debug", "delete", "--force", "c1"}) {
		t.Errorf("argv %q", got)
	}
}

func TestRunStatus(t *testing.T) {
	r, _ := newFake(t)
	code, err := r.Run(ctx(t), "exit3", CreateOpts{Bundle: "/b"})
	if err != nil || code != 3 {
		t.Errorf("run exit3: %d, %v; want 3, nil", code, err)
	}
	code, err = r.Run(ctx(t), "ok", CreateOpts{Bundle: "/b"})
	if err != nil || code != 0 {
		t.Errorf("run ok: %d, %v", code, err)
	}
	// With stdio handed over and no --log, a private log still carries
	// the runtime's own error.
	_, err = r.Run(ctx(t), "broken", CreateOpts{Bundle: "/b"})
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Errorf("run broken: %v", err)
	}
}

func TestExecProcessFile(t *testing.T) {
	r, dir := newFake(t)
	p := &specs.Process{Args: []string{"echo", "hi there"}, Cwd: "/", Env: []string{"A=B"}}
	if _, err := r.Exec(ctx(t), "c1", p, ExecOpts{Detach: true, PidFile: "/p"}); err != nil {
		t.Fatal(err)
	}
	got := argv(t, dir)
	// Temporary file names vary: a private log (stdio handed over, no
	// --log) and the process file.
	if len(got) != 13 || got[2] != "--log" || got[6] != "exec" || got[7] != "--process" ||
		!reflect.DeepEqual(got[9:], []string{"--detach", "--pid-file", "/p", "c1"}) {
		t.Fatalf("argv %q", got)
	}
	for _, tmp := range []string{got[3], got[8]} {
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("temporary file %s left behind: %v", tmp, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "process.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Process
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Args, p.Args) || back.Env[0] != "A=B" {
		t.Errorf("process file %s", data)
	}
}

func TestMissingBinary(t *testing.T) {
	r := &Runtime{Path: filepath.Join(t.TempDir(), "nope")}
	err := r.Start(ctx(t), "c1")
	var e *Error
	if !errors.As(err, &e) || e.Status != -1 {
		t.Fatalf("start with missing runtime: %v", err)
	}
}

func TestVersion(t *testing.T) {
	r, _ := newFake(t)
	v, err := r.Version(ctx(t))
	if err != nil || !strings.HasPrefix(v, "fake version 1\n") || !strings.HasSuffix(v, "spec: 1.2.0") {
		t.Errorf("version %q, %v", v, err)
	}
}

func TestLastError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "log")
	content := `{"level":"info","msg":"starting"}
{"level":"error","msg":"first"}
not json: some error happened
{"level":"warning","msg":"careful"}
`
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lastError(p, 0); got != "not json: some error happened" {
		t.Errorf("lastError = %q", got)
	}
	off := int64(strings.Index(content, "not json"))
	if got := lastError(p, off+int64(len("not json: some error happened\n"))); got != "" {
		t.Errorf("lastError after offset = %q, want none", got)
	}
	if got := classify("container `x` does not exist"); got != ErrNotExist {
		t.Errorf("classify crun message: %v", got)
	}
	if got := classify("some other failure"); got != nil {
		t.Errorf("classify: %v", got)
	}
}
