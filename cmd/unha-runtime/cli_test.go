package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/unha/unha/internal/runtime"
)

// testApp is the real command line with every verb's action replaced by
// one that records the verb and its positional arguments.
type testApp struct {
	*app
	g      *globals
	out    bytes.Buffer
	ran    string
	args   []string
	called int
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	ta := &testApp{g: &globals{}}
	ta.app = newApp(ta.g, &ta.out)
	for _, c := range ta.allVerbs() {
		if c.args == nil {
			t.Fatalf("verb %s has no argument check", c.name)
		}
		c.run = func(args []string) error {
			ta.ran, ta.args = c.name, args
			ta.called++
			return nil
		}
	}
	return ta
}

// run runs the command line; it fails the test on an error.
func (ta *testApp) run(t *testing.T, args ...string) {
	t.Helper()
	if err := ta.app.run(args); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
}

// flag is the value of one of verb's flags, as its String method shows it.
func (ta *testApp) flag(t *testing.T, verb, name string) string {
	t.Helper()
	fl := ta.verb(verb).flags.fs.Lookup(name)
	if fl == nil {
		t.Fatalf("%s has no flag %q", verb, name)
	}
	return fl.Value.String()
}

func (ta *testApp) wantRan(t *testing.T, verb string, args ...string) {
	t.Helper()
	if ta.called != 1 || ta.ran != verb || !slices.Equal(ta.args, args) {
		t.Errorf("ran %d time(s) %s %q, want once %s %q", ta.called, ta.ran, ta.args, verb, args)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		cmdline []string
		verb    string
		args    []string
		flag    string
	}{
		{[]string{"delete", "ID", "--force"}, "delete", []string{"ID"}, "force"},
		{[]string{"delete", "--force", "ID"}, "delete", []string{"ID"}, "force"},
		{[]string{"delete", "ID", "-f"}, "delete", []string{"ID"}, "force"},
		{[]string{"kill", "ID", "KILL", "--all"}, "kill", []string{"ID", "KILL"}, "all"},
		{[]string{"kill", "-a", "ID", "9"}, "kill", []string{"ID", "9"}, "all"},
		{[]string{"kill", "ID", "-a", "9"}, "kill", []string{"ID", "9"}, "all"},
		{[]string{"run", "ID", "-d", "--bundle", "b"}, "run", []string{"ID"}, "detach"},
	} {
		ta := newTestApp(t)
		ta.run(t, tc.cmdline...)
		ta.wantRan(t, tc.verb, tc.args...)
		if got := ta.flag(t, tc.verb, tc.flag); got != "true" {
			t.Errorf("%q: --%s is %s, want true", tc.cmdline, tc.flag, got)
		}
	}
}

func TestExecStopsAtTheCommand(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "exec", "-e", "A=1", "--cwd", "/w", "ID", "sh", "-c", "x", "-e", "--tty", "--", "--root", "r")
	ta.wantRan(t, "exec", "ID", "sh", "-c", "x", "-e", "--tty", "--", "--root", "r")
	if got := ta.flag(t, "exec", "env"); got != "[A=1]" {
		t.Errorf("--env is %s, want [A=1]", got)
	}
	if ta.verb("exec").flags.changed("tty") {
		t.Error("--tty after the command was taken as exec's")
	}
	if ta.g.root != runtime.DefaultRoot() {
		t.Errorf("--root after the command was taken as the global: %q", ta.g.root)
	}

	// ps passes its trailing arguments to ps(1).
	ta = newTestApp(t)
	ta.run(t, "ps", "--format", "table", "ID", "-f", "json")
	ta.wantRan(t, "ps", "ID", "-f", "json")
	if got := ta.flag(t, "ps", "format"); got != "table" {
		t.Errorf("ps --format is %s, want table", got)
	}
}

func TestChanged(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "exec", "--process", "p.json", "ID")
	if ta.verb("exec").flags.changed("tty") {
		t.Error("tty changed without --tty")
	}
	for _, form := range [][]string{{"--tty=false"}, {"-t"}, {"-tty"}, {"-t=true"}} {
		ta := newTestApp(t)
		ta.run(t, append(append([]string{"exec"}, form...), "--process", "p.json", "ID")...)
		if !ta.verb("exec").flags.changed("tty") {
			t.Errorf("%q: tty not changed", form)
		}
	}

	ta = newTestApp(t)
	// A negative value is the flag's, not a flag of its own.
	ta.run(t, "update", "--memory", "0", "--cpu-quota", "-1", "ID", "--pids-limit=7")
	ta.wantRan(t, "update", "ID")
	f := ta.verb("update").flags
	for name, want := range map[string]bool{"memory": true, "cpu-quota": true, "pids-limit": true, "cpu-period": false, "resources": false} {
		if f.changed(name) != want {
			t.Errorf("update: changed(%q) = %v, want %v", name, !want, want)
		}
	}
	if got := ta.flag(t, "update", "cpu-quota"); got != "-1" {
		t.Errorf("--cpu-quota is %s, want -1", got)
	}
}

func TestRepeatedFlags(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "exec", "-e", "A=1", "--env", "B=2,3", "--env=C=", "-e=D",
		"--cap", "CAP_X", "-c", "CAP_Y", "--env-file", "f1", "--env-file=f2",
		"-g", "10", "--additional-gids", "11", "ID", "cmd")
	for name, want := range map[string]string{
		"env":             "[A=1,B=2,3,C=,D]",
		"cap":             "[CAP_X,CAP_Y]",
		"env-file":        "[f1,f2]",
		"additional-gids": "[10,11]",
	} {
		if got := ta.flag(t, "exec", name); got != want {
			t.Errorf("--%s is %s, want %s", name, got, want)
		}
	}
	env := *ta.verb("exec").flags.fs.Lookup("env").Value.(stringArray).p
	if !slices.Equal(env, []string{"A=1", "B=2,3", "C=", "D"}) {
		t.Errorf("--env values %q: commas must not split", env)
	}
}

func TestDoubleDash(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "delete", "--", "--force")
	ta.wantRan(t, "delete", "--force")
	if got := ta.flag(t, "delete", "force"); got != "false" {
		t.Errorf("--force after -- was taken as a flag")
	}

	ta = newTestApp(t)
	ta.run(t, "--debug", "--", "state", "--", "-x")
	ta.wantRan(t, "state", "-x")

	// Past the command, -- is the command's.
	ta = newTestApp(t)
	ta.run(t, "exec", "--", "ID", "--", "sh")
	ta.wantRan(t, "exec", "ID", "--", "sh")
}

func TestSingleDashLongFlags(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "-root", "/r1", "-log-format=json", "-debug", "list", "-format", "json", "-quiet=false")
	ta.wantRan(t, "list")
	if ta.g.root != "/r1" || ta.g.logFormat != "json" || !ta.g.debug {
		t.Errorf("globals: root %q log-format %q debug %v", ta.g.root, ta.g.logFormat, ta.g.debug)
	}
	if got := ta.flag(t, "list", "format"); got != "json" {
		t.Errorf("list -format is %s", got)
	}

	ta = newTestApp(t)
	ta.run(t, "--root=/r2", "--systemd-cgroup", "--rootless=false", "delete", "-force", "ID")
	ta.wantRan(t, "delete", "ID")
	if ta.g.root != "/r2" || !ta.g.systemdCgroup || ta.g.rootless != "false" {
		t.Errorf("globals: root %q systemd-cgroup %v rootless %q", ta.g.root, ta.g.systemdCgroup, ta.g.rootless)
	}
	if got := ta.flag(t, "delete", "force"); got != "true" {
		t.Error("delete -force not set")
	}
}

func TestGlobalsAfterTheVerb(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "list", "--root", "/r")
	if ta.g.root != "/r" {
		t.Errorf("list --root: root is %q", ta.g.root)
	}
	// spec's own --rootless shadows the global one.
	ta = newTestApp(t)
	ta.run(t, "spec", "--rootless")
	if ta.g.rootless != "auto" || ta.flag(t, "spec", "rootless") != "true" {
		t.Errorf("spec --rootless: global %q, spec's %s", ta.g.rootless, ta.flag(t, "spec", "rootless"))
	}
}

func TestDefaults(t *testing.T) {
	ta := newTestApp(t)
	ta.run(t, "create", "ID")
	if ta.g.root != runtime.DefaultRoot() || ta.g.logFormat != "text" || ta.g.rootless != "auto" || ta.g.debug {
		t.Errorf("globals %+v", *ta.g)
	}
	if got := ta.flag(t, "create", "bundle"); got != "." {
		t.Errorf("--bundle defaults to %q", got)
	}
	if got := ta.flag(t, "events", "interval"); got != "5s" {
		t.Errorf("--interval defaults to %q", got)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		cmdline []string
		want    string
		invalid bool // wraps runtime.ErrInvalid
	}{
		{[]string{"list", "--nope"}, "unknown flag: --nope: invalid", true},
		{[]string{"--nope", "list"}, "unknown flag: --nope: invalid", true},
		{[]string{"list", "--nope=1"}, "unknown flag: --nope: invalid", true},
		{[]string{"create", "-x", "ID"}, "unknown shorthand flag: 'x' in -x: invalid", true},
		{[]string{"kill", "ID", "-9"}, "unknown shorthand flag: '9' in -9: invalid", true},
		{[]string{"list", "-v"}, "unknown shorthand flag: 'v' in -v: invalid", true},
		{[]string{"list", "--version"}, "unknown flag: --version: invalid", true},
		{[]string{"start", "--bundle", "b", "ID"}, "unknown flag: --bundle: invalid", true},
		{[]string{"create", "--bundle"}, "flag needs an argument: --bundle: invalid", true},
		{[]string{"create", "-b"}, "flag needs an argument: 'b' in -b: invalid", true},
		{[]string{"--root"}, "flag needs an argument: --root: invalid", true},
		{[]string{"create", "--preserve-fds", "abc", "ID"},
			`invalid argument "abc" for "--preserve-fds" flag: strconv.ParseInt: parsing "abc": invalid syntax: invalid`, true},
		{[]string{"delete", "-f=maybe", "ID"},
			`invalid argument "maybe" for "-f, --force" flag: strconv.ParseBool: parsing "maybe": invalid syntax: invalid`, true},
		{[]string{"update", "--blkio-weight", "70000", "ID"},
			`invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range: invalid`, true},
		{[]string{"events", "--interval", "5", "ID"},
			`invalid argument "5" for "--interval" flag: time: missing unit in duration "5": invalid`, true},
		{[]string{"delete", "---x"}, "bad flag syntax: ---x: invalid", true},
		{[]string{"bogus"}, `unknown command "bogus" for "unha-runtime"`, false},
		{[]string{"help", "bogus"}, `unknown command "bogus" for "unha-runtime"`, false},
		{[]string{"delete"}, `delete: "delete" requires exactly 1 argument(s): container id: invalid`, true},
		{[]string{"delete", "--force"}, `delete: "delete" requires exactly 1 argument(s): container id: invalid`, true},
		{[]string{"list", "x"}, `list: "list" requires exactly 0 argument(s): none: invalid`, true},
		{[]string{"kill", "a", "b", "c"}, "kill: requires 1 or 2 arguments: container id and optional signal: invalid", true},
		{[]string{"exec", "ID"}, "exec: requires a container id and a command (or --process): invalid", true},
		{[]string{"ps"}, "ps: requires a container id: invalid", true},
		// The arguments are checked before the globals, as cobra did.
		{[]string{"--log-format", "xml", "delete"}, `delete: "delete" requires exactly 1 argument(s): container id: invalid`, true},
		{[]string{"--log-format", "xml", "list"}, `invalid log format "xml": invalid`, true},
		{[]string{"--rootless", "maybe", "list"}, `invalid --rootless value "maybe": invalid`, true},
	} {
		ta := newTestApp(t)
		err := ta.app.run(tc.cmdline)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error %v, want %s", tc.cmdline, err, tc.want)
		} else if errors.Is(err, runtime.ErrInvalid) != tc.invalid {
			t.Errorf("%q: errors.Is(ErrInvalid) = %v", tc.cmdline, !tc.invalid)
		}
		if ta.called != 0 || ta.out.Len() != 0 {
			t.Errorf("%q: ran %d, printed %q", tc.cmdline, ta.called, ta.out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	for _, cmdline := range [][]string{{}, {"--help"}, {"-h"}, {"help"}, {"--debug"}, {"--help", "list"}} {
		ta := newTestApp(t)
		ta.run(t, cmdline...)
		out := ta.out.String()
		if ta.called != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "--log-format string") {
			t.Errorf("%q: ran %d, printed %q", cmdline, ta.called, out)
		}
		for _, c := range ta.allVerbs() {
			if !strings.Contains(out, "\n  "+c.name+" ") || !strings.Contains(out, c.short) {
				t.Errorf("%q: help does not list %s", cmdline, c.name)
			}
		}
	}
	for _, cmdline := range [][]string{{"exec", "--help"}, {"exec", "-h"}, {"help", "exec"}, {"exec", "--tty", "--help=true"}} {
		ta := newTestApp(t)
		ta.run(t, cmdline...)
		out := ta.out.String()
		for _, want := range []string{"unha-runtime exec [flags] <container-id>", "  -e, --env stringArray ", "--preserve-fds int", "--root string"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q: %s", cmdline, want, out)
			}
		}
		if ta.called != 0 {
			t.Errorf("%q ran the verb", cmdline)
		}
	}
	// Flags go after positionals: here --help is delete's.
	ta := newTestApp(t)
	ta.run(t, "delete", "ID", "--help")
	if ta.called != 0 || !strings.Contains(ta.out.String(), "-f, --force") {
		t.Errorf("delete ID --help: ran %d, printed %q", ta.called, ta.out.String())
	}
	// After exec's command, --help is the command's.
	ta = newTestApp(t)
	ta.run(t, "exec", "ID", "sh", "--help")
	ta.wantRan(t, "exec", "ID", "sh", "--help")

	ta = newTestApp(t)
	ta.run(t, "list", "--help=false")
	ta.wantRan(t, "list")
}

func TestVersion(t *testing.T) {
	for _, cmdline := range [][]string{{"--version"}, {"-v"}, {"-version"}, {"--root", "/r", "--version", "list"}} {
		ta := newTestApp(t)
		ta.run(t, cmdline...)
		if ta.out.String() != versionText() || ta.called != 0 {
			t.Errorf("%q printed %q, ran %d", cmdline, ta.out.String(), ta.called)
		}
	}
}

// TestLazyVerbNames checks that each lazily built verb is the one its
// entry names: a mismatch would run the wrong command.
func TestLazyVerbNames(t *testing.T) {
	a := newApp(&globals{}, &bytes.Buffer{})
	for _, v := range a.verbs {
		if c := a.verb(v.name); c == nil || c.name != v.name {
			t.Errorf("verb %q builds %v", v.name, c)
		}
	}
}
