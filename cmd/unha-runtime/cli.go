package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unha/unha/internal/runtime"
)

// command is one verb of the command line.
type command struct {
	name     string
	synopsis string // what follows the verb in the usage line
	short    string
	flags    *flagSet
	help     bool
	// stopAtArg ends the flags at the first positional argument: the rest
	// is the container's command line with its own flags (exec, ps), as
	// cobra's SetInterspersed(false) did and as runc does.
	stopAtArg bool
	// args checks the positional arguments before the globals are set up,
	// the order cobra ran them in.
	args func(verb string, args []string) error
	run  func(args []string) error
}

func newCommand(name, synopsis, short string) *command {
	c := &command{name: name, synopsis: synopsis, short: short, flags: newFlagSet(name)}
	c.flags.Bool(&c.help, "help", "h", false, "help for "+name)
	return c
}

// flagSet is a flag.FlagSet that knows each flag's one-letter alias.
// Aliases are resolved before flag.FlagSet.Set, so Visit, and with it
// changed, only ever sees the long name.
type flagSet struct {
	fs     *flag.FlagSet
	alias  map[string]string // letter → long name
	letter map[string]string // long name → letter
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// parse reports errors itself; flag must never print usage to stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{fs: fs, alias: map[string]string{}, letter: map[string]string{}}
}

func (f *flagSet) add(v flag.Value, name, letter, usage string) {
	f.fs.Var(v, name, usage)
	if letter != "" {
		f.alias[letter] = name
		f.letter[name] = letter
	}
}

// value is a flag.Value that parses with strconv (or time) and returns its
// error as is: flag's own values replace it with "parse error", and our
// messages keep pflag's wording, which names strconv's error.
type value[T any] struct {
	p       *T
	parse   func(string) (T, error)
	typ     string // for --help
	boolean bool
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}

// String may be called on a zero value (flag.Value's contract).
func (v *value[T]) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return fmt.Sprint(*v.p)
}

// IsBoolFlag is what flag (and parse) take to mean "no separate value".
func (v *value[T]) IsBoolFlag() bool { return v.boolean }

// Type names the value in --help, as pflag did.
func (v *value[T]) Type() string { return v.typ }

func define[T any](f *flagSet, p *T, name, letter string, def T, usage, typ string, parse func(string) (T, error)) {
	*p = def
	f.add(&value[T]{p: p, parse: parse, typ: typ, boolean: typ == "bool"}, name, letter, usage)
}

func (f *flagSet) String(p *string, name, letter, def, usage string) {
	define(f, p, name, letter, def, usage, "string", func(s string) (string, error) { return s, nil })
}

func (f *flagSet) Bool(p *bool, name, letter string, def bool, usage string) {
	define(f, p, name, letter, def, usage, "bool", strconv.ParseBool)
}

func (f *flagSet) Int(p *int, name, letter string, def int, usage string) {
	define(f, p, name, letter, def, usage, "int", func(s string) (int, error) {
		n, err := strconv.ParseInt(s, 0, 64)
		return int(n), err
	})
}

func (f *flagSet) Int64(p *int64, name, letter string, def int64, usage string) {
	define(f, p, name, letter, def, usage, "int64", func(s string) (int64, error) { return strconv.ParseInt(s, 0, 64) })
}

func (f *flagSet) Uint64(p *uint64, name, letter string, def uint64, usage string) {
	define(f, p, name, letter, def, usage, "uint64", func(s string) (uint64, error) { return strconv.ParseUint(s, 0, 64) })
}

func (f *flagSet) Uint16(p *uint16, name, letter string, def uint16, usage string) {
	define(f, p, name, letter, def, usage, "uint16", func(s string) (uint16, error) {
		n, err := strconv.ParseUint(s, 0, 16)
		return uint16(n), err
	})
}

func (f *flagSet) Duration(p *time.Duration, name, letter string, def time.Duration, usage string) {
	define(f, p, name, letter, def, usage, "duration", time.ParseDuration)
}

// stringArray collects every occurrence of a repeated flag, commas and all
// (pflag's StringArray, not its comma-splitting StringSlice).
type stringArray struct{ p *[]string }

func (a stringArray) Set(s string) error { *a.p = append(*a.p, s); return nil }

func (a stringArray) String() string {
	if a.p == nil {
		return "[]"
	}
	return "[" + strings.Join(*a.p, ",") + "]"
}

func (stringArray) Type() string { return "stringArray" }

func (f *flagSet) StringArray(p *[]string, name, letter, usage string) {
	f.add(stringArray{p}, name, letter, usage)
}

// changed reports whether the command line set the flag, even to its
// default (cobra's Flags().Changed).
func (f *flagSet) changed(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// lookup finds name, a long name or a letter, in the first set that has
// it: a verb's own flags shadow the globals (spec --rootless).
func lookup(sets []*flagSet, name string) (*flagSet, *flag.Flag) {
	for _, s := range sets {
		if fl := s.fs.Lookup(name); fl != nil {
			return s, fl
		}
		if long, ok := s.alias[name]; ok {
			return s, s.fs.Lookup(long)
		}
	}
	return nil, nil
}

// parse reads args with the standard flag package's syntax (runc's, whose
// urfave/cli v1 is built on it): one or two dashes alike, -name=value or
// -name value, a boolean takes no separate value, "--" ends the flags.
// flag.FlagSet.Parse itself would stop at the first positional argument,
// where runc and cobra read flags after positionals too (delete ID
// --force), unless stopAtArg; and it words its errors its own way, where
// these keep the wording of pflag, which this command line used before. So
// the scan is ours, and the FlagSets hold the flags, convert the values and
// record which were set.
func parse(args []string, stopAtArg bool, sets ...*flagSet) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			return append(pos, args...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			if stopAtArg {
				return append(pos, args...), nil
			}
			continue
		}
		dashes := "-"
		if a[1] == '-' {
			dashes = "--"
		}
		name, val, hasVal := strings.Cut(a[len(dashes):], "=")
		if name == "" || name[0] == '-' {
			return nil, flagError(fmt.Errorf("bad flag syntax: %s", a))
		}
		// How messages name the flag: pflag's wording for one letter.
		spelled := dashes + name
		if dashes == "-" && len(name) == 1 {
			spelled = fmt.Sprintf("%q in -%s", name[0], name)
		}
		s, fl := lookup(sets, name)
		if fl == nil {
			if dashes == "-" && len(name) == 1 {
				return nil, flagError(fmt.Errorf("unknown shorthand flag: %s", spelled))
			}
			return nil, flagError(fmt.Errorf("unknown flag: %s", spelled))
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() && !hasVal {
			val, hasVal = "true", true
		}
		if !hasVal {
			if len(args) == 0 {
				return nil, flagError(fmt.Errorf("flag needs an argument: %s", spelled))
			}
			val, args = args[0], args[1:]
		}
		if err := s.fs.Set(fl.Name, val); err != nil {
			what := "--" + fl.Name
			if l := s.letter[fl.Name]; l != "" {
				what = "-" + l + ", " + what
			}
			return nil, flagError(fmt.Errorf("invalid argument %q for %q flag: %v", val, what, err))
		}
	}
	return pos, nil
}

// flagError marks a command-line mistake as cobra's SetFlagErrorFunc did.
func flagError(err error) error { return fmt.Errorf("%w: %w", err, runtime.ErrInvalid) }

// printFlags lists the flags of sets, one a line, sorted, in pflag's
// layout.
func printFlags(w io.Writer, sets ...*flagSet) {
	type entry struct {
		s  *flagSet
		fl *flag.Flag
	}
	var all []entry
	for _, s := range sets {
		s.fs.VisitAll(func(fl *flag.Flag) { all = append(all, entry{s, fl}) })
	}
	sort.Slice(all, func(i, j int) bool { return all[i].fl.Name < all[j].fl.Name })
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, e := range all {
		fl := e.fl
		names := "    "
		if l := e.s.letter[fl.Name]; l != "" {
			names = "-" + l + ", "
		}
		names += "--" + fl.Name
		typ, def := "", ""
		if v, ok := fl.Value.(interface{ Type() string }); ok && v.Type() != "bool" {
			typ = " " + v.Type()
		}
		switch {
		case fl.DefValue == "" || fl.DefValue == "0" || fl.DefValue == "false" || fl.DefValue == "[]":
		case typ == " string":
			def = fmt.Sprintf(" (default %q)", fl.DefValue)
		default:
			def = " (default " + fl.DefValue + ")"
		}
		fmt.Fprintf(tw, "  %s%s\t%s%s\n", names, typ, fl.Usage, def)
	}
	tw.Flush()
}

// app is the whole command line: the globals, then one verb.
type app struct {
	g       *globals
	version bool
	help    bool
	root    *flagSet // --version, --help
	globals *flagSet // before the verb, or after it as cobra's persistent flags
	// verbs are built on first use: each holds a flag set, and building
	// all fifteen took a tenth of the CLI's heap for a call that uses one.
	verbs  []lazyVerb
	stdout io.Writer
}

type lazyVerb struct {
	name string
	make func() *command
	c    *command
}

const progName = "unha-runtime"

func newApp(g *globals, stdout io.Writer) *app {
	a := &app{g: g, root: newFlagSet(progName), globals: newFlagSet(progName), stdout: stdout}
	a.root.Bool(&a.help, "help", "h", false, "help for "+progName)
	a.root.Bool(&a.version, "version", "v", false, "version for "+progName)
	pf := a.globals
	pf.String(&g.root, "root", "", runtime.DefaultRoot(), "root directory for storage of container state")
	pf.String(&g.logPath, "log", "", "", "log file path (default: stderr)")
	pf.String(&g.logFormat, "log-format", "", "text", "log format: text or json")
	pf.Bool(&g.debug, "debug", "", false, "enable debug logging")
	pf.Bool(&g.systemdCgroup, "systemd-cgroup", "", false, "use the systemd cgroup driver")
	pf.String(&g.rootless, "rootless", "", "auto", "rootless mode: true, false or auto")
	a.verbs = []lazyVerb{
		{name: "create", make: func() *command { return createCmd(g) }},
		{name: "delete", make: func() *command { return deleteCmd(g) }},
		{name: "events", make: func() *command { return eventsCmd(g) }},
		{name: "exec", make: func() *command { return execCmd(g) }},
		{name: "features", make: featuresCmd},
		{name: "kill", make: func() *command { return killCmd(g) }},
		{name: "list", make: func() *command { return listCmd(g) }},
		{name: "pause", make: func() *command { return pauseCmd(g) }},
		{name: "ps", make: func() *command { return psCmd(g) }},
		{name: "resume", make: func() *command { return resumeCmd(g) }},
		{name: "run", make: func() *command { return runCmd(g) }},
		{name: "spec", make: specCmd},
		{name: "start", make: func() *command { return startCmd(g) }},
		{name: "state", make: func() *command { return stateCmd(g) }},
		{name: "update", make: func() *command { return updateCmd(g) }},
	}
	return a
}

// allVerbs builds every verb, in order.
func (a *app) allVerbs() []*command {
	all := make([]*command, len(a.verbs))
	for i := range a.verbs {
		all[i] = a.verb(a.verbs[i].name)
	}
	return all
}

// errUnknownVerb is cobra's message, without its suggestions: one line.
func errUnknownVerb(name string) error {
	return fmt.Errorf("unknown command %q for %q", name, progName)
}

func (a *app) verb(name string) *command {
	for i := range a.verbs {
		if v := &a.verbs[i]; v.name == name {
			if v.c == nil {
				v.c = v.make()
			}
			return v.c
		}
	}
	return nil
}

// run parses the globals up to the verb, then the verb's flags, checks
// the positional arguments, sets up the globals and runs the verb: the
// order cobra went in.
func (a *app) run(args []string) error {
	pos, err := parse(args, true, a.root, a.globals)
	if err != nil {
		return err
	}
	switch {
	case a.version:
		_, err := io.WriteString(a.stdout, versionText())
		return err
	case a.help || len(pos) == 0:
		return a.usage()
	}
	if pos[0] == "help" {
		if len(pos) == 1 {
			return a.usage()
		}
		c := a.verb(pos[1])
		if c == nil {
			return errUnknownVerb(pos[1])
		}
		return c.usage(a)
	}
	c := a.verb(pos[0])
	if c == nil {
		return errUnknownVerb(pos[0])
	}
	rest, err := parse(pos[1:], c.stopAtArg, c.flags, a.globals)
	if err != nil {
		return err
	}
	if c.help {
		return c.usage(a)
	}
	if err := c.args(c.name, rest); err != nil {
		return err
	}
	if err := a.g.setup(); err != nil {
		return err
	}
	return c.run(rest)
}

func (a *app) usage() error {
	w := a.stdout
	fmt.Fprintf(w, "an OCI container runtime built by hand\n\nUsage:\n  %s [global flags] <command> [flags] [args]\n\nCommands:\n", progName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range a.allVerbs() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	fmt.Fprintf(tw, "  help\thelp about any command\n")
	tw.Flush()
	fmt.Fprint(w, "\nGlobal flags:\n")
	printFlags(w, a.globals, a.root)
	_, err := fmt.Fprintf(w, "\nUse \"%s <command> --help\" for more information about a command.\n", progName)
	return err
}

func (c *command) usage(a *app) error {
	w := a.stdout
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n\nFlags:\n", c.short, strings.TrimSpace(progName+" "+c.name+" "+c.synopsis))
	printFlags(w, c.flags)
	fmt.Fprint(w, "\nGlobal flags:\n")
	printFlags(w, a.globals)
	return nil
}

// exactArgs is cobra.ExactArgs with runc's wording.
func exactArgs(n int, what string) func(string, []string) error {
	return func(verb string, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: %q requires exactly %d argument(s): %s: %w", verb, verb, n, what, runtime.ErrInvalid)
		}
		return nil
	}
}
