// Package harness drives an OCI runtime binary (unha-runtime, or runc to validate the tests)
// through its command line for the black-box tests in tests/.
//
// A Suite is built once per test binary: it builds tests/cmd/probe statically and, unless
// UNHA_TEST_RUNTIME names a binary, builds ./cmd/unha-runtime. Each test then gets an Env with its
// own directory, its own --root, a busybox+probe rootfs per bundle and a config.json that starts
// from the runtime's own `spec` output. Env's cleanup force-deletes every container it created,
// kills by PID whatever survived, and fails the test for anything left behind: mounts under the
// test directory, cgroup directories named after a container id, processes that mention a bundle
// or id or live in such a cgroup, and state directories.
package harness
