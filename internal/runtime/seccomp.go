package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/seccomp"
)

// sendSeccompFd hands the notify fd that process pid (init, or an exec'd
// process) passed back to the agent at the profile's listenerPath, with the
// container process state the spec asks for. As runc does, the state's pid
// is the process the fd filters, so an agent can tell an exec's fd from
// init's, while state.pid stays the container's; the status is "creating"
// for init and the container's own (running) for an exec.
func (r *Runtime) sendSeccompFd(st *State, f *os.File, pid int) error {
	if f == nil {
		return errors.New("init sent no seccomp fd")
	}
	sc := st.Config.Linux.Seccomp
	if sc == nil || sc.ListenerPath == "" {
		// No agent: the notifying syscalls get ENOSYS once the fd closes.
		return nil
	}
	state := specs.ContainerProcessState{
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    st.State,
	}
	if pid == st.Pid {
		state.State.Status = specs.StateCreating
	}
	return seccomp.SendNotifyFd(sc.ListenerPath, int(f.Fd()), &state)
}

type compileResult struct {
	prog *seccomp.Program
	err  error
}

// compileAsync compiles f in the background; a nil filter (no profile, or
// an empty one) gives a nil program. Compiled programs are cached under the
// root, keyed by the filter, the kernel and libseccomp: engines give every
// container the same profile, and libseccomp takes tens of milliseconds
// for one like Docker's, more than all the rest of create.
func (r *Runtime) compileAsync(f *seccomp.Filter) <-chan compileResult {
	ch := make(chan compileResult, 1)
	if f == nil {
		ch <- compileResult{}
		return ch
	}
	go func() {
		p, err := r.compileCached(f)
		ch <- compileResult{p, err}
	}()
	return ch
}

func (r *Runtime) compileCached(f *seccomp.Filter) (*seccomp.Program, error) {
	key, err := filterKey(f)
	if err != nil {
		return f.Compile(r.Log)
	}
	dir := seccompCacheDir()
	if dir == "" {
		return f.Compile(r.Log)
	}
	path := filepath.Join(dir, key+".json")
	if b, err := os.ReadFile(path); err == nil {
		var p seccomp.Program
		if json.Unmarshal(b, &p) == nil && len(p.BPF) > 0 {
			return &p, nil
		}
	}
	p, err := f.Compile(r.Log)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(p); err == nil {
		// A failed cache write costs the next create a compile, no more.
		if writeFileAtomic(path, b, 0o600) == nil {
			pruneCache(dir, maxCachedFilters)
		}
	}
	return p, nil
}

func filterKey(f *seccomp.Filter) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(b)
	h.Write(u.Release[:])
	h.Write([]byte(seccomp.LibraryVersion()))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// seccompCacheDir is /var/cache/unha-runtime/seccomp for root and
// $XDG_CACHE_HOME/unha-runtime/seccomp otherwise; outside every --root, whose
// entries clients take for containers. It is used only when it is ours and
// nobody else's to write (a cached filter is trusted as compiled), else "".
func seccompCacheDir() string {
	base := "/var/cache"
	if os.Geteuid() != 0 {
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		base = d
	}
	return cacheDirIn(base)
}

func cacheDirIn(base string) string {
	dir := filepath.Join(base, "unha-runtime", "seccomp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	for d := dir; d != base; d = filepath.Dir(d) {
		var st unix.Stat_t
		if unix.Lstat(d, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR ||
			int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
			return ""
		}
	}
	return dir
}

// maxCachedFilters bounds the cache: a host sees a handful of profiles, a
// test suite hundreds; each entry is a few KiB.
const maxCachedFilters = 128

// pruneCache removes the least recently written entries beyond keep.
func pruneCache(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) <= keep {
		return
	}
	type entry struct {
		name string
		mod  int64
	}
	var all []entry
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			all = append(all, entry{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod < all[j].mod })
	for _, e := range all[:max(0, len(all)-keep)] {
		os.Remove(filepath.Join(dir, e.name))
	}
}
