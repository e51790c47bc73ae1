package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Expectation is one line of expected-failures.txt:
//
//	[<runtime>] <executable>: <description> | <kind>: <reason>
//
// kind is "ours" (a bug of unha-runtime), "suite" (a bug of runtime-tools),
// "vm" (this machine cannot run the test: cgroup layout, missing kernel
// feature), "runtime" (a bug or deliberate behaviour of another runtime,
// such as runc, recorded so its baseline run is clean) or "race" (the test
// races two things the spec leaves unordered, so it passes or fails by
// luck: never reported stale). The optional
// "[<runtime>]" prefix restricts a line to the runtime binary of that base
// name. A name ending in "*" matches every test whose name has that prefix.
type Expectation struct {
	Runtime string
	Name    string
	Kind    string
	Reason  string
	Line    int
}

var kinds = map[string]bool{"ours": true, "suite": true, "vm": true, "runtime": true, "race": true}

// ParseExpectations reads an expectations file. Blank lines and lines starting
// with '#' are comments.
func ParseExpectations(r io.Reader) ([]Expectation, error) {
	var out []Expectation
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " | ")
		if i < 0 {
			return nil, fmt.Errorf("line %d: want \"<test> | <kind>: <reason>\", got %q", n, line)
		}
		name, why := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+3:])
		var rt string
		if rest, ok := strings.CutPrefix(name, "["); ok {
			var found bool
			rt, name, found = strings.Cut(rest, "]")
			if !found || rt == "" {
				return nil, fmt.Errorf("line %d: unterminated [runtime] prefix in %q", n, line)
			}
			name = strings.TrimSpace(name)
		}
		kind, reason, ok := strings.Cut(why, ":")
		kind = strings.TrimSpace(kind)
		if !ok || !kinds[kind] || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("line %d: reason must be \"ours: …\", \"suite: …\", \"vm: …\", \"runtime: …\" or \"race: …\", got %q", n, why)
		}
		if kind == "runtime" && rt == "" {
			return nil, fmt.Errorf("line %d: kind \"runtime\" needs a [<runtime>] prefix", n)
		}
		out = append(out, Expectation{Runtime: rt, Name: name, Kind: kind, Reason: strings.TrimSpace(reason), Line: n})
	}
	return out, sc.Err()
}

func (e Expectation) matches(name string) bool {
	if p, ok := strings.CutSuffix(e.Name, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return e.Name == name
}

// Verdict is the comparison of a run with the expectations.
type Verdict struct {
	Passed, Failed, Skipped, Todo int
	Expected                      []Result // failures listed in the expectations
	Unexpected                    []Result // failures not listed: these fail the run
	Fixed                         []string // expectations whose tests all passed
}

// Judge compares the results of runtime (a base name such as "runc") with
// the expectations that apply to it. An expectation that matched only
// passing tests is reported as stale so the list does not rot; one that
// matched nothing at all (a renamed test) is reported too.
func Judge(runtime string, results []Result, all []Expectation) Verdict {
	var v Verdict
	var exp []Expectation
	for _, e := range all {
		if e.Runtime == "" || e.Runtime == runtime {
			exp = append(exp, e)
		}
	}
	matchedFail := make([]bool, len(exp))
	matchedAny := make([]bool, len(exp))
	for _, r := range results {
		var hits []int
		for i, e := range exp {
			if e.matches(r.Name) {
				matchedAny[i] = true
				hits = append(hits, i)
			}
		}
		switch r.Status {
		case Pass:
			v.Passed++
		case Skip:
			v.Skipped++
		case Todo:
			v.Todo++
		case Fail:
			v.Failed++
			for _, i := range hits {
				matchedFail[i] = true
			}
			if len(hits) > 0 {
				v.Expected = append(v.Expected, r)
			} else {
				v.Unexpected = append(v.Unexpected, r)
			}
		}
	}
	ran := executablesOf(results)
	for i, e := range exp {
		exe, _, _ := strings.Cut(e.Name, ":")
		switch {
		case !matchedAny[i] && !ran[exe]:
			// Not run this time (-run): says nothing about the line.
		case !matchedAny[i]:
			v.Fixed = append(v.Fixed, fmt.Sprintf("%s (line %d matches no test)", e.Name, e.Line))
		case !matchedFail[i] && e.Kind != "race":
			v.Fixed = append(v.Fixed, fmt.Sprintf("%s (line %d: now passes)", e.Name, e.Line))
		}
	}
	return v
}

// WriteResults writes one line per test: "<status> <name>".
func WriteResults(w io.Writer, header []string, results []Result) error {
	bw := bufio.NewWriter(w)
	for _, h := range header {
		fmt.Fprintf(bw, "# %s\n", h)
	}
	for _, r := range results {
		fmt.Fprintf(bw, "%-4s %s\n", r.Status, r.Name)
	}
	return bw.Flush()
}

// ReadResults reads a file written by WriteResults into name -> status.
func ReadResults(r io.Reader) (map[string]Status, error) {
	out := map[string]Status{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, name, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("bad results line %q", line)
		}
		st, ok := map[string]Status{"ok": Pass, "FAIL": Fail, "skip": Skip, "todo": Todo}[word]
		if !ok {
			return nil, fmt.Errorf("bad status in results line %q", line)
		}
		out[strings.TrimSpace(name)] = st
	}
	return out, sc.Err()
}

// Regressions lists the tests that passed in the reference run but not in
// this one, sorted; reference passes that did not run at all (the
// executable failed before printing them) are summed per executable.
func Regressions(ref map[string]Status, results []Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Name] = true
		if st, ok := ref[r.Name]; ok && st == Pass && r.Status != Pass {
			out = append(out, r.Name)
		}
	}
	ran := executablesOf(results)
	missing := map[string]int{}
	for name, st := range ref {
		exe, _, _ := strings.Cut(name, ":")
		if st == Pass && !seen[name] && ran[exe] {
			missing[exe]++
		}
	}
	for exe, n := range missing {
		out = append(out, fmt.Sprintf("%s: %d tests did not run", exe, n))
	}
	sort.Strings(out)
	return out
}

// executablesOf returns the executables that produced results.
func executablesOf(results []Result) map[string]bool {
	out := map[string]bool{}
	for _, r := range results {
		exe, _, _ := strings.Cut(r.Name, ":")
		out[exe] = true
	}
	return out
}
