#!/usr/bin/env bash
# Times `run` of /bin/true with Docker's default seccomp profile against the
# same bundle without one, for unha-runtime and runc, interleaved in one run:
# see bench/seccomp/main.go. As root:
#
#   bench/seccomp.sh            # N=50 iterations each
#   N=200 bench/seccomp.sh
set -euo pipefail

cd "$(dirname "$0")/.."
make -s build # the binary make ships (static), not a plain go build
go build -o bin/bench-seccomp ./bench/seccomp
args=(-runtime "unha-runtime=$PWD/bin/unha-runtime")
if p=$(command -v runc); then
	args+=(-runtime "runc=$p")
fi
exec bin/bench-seccomp "${args[@]}" -n "${N:-50}" -warmup "${WARMUP:-3}" -ref "${REF:-runc}"
