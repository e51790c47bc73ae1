package specgen

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Env is a container's environment as Docker builds it: PATH, HOSTNAME,
// TERM=xterm with a terminal, then the user's variables (a later value of
// a name replaces the earlier one in place), and HOME from the user's
// passwd entry unless given.
func Env(hostname, home string, tty bool, user []string) []string {
	env := []string{DefaultPath, "HOSTNAME=" + hostname}
	if tty {
		env = append(env, "TERM=xterm")
	}
	env = Merge(env, user)
	if _, ok := lookup(env, "HOME"); !ok {
		env = append(env, "HOME="+home)
	}
	return env
}

// Merge returns base with each of over replacing the entry of the same
// name, or appended when base has none.
func Merge(base, over []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func lookup(env []string, k string) (string, bool) {
	for _, e := range env {
		if ek, v, ok := strings.Cut(e, "="); ok && ek == k {
			return v, true
		}
	}
	return "", false
}

// ExpandEnv resolves `-e` values: NAME=VALUE stays; a bare NAME takes the
// caller's value and is dropped when the caller has none (Docker's rule).
func ExpandEnv(vars []string, getenv func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, kv := range vars {
		k, _, hasValue := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid environment variable: %s", kv)
		}
		if hasValue {
			out = append(out, kv)
			continue
		}
		if v, ok := getenv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out, nil
}

// ParseEnvFile reads an --env-file in Docker's format: one NAME=VALUE or
// bare NAME a line, the value verbatim (no quotes processing), blank lines
// and lines starting with # ignored, leading white space trimmed; a name
// with white space in it is an error.
func ParseEnvFile(r io.Reader, name string, getenv func(string) (string, bool)) ([]string, error) {
	var vars []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		k, _, _ := strings.Cut(line, "=")
		if strings.ContainsFunc(k, unicode.IsSpace) {
			return nil, fmt.Errorf("env file %s line %d: variable %q contains whitespaces", name, n, k)
		}
		vars = append(vars, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("env file %s: %w", name, err)
	}
	out, err := ExpandEnv(vars, getenv)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", name, err)
	}
	return out, nil
}
