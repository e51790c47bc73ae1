package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Status is the verdict of one test point.
type Status int

// Verdicts. A TAP "not ok ... # TODO" is a known failure by the test's own
// account and is not counted as a failure (TAP 13 semantics).
const (
	Pass Status = iota
	Fail
	Skip
	Todo
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "ok"
	case Fail:
		return "FAIL"
	case Skip:
		return "skip"
	case Todo:
		return "todo"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Result is one test point of one executable. Name is "<executable>: <description>",
// made unique within the executable by a " [n]" suffix for repeated descriptions.
type Result struct {
	Name   string
	Status Status
	Detail string // why, when the TAP output gives no test point to name it
}

var (
	// "ok 3 - desc", "not ok 4 desc", "ok 5 # SKIP why", "not ok 6 # TODO desc".
	testLine = regexp.MustCompile(`^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$`)
	planLine = regexp.MustCompile(`^1\.\.(\d+)`)
)

// stream tracks one TAP stream: the suite's executables print a fresh
// "TAP version 13" header for every stream.
type stream struct {
	planned int // -1 when no plan line was seen
	seen    int
}

// TAP is what ParseTAP found in the standard output of one executable.
type TAP struct {
	Results []Result
	// Errors are the "error" entries of YAML diagnostics. The lifecycle tests
	// (hooks, prestart, poststop, ...) print no test point at all: they
	// report failure only as a YAML block with an "error" key.
	Errors []string
}

// ParseTAP reads the standard output of one validation executable. Indented
// lines (YAML diagnostics, which embed the output of runtimetest for some
// tests) are not test points. A stream whose plan promises more points than
// it printed yields a synthetic failure.
func ParseTAP(exe string, r io.Reader) (TAP, error) {
	var (
		out     TAP
		streams []*stream
		cur     *stream
		counts  = map[string]int{}
		inYAML  bool
	)
	add := func(desc string, st Status) {
		name := exe + ": " + desc
		counts[name]++
		if n := counts[name]; n > 1 {
			name = fmt.Sprintf("%s [%d]", name, n)
		}
		out.Results = append(out.Results, Result{Name: name, Status: st})
	}
	newStream := func() {
		cur = &stream{planned: -1}
		streams = append(streams, cur)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if inYAML {
			if strings.TrimSpace(line) == "..." {
				inYAML = false
			} else if m := yamlError.FindStringSubmatch(line); m != nil {
				out.Errors = append(out.Errors, unquote(m[1]))
			}
			continue
		}
		switch {
		case strings.TrimSpace(line) == "---" && strings.HasPrefix(line, " "):
			inYAML = true
		case strings.HasPrefix(line, "TAP version"):
			newStream()
		case strings.HasPrefix(line, "Bail out!"):
			add("bail out: "+strings.TrimSpace(strings.TrimPrefix(line, "Bail out!")), Fail)
		case planLine.MatchString(line):
			if cur == nil {
				newStream()
			}
			n, _ := strconv.Atoi(planLine.FindStringSubmatch(line)[1])
			if cur.planned >= 0 {
				// A second plan in one stream means a stream without header.
				newStream()
			}
			cur.planned = n
		case testLine.MatchString(line):
			if cur == nil {
				newStream()
			}
			m := testLine.FindStringSubmatch(line)
			cur.seen++
			add(describe(m[1] == "ok", m[2], m[3]))
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read tap output of %s: %w", exe, err)
	}
	for i, s := range streams {
		if s.planned > s.seen {
			add(fmt.Sprintf("(stream %d: planned %d tests, saw %d)", i+1, s.planned, s.seen), Fail)
		}
	}
	return out, nil
}

// yamlError matches the "error" key of the JSON that tap-go prints as YAML.
var yamlError = regexp.MustCompile(`^\s*"error":\s*(".*")\s*,?\s*$`)

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// Exit is how an executable ended.
type Exit struct {
	Code     int  // exit status; -1 when killed
	TimedOut bool // killed by the driver's time limit
}

// Verdicts turns one executable's TAP and exit into results. An executable
// without test points gets one result "<exe>: (whole executable)": it passed
// when it exited 0 without reporting an error (process_rlimits_fail prints
// nothing at all when the runtime behaves). A non-zero exit that no failing
// test point explains is a failure of its own, as is a timeout.
func Verdicts(exe string, tap TAP, exit Exit) []Result {
	res := append([]Result(nil), tap.Results...)
	synthetic := func(what string) { res = append(res, Result{Name: exe + ": (" + what + ")", Status: Fail}) }
	if len(tap.Results) == 0 {
		st := Pass
		if exit.Code != 0 || exit.TimedOut || len(tap.Errors) > 0 {
			st = Fail
		}
		// The lifecycle tests say what went wrong only in their YAML.
		res = append(res, Result{Name: exe + ": (whole executable)", Status: st, Detail: strings.Join(tap.Errors, "; ")})
	} else if exit.Code != 0 && !exit.TimedOut && !hasFailure(res) {
		synthetic("exited non-zero")
	}
	if exit.TimedOut {
		synthetic("timed out")
	}
	return res
}

func hasFailure(res []Result) bool {
	for _, r := range res {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// describe turns the parts of a test line into a description and a verdict.
func describe(ok bool, num, rest string) (string, Status) {
	rest = strings.TrimSpace(rest)
	st := Fail
	if ok {
		st = Pass
	}
	desc := rest
	if i := strings.Index(rest, "# "); i >= 0 {
		directive := strings.TrimSpace(rest[i+2:])
		word, reason, _ := strings.Cut(directive, " ")
		switch strings.ToUpper(word) {
		case "SKIP":
			st = Skip
			desc = strings.TrimSpace(rest[:i] + " " + reason)
		case "TODO":
			if !ok {
				st = Todo
			}
			desc = strings.TrimSpace(rest[:i] + " " + reason)
		}
	}
	if desc == "" {
		desc = "#" + num
	}
	return desc, st
}
