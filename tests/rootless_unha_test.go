package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/unha/unha/tests/harness"
)

var cidSeq atomic.Int32

// unhaAs runs `unha --runtime RUNTIME run --cidfile F ARGS...` as the env's user, with only
// HOME and XDG_RUNTIME_DIR set as a login would set them: the data root must default to
// $HOME/.local/share/unha and the runtime root to $XDG_RUNTIME_DIR/unha/runtime.
func unhaAs(t *testing.T, e *harness.Env, args ...string) (string, string, int) {
	t.Helper()
	unha, err := suite.Unha()
	if err != nil {
		t.Fatal(err)
	}
	cid := filepath.Join(e.As.Home, "cid-"+strconv.Itoa(int(cidSeq.Add(1))))
	ctx, cancel := context.WithTimeout(context.Background(), harness.DefaultTimeout)
	defer cancel()
	full := append([]string{"--runtime", suite.Runtime, "run", "--cidfile", cid}, args...)
	cmd := exec.CommandContext(ctx, unha, full...)
	cmd.Dir = e.As.Home
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + e.As.Home, "XDG_RUNTIME_DIR=" + e.As.RuntimeDir()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: e.As.Uid, Gid: e.As.Gid, Groups: []uint32{}}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if id, rerr := os.ReadFile(cid); rerr == nil && len(id) == 64 {
		e.Track(string(id))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("unha %v: %v", full, err)
	}
	return out.String(), errb.String(), code
}

// TestRootlessUnhaRun: `unha run` on the host image as an unprivileged user: the caller is root
// in a user namespace of its own, with a network namespace holding lo only (or the host's),
// and nothing is left in its data and runtime roots after --rm.
func TestRootlessUnhaRun(t *testing.T) {
	e := newRootlessEnv(t)
	out, errs, code := unhaAs(t, e, "--rm", "host", "sh", "-c",
		"id -u; cat /proc/self/uid_map; ls /sys/class/net; touch /tmp/x && echo tmp-ok; touch /usr/x 2>/dev/null || echo usr-ro")
	if code != 0 {
		t.Fatalf("unha run: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	got := strings.Fields(out)
	if want := "0 0 65534 1 lo tmp-ok usr-ro"; strings.Join(got, " ") != want {
		t.Errorf("inside: %q, want %q", strings.Join(got, " "), want)
	}
	data := filepath.Join(e.As.Home, ".local", "share", "unha")
	if ents, err := os.ReadDir(filepath.Join(data, "containers")); err != nil || len(ents) != 0 {
		t.Errorf("data root %s: %v entries %v after --rm", data, err, ents)
	}
	rt := filepath.Join(e.As.RuntimeDir(), "unha", "runtime")
	if ents, err := os.ReadDir(rt); err != nil || len(ents) != 0 {
		t.Errorf("runtime root %s: %v entries %v after --rm", rt, err, ents)
	}

	t.Run("host-network", func(t *testing.T) {
		hostIfs, err := os.ReadDir("/sys/class/net")
		if err != nil {
			t.Fatal(err)
		}
		out, errs, code := unhaAs(t, e, "--rm", "--network", "host", "host", "ls", "/sys/class/net")
		if code != 0 || len(strings.Fields(out)) != len(hostIfs) {
			t.Errorf("exit %d, interfaces %q (want the host's %d): %s", code, out, len(hostIfs), errs)
		}
	})
	t.Run("limit-refused", func(t *testing.T) {
		_, errs, code := unhaAs(t, e, "--rm", "--memory", "64m", "host", "true")
		if code != 125 || !strings.Contains(errs, "memory") {
			t.Errorf("a memory limit without a delegated cgroup: exit %d, stderr %q", code, errs)
		}
	})
}
