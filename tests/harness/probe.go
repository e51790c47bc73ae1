package harness

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/unha/unha/tests/cmd/probe/report"
)

// Probe runs the bundle in the foreground and returns the report of its `json` command. The
// bundle's args must contain "json"; the container must exit 0.
func (e *Env) Probe(b *Bundle) *report.Report {
	e.T.Helper()
	_, r := e.RunContainer(b)
	if !r.OK() {
		e.T.Fatalf("run: %s", r)
	}
	rep, err := ParseReport(r.Stdout)
	if err != nil {
		e.T.Fatalf("%v\n%s", err, r)
	}
	return rep
}

// ParseReport finds the first JSON object line in the probe's output and decodes it.
func ParseReport(out string) (*report.Report, error) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "{") {
			var r report.Report
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return nil, fmt.Errorf("probe report: %w", err)
			}
			return &r, nil
		}
	}
	return nil, fmt.Errorf("no probe report in output %q", out)
}

// Lines returns the probe's non-JSON result lines ("ok", "EROFS", "signal 15"...) in order.
func Lines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if l != "" && !strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	return lines
}

// Mount returns the report's mount at point (the last one, as later mounts hide earlier ones).
func Mount(r *report.Report, point string) (report.Mount, bool) {
	var found report.Mount
	ok := false
	for _, m := range r.Mounts {
		if m.Point == point {
			found, ok = m, true
		}
	}
	return found, ok
}

// Dev returns the report's /dev entry at path.
func Dev(r *report.Report, path string) (report.DevEntry, bool) {
	for _, d := range r.Dev {
		if d.Path == path {
			return d, true
		}
	}
	return report.DevEntry{}, false
}

// HasOption reports whether a comma-separated option string contains opt.
func HasOption(opts, opt string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}
