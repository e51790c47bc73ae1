package specgen

import (
	"reflect"
	"strings"
	"testing"
)

func getenv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnv(t *testing.T) {
	got := Env("h1", "/root", false, []string{"A=B", "PATH=/x", "HOSTNAME=mine"})
	want := []string{"PATH=/x", "HOSTNAME=mine", "A=B", "HOME=/root"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env %q, want %q", got, want)
	}
	got = Env("h1", "/", true, []string{"HOME=/h", "A=1", "A=2"})
	want = []string{DefaultPath, "HOSTNAME=h1", "TERM=xterm", "HOME=/h", "A=2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tty env %q, want %q", got, want)
	}
}

func TestExpandEnv(t *testing.T) {
	got, err := ExpandEnv([]string{"A=B", "SET", "UNSET", "E=", "X=a=b"}, getenv(map[string]string{"SET": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=B", "SET=v", "E=", "X=a=b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := ExpandEnv([]string{"=x"}, getenv(nil)); err == nil {
		t.Error("=x accepted")
	}
}

func TestParseEnvFile(t *testing.T) {
	in := "# comment\n\n  A=B c \nSET\nUNSET\nQ=\"quoted\"\n"
	got, err := ParseEnvFile(strings.NewReader(in), "f", getenv(map[string]string{"SET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=B c ", "SET=s", `Q="quoted"`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = ParseEnvFile(strings.NewReader("A=1\nBAD NAME=x\n"), "f", getenv(nil))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad name: %v", err)
	}
	if _, err := ParseEnvFile(strings.NewReader("=v\n"), "f", getenv(nil)); err == nil {
		t.Error("empty name accepted")
	}
}
