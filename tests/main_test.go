package tests

import (
	"fmt"
	"os"
	"testing"

	"github.com/unha/unha/tests/harness"
)

// suite is built once: the probe, and the runtime unless UNHA_TEST_RUNTIME names one.
var suite *harness.Suite

func TestMain(m *testing.M) {
	// Without root every test skips; building the runtime would only cost time.
	if os.Geteuid() == 0 {
		s, err := harness.NewSuite()
		if err != nil {
			fmt.Fprintf(os.Stderr, "tests: %v\n", err)
			os.Exit(1)
		}
		suite = s
		fmt.Fprintf(os.Stderr, "tests: runtime under test: %s\n", s.Runtime)
	}
	code := m.Run()
	if suite != nil {
		suite.Close()
	}
	os.Exit(code)
}

// newEnv is the per-test entry point: skips without root, cleans up and checks leftovers.
func newEnv(t *testing.T) *harness.Env {
	t.Helper()
	return harness.New(t, suite)
}

// skipIfRunc documents a place where runc (the reference used to validate these tests) does
// not follow the contract. It skips only for runc, never for the runtime the tests are for.
// UNHA_TEST_NO_RUNC_SKIPS=1 runs these parts anyway, to confirm that runc still fails them.
func skipIfRunc(t *testing.T, reason string) {
	t.Helper()
	if suite != nil && suite.IsRunc() && os.Getenv("UNHA_TEST_NO_RUNC_SKIPS") == "" {
		t.Skipf("runc deviates here: %s", reason)
	}
}
