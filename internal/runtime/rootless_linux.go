package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// RootlessMode resolves the --rootless flag: "true" and "false" force it;
// "auto" (runc's default) means rootless when the caller is not root, or is
// root only inside a user namespace, where the host's cgroups and devices
// are out of reach whatever the uid says.
func RootlessMode(flag string) (bool, error) {
	switch flag {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto", "":
		return os.Geteuid() != 0 || InUserNS(), nil
	}
	return false, fmt.Errorf("invalid --rootless value %q: %w", flag, ErrInvalid)
}

// InUserNS reports whether this process runs in a user namespace other
// than the initial one, whose uid_map is the identity over all 2^32-1 ids.
func InUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295"
}

// selfMapped reports whether maps are the one mapping an unprivileged
// process may write itself (user_namespaces(7): a single line whose host
// id is its own effective id, size 1). Anything more needs the setuid
// helpers newuidmap/newgidmap and the ranges of /etc/subuid and /etc/subgid.
func selfMapped(maps []specs.LinuxIDMapping, id int) bool {
	return len(maps) == 1 && maps[0].Size == 1 && int(maps[0].HostID) == id
}

// needsIDMapHelper: the caller cannot write the maps itself.
func needsIDMapHelper(uids, gids []specs.LinuxIDMapping) bool {
	if os.Geteuid() == 0 && !InUserNS() {
		return false
	}
	return !selfMapped(uids, os.Geteuid()) || !selfMapped(gids, os.Getegid())
}

// mapsContainerRoot checks that container id 0 is mapped: init becomes root
// in the new user namespace to mount and pivot, and an unmapped 0 would
// leave it without capabilities there.
func mapsContainerRoot(maps []specs.LinuxIDMapping) bool {
	for _, m := range maps {
		if m.ContainerID == 0 && m.Size > 0 {
			return true
		}
	}
	return false
}

// writeIDMapsHelper writes pid's maps through newuidmap and newgidmap,
// which check the ranges against /etc/subuid and /etc/subgid. newgidmap
// decides about /proc/PID/setgroups itself (it denies setgroups when the
// map grants nothing beyond the caller's own gid).
func writeIDMapsHelper(pid int, uids, gids []specs.LinuxIDMapping) error {
	for _, h := range []struct {
		tool string
		maps []specs.LinuxIDMapping
	}{{"newuidmap", uids}, {"newgidmap", gids}} {
		path, err := exec.LookPath(h.tool)
		if err != nil {
			return fmt.Errorf("the id mappings need %s (package uidmap) with ranges in /etc/subuid and /etc/subgid: %w", h.tool, err)
		}
		args := []string{strconv.Itoa(pid)}
		for _, m := range h.maps {
			args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10),
				strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
		}
		cmd := exec.Command(path, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w: %s", h.tool, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

// writable reports whether the caller may create entries in dir, or in
// its nearest existing ancestor (a cgroup directory may not exist yet).
func writable(dir string) bool {
	for d := dir; d != "/" && d != "."; d = parentDir(d) {
		err := unix.Faccessat(unix.AT_FDCWD, d, unix.W_OK|unix.X_OK, unix.AT_EACCESS)
		if err == nil {
			return true
		}
		if !errors.Is(err, unix.ENOENT) {
			return false
		}
	}
	return false
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
