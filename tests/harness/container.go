package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// State is the JSON printed by `state` (runc's superset of the OCI state).
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
	// Raw holds every field as decoded, for presence checks.
	Raw map[string]any `json:"-"`
}

// Container is a container created by the test, with its stdio captured in files.
type Container struct {
	ID     string
	Bundle *Bundle
	// StdoutPath and StderrPath receive the container's output (and the runtime's own stderr
	// from create).
	StdoutPath, StderrPath string
	e                      *Env
}

// CreateOpts adjusts Create.
type CreateOpts struct {
	ID string // default: a fresh id
	// Args are extra arguments to create, before the id (--pid-file P, --console-socket S).
	Args []string
	Run  RunOpts
}

// TryCreate saves the bundle and runs `create --bundle DIR [args] ID`. The container is
// returned even when create failed, so the test can inspect and check leftovers.
func (e *Env) TryCreate(b *Bundle, o CreateOpts) (*Container, Result) {
	e.T.Helper()
	b.Save()
	id := o.ID
	if id == "" {
		id = e.NewID()
	} else {
		e.Track(id)
	}
	c := &Container{ID: id, Bundle: b, e: e,
		StdoutPath: filepath.Join(e.Dir, id+".stdout"), StderrPath: filepath.Join(e.Dir, id+".stderr")}
	ro := o.Run
	if ro.Stdout == nil {
		f, err := os.Create(c.StdoutPath)
		if err != nil {
			e.T.Fatal(err)
		}
		defer f.Close()
		ro.Stdout = f
	}
	if ro.Stderr == nil {
		f, err := os.Create(c.StderrPath)
		if err != nil {
			e.T.Fatal(err)
		}
		defer f.Close()
		ro.Stderr = f
	}
	args := append([]string{"create", "--bundle", b.Dir}, o.Args...)
	r := e.RunWith(ro, append(args, id)...)
	if r.OK() {
		if st, err := c.TryState(); err == nil {
			e.TrackPid(st.Pid)
		}
	}
	return c, r
}

// Create is TryCreate that fails the test unless create succeeded.
func (e *Env) Create(b *Bundle, args ...string) *Container {
	e.T.Helper()
	c, r := e.TryCreate(b, CreateOpts{Args: args})
	if !r.OK() {
		e.T.Fatalf("create: %s", r)
	}
	return c
}

// Start runs `start ID` and fails the test if it fails.
func (c *Container) Start() {
	c.e.T.Helper()
	if r := c.e.Run("start", c.ID); !r.OK() {
		c.e.T.Fatalf("start: %s", r)
	}
}

// TryState runs `state ID` and decodes it.
func (c *Container) TryState() (*State, error) {
	r := c.e.Run("state", c.ID)
	if !r.OK() {
		return nil, &resultError{r}
	}
	return ParseState([]byte(r.Stdout))
}

// State is TryState that fails the test on error.
func (c *Container) State() *State {
	c.e.T.Helper()
	st, err := c.TryState()
	if err != nil {
		c.e.T.Fatalf("state: %v", err)
	}
	return st
}

// Kill sends sig (as given: "9", "KILL", "SIGKILL") and fails the test if kill fails.
func (c *Container) Kill(sig string) {
	c.e.T.Helper()
	if r := c.e.Run("kill", c.ID, sig); !r.OK() {
		c.e.T.Fatalf("kill: %s", r)
	}
}

// Delete runs `delete ID` (with --force if asked) and fails the test if it fails.
func (c *Container) Delete(force bool) {
	c.e.T.Helper()
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	if r := c.e.Run(append(args, c.ID)...); !r.OK() {
		c.e.T.Fatalf("delete: %s", r)
	}
}

// WaitStatus polls `state` until the status is want. The deadline only guards against a hang.
func (c *Container) WaitStatus(want string) *State {
	c.e.T.Helper()
	var last string
	for deadline := time.Now().Add(DefaultTimeout); time.Now().Before(deadline); {
		st, err := c.TryState()
		if err != nil {
			c.e.T.Fatalf("waiting for %s: %v", want, err)
		}
		if st.Status == want {
			return st
		}
		last = st.Status
		time.Sleep(10 * time.Millisecond)
	}
	c.e.T.Fatalf("container %s still %q, never became %q", c.ID, last, want)
	return nil
}

// Stdout returns what the container wrote to stdout so far.
func (c *Container) Stdout() string {
	b, _ := os.ReadFile(c.StdoutPath)
	return string(b)
}

// Stderr returns what the container (and create) wrote to stderr so far.
func (c *Container) Stderr() string {
	b, _ := os.ReadFile(c.StderrPath)
	return string(b)
}

// WaitOutput polls the container's stdout until it contains a line equal to line.
func (c *Container) WaitOutput(line string) {
	c.e.T.Helper()
	for deadline := time.Now().Add(DefaultTimeout); time.Now().Before(deadline); {
		for _, l := range strings.Split(c.Stdout(), "\n") {
			if strings.TrimSpace(l) == line {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.e.T.Fatalf("container %s never printed %q; stdout %q stderr %q", c.ID, line, c.Stdout(), c.Stderr())
}

// ParseState decodes `state` output, keeping the raw fields.
func ParseState(data []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &st.Raw); err != nil {
		return nil, err
	}
	return &st, nil
}

type resultError struct{ r Result }

func (e *resultError) Error() string { return e.r.String() }

// RunContainer saves the bundle and runs it in the foreground (`run --bundle DIR ID`); the
// container's stdout and stderr are the Result's.
func (e *Env) RunContainer(b *Bundle, args ...string) (string, Result) {
	e.T.Helper()
	b.Save()
	id := e.NewID()
	full := append(append([]string{"run", "--bundle", b.Dir}, args...), id)
	return id, e.Run(full...)
}
