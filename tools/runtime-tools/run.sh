#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against one runtime binary.
#
#   tools/runtime-tools/run.sh [RUNTIME]       (default: $RUNTIME, else ./bin/unha-runtime)
#
# Environment: RT_TIMEOUT (per executable, default 60s), RT_TOTAL (whole
# run, default 13m: with the build it stays under 15), RT_RUN (regexp: only
# these executables), RT_OUT (logs and results.txt, default
# tools/runtime-tools/out/<runtime basename>), RT_EXPECTED (default
# tools/runtime-tools/expected-failures.txt), RT_BUILD_ROOTFS=1 (build the
# busybox rootfs tarball even when the module carries one).
#
# Builds the suite's executables and runtimetest from the pinned module
# (go.mod here), then runs them all through ./driver inside a private mount,
# IPC and UTS namespace: tests that run a container without those namespaces
# (linux_ns_itype) make the runtime mount /proc, /sys, /dev and /dev/mqueue in
# the caller's namespace, and the suite then os.RemoveAll()s the bundle
# through those mounts; with a private IPC namespace that walk can only reach
# a throwaway mqueue, never the host's message queues. The suite sees as
# RUNTIME a small wrapper that adds a private --root (so leftovers can be
# force-deleted without touching anyone else's containers) and detaches
# mounts left under a bundle after `delete`. The driver prints
#   runtime-tools: N passed, N failed (M expected)
# and exits non-zero only on failures not listed in expected-failures.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runtime=${1:-${RUNTIME:-$repo/bin/unha-runtime}}
if ! runtime=$(command -v "$runtime"); then
	echo "runtime-tools: runtime ${1:-${RUNTIME:-$repo/bin/unha-runtime}} not found" >&2
	exit 2
fi
runtime=$(realpath "$runtime")
name=$(basename "$runtime")
out=${RT_OUT:-$here/out/$name}
expected=${RT_EXPECTED:-$here/expected-failures.txt}

if [ "$(id -u)" != 0 ]; then
	echo "runtime-tools: must run as root" >&2
	exit 2
fi
for tool in go unshare flock tar; do
	command -v "$tool" >/dev/null || { echo "runtime-tools: $tool is required" >&2; exit 2; }
done

# One suite at a time per machine: its cgroup tests use fixed cgroup names.
exec 9>/run/unha-runtime-tools.lock
if ! flock -w 1200 9; then
	echo "runtime-tools: another run holds /run/unha-runtime-tools.lock" >&2
	exit 2
fi

work=$(mktemp -d /tmp/unha-rt.XXXXXX)
chmod 755 "$work"
cleanup() {
	# Everything the suite mounted lived in the private namespace, which is
	# gone now; refuse to recurse into $work if anything is mounted there anyway.
	if grep -qF " $work" /proc/self/mountinfo; then
		echo "runtime-tools: mounts remain under $work; not removing it" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
echo "runtime-tools: building the suite"
(
	cd "$here"
	# The tool directives in go.mod list runtimetest and every validation
	# executable. runtimetest runs inside a busybox rootfs: static.
	CGO_ENABLED=0 go build -o "$work/suite/bin/" tool
	go build -o "$work/driver" ./driver
)
mv "$work/suite/bin/runtimetest" "$work/suite/runtimetest"

arch=$(go env GOARCH)
tarball="rootfs-$arch.tar.gz"
moddir=$(cd "$here" && go list -m -f '{{.Dir}}' github.com/opencontainers/runtime-tools)
if [ -f "$moddir/$tarball" ] && [ "${RT_BUILD_ROOTFS:-0}" = 0 ]; then
	cp "$moddir/$tarball" "$work/suite/$tarball"
	chmod 644 "$work/suite/$tarball"
else
	# The module zip normally carries the tarball; build an equivalent
	# (static busybox, applet links, passwd/group) if it does not.
	bb=$(command -v busybox || true)
	lddout=$( [ -n "$bb" ] && ldd "$bb" 2>&1 || true)
	if [ -z "$bb" ] || [[ $lddout != *"not a dynamic"* ]]; then
		echo "runtime-tools: no $tarball from $moddir and no static busybox (apt-get install busybox-static)" >&2
		exit 2
	fi
	echo "runtime-tools: building $tarball from $bb"
	rfs="$work/rootfs"
	mkdir -p "$rfs/bin" "$rfs/dev" "$rfs/proc" "$rfs/sys" "$rfs/etc"
	cp "$bb" "$rfs/bin/busybox"
	for applet in $("$bb" --list); do
		[ -e "$rfs/bin/$applet" ] || ln -s busybox "$rfs/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/var/empty:/bin/false\n' >"$rfs/etc/passwd"
	printf 'root:x:0:root\ntty:x:5:\nnogroup:x:65533:\nnobody:x:65534:\n' >"$rfs/etc/group"
	tar -C "$rfs" --owner=0 --group=0 -czf "$work/suite/$tarball" .
	rm -rf "$rfs"
fi

reference=()
if [ "$name" != runc ] && [ -f "$here/runc-results.txt" ]; then
	reference=(-reference "$here/runc-results.txt")
fi
mkdir -p "$out"
# The suite's hugetlb tests make the runtime enable hugetlb in the cgroup2
# root's subtree_control (runc does the same): a cgroup we did not create.
# Put every root's subtree_control back as it was after the run.
declare -A subtree=()
for f in /sys/fs/cgroup/cgroup.subtree_control /sys/fs/cgroup/unified/cgroup.subtree_control; do
	[ -w "$f" ] && subtree[$f]=$(cat "$f")
done
restore_subtree() {
	local f c
	for f in "${!subtree[@]}"; do
		for c in $(cat "$f"); do
			case " ${subtree[$f]} " in *" $c "*) ;; *) echo "-$c" >"$f" 2>/dev/null || true ;; esac
		done
	done
}
trap restore_subtree EXIT
rc=0
unshare --mount --ipc --uts --propagation private -- "$work/driver" \
	-runtime "$runtime" -suite "$work/suite" -work "$work/scratch" -out "$out" \
	-expected "$expected" -timeout "${RT_TIMEOUT:-60s}" -total "${RT_TOTAL:-13m}" \
	-run "${RT_RUN:-}" "${reference[@]}" || rc=$?
exit "$rc"
