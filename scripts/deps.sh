#!/usr/bin/env bash
# Installs what building, testing or benchmarking unha needs on Debian:
#
#   scripts/deps.sh build   musl-tools (the runtime links musl statically)
#   scripts/deps.sh test    build + busybox-static runc iproute2 procps uidmap
#                           util-linux, libseccomp-dev and pkg-config (the
#                           seccomp compiler's tests compare it with
#                           libseccomp through libseccomp-golang, which finds
#                           it with `#cgo pkg-config`), then
#                           tests/clients/install-deps.sh (podman,
#                           containerd, CNI plugins, crictl)
#   scripts/deps.sh bench   build + busybox-static runc
#
# Idempotent: apt runs only when a package is missing, and `apt-get update`
# only when installing from the current package lists fails.
set -euo pipefail

what=${1:-build}
pkgs=(musl-tools)
case "$what" in
build) ;;
test) pkgs+=(libseccomp-dev pkgconf busybox-static runc iproute2 procps util-linux tar uidmap) ;;
bench) pkgs+=(busybox-static runc) ;;
*)
	echo "usage: $0 build|test|bench" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	# Older releases ship pkg-config under its own name; either will do.
	if [ "$p" = pkgconf ] && command -v pkg-config >/dev/null; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" </dev/null ||
		{ apt-get update </dev/null && apt-get install -y --no-install-recommends "${missing[@]}" </dev/null; }
fi

if [ "$what" = test ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	if [ -x "$here/tests/clients/install-deps.sh" ] || [ -f "$here/tests/clients/install-deps.sh" ]; then
		bash "$here/tests/clients/install-deps.sh" </dev/null
	fi
fi
