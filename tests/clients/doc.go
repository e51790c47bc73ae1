// Package clients tests the OCI runtime unha-runtime under the real programs that drive runc
// in production: podman (with conmon), containerd's ctr (through the runc v2 shim), and
// Kubernetes' path, containerd's CRI plugin driven by crictl with a runtime handler "unha".
// The runtime comes from UNHA_TEST_RUNTIME (set it to /usr/sbin/runc to validate the tests
// themselves) or, when that is unset, from ./cmd/unha-runtime built once in TestMain. The
// clients come from Debian (tests/clients/install-deps.sh installs them and builds crictl), and
// every test fails with the reason when one is missing: nothing here skips except without root.
//
// Isolation. podman and containerd hand the runtime absolute cgroup paths
// (/libpod_parent/libpod-ID, /NAMESPACE/ID), which on the host would land at the roots of the
// hierarchies. So TestMain (the "outer" stage, still in the caller's namespaces) builds what it
// needs, creates a fresh cgroup unha-clients-PID-N beneath the caller's own cgroup in every
// hierarchy (copying cpuset.cpus/mems, which a new v1 cpuset cgroup lacks) and re-executes the
// test binary as a "mover" that joins those cgroups and then execs
// `unshare --cgroup --mount --propagation private` into the "inner" stage. The cgroup
// namespace is created after the move, so the new cgroup is "/" for everything below it. The
// inner stage, in its private mount namespace, detaches the inherited /sys/fs/cgroup tree and
// mounts it afresh (tmpfs, then every v1 hierarchy with its own options and cgroup2 at
// unified): mounted inside the namespace, each hierarchy's root is the namespace's root, so
// podman and containerd find "/" there and their cgroups land beneath the suite's own. It also
// mounts tmpfs on /run and /dev/shm and an overlay on /var/lib, because the clients keep fixed
// paths there whatever their configuration says (the shim's sockets in /run/containerd/s,
// podman's SHM lock /dev/shm/libpod_lock, containers/image's blob cache in
// /var/lib/containers/cache, runc's default root /run/runc): they stay private to the suite.
// When the inner stage exits, the outer one kills whatever is still in the suite's cgroups (by
// PID; only descendants of the suite can be there), removes the cgroups, and fails the run if
// it had to.
//
// Each test runs its client with private roots, sockets and configuration under its own
// directory (podman: --root/--runroot, CONTAINERS_CONF, CONTAINERS_STORAGE_CONF with the vfs
// driver; containerd: its own config.toml, started by the test and stopped after), with
// --network none (ctr: a fresh network namespace; CRI: the pod shares the host's network, so no
// CNI plugin runs) and asserts output and exit status. Clients run with a PATH that has no
// runc in it, so a client that ignored the runtime it was given would fail instead of quietly
// using runc. Afterwards every test checks that it left nothing behind, and fails for each
// thing it then has to clean up: containers the client still lists, processes in the suite's
// cgroups or naming the test's directory, mounts that were not there before the test, cgroups
// the runtime created (the parents a client keeps, such as podman's libpod_parent, are removed
// without complaint), and entries naming a container in /run or the test's directory.
//
// Run them as root with `go test -count=1 -v ./tests/clients/` (UNHA_TEST_RUNTIME=/usr/sbin/runc
// to check the tests against runc).
package clients
