package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// wrapperScript is what the suite sees as RUNTIME. It gives every call a
// private --root, so the driver can force-delete whatever a test leaves
// behind without touching other users' containers, and routes "delete"
// through the driver (see runWrapper).
func wrapperScript(driver, real, stateRoot, bundles, leaks string) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return fmt.Sprintf("#!/bin/sh\nexec %s wrap %s %s %s %s \"$@\"\n", q(driver), q(real), q(stateRoot), q(bundles), q(leaks))
}

// runWrapper implements `driver wrap REAL STATEROOT BUNDLES LEAKS ARGS...`.
// Every verb but delete execs the real runtime directly. For delete it reads
// the bundle from the state first, and after the real delete it detaches
// whatever is still mounted below the bundle: the suite removes the bundle
// with os.RemoveAll right after delete, and when a test ran a container
// without a mount namespace (linux_ns_itype) the runtime's /proc, /sys, /dev
// and /dev/mqueue mounts are still there in the caller's namespace. Each
// detached mount is logged to LEAKS, and the driver reports it as a failure.
func runWrapper(args []string) int {
	if len(args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: driver wrap REAL STATEROOT BUNDLES LEAKS ARGS...")
		return 2
	}
	real, stateRoot, bundles, leaks, rest := args[0], args[1], args[2], args[3], args[4:]
	argv := append([]string{real, "--root", stateRoot}, rest...)
	if len(rest) == 0 || rest[0] != "delete" {
		err := unix.Exec(real, argv, os.Environ())
		fmt.Fprintf(os.Stderr, "exec %s: %v\n", real, err)
		return 127
	}
	id := rest[len(rest)-1]
	bundle := stateBundle(real, stateRoot, id)

	cmd := exec.Command(real, argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintf(os.Stderr, "run %s: %v\n", real, err)
			return 127
		}
		code = ee.ExitCode()
	}
	// Only ever touch bundles the suite made in the driver's scratch dir.
	if bundle != "" && strings.HasPrefix(filepath.Clean(bundle)+"/", filepath.Clean(bundles)+"/") {
		found, err := detachUnder(bundle)
		if len(found) > 0 {
			if f, ferr := os.OpenFile(leaks, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o644); ferr == nil {
				fmt.Fprintf(f, "%s %s\n", id, strings.Join(found, " "))
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "detach mounts under %s: %v\n", bundle, err)
		}
	}
	return code
}

func stateBundle(real, stateRoot, id string) string {
	out, err := exec.Command(real, "--root", stateRoot, "state", id).Output()
	if err != nil {
		return ""
	}
	var st struct {
		Bundle string `json:"bundle"`
	}
	if json.Unmarshal(out, &st) != nil {
		return ""
	}
	return st.Bundle
}
