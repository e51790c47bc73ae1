package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// freezeWait bounds how long Freeze waits for the kernel to report the
// cgroup frozen; a task stuck in an uninterruptible sleep (D state, e.g. on
// a dead NFS server) can keep a cgroup FREEZING forever.
const freezeWait = 10 * time.Second

// freezer returns which interface freezes this cgroup: the v1 freezer
// controller, or cgroup2's cgroup.freeze (Linux 5.2).
func (m *manager) freezer() (dir string, v1 bool, err error) {
	if d, ok := m.dir("freezer"); ok {
		return d, true, nil
	}
	if d, ok := m.dir(""); ok && (m.v2 || exists(filepath.Join(d, "cgroup.freeze"))) {
		return d, false, nil
	}
	return "", false, errors.New("no freezer: neither the v1 freezer controller nor cgroup.freeze is available")
}

func (m *manager) Freeze() error { return m.setFrozen(true) }
func (m *manager) Thaw() error   { return m.setFrozen(false) }

func (m *manager) setFrozen(frozen bool) error {
	dir, v1, err := m.freezer()
	if err != nil {
		return err
	}
	if v1 {
		return freezeV1(dir, frozen)
	}
	return freezeV2(dir, frozen)
}

// freezeV1 writes freezer.state and waits for it to settle. The kernel
// moves a cgroup to FROZEN only when every task has stopped; tasks forked
// during FREEZING can leave it stuck there, so the write is repeated now and
// then (runc does the same).
func freezeV1(dir string, frozen bool) error {
	want := "THAWED"
	if frozen {
		want = "FROZEN"
	}
	deadline := time.Now().Add(freezeWait)
	delay := time.Millisecond
	for i := 0; ; i++ {
		if i%10 == 0 {
			if err := writeFile(dir, "freezer.state", want); err != nil {
				return err
			}
		}
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		if s == want {
			return nil
		}
		if time.Now().After(deadline) {
			if frozen {
				_ = writeFile(dir, "freezer.state", "THAWED")
			}
			return fmt.Errorf("freezer.state of %s is %s, want %s", dir, s, want)
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// freezeV2 writes cgroup.freeze and waits for cgroup.events to show the
// result ("frozen 1"): the write only requests the change.
func freezeV2(dir string, frozen bool) error {
	v, want := "0", "frozen 0"
	if frozen {
		v, want = "1", "frozen 1"
	}
	if err := writeFile(dir, "cgroup.freeze", v); err != nil {
		return err
	}
	deadline := time.Now().Add(freezeWait)
	delay := time.Millisecond
	for {
		ev, err := readFile(dir, "cgroup.events")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(ev, "\n") {
			if strings.TrimSpace(l) == want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if frozen {
				_ = writeFile(dir, "cgroup.freeze", "0")
			}
			return fmt.Errorf("cgroup %s did not reach %q", dir, want)
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

func (m *manager) Paused() (bool, error) {
	dir, v1, err := m.freezer()
	if err != nil {
		return false, err
	}
	if v1 {
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			return false, err
		}
		return s == "FROZEN", nil
	}
	s, err := readFile(dir, "cgroup.freeze")
	if err != nil {
		return false, err
	}
	return s == "1", nil
}
