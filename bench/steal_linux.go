package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the first line of /proc/stat: the machine's CPU time by
// state, in clock ticks since boot.
type cpuTimes []uint64

func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return nil
	}
	var t cpuTimes
	for _, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil
		}
		t = append(t, v)
	}
	return t
}

// stealNote says what share of the machine's CPU time the hypervisor took
// between a and b (proc(5): steal, the 8th field). On a shared VM that
// share moves the figures, and their ratios too: runtimes do not suffer
// from a busy host alike.
func stealNote(a, b cpuTimes) string {
	if len(a) < 8 || len(b) < 8 {
		return "steal: /proc/stat unreadable"
	}
	var total uint64
	for i := range a {
		if i < len(b) {
			total += b[i] - a[i]
		}
	}
	if total == 0 {
		return "steal: no CPU time elapsed"
	}
	return fmt.Sprintf("steal: the hypervisor took %.0f%% of this machine's CPU time during the run (/proc/stat)", 100*float64(b[7]-a[7])/float64(total))
}
