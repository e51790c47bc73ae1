package process

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Root tests apply attributes in a re-executed test binary, so that the
// test process itself keeps its credentials, limits and scheduling. The
// child runs childFuncs[name] on a locked thread and prints its result as
// JSON; a failure prints "error: ..." and exits 1.
const (
	childEnv    = "UNHA_PROCESS_CHILD"
	childArgEnv = "UNHA_PROCESS_ARG"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		runtime.LockOSThread()
		fn, ok := childFuncs[name]
		if !ok {
			fmt.Printf("error: no child %q\n", name)
			os.Exit(1)
		}
		res, err := fn(os.Getenv(childArgEnv))
		if err != nil {
			fmt.Printf("error: %v\n", err)
			os.Exit(1)
		}
		b, _ := json.Marshal(res)
		os.Stdout.Write(append(b, '\n'))
		os.Exit(0)
	}
	code := m.Run()
	if left := leftoverChildren(); left != "" {
		fmt.Fprintf(os.Stderr, "tests left child processes behind: %s\n", left)
		code = 1
	}
	os.Exit(code)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// child runs childFuncs[name](arg) in a new process and decodes its result
// into res. It returns the child's error line, if it failed that way.
func child(t *testing.T, name string, arg any, attr *syscall.SysProcAttr, res any) string {
	t.Helper()
	a, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{childEnv + "=" + name, childArgEnv + "=" + string(a)}
	cmd.SysProcAttr = attr
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	text := strings.TrimSpace(string(out))
	if msg, ok := strings.CutPrefix(text, "error: "); ok {
		return msg
	}
	if err != nil {
		t.Fatalf("child %s: %v\n%s%s", name, err, out, stderr.String())
	}
	if res != nil {
		if err := json.Unmarshal([]byte(text), res); err != nil {
			t.Fatalf("child %s output %q: %v", name, text, err)
		}
	}
	return ""
}

// statusFields reads "Key:\tvalue" lines from a /proc status file.
func statusFields(path string, keys ...string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		for _, want := range keys {
			if k == want {
				out[k] = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	return out, nil
}

var childFuncs = map[string]func(arg string) (any, error){
	"rlimits":      childRlimits,
	"rlimit-raise": childRlimitRaise,
	"user":         childUser,
	"ioprio":       childIOPrio,
	"sched":        childSched,
	"affinity":     childAffinity,
	"affinity-all": childAffinityAll,
	"personality":  childPersonality,
	"oom":          childOOM,
	"sysctl":       childSysctl,
	"uts":          childUTS,
}

func decode[T any](arg string) (T, error) {
	var v T
	err := json.Unmarshal([]byte(arg), &v)
	return v, err
}
