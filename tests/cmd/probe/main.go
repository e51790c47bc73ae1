// Command probe runs inside test containers and reports what the process really sees.
//
// It is built static (CGO_ENABLED=0) and copied to /probe in every test rootfs. Its arguments
// are a sequence of commands run in order, each printing one line on stdout:
//
//	json                 one report.Report object
//	write PATH           create/truncate PATH and write to it: "ok" or the errno name (EROFS)
//	read PATH            "ok " + the Go-quoted content, or the errno name
//	ls PATH              "ok " + a JSON array of names, or the errno name
//	writefd N TEXT       write TEXT to fd N: "ok" or the errno name
//	print TEXT           print TEXT
//	sleep N              sleep N seconds (prints nothing)
//	exit N               exit with status N
//	signal-self N        reset signal N to default and send it to ourselves
//	wait-signal          print "ready", then wait for one signal and print "signal N"
//	hook NAME DIR        act as an OCI hook: record stdin (the state) and more in DIR/NAME.json
//	                     and append NAME to DIR/order
//	syscall, unshare, ptrace-attach, mount-tmpfs   see security_linux.go
//	stat, mkfile, clocks                           see userns_linux.go
//
// The fd table is captured before anything else runs, with raw syscalls: the Go runtime opens
// an epoll fd the first time os.Open touches a regular file, and that fd must not be mistaken
// for one leaked by the runtime under test.
// The Go runtime (1.25+) keeps cpu.cfs_quota_us and cpu.cfs_period_us open
// to follow the cgroup's CPU limit; those fds would look like a runtime's
// leak in the fd report, so the probe turns the feature off.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	startFds := listFds()
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"json"}
	}
	for len(args) > 0 {
		n, err := run(args, startFds)
		if err != nil {
			fmt.Fprintf(os.Stderr, "probe: %v\n", err)
			os.Exit(125)
		}
		args = args[n:]
	}
}

// run executes the command at args[0] and returns how many arguments it consumed.
func run(args []string, startFds map[int]string) (int, error) {
	need := func(n int) error {
		if len(args) < n+1 {
			return fmt.Errorf("%s needs %d argument(s)", args[0], n)
		}
		return nil
	}
	atoi := func(s string) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%s: bad number %q", args[0], s)
		}
		return v, nil
	}
	switch args[0] {
	case "json":
		printJSON(gather(startFds))
		return 1, nil
	case "write":
		if err := need(1); err != nil {
			return 0, err
		}
		say(result(writeFile(args[1]), ""))
		return 2, nil
	case "read":
		if err := need(1); err != nil {
			return 0, err
		}
		data, err := os.ReadFile(args[1])
		say(result(err, " "+strconv.Quote(string(data))))
		return 2, nil
	case "ls":
		if err := need(1); err != nil {
			return 0, err
		}
		say(lsDir(args[1]))
		return 2, nil
	case "writefd":
		if err := need(2); err != nil {
			return 0, err
		}
		fd, err := atoi(args[1])
		if err != nil {
			return 0, err
		}
		_, werr := unix.Write(fd, []byte(args[2]))
		say(result(werr, ""))
		return 3, nil
	case "print":
		if err := need(1); err != nil {
			return 0, err
		}
		say(args[1])
		return 2, nil
	case "sleep":
		if err := need(1); err != nil {
			return 0, err
		}
		n, err := atoi(args[1])
		if err != nil {
			return 0, err
		}
		sleep(n)
		return 2, nil
	case "exit":
		if err := need(1); err != nil {
			return 0, err
		}
		n, err := atoi(args[1])
		if err != nil {
			return 0, err
		}
		os.Exit(n)
	case "signal-self":
		if err := need(1); err != nil {
			return 0, err
		}
		n, err := atoi(args[1])
		if err != nil {
			return 0, err
		}
		signalSelf(n)
		return 2, nil
	case "wait-signal":
		say(fmt.Sprintf("signal %d", waitSignal()))
		return 1, nil
	case "hook":
		if err := need(2); err != nil {
			return 0, err
		}
		return 3, hook(args[1], args[2])
	}
	if n, ok, err := runSecurity(args); ok {
		return n, err
	}
	if n, ok, err := runUserNS(args); ok {
		return n, err
	}
	return 0, fmt.Errorf("unknown command %q", args[0])
}

func say(line string) {
	// Unbuffered on purpose: tests poll the output file for "ready".
	os.Stdout.WriteString(line + "\n")
}

// result renders err as "ok"+okSuffix or as the bare errno name, which is what the tests match.
func result(err error, okSuffix string) string {
	if err == nil {
		return "ok" + okSuffix
	}
	return errnoName(err)
}
