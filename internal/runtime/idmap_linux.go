package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/nsenter"
	"github.com/unha/unha/internal/rootfs"
)

// idmappedTrees makes, in the runtime's own namespaces, the detached
// trees of the spec's idmapped bind mounts, by index in spec.mounts. The
// caller passes them to init and closes them.
func idmappedTrees(s *specs.Spec, newMount bool, id string, rootless bool) (map[int]*os.File, error) {
	ops, err := rootfs.Plan(s, rootfs.Options{NoMountNS: !newMount})
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	trees := map[int]*os.File{}
	userns := map[string]*os.File{}
	closeAll := func() {
		for _, f := range trees {
			f.Close()
		}
	}
	defer func() {
		for _, f := range userns {
			f.Close()
		}
	}()
	for _, op := range ops {
		if op.IDMap == nil {
			continue
		}
		if rootless && os.Geteuid() != 0 {
			closeAll()
			return nil, fmt.Errorf("mount %s on %s: idmapped mounts need root: only the initial user namespace may idmap a host filesystem", op.Source, op.Destination)
		}
		key := mapKey(op.IDMap.UIDs) + "|" + mapKey(op.IDMap.GIDs)
		ns := userns[key]
		if ns == nil {
			if ns, err = mappedUserns(op.IDMap.UIDs, op.IDMap.GIDs, id); err != nil {
				closeAll()
				return nil, fmt.Errorf("mount %s on %s: %w", op.Source, op.Destination, err)
			}
			userns[key] = ns
		}
		tree, err := rootfs.PrepareIDMapped(op, ns)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("mount %s on %s: %w", op.Source, op.Destination, err)
		}
		trees[op.Index] = tree
	}
	return trees, nil
}

func mapKey(m []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, x := range m {
		fmt.Fprintf(&b, "%d:%d:%d,", x.ContainerID, x.HostID, x.Size)
	}
	return b.String()
}

// mappedUserns returns a user namespace with the given maps, for
// MOUNT_ATTR_IDMAP: a namespace lives as long as a process or an fd holds
// it, so a short-lived process is started in a new one (Go writes its maps
// between clone and execve), its /proc/PID/ns/user is opened, and the
// process is killed and reaped. The process is this binary, parked by the
// nsenter constructor (_UNHA_PLACE) before the Go runtime starts: it costs
// an execve and nothing else, and never runs any Go.
func mappedUserns(uids, gids []specs.LinuxIDMapping, id string) (*os.File, error) {
	parent, child, err := initmsg.Pair()
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	defer child.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"unha-runtime", "idmap-userns", id},
		Env:        []string{nsenter.EnvSync + "=3", nsenter.EnvPlace + "=1"},
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: toSysMaps(uids),
			GidMappings: toSysMaps(gids),
			// The helper never runs anything, so whether it may setgroups
			// is moot; "allow" is what root gets by default.
			GidMappingsEnableSetgroups: true,
		},
	}
	// If we die before killing it, its recv returns 0 once our end of the
	// socket closes, and it exits.
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start user namespace helper: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	ns, err := os.Open("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user")
	if err != nil {
		return nil, fmt.Errorf("open the helper's user namespace: %w", err)
	}
	// The helper could only have died if it was not parked; make sure the
	// namespace is the new one, not ours.
	self, err := os.Stat("/proc/self/ns/user")
	if err != nil {
		ns.Close()
		return nil, err
	}
	if fi, err := ns.Stat(); err != nil || os.SameFile(fi, self) {
		ns.Close()
		if err == nil {
			err = errors.New("the helper is in the runtime's own user namespace")
		}
		return nil, err
	}
	return ns, nil
}
