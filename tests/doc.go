// Package tests holds the black-box tests of the unha binaries. They drive the OCI runtime
// named by UNHA_TEST_RUNTIME (runc, to validate the tests themselves) or, when it is unset, a
// freshly built ./cmd/unha-runtime, only through its command line, and check both what the
// container sees (through tests/cmd/probe) and what the host sees afterwards. They need root;
// run them with `go test -count=1 ./tests/`. The tests of cmd/unha will live in unha_test.go.
package tests
