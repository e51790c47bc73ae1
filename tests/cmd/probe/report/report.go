// Package report holds the JSON shape that tests/cmd/probe prints from inside a container, so
// that the probe and the black-box tests decode the same structure. It has no dependencies on
// purpose: the probe is a small static binary copied into every test rootfs.
package report

// Report is what `probe json` prints: one object describing the process as the container sees it.
// Fields that could not be read are left zero and the reason is appended to Errors, so a test
// can tell "the kernel says 0" from "the probe could not look".
type Report struct {
	Args        []string          `json:"args"`
	Pid         int               `json:"pid"`
	Ppid        int               `json:"ppid"`
	Uid         int               `json:"uid"`
	Gid         int               `json:"gid"`
	Euid        int               `json:"euid"`
	Egid        int               `json:"egid"`
	Groups      []int             `json:"groups"`
	Hostname    string            `json:"hostname"`
	Domainname  string            `json:"domainname"`
	Cwd         string            `json:"cwd"`
	Env         []string          `json:"env"`
	Umask       string            `json:"umask"`
	Caps        Caps              `json:"caps"`
	NoNewPrivs  int               `json:"noNewPrivs"`
	Seccomp     int               `json:"seccomp"`
	Rlimits     map[string]Rlimit `json:"rlimits"`
	OOMScoreAdj int               `json:"oomScoreAdj"`
	// Tty reports isatty for fds 0, 1 and 2.
	Tty [3]bool `json:"tty"`
	// Fds maps every fd open when the probe started to its /proc/self/fd link target.
	Fds        map[int]string    `json:"fds"`
	Mounts     []Mount           `json:"mounts"`
	Dev        []DevEntry        `json:"dev"`
	Namespaces map[string]string `json:"namespaces"`
	Cgroup     []string          `json:"cgroup"`
	UIDMap     string            `json:"uidMap"`
	GIDMap     string            `json:"gidMap"`
	Net        []NetIf           `json:"net"`
	Ioprio     int               `json:"ioprio"`
	// Personality is the value of personality(0xffffffff).
	Personality int   `json:"personality"`
	CPUAffinity []int `json:"cpuAffinity"`
	// SchedPolicy is sched_getscheduler(0) (SCHED_OTHER is 0).
	SchedPolicy int      `json:"schedPolicy"`
	Errors      []string `json:"errors,omitempty"`
}

// Caps are the five capability sets from /proc/self/status.
type Caps struct {
	Inh uint64 `json:"inh"`
	Prm uint64 `json:"prm"`
	Eff uint64 `json:"eff"`
	Bnd uint64 `json:"bnd"`
	Amb uint64 `json:"amb"`
}

// Rlimit is a soft/hard pair; RLIM_INFINITY is the maximum uint64.
type Rlimit struct {
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	ID      int    `json:"id"`
	Parent  int    `json:"parent"`
	Root    string `json:"root"`
	Point   string `json:"point"`
	Options string `json:"options"`
	FSType  string `json:"fstype"`
	Source  string `json:"source"`
	Super   string `json:"super"`
}

// DevEntry is one entry below /dev. Type is one of c b d l f p s.
type DevEntry struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Major  uint32 `json:"major,omitempty"`
	Minor  uint32 `json:"minor,omitempty"`
	Mode   uint32 `json:"mode"`
	Uid    int    `json:"uid"`
	Gid    int    `json:"gid"`
	Target string `json:"target,omitempty"`
}

// NetIf is one interface from /sys/class/net.
type NetIf struct {
	Name      string `json:"name"`
	Flags     uint64 `json:"flags"`
	Operstate string `json:"operstate"`
}

// HookRecord is what `probe hook NAME DIR` writes to DIR/NAME.json.
type HookRecord struct {
	Name string `json:"name"`
	// State is the raw JSON the runtime passed on stdin.
	State      string            `json:"state"`
	Args       []string          `json:"args"`
	Env        []string          `json:"env"`
	Pid        int               `json:"pid"`
	Namespaces map[string]string `json:"namespaces"`
}
