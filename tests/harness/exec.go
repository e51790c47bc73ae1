package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Exec runs `exec FLAGS... ID ARGS...` in the foreground; the exec'd process's stdout and
// stderr are the Result's, its exit status is the Result's Code.
func (c *Container) Exec(flags []string, args ...string) Result {
	c.e.T.Helper()
	return c.ExecWith(RunOpts{}, flags, args...)
}

// ExecWith is Exec with options (stdin, extra files).
func (c *Container) ExecWith(o RunOpts, flags []string, args ...string) Result {
	c.e.T.Helper()
	full := append(append(append([]string{"exec"}, flags...), c.ID), args...)
	return c.e.RunWith(o, full...)
}

// Detached is a process started with `exec --detach --pid-file`. Its stdout and stderr go
// to files of the test directory, because it outlives the runtime that started it.
type Detached struct {
	// Pid is the host pid read from the pid file.
	Pid int
	// PidFileContent is the pid file exactly as the runtime wrote it.
	PidFileContent string
	OutPath        string
	c              *Container
}

// ExecDetached runs `exec --detach --pid-file P FLAGS... ID ARGS...`. It fails the test unless
// the runtime succeeded and wrote a pid file holding a pid; the process is tracked, so cleanup
// fails the test if `delete --force` leaves it alive.
func (c *Container) ExecDetached(flags []string, args ...string) *Detached {
	c.e.T.Helper()
	out, err := os.CreateTemp(c.e.Dir, "exec-out-")
	if err != nil {
		c.e.T.Fatal(err)
	}
	defer out.Close()
	errf, err := os.CreateTemp(c.e.Dir, "exec-err-")
	if err != nil {
		c.e.T.Fatal(err)
	}
	defer errf.Close()
	pidFile := filepath.Join(c.e.Dir, filepath.Base(out.Name())+".pid")
	full := append([]string{"--detach", "--pid-file", pidFile}, flags...)
	r := c.ExecWith(RunOpts{Stdout: out, Stderr: errf}, full, args...)
	if !r.OK() {
		c.e.T.Fatalf("exec --detach: %s", r)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		c.e.T.Fatalf("exec --detach: pid file: %v", err)
	}
	d := &Detached{PidFileContent: string(b), OutPath: out.Name(), c: c}
	if d.Pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || d.Pid <= 0 {
		c.e.T.Fatalf("exec --detach: pid file holds %q", b)
	}
	c.e.TrackPid(d.Pid)
	return d
}

// Output is what the detached process wrote to stdout and stderr so far.
func (d *Detached) Output() string {
	b, _ := os.ReadFile(d.OutPath)
	return string(b)
}

// WaitOutput polls the detached process's stdout until it contains a line equal to line.
func (d *Detached) WaitOutput(line string) {
	d.c.e.T.Helper()
	for deadline := time.Now().Add(DefaultTimeout); time.Now().Before(deadline); {
		for _, l := range strings.Split(d.Output(), "\n") {
			if strings.TrimSpace(l) == line {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.c.e.T.Fatalf("exec'd process %d never printed %q; output %q", d.Pid, line, d.Output())
}

// WaitGone waits until the detached process has exited (it may stay a zombie until its
// reaper gets to it).
func (d *Detached) WaitGone() {
	d.c.e.T.Helper()
	for deadline := time.Now().Add(DefaultTimeout); time.Now().Before(deadline); {
		if !ProcessAlive(d.Pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.c.e.T.Fatalf("exec'd process %d still alive", d.Pid)
}

// CgroupPeers returns the live (non-zombie) processes whose /proc/PID/cgroup is exactly
// pid's, pid included: the processes of a container, given its init.
func CgroupPeers(pid int) ([]int, error) {
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, p := range listPids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p))
		if err != nil || string(b) != string(own) {
			continue
		}
		if st := procState(p); st != "" && st != "Z" {
			out = append(out, p)
		}
	}
	return out, nil
}
