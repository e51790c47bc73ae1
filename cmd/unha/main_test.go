package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unha/unha/internal/app"
)

// recorder is an engine that remembers what it was asked.
type recorder struct {
	cfg   app.Config
	run   *app.RunOptions
	all   *bool
	rm    []string
	force bool
	code  int
	err   error
}

func (r *recorder) Run(_ context.Context, o app.RunOptions) (int, error) {
	r.run = &o
	return r.code, r.err
}

func (r *recorder) List(_ context.Context, w io.Writer, all bool) error {
	r.all = &all
	return r.err
}

func (r *recorder) Remove(_ context.Context, w io.Writer, refs []string, force bool) error {
	r.rm, r.force = refs, force
	return r.err
}

// parse runs a command line against a recorder; stdout and stderr go to
// files so that the test can read what unha printed.
func parse(t *testing.T, rec *recorder, args ...string) (code int, stderr string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	c := &cli{newEngine: func(cfg app.Config) (engine, error) { rec.cfg = cfg; return rec, nil }}
	code = c.main(args, os.Stdin, out, errf)
	data, _ := os.ReadFile(errf.Name())
	return code, string(data)
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		args []string
		want app.RunOptions
	}{
		{[]string{"run", "host"}, app.RunOptions{Image: "host", Network: "none"}},
		{[]string{"run", "--rm", "-it", "host", "sh", "-c", "echo hi"},
			app.RunOptions{Image: "host", Remove: true, Interactive: true, TTY: true, Network: "none", Args: []string{"sh", "-c", "echo hi"}}},
		{[]string{"run", "--name", "web", "-h", "box", "-e", "A=B", "-e", "C=d,e", "--env", "D", "--env-file", "f1", "--env-file=f2",
			"-w", "/tmp", "-u", "1000:1000", "--read-only", "--network", "host", "--cidfile", "/c", "host", "id"},
			app.RunOptions{Image: "host", Name: "web", Hostname: "box", Env: []string{"A=B", "C=d,e", "D"}, EnvFiles: []string{"f1", "f2"},
				Workdir: "/tmp", User: "1000:1000", ReadOnly: true, Network: "host", CIDFile: "/c", Args: []string{"id"}}},
		{[]string{"run", "--hostname=box", "--network=none", "host"}, app.RunOptions{Image: "host", Hostname: "box", Network: "none"}},
		// Flags after IMAGE are the command's.
		{[]string{"run", "host", "ls", "--rm", "-e", "X"}, app.RunOptions{Image: "host", Network: "none", Args: []string{"ls", "--rm", "-e", "X"}}},
		// --rootfs takes the place of IMAGE.
		{[]string{"run", "--rootfs", "/r", "sh", "-c", "x"}, app.RunOptions{Rootfs: "/r", Network: "none", Args: []string{"sh", "-c", "x"}}},
		{[]string{"run", "--rootfs", "/r"}, app.RunOptions{Rootfs: "/r", Network: "none"}},
	}
	for _, tt := range tests {
		rec := &recorder{}
		if code, stderr := parse(t, rec, tt.args...); code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tt.args, code, stderr)
			continue
		}
		if rec.run == nil {
			t.Errorf("%q: run not called", tt.args)
			continue
		}
		got := *rec.run
		if len(got.Args) == 0 {
			got.Args = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, tt.want)
		}
	}
}

func TestGlobalFlags(t *testing.T) {
	rec := &recorder{}
	parse(t, rec, "--data-root", "/d", "--runtime-root=/r", "--runtime", "/usr/sbin/runc", "--debug", "run", "host")
	if rec.cfg.DataRoot != "/d" || rec.cfg.RuntimeRoot != "/r" || rec.cfg.Runtime != "/usr/sbin/runc" || !rec.cfg.RuntimeDebug || rec.cfg.Logger == nil {
		t.Errorf("config %+v", rec.cfg)
	}
	// Persistent flags are accepted after the verb too.
	rec = &recorder{}
	parse(t, rec, "run", "--runtime", "runc", "host")
	if rec.cfg.Runtime != "runc" || rec.cfg.RuntimeDebug {
		t.Errorf("config %+v", rec.cfg)
	}
}

func TestPsRm(t *testing.T) {
	rec := &recorder{}
	if code, _ := parse(t, rec, "ps", "-a"); code != 0 || rec.all == nil || !*rec.all {
		t.Errorf("ps -a: %d %v", code, rec.all)
	}
	rec = &recorder{}
	if code, _ := parse(t, rec, "ps"); code != 0 || *rec.all {
		t.Errorf("ps: %d", code)
	}
	rec = &recorder{}
	if code, _ := parse(t, rec, "rm", "-f", "a", "b"); code != 0 || !rec.force || !reflect.DeepEqual(rec.rm, []string{"a", "b"}) {
		t.Errorf("rm: %d %+v", code, rec)
	}
	if code, stderr := parse(t, &recorder{}, "rm"); code != 125 || !strings.Contains(stderr, "requires at least 1 argument") {
		t.Errorf("rm without args: %d %q", code, stderr)
	}
	if code, stderr := parse(t, &recorder{}, "ps", "x"); code != 125 || !strings.Contains(stderr, "accepts no arguments") {
		t.Errorf("ps x: %d %q", code, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--nope", "host"},
		{"run"},
		{"run", "-d", "host"}, // not implemented: refused, not ignored
		{"nosuchverb"},
	} {
		rec := &recorder{}
		code, stderr := parse(t, rec, args...)
		if code != 125 || !strings.HasPrefix(stderr, "unha: ") || rec.run != nil {
			t.Errorf("%q: exit %d, stderr %q, run %v", args, code, stderr, rec.run)
		}
	}
	_, stderr := parse(t, &recorder{}, "run", "--nope", "host")
	if stderr != "unha: unknown flag: --nope\nSee 'unha run --help'.\n" {
		t.Errorf("bad flag message %q", stderr)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		code int
		err  error
		want int
	}{
		{0, nil, 0},
		{3, nil, 3},
		{137, nil, 137},
		{0, errors.New("boom"), 125},
		{0, fmt.Errorf("create: %w", app.ErrCommandNotFound), 127},
		{0, fmt.Errorf("create: %w", app.ErrCommandNotExecutable), 126},
	}
	for _, tt := range tests {
		rec := &recorder{code: tt.code, err: tt.err}
		code, stderr := parse(t, rec, "run", "host", "x")
		if code != tt.want {
			t.Errorf("run returning (%d, %v): exit %d, want %d", tt.code, tt.err, code, tt.want)
		}
		if tt.err != nil && stderr != "unha: "+tt.err.Error()+"\n" {
			t.Errorf("stderr %q", stderr)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	c := &cli{newEngine: func(app.Config) (engine, error) { t.Fatal("engine built for --version"); return nil, nil }}
	if code := c.main([]string{"--version"}, os.Stdin, out, out); code != 0 {
		t.Errorf("--version exit %d", code)
	}
	c2 := &cli{newEngine: c.newEngine}
	if code := c2.main([]string{"run", "--help"}, os.Stdin, out, out); code != 0 {
		t.Errorf("run --help exit %d", code)
	}
	data, _ := os.ReadFile(out.Name())
	s := string(data)
	if !strings.HasPrefix(s, "unha version "+version) || !strings.Contains(s, "--rootfs") || !strings.Contains(s, "-h, --hostname") {
		t.Errorf("output %q", s)
	}
}
