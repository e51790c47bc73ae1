package hooks

import (
	"os"
	"path/filepath"
	"strings"
)

// leftoverChildren lists the test process's children still alive (or not
// yet reaped) after the tests: every process a test starts must be gone.
func leftoverChildren() string {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pids = append(pids, strings.Fields(string(b))...)
	}
	return strings.Join(pids, " ")
}
