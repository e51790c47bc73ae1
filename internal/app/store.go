package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Container is what unha remembers about a container, in
// DataRoot/containers/ID/container.json next to its bundle files.
type Container struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Image      string     `json:"image"` // "host", or the --rootfs directory
	Command    []string   `json:"command"`
	Created    time.Time  `json:"created"`
	Started    *time.Time `json:"started,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
	ExitCode   *int       `json:"exitCode,omitempty"`
	AutoRemove bool       `json:"autoRemove,omitempty"`
}

// ShortID is the 12 hex digits Docker shows and uses as default hostname.
func (c *Container) ShortID() string { return c.ID[:12] }

// nameRE is Docker's rule for container names.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// store lays containers out as
//
//	containers/ID/        the bundle: config.json, rootfs/, container.json, runtime.log
//	names/NAME -> ID      a symlink, so that claiming a name is one atomic syscall
type store struct{ root string }

func (s *store) containersDir() string   { return filepath.Join(s.root, "containers") }
func (s *store) namesDir() string        { return filepath.Join(s.root, "names") }
func (s *store) bundle(id string) string { return filepath.Join(s.containersDir(), id) }

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// create makes the bundle directory, claims the name and writes the record.
func (s *store) create(c *Container) error {
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		return fmt.Errorf("invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", c.Name)
	}
	for _, d := range []string{s.root, s.containersDir(), s.namesDir()} {
		// 0700: bundles hold the containers' root filesystems; nobody
		// else needs to look in.
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	id, err := newID()
	if err != nil {
		return err
	}
	c.ID = id
	if err := os.Mkdir(s.bundle(id), 0o700); err != nil {
		return err
	}
	if c.Name != "" {
		if err := s.claimName(c.Name, id); err != nil {
			os.Remove(s.bundle(id))
			return err
		}
	}
	if err := s.save(c); err != nil {
		s.releaseName(c.Name, id)
		os.RemoveAll(s.bundle(id))
		return err
	}
	return nil
}

func (s *store) claimName(name, id string) error {
	link := filepath.Join(s.namesDir(), name)
	for attempt := 0; ; attempt++ {
		err := os.Symlink(id, link)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		owner, rerr := os.Readlink(link)
		if rerr != nil {
			return rerr
		}
		// A name whose container is gone (unha killed mid-way) is
		// stale: reclaim it once.
		if _, serr := os.Stat(s.bundle(owner)); errors.Is(serr, fs.ErrNotExist) && attempt == 0 {
			os.Remove(link)
			continue
		}
		return fmt.Errorf("conflict: the container name %q is already in use by container %q; remove that container to reuse the name", name, owner)
	}
}

func (s *store) releaseName(name, id string) {
	if name == "" {
		return
	}
	link := filepath.Join(s.namesDir(), name)
	if owner, err := os.Readlink(link); err == nil && owner == id {
		os.Remove(link)
	}
}

// save writes the record atomically (temp file + rename), so a reader never
// sees half of it.
func (s *store) save(c *Container) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.bundle(c.ID), "container.json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (s *store) load(id string) (*Container, error) {
	data, err := os.ReadFile(filepath.Join(s.bundle(id), "container.json"))
	if err != nil {
		return nil, err
	}
	var c Container
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	return &c, nil
}

// list returns every container, newest first; unreadable entries are
// skipped (a run being set up has no record yet).
func (s *store) list() ([]*Container, error) {
	ents, err := os.ReadDir(s.containersDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, e := range ents {
		if c, err := s.load(e.Name()); err == nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// lookup finds a container by name, full ID or unique ID prefix, as
// Docker does.
func (s *store) lookup(ref string) (*Container, error) {
	if ref == "" {
		return nil, errors.New("empty container name or ID")
	}
	if id, err := os.Readlink(filepath.Join(s.namesDir(), ref)); err == nil {
		if c, err := s.load(id); err == nil {
			return c, nil
		}
	}
	all, err := s.list()
	if err != nil {
		return nil, err
	}
	var match []*Container
	for _, c := range all {
		if c.ID == ref {
			return c, nil
		}
		if strings.HasPrefix(c.ID, ref) {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return nil, fmt.Errorf("no such container: %s", ref)
	}
	return nil, fmt.Errorf("multiple containers match %q: use a longer ID", ref)
}

// remove deletes the bundle (detaching anything still mounted in it) and
// releases the name.
func (s *store) remove(c *Container) error {
	if err := removeBundle(s.bundle(c.ID)); err != nil {
		return err
	}
	s.releaseName(c.Name, c.ID)
	return nil
}
