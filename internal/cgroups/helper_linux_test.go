package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the process put into cgroups: with
// UNHA_CGROUP_HELPER set it waits for a line on stdin (so the test can
// place it first), then does its job.
func TestMain(m *testing.M) {
	switch os.Getenv("UNHA_CGROUP_HELPER") {
	case "":
		os.Exit(m.Run())
	case "hog":
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		for {
			b := make([]byte, 8<<20)
			for i := range b {
				if i%4096 == 0 {
					b[i] = 1
				}
			}
			hogSink = append(hogSink, b)
		}
	case "enter":
		// Move the main thread (locked to us by init below) into the
		// cgroups whose tasks files are fds 3..3+UNHA_FDS-1.
		n, _ := strconv.Atoi(os.Getenv("UNHA_FDS"))
		for i := 0; i < n; i++ {
			if _, err := unix.Write(3+i, []byte("0")); err != nil {
				fmt.Printf("enter fd %d: %v\n", 3+i, err)
				os.Exit(1)
			}
		}
		fmt.Println("in")
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "open":
		// UNHA_OPEN="path:mode path:mode", mode r or w.
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		for _, spec := range strings.Fields(os.Getenv("UNHA_OPEN")) {
			path, mode, _ := strings.Cut(spec, ":")
			flag := os.O_RDONLY
			if mode == "w" {
				flag = os.O_WRONLY
			}
			f, err := os.OpenFile(path, flag, 0)
			if err != nil {
				fmt.Printf("%s denied\n", spec)
				continue
			}
			f.Close()
			fmt.Printf("%s ok\n", spec)
		}
		os.Exit(0)
	}
	os.Exit(2)
}

func init() {
	if os.Getenv("UNHA_CGROUP_HELPER") == "enter" {
		// The main thread is the one /proc/PID/cgroup shows.
		runtime.LockOSThread()
	}
}

// hogSink keeps the hog's memory reachable.
var hogSink [][]byte

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *strings.Builder
}

// startHelper starts the helper in mode; cgfd >= 0 clones it straight into
// that cgroup2 directory. Cleanup kills and reaps it.
func startHelper(t *testing.T, mode string, env []string, cgfd int) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(exe)
	c.Env = append(append(os.Environ(), "UNHA_CGROUP_HELPER="+mode), env...)
	if cgfd >= 0 {
		c.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgfd}
	}
	h := &helper{cmd: c, out: &strings.Builder{}}
	c.Stdout = h.out
	h.stdin, err = c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	return h
}

// run lets the helper go and waits for it.
func (h *helper) run() (string, error) {
	_, _ = io.WriteString(h.stdin, "go\n")
	h.stdin.Close()
	err := h.cmd.Wait()
	return h.out.String(), err
}
