// Package rootfs builds a container's filesystem view from inside its init
// process: it turns the spec's mounts into plain MountOp values (Plan, pure
// and table-tested), performs them inside root.path, creates /dev, binds the
// console, pivots into the new root and finally applies readonlyPaths,
// maskedPaths and root.readonly. Every destination is resolved inside the
// rootfs by openat2(2) RESOLVE_IN_ROOT (the lookup pathrs-lite makes, without
// its naming round trips; pathrs-lite's MkdirAll makes what is missing
// behind a symlink) and every mount is attached
// through file descriptors with the new mount API (fsopen/fsmount,
// open_tree, move_mount, mount_setattr; Linux 5.12+), so neither a symlink
// nor a rename racing with us can redirect a mount outside the rootfs — the
// bug class of CVE-2021-30465, CVE-2019-16884/19921 and CVE-2024-45310 is
// designed out rather than checked for. The kernel calls go through a small
// mounter interface so a recording fake can test the apply step without
// root; the real kernel tests re-exec the test binary in fresh namespaces.
package rootfs
