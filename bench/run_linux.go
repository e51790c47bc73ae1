package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// runtime is one runtime under test, with a state root of its own.
type runtime struct {
	name, path, root string
}

// sample is one runtime invocation: wall time from fork to reaping, and
// ru_maxrss in KiB.
type sample struct {
	d   time.Duration
	rss int64
}

// invoke runs the runtime with its --root and args, stdin /dev/null, and
// returns its time and peak RSS.
func (r runtime) invoke(args ...string) (sample, error) {
	argv := append([]string{r.path, "--root", r.root}, args...)
	// A file, not a pipe: after `create` the container's init holds the
	// runtime's stdio, and a reader of a pipe would wait for it to close.
	out, err := os.CreateTemp("", "unha-bench-out-")
	if err != nil {
		return sample{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return sample{}, err
	}
	defer null.Close()
	ws, rss, d, err := spawn(r.path, argv, null, out)
	if err == nil && (!ws.Exited() || ws.ExitStatus() != 0) {
		err = fmt.Errorf("%s", describe(ws))
	}
	if err != nil {
		msg, _ := os.ReadFile(out.Name())
		return sample{}, fmt.Errorf("%s %s: %w: %s", r.name, strings.Join(args, " "), err, strings.TrimSpace(string(msg)))
	}
	return sample{d: d, rss: rss}, nil
}

// describe words a wait status as os/exec does.
func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// split runs create, start and delete, waiting in between for the container
// process to exit. The bench is a child subreaper (prctl(2)
// PR_SET_CHILD_SUBREAPER), so the container's init, orphaned when `create`
// returns, is re-parented to it and its exit is observed with wait4 instead
// of by polling `state`.
func (r runtime) split(bundle, id, pidFile string) (create, start, del sample, err error) {
	if create, err = r.invoke("create", "--bundle", bundle, "--pid-file", pidFile, id); err != nil {
		return
	}
	pid, perr := readPid(pidFile)
	if start, err = r.invoke("start", id); err != nil {
		_, _ = r.invoke("delete", "--force", id)
		return
	}
	if perr != nil || !reap(pid) {
		if err = r.waitStopped(id, 10*time.Second); err != nil {
			_, _ = r.invoke("delete", "--force", id)
			return
		}
	}
	del, err = r.invoke("delete", id)
	return
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// reap waits for pid if it is our child; false if it is not.
func reap(pid int) bool {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil
	}
}

func (r runtime) waitStopped(id string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		out, err := exec.Command(r.path, "--root", r.root, "state", id).Output()
		if err == nil && bytes.Contains(out, []byte(`"stopped"`)) {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s: container %s did not stop within %s", r.name, id, limit)
}

// cleanup force-deletes whatever containers are left in the runtime's state
// root and reports their ids.
func (r runtime) cleanup() []string {
	entries, _ := os.ReadDir(r.root)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
		_, _ = r.invoke("delete", "--force", e.Name())
	}
	return left
}

func setSubreaper() error {
	return os.NewSyscallError("prctl PR_SET_CHILD_SUBREAPER", unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
}

// reapOrphans reaps every child that has exited, without waiting, and
// returns their pids. Call it only while no exec.Cmd of ours is running: it
// would steal that child's status.
func reapOrphans() []int {
	var pids []int
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return pids
		}
		pids = append(pids, pid)
	}
}
