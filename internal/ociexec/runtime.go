package ociexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Runtime is one OCI runtime binary and the global flags every call gets.
// The zero value of each field means "leave the runtime's default".
type Runtime struct {
	Path      string // binary to run: an absolute path or a name looked up in PATH
	Root      string // --root: the runtime's state directory
	Log       string // --log: file the runtime appends its log lines to
	LogFormat string // --log-format: "json" (parsed for error messages) or "text"
	Debug     bool   // --debug
	Logger    *slog.Logger
}

// IO are the files the runtime hands to the container's process (as runc
// does for `create`, `run` and `exec` without a terminal). They must be
// files, not arbitrary readers or writers: os/exec would put a pipe and a
// copying goroutine in between and then wait for the container to close it.
// A nil file means /dev/null.
type IO struct {
	Stdin, Stdout, Stderr *os.File
}

// waitDelay bounds how long a call may wait for a runtime that has exited
// but left a child holding the stdout/stderr pipes we capture.
const waitDelay = 5 * time.Second

func (r *Runtime) globalArgs(log string) []string {
	var a []string
	if r.Root != "" {
		a = append(a, "--root", r.Root)
	}
	if log != "" {
		a = append(a, "--log", log)
		format := r.LogFormat
		if format == "" {
			format = "json"
		}
		a = append(a, "--log-format", format)
	}
	if r.Debug {
		a = append(a, "--debug")
	}
	return a
}

// call runs one verb. With stdio nil the runtime's stdout and stderr are
// captured (stdout is returned, stderr feeds the error message); otherwise
// the runtime's stdio are the given files and its error message can only
// come from its log, so a private one is used when Log is unset.
func (r *Runtime) call(ctx context.Context, verb, id string, stdio *IO, extra []*os.File, args ...string) ([]byte, int, error) {
	log := r.Log
	if stdio != nil && log == "" {
		f, err := os.CreateTemp("", "ociexec-log-*.json")
		if err != nil {
			return nil, -1, err
		}
		log = f.Name()
		f.Close()
		defer os.Remove(log)
	}
	var offset int64
	if log != "" {
		if fi, err := os.Stat(log); err == nil {
			offset = fi.Size()
		}
	}

	argv := append(r.globalArgs(log), verb)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, r.Path, argv...)
	cmd.ExtraFiles = extra
	cmd.WaitDelay = waitDelay
	var stdout, stderr bytes.Buffer
	if stdio == nil {
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
	} else {
		// Assigning a nil *os.File to the io.Reader/Writer fields would make
		// them non-nil interfaces; only set the ones given.
		if stdio.Stdin != nil {
			cmd.Stdin = stdio.Stdin
		}
		if stdio.Stdout != nil {
			cmd.Stdout = stdio.Stdout
		}
		if stdio.Stderr != nil {
			cmd.Stderr = stdio.Stderr
		}
	}
	if r.Logger != nil {
		r.Logger.Debug("runtime call", "path", r.Path, "args", argv)
	}
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), 0, nil
	}
	status := -1
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, -1, &Error{Verb: verb, ID: id, Status: -1, Msg: err.Error()}
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			status = ws.ExitStatus()
		case ws.Signaled():
			status = 128 + int(ws.Signal())
		}
	}
	msg := ""
	if log != "" {
		msg = lastError(log, offset)
	}
	if msg == "" {
		msg = strings.TrimSpace(stderr.String())
	}
	if ctx.Err() != nil {
		msg = strings.TrimSpace(msg + " (" + ctx.Err().Error() + ")")
	}
	return stdout.Bytes(), status, &Error{Verb: verb, ID: id, Status: status, Msg: msg, kind: classify(msg)}
}

// lastError returns the last error-level message the runtime logged after
// offset: JSON lines `{"level":"error","msg":…}` (what runc, crun and
// unha-runtime write with --log-format json), or for text logs the last line
// that mentions an error.
func lastError(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return ""
	}
	var last string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil {
			if lv := strings.ToLower(entry.Level); lv == "error" || lv == "fatal" || lv == "panic" {
				last = entry.Msg
			}
			continue
		}
		if strings.Contains(strings.ToLower(line), "error") {
			last = line
		}
	}
	return last
}
