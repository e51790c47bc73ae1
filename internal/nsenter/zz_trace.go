package nsenter

// TEMPORARY perf instrumentation (perf helper); removed before hand-off.

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

var traceOn = os.Getenv("UNHA_TRACE") != ""

// T writes "T name monotonic-ns pid" to fd 2 when UNHA_TRACE is set.
func T(name string) {
	if !traceOn {
		return
	}
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	_, _ = unix.Write(2, []byte("@T "+name+" "+strconv.FormatInt(ts.Nano(), 10)+"\n"))
}
