package harness

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Env is one test's view of the runtime: its own directory, --root and container ids.
type Env struct {
	T testing.TB
	S *Suite
	// Dir is the test's private directory (mode 0755) holding bundles, the state root and
	// captured output. It is removed after the leftover checks.
	Dir string
	// Root is passed as --root to every runtime call.
	Root string
	// As, when set (NewAs), is the unprivileged user every runtime call runs as.
	As *User

	mu   sync.Mutex
	ids  []string
	pids map[int]uint64 // container pid -> start time, to kill survivors safely
}

// New prepares an Env and registers its cleanup. It skips the test when not root: every
// black-box test needs to create namespaces and mounts. It never skips because of CI.
func New(t testing.TB, s *Suite) *Env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("black-box runtime tests need root")
	}
	if s == nil {
		t.Fatal("harness suite was not built (TestMain failed?)")
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	dir, err := os.MkdirTemp(s.Base, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, S: s, Dir: dir, Root: filepath.Join(dir, "state"), pids: map[int]uint64{}}
	t.Cleanup(e.cleanup)
	return e
}

// NewID returns a fresh container id and tracks it for cleanup.
func (e *Env) NewID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		e.T.Fatal(err)
	}
	id := "unha-test-" + hex.EncodeToString(b[:])
	e.Track(id)
	return id
}

// Track registers an id the test chose itself, so cleanup deletes it and checks for leftovers.
func (e *Env) Track(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, have := range e.ids {
		if have == id {
			return
		}
	}
	e.ids = append(e.ids, id)
}

// TrackPid remembers a container process so cleanup can kill it if the runtime did not.
func (e *Env) TrackPid(pid int) {
	if pid <= 0 {
		return
	}
	st, err := procStartTime(pid)
	if err != nil {
		return
	}
	e.mu.Lock()
	e.pids[pid] = st
	e.mu.Unlock()
}

func (e *Env) snapshot() ([]string, map[int]uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pids := map[int]uint64{}
	for k, v := range e.pids {
		pids[k] = v
	}
	return append([]string(nil), e.ids...), pids
}

// cleanup removes what the test's containers left, then fails the test for whatever the
// runtime itself did not remove on `delete --force`.
func (e *Env) cleanup() {
	ids, pids := e.snapshot()
	for _, id := range ids {
		// The contract: delete --force exits 0 for an id that does not exist.
		if r := e.RunWith(RunOpts{Timeout: DefaultTimeout}, "delete", "--force", id); !r.OK() {
			e.T.Errorf("cleanup: %s", r)
		}
	}
	for pid, st := range pids {
		if alive(pid, st) {
			e.T.Errorf("cleanup: container process %d still alive after delete --force", pid)
			killAndReap(pid, st)
		}
	}
	e.checkLeftovers(true)
	if err := os.RemoveAll(e.Dir); err != nil {
		e.T.Errorf("cleanup: %v", err)
	}
}

// AssertClean fails the test if anything of the tracked containers is left right now: use it
// after an operation that must have left nothing behind (a failed create, a delete).
func (e *Env) AssertClean() {
	e.T.Helper()
	e.checkLeftovers(false)
}
