package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/spec"
	"golang.org/x/sys/unix"
)

func TestReserve(t *testing.T) {
	s := &Store{Root: filepath.Join(t.TempDir(), "root")}
	// Many creates of one id race to mkdir: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, dups := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := s.Reserve("c1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				l.Unlock()
			case errors.Is(err, ErrExist):
				dups++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dups != 7 {
		t.Fatalf("wins %d dups %d", wins, dups)
	}
	if _, err := s.Reserve("../evil"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad id: %v", err)
	}
}

func TestSaveOpen(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	l, err := s.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	st := &State{State: specs.State{ID: "c1", Status: specs.StateCreated, Pid: 42}}
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	got, l2, err := s.Open("c1", false)
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
	if got.Pid != 42 || got.Status != specs.StateCreated {
		t.Errorf("read back %+v", got.State)
	}
	ents, _ := os.ReadDir(filepath.Join(s.Root, "c1"))
	if len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
	if _, _, err := s.Open("nope", false); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestWritePidFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pid")
	if err := WritePidFile(p, 1234); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "1234" {
		t.Errorf("pid file %q", b)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"9": unix.SIGKILL, "KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "sigterm": unix.SIGTERM,
		"term": unix.SIGTERM, "SIGRTMIN+3": unix.Signal(37), "RTMAX-1": unix.Signal(63), "HUP": unix.SIGHUP,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "65", "SIGNOPE", "", "-1"} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) accepted", bad)
		}
	}
}

// TestStoreRead: a saved state comes back whole, through spec.DecodeFast
// or, for what it leaves to encoding/json, through that; a corrupt state is
// an error either way.
func TestStoreRead(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	l, err := s.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	st := &State{
		State:       specs.State{ID: "c1", Status: specs.StateRunning, Pid: 42, Bundle: "/b", Annotations: map[string]string{"a": "<b>"}},
		Rootfs:      "/b/rootfs",
		Created:     time.Date(2026, 12, 3, 19, 0, 0, 123, time.UTC),
		InitStart:   7,
		CgroupPaths: map[string]string{"pids": "/sys/fs/cgroup/pids/c1"},
		Config: &specs.Spec{Version: specs.Version, Hostname: "h", Process: &specs.Process{Args: []string{"sh", "-c", "echo \"a\tb\""}},
			Hooks:       &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}},
			Annotations: map[string]string{"k": "v"},
			Linux: &specs.Linux{
				Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}},
				Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActAllow},
				Resources: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
					WeightDevice: []specs.LinuxWeightDevice{{}}}}, // an embedded struct
			}},
	}
	st.Config.Linux.Resources.BlockIO.WeightDevice[0].Major = 8
	if err := s.Save(st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Root, "c1", stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var fast State
	if !spec.DecodeFast(b, &fast) {
		t.Errorf("the fast path refused a state json.Marshal wrote: %s", b)
	}
	got, err := s.read("c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("read back\n got %+v\nwant %+v", got, st)
	}
	// A surrogate pair escape is encoding/json's to decode.
	slow := strings.Replace(string(b), `"rootfs":"/b/rootfs"`, `"rootfs":"/b/\ud83d\ude00"`, 1)
	if err := os.WriteFile(filepath.Join(s.Root, "c1", stateFile), []byte(slow), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.read("c1"); err != nil || got.Rootfs != "/b/\U0001F600" || got.Config.Hostname != "h" {
		t.Errorf("encoding/json's read: %+v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(s.Root, "c1", stateFile), []byte(`{"id": "c1", "config": {`), 0o600); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	if _, _, err := s.Open("c1", false); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt state: %v", err)
	}
}

// TestSaveHeader: create's first save leaves the config out, and a read of
// it is a state without one (what delete --force of a killed create reads).
func TestSaveHeader(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	l, err := s.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	st := &State{
		State:       specs.State{ID: "c1", Status: specs.StateCreating, Bundle: "/b"},
		CgroupPaths: map[string]string{"pids": "/sys/fs/cgroup/pids/c1"},
		Config:      &specs.Spec{Hostname: "h", Process: &specs.Process{Args: []string{"sh"}}},
	}
	if err := s.SaveHeader(st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Root, "c1", stateFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"config"`) || strings.Contains(string(b), `"hostname"`) {
		t.Errorf("the header holds the config: %s", b)
	}
	got, err := s.read("c1")
	if err != nil {
		t.Fatal(err)
	}
	want := *st
	want.Config = nil
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n got %+v\nwant %+v", *got, want)
	}
}
