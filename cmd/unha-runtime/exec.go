package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/runtime"
)

type execFlags struct {
	o           runtime.ExecOpts
	processFile string
	cwd         string
	env         []string
	envFile     []string
	tty         bool
	user        string
	addGids     []string
	noNewPrivs  bool
	caps        []string
}

func execCmd(g *globals) *command {
	var ef execFlags
	c := newCommand("exec", "[flags] <container-id> <command> [args...]", "execute a new process inside the container")
	// Everything after the container id is the command and its own flags.
	c.stopAtArg = true
	c.args = func(_ string, args []string) error {
		if len(args) < 1 || (ef.processFile == "" && len(args) < 2) {
			return fmt.Errorf("exec: requires a container id and a command (or --process): %w", runtime.ErrInvalid)
		}
		return nil
	}
	c.run = func(args []string) error {
		rt := g.runtime()
		ef.o.ID = args[0]
		if ef.processFile != "" {
			p, err := ef.fromFile(c.flags)
			if err != nil {
				return err
			}
			ef.o.Process = p
		} else {
			// Made from the container's process as exec reads the state,
			// so the state is read (and its JSON decoded) once.
			ef.o.Build = func(base specs.Process) (*specs.Process, error) { return ef.inline(base, args[1:]) }
		}
		status, err := rt.Exec(ef.o)
		if err != nil {
			return err
		}
		if status != 0 {
			return exitError{status}
		}
		return nil
	}
	f := c.flags
	f.String(&ef.o.ConsoleSocket, "console-socket", "", "", "path to an AF_UNIX socket which will receive the pty master")
	f.String(&ef.cwd, "cwd", "", "", "current working directory in the container")
	f.StringArray(&ef.env, "env", "e", "set environment variables")
	f.StringArray(&ef.envFile, "env-file", "", "read environment variables from a file")
	f.Bool(&ef.tty, "tty", "t", false, "allocate a pseudo-TTY")
	f.String(&ef.user, "user", "u", "", "UID (format: <uid>[:<gid>])")
	f.StringArray(&ef.addGids, "additional-gids", "g", "additional gids")
	f.String(&ef.processFile, "process", "p", "", "path to the process.json")
	f.Bool(&ef.o.Detach, "detach", "d", false, "detach from the container's process")
	f.String(&ef.o.PidFile, "pid-file", "", "", "file to write the process id to")
	f.Bool(&ef.noNewPrivs, "no-new-privs", "", false, "set the no new privileges value for the process")
	f.StringArray(&ef.caps, "cap", "c", "add a capability to the bounding set for the process")
	f.Int(&ef.o.PreserveFds, "preserve-fds", "", 0, "pass N additional file descriptors to the container")
	return c
}

// fromFile reads --process, which replaces the container's process, as
// in runc.
func (ef *execFlags) fromFile(f *flagSet) (*specs.Process, error) {
	b, err := os.ReadFile(ef.processFile)
	if err != nil {
		return nil, fmt.Errorf("read process file: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("process file %s: %v: %w", ef.processFile, err, runtime.ErrInvalid)
	}
	if f.changed("tty") {
		p.Terminal = ef.tty
	}
	return &p, nil
}

// inline is the inline form: the container's own process p, with args
// and changed by the flags.
func (ef *execFlags) inline(p specs.Process, args []string) (*specs.Process, error) {
	if p.Capabilities != nil {
		c := *p.Capabilities
		p.Capabilities = &c
	}
	p.Args = args
	p.Terminal = ef.tty
	p.ConsoleSize = nil
	p.Env = append([]string(nil), p.Env...)
	for _, file := range ef.envFile {
		vars, err := readEnvFile(file)
		if err != nil {
			return nil, err
		}
		p.Env = mergeEnv(p.Env, vars)
	}
	p.Env = mergeEnv(p.Env, ef.env)
	if ef.cwd != "" {
		p.Cwd = ef.cwd
	}
	if ef.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if ef.user != "" {
		uid, gid, hasGid := strings.Cut(ef.user, ":")
		u, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parsing %q as a uid: %w", uid, runtime.ErrInvalid)
		}
		p.User.UID = uint32(u)
		if hasGid {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parsing %q as a gid: %w", gid, runtime.ErrInvalid)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, g := range ef.addGids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parsing %q as an additional gid: %w", g, runtime.ErrInvalid)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
	}
	if len(ef.caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		c := p.Capabilities
		for _, name := range ef.caps {
			c.Bounding = append(append([]string(nil), c.Bounding...), name)
			c.Effective = append(append([]string(nil), c.Effective...), name)
			c.Permitted = append(append([]string(nil), c.Permitted...), name)
		}
	}
	return &p, nil
}

// mergeEnv sets each KEY=VALUE of add in env, replacing an earlier value of
// KEY in place instead of appending a second one: getenv(3) (and Go's
// os.Getenv) return the first occurrence, so a duplicate would silently keep
// the container's value. runc behaves the same (later wins).
func mergeEnv(env, add []string) []string {
	for _, kv := range add {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range env {
			if k, _, _ := strings.Cut(old, "="); k == key {
				env[i] = kv
				replaced = true
				break
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env
}

// readEnvFile reads KEY=VALUE lines, skipping blanks and # comments.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			return nil, fmt.Errorf("env file %s: line %q is not KEY=VALUE: %w", path, line, runtime.ErrInvalid)
		}
		out = append(out, line)
	}
	return out, sc.Err()
}
