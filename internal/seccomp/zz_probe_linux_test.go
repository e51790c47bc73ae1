//go:build cgo

package seccomp

import (
	"testing"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestZZProbeLog(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, Syscalls: []specs.LinuxSyscall{rule([]string{"getcwd"}, specs.ActLog, nil), rule([]string{"umask"}, specs.ActErrno, nil)}}
	c := runChild(t, s, []string{"getcwd", "umask 0"})
	t.Logf("%+v", c)
}
