package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strconv"
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

// headerAsBefore is the value SaveHeader encoded before stateHeader had a
// name: the file format must not change.
func headerAsBefore(st *State) any {
	return &struct {
		*State
		Config *struct{} `json:"config,omitempty"`
	}{State: st}
}

// randomState is a create's state with a default config, its strings,
// times, maps and slices varied (spec's tests vary every field of a copy
// of State; this is State itself).
func randomState(r *rand.Rand) *State {
	str := func() string {
		const chars = "abc/._-: <>&\"\\\t\n\x00\x7f\xff\u00e9\u2028\u2029\U0001F600"
		rs := []rune(chars)
		var b strings.Builder
		for i := r.Intn(10); i > 0; i-- {
			if r.Intn(20) == 0 {
				b.WriteByte(0x80 + byte(r.Intn(0x80))) // invalid UTF-8
			} else {
				b.WriteRune(rs[r.Intn(len(rs))])
			}
		}
		return b.String()
	}
	strs := func() []string {
		switch r.Intn(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{str(), str()}
	}
	smap := func() map[string]string {
		switch r.Intn(3) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for i := r.Intn(5); i >= 0; i-- {
			m[str()] = str()
		}
		return m
	}
	st := &State{
		State: specs.State{Version: specs.Version, ID: str(), Status: specs.ContainerState(str()),
			Pid: r.Intn(1 << 22), Bundle: str(), Annotations: smap()},
		Rootfs: str(), Owner: str(), CgroupPaths: smap(), CgroupCreated: strs(), NoPivot: r.Intn(2) == 0,
	}
	if r.Intn(2) == 0 {
		st.InitStart = r.Uint64() >> r.Intn(64)
	}
	if r.Intn(4) != 0 {
		zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+30*60), time.FixedZone("X", -(11*3600 + 17))}
		st.Created = time.Unix(r.Int63n(1<<33), int64(r.Intn(1e9))*int64(r.Intn(2))).In(zones[r.Intn(len(zones))])
	}
	if r.Intn(4) != 0 {
		st.Config = spec.Default()
		st.Config.Hostname = str()
		st.Config.Process.Env = strs()
		st.Config.Annotations = smap()
		st.Config.Linux.Sysctl = smap()
	}
	return st
}

// TestSaveEncodeFast: Save and SaveHeader write what json.Marshal writes
// for a State and for the header as SaveHeader always wrote it, and take
// EncodeFast's path for every state create makes.
func TestSaveEncodeFast(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		st := randomState(r)
		st.ID = "c" + strconv.Itoa(i)
		if err := os.Mkdir(s.dir(st.ID), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			save func(*State) error
			v    any // what Save encodes
			old  any // what it encoded before
		}{
			{"Save", s.Save, st, st},
			{"SaveHeader", s.SaveHeader, &stateHeader{State: st}, headerAsBefore(st)},
		} {
			want, err := json.Marshal(c.old)
			if err != nil {
				t.Fatal(err)
			}
			if fast, ok := spec.EncodeFast(c.v); !ok {
				t.Fatalf("%s: EncodeFast fell back on %s", c.name, want)
			} else if !bytes.Equal(fast, want) {
				t.Fatalf("%s: EncodeFast wrote\n%s\njson.Marshal\n%s", c.name, fast, want)
			}
			if err := c.save(st); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(s.dir(st.ID), stateFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s wrote\n%s\nwant\n%s", c.name, got, want)
			}
		}
	}
}

// TestSaveAllocs: the first Save of a default spec's state in a process
// (TestSaveAllocsHelper, run as a fresh process, measures it) allocates a
// small part of what json.Marshal's first encode of it allocates.
func TestSaveAllocs(t *testing.T) {
	if how := os.Getenv("UNHA_SAVE_ALLOCS"); how != "" {
		saveAllocsChild(t, how)
		return
	}
	measure := func(how string) (bytes, count uint64) {
		// A fresh process each: the first encode of a type is the one
		// that counts, and a process makes it once.
		cmd := exec.Command(os.Args[0], "-test.run=^TestSaveAllocs$", "-test.v")
		cmd.Env = append(os.Environ(), "UNHA_SAVE_ALLOCS="+how)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", how, err, out)
		}
		i := strings.Index(string(out), "allocs: ")
		if i < 0 {
			t.Fatalf("%s: no result in\n%s", how, out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "allocs: %d %d", &bytes, &count); err != nil {
			t.Fatal(err)
		}
		return bytes, count
	}
	jsonB, jsonN := measure("json")
	saveB, saveN := measure("save")
	// As in create: its config decoded first, which knows the spec's types.
	afterB, afterN := measure("save-after-decode")
	t.Logf("first encode of a default spec's state: json.Marshal %d B in %d allocations; Save %d B in %d, %d B in %d after DecodeFast of the config",
		jsonB, jsonN, saveB, saveN, afterB, afterN)
	if saveB*4 > jsonB || afterB*10 > jsonB {
		t.Errorf("Save allocates %d B (%d B after a decode), json.Marshal %d B", saveB, afterB, jsonB)
	}
}

// saveAllocsChild is TestSaveAllocs in its child process: it measures one
// first encode, as how says, and prints "allocs: BYTES COUNT".
func saveAllocsChild(t *testing.T, how string) {
	s := &Store{Root: t.TempDir()}
	l, err := s.Reserve("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	st := &State{
		State:   specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Bundle: "/b"},
		Rootfs:  "/b/rootfs",
		Created: time.Now(),
		Config:  spec.Default(),
		CgroupPaths: map[string]string{
			"": "/sys/fs/cgroup/c1",
		},
		CgroupCreated: []string{"/sys/fs/cgroup/c1"},
	}
	if how == "save-after-decode" {
		// json.Marshal of the spec builds encoding/json's tables, not
		// EncodeFast's.
		b, err := json.Marshal(st.Config)
		if err != nil {
			t.Fatal(err)
		}
		var c specs.Spec
		if !spec.DecodeFast(b, &c) {
			t.Fatal("DecodeFast fell back")
		}
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	if how == "json" {
		_, err = json.Marshal(st)
	} else {
		err = s.Save(st)
	}
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocs: %d %d", after.TotalAlloc-before.TotalAlloc, after.Mallocs-before.Mallocs)
}

// TestWriteFileAtomic: the file appears whole with its mode, and a write
// that fails (here the rename, onto a directory) leaves no temp behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := writeFileAtomic(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "two" {
		t.Errorf("read %q, %v", b, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	blocked := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(blocked, []byte("x"), 0o600); err == nil {
		t.Error("rename onto a non-empty directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("left in the directory: %v", names)
	}
}
