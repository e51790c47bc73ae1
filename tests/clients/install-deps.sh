#!/bin/bash
# Installs what tests/clients needs: Debian's podman (with conmon), containerd + ctr,
# busybox-static for the test images, the CNI plugins, and crictl built from source with the
# Go toolchain (Debian bookworm ships no cri-tools). Safe to run again: it installs only what
# is missing. Run as root.
set -euo pipefail

pkgs=(podman conmon containerd busybox-static containernetworking-plugins util-linux)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

CRICTL_VERSION=v1.34.0
# crictl built by `go install` reports "version unknown"; its build info names the module version.
if ! go version -m /usr/local/bin/crictl 2>/dev/null | grep -q "sigs.k8s.io/cri-tools[[:space:]]*${CRICTL_VERSION}"; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	GOBIN="$tmp" CGO_ENABLED=0 go install "sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}"
	install -m 0755 "$tmp/crictl" /usr/local/bin/crictl
fi
