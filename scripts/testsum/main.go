package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output / build-fail events
	FailedBuild string
}

type key struct{ pkg, test string }

type summary struct {
	passed, failed, skipped int
	output                  map[key]*strings.Builder // per test, and per package with test ""
	build                   map[string]*strings.Builder
	pkgDone                 map[string]string // package -> "ok"/"FAIL"/"skip"
	pkgFailedTests          map[string]int
	order                   []string
}

func newSummary() *summary {
	return &summary{
		output:         map[key]*strings.Builder{},
		build:          map[string]*strings.Builder{},
		pkgDone:        map[string]string{},
		pkgFailedTests: map[string]int{},
	}
}

// read consumes the stream and writes package lines and failure output to w
// as results arrive.
func (s *summary) read(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not JSON: go vet or the go command itself talking.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		s.handle(e, w)
	}
	return sc.Err()
}

func (s *summary) buf(k key) *strings.Builder {
	b := s.output[k]
	if b == nil {
		b = &strings.Builder{}
		s.output[k] = b
	}
	return b
}

func (s *summary) handle(e event, w io.Writer) {
	switch e.Action {
	case "build-output":
		b := s.build[e.ImportPath]
		if b == nil {
			b = &strings.Builder{}
			s.build[e.ImportPath] = b
		}
		b.WriteString(e.Output)
		return
	case "build-fail":
		return
	case "start":
		s.order = append(s.order, e.Package)
		return
	case "output":
		s.buf(key{e.Package, e.Test}).WriteString(e.Output)
		return
	}
	k := key{e.Package, e.Test}
	if e.Test != "" {
		switch e.Action {
		case "pass":
			s.passed++
		case "skip":
			s.skipped++
			// A skip in CI hides a test that never ran: name it and say why.
			fmt.Fprintf(w, "--- SKIP: %s %s\n", e.Package, e.Test)
			if b := s.output[k]; b != nil {
				fmt.Fprint(w, indent(skipReason(b.String())))
			}
		case "fail":
			s.failed++
			s.pkgFailedTests[e.Package]++
			fmt.Fprintf(w, "--- FAIL: %s %s (%.2fs)\n", e.Package, e.Test, e.Elapsed)
			if b := s.output[k]; b != nil {
				fmt.Fprint(w, indent(b.String()))
			}
		}
		if e.Action == "pass" || e.Action == "skip" || e.Action == "fail" {
			delete(s.output, k)
		}
		return
	}
	switch e.Action {
	case "pass":
		s.pkgDone[e.Package] = "ok"
		if strings.Contains(s.buf(k).String(), "[no test files]") {
			fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
		} else {
			fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
		}
	case "skip":
		s.pkgDone[e.Package] = "skip"
		fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
	case "fail":
		s.pkgDone[e.Package] = "FAIL"
		if s.pkgFailedTests[e.Package] == 0 {
			// Nothing else accounts for it: show why and count it once.
			s.failed++
			if b := s.build[e.Package]; b != nil {
				fmt.Fprint(w, indent(b.String()))
			}
			if e.FailedBuild != "" {
				if b := s.build[e.FailedBuild]; b != nil && e.FailedBuild != e.Package {
					fmt.Fprint(w, indent(b.String()))
				}
			}
			fmt.Fprint(w, indent(s.buf(k).String()))
		}
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	}
	delete(s.output, k)
}

// skipReason keeps the lines of a skipped test's output that are its own
// (the t.Skip message), not go test's "=== RUN" and "--- SKIP" framing.
func skipReason(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// unfinished lists packages that started but never reported a result.
func (s *summary) unfinished() []string {
	var out []string
	for _, p := range s.order {
		if _, ok := s.pkgDone[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func main() {
	s := newSummary()
	w := bufio.NewWriter(os.Stdout)
	err := s.read(os.Stdin, w)
	bad := err != nil
	if err != nil {
		fmt.Fprintf(w, "testsum: %v\n", err)
	}
	for _, p := range s.unfinished() {
		fmt.Fprintf(w, "FAIL\t%s\t(no result: go test was interrupted)\n", p)
		s.failed++
	}
	if s.failed > 0 {
		bad = true
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	w.Flush()
	if bad {
		os.Exit(1)
	}
}
