package initproc

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/process"
)

// applyAttrs sets the process attributes that need privilege (raising
// hard rlimits, real-time scheduling and I/O classes), so it runs before
// the capabilities are dropped. Each is inherited across execve.
func applyAttrs(p *specs.Process, l *specs.Linux) error {
	if len(p.Rlimits) > 0 {
		limits, err := process.ParseRlimits(p.Rlimits)
		if err != nil {
			return err
		}
		// Only the privileged half now; execve sets the exact values.
		if err := process.RaiseHardRlimits(limits); err != nil {
			return err
		}
	}
	if p.OOMScoreAdj != nil {
		if err := process.SetOOMScoreAdj(0, *p.OOMScoreAdj); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		prio, err := process.ParseIOPriority(p.IOPriority)
		if err != nil {
			return err
		}
		if err := process.SetIOPriority(0, prio); err != nil {
			return err
		}
	}
	if p.Scheduler != nil {
		s, err := process.ParseScheduler(p.Scheduler)
		if err != nil {
			return err
		}
		if err := process.SetScheduler(0, s); err != nil {
			return err
		}
	}
	if l != nil && l.Personality != nil {
		pers, err := process.ParsePersonality(l.Personality)
		if err != nil {
			return err
		}
		if err := process.SetPersonality(pers); err != nil {
			return err
		}
	}
	return nil
}

// finalAffinity applies execCPUAffinity.final just before execve.
func finalAffinity(p *specs.Process) error {
	if p.ExecCPUAffinity == nil {
		return nil
	}
	a, err := process.ParseCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return err
	}
	if a.Final == nil {
		return nil
	}
	return process.SetAffinity(0, a.Final)
}

// withHome adds HOME from the container's /etc/passwd when the config does
// not set it, as runc does (and as shells and many programs expect).
func withHome(env []string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	// The container owns /etc/passwd: it may be a fifo (O_NONBLOCK keeps
	// the open from hanging) or a device; read only a regular file.
	if f, err := os.OpenFile("/etc/passwd", os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
		defer f.Close()
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return append(env[:len(env):len(env)], "HOME="+home)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ":")
			if len(fields) >= 6 && fields[2] == strconv.FormatUint(uint64(uid), 10) && fields[5] != "" {
				home = fields[5]
				break
			}
		}
	}
	return append(env[:len(env):len(env)], "HOME="+home)
}
