package rootfs

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Options are the runtime's choices that are not in the spec.
type Options struct {
	// NoPivot is `create --no-pivot`: MS_MOVE the rootfs onto / and chroot
	// instead of pivot_root.
	NoPivot bool
	// InUserNS: init runs in a new user namespace, where mknod(2) is not
	// allowed, so device nodes are bind-mounted from the host.
	InUserNS bool
	// NoMountNS: the spec has no mount namespace, so init shares the
	// caller's. It must equal the spec (Prepare checks): mounts then happen
	// in the caller's namespace and Enter chroots, as runc does.
	NoMountNS bool
	// CgroupPaths maps a cgroup v1 controller ("cpu", "memory",
	// "name=systemd", ...) to the host directory of the container's cgroup
	// in that hierarchy, and "" to its cgroup v2 directory. A hierarchy
	// missing from the map (or a nil map) uses init's own cgroup from
	// /proc/self/cgroup, which is the container's once init has joined it.
	CgroupPaths map[string]string
	// Logger gets debug lines; nil discards them.
	Logger *slog.Logger
	// IDMapped holds, by index in spec.mounts, the detached trees the
	// runtime made for idmapped binds (PrepareIDMapped). The caller keeps
	// ownership and closes them.
	IDMapped map[int]*os.File
}

// Kind says how a MountOp is carried out.
type Kind string

const (
	// KindBind clones a host tree (open_tree) onto the destination.
	KindBind Kind = "bind"
	// KindFS creates a new filesystem instance (fsopen, fsmount).
	KindFS Kind = "fs"
	// KindRemount changes the mount already at the destination: its
	// per-mount flags (mount_setattr) and, unless Bind, its superblock
	// (fspick + FSCONFIG_CMD_RECONFIGURE).
	KindRemount Kind = "remount"
	// KindCgroup is a spec mount of type "cgroup": a cgroup2 mount on a
	// unified host, a tmpfs with one entry per v1 hierarchy otherwise; it is
	// expanded when applied because it depends on the host's layout.
	KindCgroup Kind = "cgroup"
)

// Attr is a pair of MOUNT_ATTR_* masks as mount_setattr(2) takes them.
type Attr struct {
	Set uint64 `json:"set,omitempty"`
	Clr uint64 `json:"clr,omitempty"`
}

// MountOp is one mount, decided from the spec and nothing else.
type MountOp struct {
	Index       int    `json:"index"` // position in spec.mounts, -1 if synthesised
	Kind        Kind   `json:"kind"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"` // clean, absolute, inside the container
	Type        string `json:"type,omitempty"`
	// Recursive is rbind: the whole tree under Source is cloned.
	Recursive bool `json:"recursive,omitempty"`
	// Bind marks a KindRemount that only changes per-mount flags.
	Bind bool `json:"bind,omitempty"`
	// Flags and Cleared are the MS_* flags the options set and clear, kept
	// for --debug output; Attr, RecAttr and SbFlags are what is applied.
	Flags   uint64 `json:"flags,omitempty"`
	Cleared uint64 `json:"cleared,omitempty"`
	// Attr is applied to the mount itself: fsmount's attributes for a new
	// filesystem, mount_setattr for a bind (the MS_REMOUNT|MS_BIND step).
	Attr Attr `json:"attr"`
	// RecAttr is applied with AT_RECURSIVE ("rro" and friends).
	RecAttr *Attr `json:"recAttr,omitempty"`
	// Propagation is a list of MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE,
	// each maybe with MS_REC, applied in order after the mount is attached.
	Propagation []uint64 `json:"propagation,omitempty"`
	// SbFlags are superblock flags for fsconfig(FSCONFIG_SET_FLAG).
	SbFlags []string `json:"sbFlags,omitempty"`
	// Data are filesystem options, one fsconfig call each.
	Data []string `json:"data,omitempty"`
	// CopyUp is runc's "tmpcopyup": the tmpfs starts with a copy of what
	// was in the directory it covers.
	CopyUp bool `json:"copyUp,omitempty"`
	// DelayRO: the read-only flag is applied by Finish, because later steps
	// write into the mount (device nodes in /dev, mountpoints in a tmpfs).
	DelayRO bool `json:"delayRO,omitempty"`
	// IDMap makes a bind an idmapped mount (mount_setattr MOUNT_ATTR_IDMAP,
	// runtime-spec 1.2's "idmap"/"ridmap" and mount uidMappings). The
	// runtime makes the detached tree (PrepareIDMapped) and init receives it
	// in Options.IDMapped: only a process privileged over the source's
	// superblock, i.e. in the initial user namespace, may idmap it.
	IDMap *IDMap `json:"idmap,omitempty"`
}

// IDMap is the mapping of an idmapped mount, in the user-namespace format
// (containerID, hostID, size). Through the mount, a file owned by id x on
// disk shows as host id hostID+(x-containerID): with the container's own
// mappings (0 -> 100000) a tree owned by host root shows as the
// container's root, and what the container writes there lands on disk as
// host root, with no chown of the tree.
type IDMap struct {
	UIDs []specs.LinuxIDMapping `json:"uids"`
	GIDs []specs.LinuxIDMapping `json:"gids"`
	// Recursive is "ridmap": every mount of an rbind tree is idmapped,
	// not only the top one.
	Recursive bool `json:"recursive,omitempty"`
}

// Plan turns spec.mounts into MountOps and checks what can be checked
// without touching the system.
func Plan(spec *specs.Spec, opts Options) ([]MountOp, error) {
	if spec == nil || spec.Root == nil || spec.Root.Path == "" {
		return nil, errors.New("spec has no root.path")
	}
	if !filepath.IsAbs(spec.Root.Path) {
		return nil, fmt.Errorf("root.path %q is not absolute", spec.Root.Path)
	}
	if hasNS := hasNamespace(spec, specs.MountNamespace); hasNS == opts.NoMountNS {
		if hasNS {
			return nil, errors.New("Options.NoMountNS is set but the spec has a mount namespace")
		}
		return nil, errors.New("the spec has no mount namespace: set Options.NoMountNS")
	}
	if spec.Linux != nil {
		if _, err := rootPropagation(spec.Linux.RootfsPropagation); err != nil {
			return nil, err
		}
		// runc's validator: without a mount namespace the masks would be
		// mounted over the host's own /proc and /sys.
		if opts.NoMountNS && (len(spec.Linux.MaskedPaths) > 0 || len(spec.Linux.ReadonlyPaths) > 0) {
			return nil, errors.New("unable to restrict sys entries without a private MNT namespace")
		}
	}
	ops := make([]MountOp, 0, len(spec.Mounts))
	for i, m := range spec.Mounts {
		op, err := planMount(i, m, spec.Linux)
		if err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", m.Source, m.Destination, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func planMount(i int, m specs.Mount, linux *specs.Linux) (MountOp, error) {
	if m.Destination == "" {
		return MountOp{}, errors.New("mount has no destination")
	}
	p, err := parseOptions(m.Options)
	if err != nil {
		return MountOp{}, err
	}
	op := MountOp{
		Index:       i,
		Source:      m.Source,
		Destination: cleanPath(m.Destination),
		Flags:       p.flags,
		Cleared:     p.cleared,
		Attr:        mountAttr(p),
		RecAttr:     p.rec,
		Propagation: p.prop,
		CopyUp:      p.copyUp,
	}
	bind := p.flags&unix.MS_BIND != 0 || m.Type == "bind"
	switch {
	case p.flags&unix.MS_REMOUNT != 0:
		op.Kind, op.Bind, op.Type = KindRemount, bind, m.Type
		if !bind {
			op.SbFlags, op.Data = sbFlags(p, true), p.data
		}
	case bind:
		op.Kind, op.Recursive = KindBind, p.flags&unix.MS_REC != 0
		if m.Source == "" {
			return op, errors.New("bind mount has no source")
		}
		if !filepath.IsAbs(m.Source) {
			return op, fmt.Errorf("bind source %q is not absolute", m.Source)
		}
		// p.data is dropped: mount(2) ignores data for MS_BIND as well.
	case m.Type == "cgroup":
		op.Kind, op.Type, op.Data = KindCgroup, m.Type, p.data
	case m.Type == "":
		return op, errors.New("mount has no type")
	default:
		op.Kind, op.Type, op.SbFlags, op.Data = KindFS, m.Type, sbFlags(p, false), p.data
	}
	if op.IDMap, err = planIDMap(m, p, op.Kind, linux); err != nil {
		return op, err
	}
	if op.CopyUp && (op.Kind != KindFS || op.Type != "tmpfs") {
		return op, errors.New("tmpcopyup is only valid for tmpfs mounts")
	}
	// runc mounts tmpfs and /dev writable and makes them read-only at the
	// end: device nodes and nested mountpoints are created inside them.
	if op.Kind != KindRemount && (op.Type == "tmpfs" || op.Destination == "/dev") && op.Attr.Set&unix.MOUNT_ATTR_RDONLY != 0 {
		op.Attr.Set &^= unix.MOUNT_ATTR_RDONLY
		op.SbFlags = without(op.SbFlags, "ro")
		op.DelayRO = true
	}
	if err := checkProcPath(op.Destination, op, nil); err != nil {
		return op, err
	}
	return op, nil
}

// planIDMap decides a mount's idmapping (runtime-spec config.md, "idmap"
// and "ridmap"): the mount's own mappings, else the container's user
// namespace mappings, else an error; mappings without either option still
// idmap the mount (non-recursively), so that they are never ignored.
func planIDMap(m specs.Mount, p parsedOptions, kind Kind, linux *specs.Linux) (*IDMap, error) {
	hasMaps := len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
	if p.idmap == idmapNone && !hasMaps {
		return nil, nil
	}
	if kind != KindBind {
		return nil, errors.New("idmapped mounts (idmap, ridmap, uidMappings, gidMappings) are only supported for bind mounts")
	}
	im := &IDMap{UIDs: m.UIDMappings, GIDs: m.GIDMappings, Recursive: p.idmap == idmapRecursive}
	switch {
	case hasMaps && (len(m.UIDMappings) == 0 || len(m.GIDMappings) == 0):
		return nil, errors.New("an idmapped mount needs both uidMappings and gidMappings")
	case !hasMaps && linux != nil && hasNamespace(&specs.Spec{Linux: linux}, specs.UserNamespace) &&
		len(linux.UIDMappings) > 0 && len(linux.GIDMappings) > 0:
		im.UIDs, im.GIDs = linux.UIDMappings, linux.GIDMappings
	case !hasMaps:
		return nil, errors.New("mount option idmap/ridmap needs uidMappings and gidMappings on the mount or a user namespace with mappings")
	}
	for _, set := range [][]specs.LinuxIDMapping{im.UIDs, im.GIDs} {
		for _, x := range set {
			if x.Size == 0 {
				return nil, errors.New("idmapped mount: a mapping has size 0")
			}
		}
	}
	return im, nil
}

// cleanPath makes a container path absolute and lexically clean; ".."
// cannot climb above "/".
func cleanPath(p string) string { return path.Join("/", p) }

func without(list []string, s string) []string {
	var out []string
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

func hasNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// rootPropagation maps linux.rootfsPropagation to the flags for "/";
// unset means rslave, so nothing mounted in the container reaches the host
// while host mounts still appear in the container (runc's default).
func rootPropagation(s string) (uint64, error) {
	if s == "" {
		return unix.MS_SLAVE | unix.MS_REC, nil
	}
	if f, ok := propagationWords[s]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("invalid linux.rootfsPropagation %q", s)
}

// procAllowed are the /proc entries a mount may cover: the files lxcfs
// emulates (runc's list). Anything else under /proc could hide or redirect
// the kernel interfaces that readonlyPaths and maskedPaths protect.
var procAllowed = map[string]bool{
	"/proc/cpuinfo": true, "/proc/diskstats": true, "/proc/meminfo": true,
	"/proc/stat": true, "/proc/swaps": true, "/proc/uptime": true,
	"/proc/loadavg": true, "/proc/slabinfo": true, "/proc/net/dev": true,
	"/proc/sys/kernel/ns_last_pid": true, "/proc/sys/crypto/fips_enabled": true,
}

// checkProcPath refuses mounts that would put something other than a
// procfs on /proc, or cover a file under it (CVE-2019-16884 and
// CVE-2019-19921 abused such mounts to disable AppArmor and to redirect
// writes). srcIsProc is nil when the bind source is not known yet.
func checkProcPath(dest string, op MountOp, srcIsProc *bool) error {
	if dest != "/proc" && !strings.HasPrefix(dest, "/proc/") {
		return nil
	}
	if op.Kind == KindRemount {
		return nil // changes flags only; nothing new appears
	}
	if dest == "/proc" {
		switch {
		case op.Kind == KindFS && op.Type == "proc":
			return nil
		case op.Kind == KindBind && (srcIsProc == nil || *srcIsProc):
			return nil
		}
		return fmt.Errorf("%q cannot be mounted because it is not of type proc", dest)
	}
	if procAllowed[dest] {
		return nil
	}
	return fmt.Errorf("%q cannot be mounted because it is inside /proc", dest)
}
