// Package initmsg is the typed protocol between the runtime and a
// container's init (or exec helper) over their SOCK_SEQPACKET socketpair.
// Each packet is one Msg (wire.go; JSON from the C constructor); a packet
// may carry one fd (SCM_RIGHTS). Both
// sides import only this small package, so init does not link the
// lifecycle code, and every failure inside init reaches the caller as an
// "error" message instead of a bare exit status.
package initmsg

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/seccomp"
)

// Message types, in the order they normally flow.
const (
	TypeIDMap   = "idmap"   // init (C stage) -> runtime: write my uid/gid maps
	TypePid     = "pid"     // init (C stage) -> runtime: the forked init's pid
	TypeConfig  = "config"  // runtime -> init: what to build
	TypeLog     = "log"     // init -> runtime: a log line
	TypePty     = "pty"     // init -> runtime: the pty master (fd attached)
	TypeSeccomp = "seccomp" // init -> runtime: the seccomp notify fd (fd attached)
	TypeMounted = "mounted" // init -> runtime: rootfs is mounted, run prestart/createRuntime hooks
	TypeGo      = "go"      // runtime -> init: carry on
	TypeReady   = "ready"   // init -> runtime: set up; next is the exec fifo or execve
	TypeError   = "error"   // either way: failure, then the sender exits
)

// Msg is one packet.
type Msg struct {
	Type   string  `json:"type"`
	Error  string  `json:"error,omitempty"`
	Pid    int     `json:"pid,omitempty"`
	Level  string  `json:"level,omitempty"`
	Text   string  `json:"msg,omitempty"`
	Config *Config `json:"config,omitempty"`
	// Seccomp rides on the "go" that answers "mounted": the runtime
	// compiles the filter while init builds the rootfs.
	Seccomp *seccomp.Program `json:"seccomp,omitempty"`
}

// Config is everything init needs. For create, Spec is the whole validated
// config; for exec, Spec is the container's config (for its mounts-free
// settings such as seccomp and the rootfs path) and Process replaces
// Spec.Process.
type Config struct {
	Exec         bool              `json:"exec,omitempty"`
	ID           string            `json:"id"`
	Bundle       string            `json:"bundle"`
	Spec         *specs.Spec       `json:"spec"`
	Process      *specs.Process    `json:"process,omitempty"`
	NoPivot      bool              `json:"noPivot,omitempty"`
	NoNewKeyring bool              `json:"noNewKeyring,omitempty"`
	Console      bool              `json:"console,omitempty"`     // allocate a pty and send its master
	PreserveFds  int               `json:"preserveFds,omitempty"` // fds 3..3+N-1 are the caller's, kept
	NewCgroupNS  bool              `json:"newCgroupNS,omitempty"` // unshare it once placed in the cgroup
	NewUserNS    bool              `json:"newUserNS,omitempty"`   // init runs in a user namespace of its own
	CgroupPaths  map[string]string `json:"cgroupPaths,omitempty"` // for type "cgroup" mounts on v1
	FifoFd       int               `json:"fifoFd,omitempty"`      // O_PATH fd of the exec fifo (create)
	IDMapFds     map[int]int       `json:"idmapFds,omitempty"`    // spec.mounts index -> fd of its idmapped tree
	State        specs.State       `json:"state"`                 // for createContainer/startContainer hooks
	LogLevel     string            `json:"logLevel,omitempty"`
	// Seccomp is the compiled filter for exec (create sends it later, on
	// the "go" message).
	Seccomp *seccomp.Program `json:"seccomp,omitempty"`
}
