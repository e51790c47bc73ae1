package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/spec"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// State is what state.json holds. The embedded specs.State and the runc
// extras (rootfs, created, owner) are what `state` prints; the rest lets a
// later command find and verify the container's processes and cgroups.
type State struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`

	// InitStart is init's start time (field 22 of /proc/PID/stat), so a
	// recycled pid is never mistaken for the container.
	InitStart   uint64            `json:"initStart,omitempty"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// CgroupCreated lists the cgroup dirs create made, parents included,
	// so delete removes exactly those.
	CgroupCreated []string    `json:"cgroupCreated,omitempty"`
	Config        *specs.Spec `json:"config,omitempty"`
	NoPivot       bool        `json:"noPivot,omitempty"`
}

// hooks are the container's hooks; a state saved before its config (a
// create killed early, see SaveHeader) has none.
func (st *State) hooks() *specs.Hooks {
	if st.Config != nil {
		return st.Config.Hooks
	}
	return nil
}

// Store is the runtime root (--root): one directory per container.
type Store struct {
	Root string
}

// DefaultRoot is runc's layout with our name: /run/unha-runtime for root,
// $XDG_RUNTIME_DIR/unha-runtime otherwise. Without XDG_RUNTIME_DIR (su,
// cron) an unprivileged caller gets its own /run/user/UID when it exists,
// which is what pam_systemd would have set.
func DefaultRoot() string {
	if os.Geteuid() != 0 {
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			return filepath.Join(d, "unha-runtime")
		}
		d := "/run/user/" + strconv.Itoa(os.Geteuid())
		var st unix.Stat_t
		if unix.Lstat(d, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && int(st.Uid) == os.Geteuid() {
			return filepath.Join(d, "unha-runtime")
		}
	}
	return "/run/unha-runtime"
}

func (s *Store) dir(id string) string { return filepath.Join(s.Root, id) }

// Lock is an flock held on a container directory.
type Lock struct {
	f *os.File
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

func lockDir(dir string, how int) (*Lock, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	for {
		err = unix.Flock(fd, how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "flock", Path: dir, Err: err}
	}
	return &Lock{f: os.NewFile(uintptr(fd), dir)}, nil
}

// Reserve makes the container's directory, refusing an id in use, and
// returns it locked. mkdir is the atomic test-and-set: two creates of one
// id race to it and exactly one wins.
func (s *Store) Reserve(id string) (*Lock, error) {
	if err := spec.ValidateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		return nil, fmt.Errorf("create runtime root: %w", err)
	}
	d := s.dir(id)
	if err := os.Mkdir(d, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, ErrExist
		}
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	l, err := lockDir(d, unix.LOCK_EX)
	if err != nil {
		os.Remove(d)
		return nil, err
	}
	return l, nil
}

// Open locks the container's directory (shared, or exclusive) and reads
// its state, config included: spec.DecodeFast reads a whole state in less
// time than encoding/json's first decode of a part of one (~0.2 ms for
// the header alone), so no verb reads less.
func (s *Store) Open(id string, exclusive bool) (*State, *Lock, error) {
	if err := spec.ValidateID(id); err != nil {
		return nil, nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	l, err := lockDir(s.dir(id), how)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, ErrNotExist
		}
		return nil, nil, err
	}
	st, err := s.read(id)
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return st, l, nil
}

func (s *Store) read(id string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(s.dir(id), stateFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A directory without state is a create that died before its
			// first write: it exists for delete --force, nothing else.
			return &State{State: specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating}}, nil
		}
		return nil, err
	}
	var st State
	if !spec.DecodeFast(b, &st) {
		st = State{}
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("state of %s is corrupt: %w", id, err)
		}
	}
	return &st, nil
}

// Save writes state.json atomically: a temp file in the same directory,
// then renamed over the old one, so a reader (or a runtime killed half way)
// sees the old state or the new, never half of one. No fsync: the root is a
// tmpfs (/run) that a reboot empties anyway, and containers die with it.
func (s *Store) Save(st *State) error {
	return s.write(st.ID, st)
}

// stateHeader is a State without its config: a field shallower than
// State's config hides it from encoding/json and spec.EncodeFast alike.
type stateHeader struct {
	*State
	Config *struct{} `json:"config,omitempty"`
}

// SaveHeader is Save without the config: for the first state of a
// create, on its critical path, which must only let `delete --force` find
// what a killed create left (cgroups; there are no hooks to run for a
// container that was never created), and a spec is most of a state's
// bytes and of the time to encode it.
func (s *Store) SaveHeader(st *State) error {
	return s.write(st.ID, &stateHeader{State: st})
}

// write saves v as the container's state.json. json.Marshal's first
// encode of a type graph builds encoders and field tables for all of it,
// ~240 KB of heap and ~0.8 ms for a State holding a specs.Spec (and more
// of the process's peak RSS than anything else create does); EncodeFast
// writes the same bytes from a walk of the values, and leaves to
// json.Marshal only what it does not handle (see spec.EncodeFast), none
// of which a config.json decodes to.
func (s *Store) write(id string, v any) error {
	b, ok := spec.EncodeFast(v)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return writeFileAtomic(filepath.Join(s.dir(id), stateFile), b, 0o600)
}

// Remove deletes the container's directory: usually it holds state.json
// alone, so an unlink and an rmdir; anything else, RemoveAll.
func (s *Store) Remove(id string) error {
	d := s.dir(id)
	if err := unix.Unlink(filepath.Join(d, stateFile)); err == nil || err == unix.ENOENT {
		if err := unix.Rmdir(d); err == nil || err == unix.ENOENT {
			return nil
		}
	}
	return os.RemoveAll(d)
}

// List returns the ids under the root.
func (s *Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && spec.ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		// Only a failed write leaves the temp behind to remove: after the
		// rename it is gone, and os.Remove would cost an unlink and an
		// rmdir that both fail.
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	// CreateTemp made it 0600 (less what the umask takes).
	if mode != 0o600 {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// WritePidFile writes pid as digits with no newline (containerd and conmon
// parse it that way), atomically, at an absolute path.
func WritePidFile(path string, pid int) error {
	p, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(strconv.Itoa(pid)), 0o644)
}
