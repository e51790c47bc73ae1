package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/cmd/probe/report"
)

func printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe: marshal: %v\n", err)
		os.Exit(125)
	}
	os.Stdout.Write(append(b, '\n'))
}

func errnoName(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
		return "errno " + strconv.Itoa(int(errno))
	}
	return "error " + strconv.Quote(err.Error())
}

func writeFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte("probe\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func lsDir(path string) string {
	entries, err := os.ReadDir(path)
	if err != nil {
		return errnoName(err)
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	b, _ := json.Marshal(names)
	return "ok " + string(b)
}

// hook records one OCI hook invocation. The runtime passes the state on stdin.
func hook(name, dir string) error {
	var stdin bytes.Buffer
	if _, err := stdin.ReadFrom(os.Stdin); err != nil {
		return fmt.Errorf("hook %s: read stdin: %w", name, err)
	}
	rec := report.HookRecord{Name: name, State: stdin.String(), Args: os.Args, Env: os.Environ(),
		Pid: os.Getpid(), Namespaces: readNamespaces()}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".json")); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "order"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(name + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
