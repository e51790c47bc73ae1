#!/usr/bin/env bash
# Times `run` of /bin/true with linux.resources memory and pids limits
# against the same bundle without them, for unha-runtime and runc,
# interleaved in one run: see bench/limits.go. As root:
#
#   bench/limits.sh                          # N=50 iterations each, 256 MiB, 128 pids
#   N=200 MEMORY=$((64<<20)) PIDS=64 bench/limits.sh
#   UNHA_RUNTIME=/path/to/unha-runtime bench/limits.sh   # time that build, do not build one
set -euo pipefail

cd "$(dirname "$0")/.."
unha=${UNHA_RUNTIME:-}
if [ -z "$unha" ]; then
	make -s build # the binary make ships (static), not a plain go build
	unha=$PWD/bin/unha-runtime
fi
go build -o bin/bench ./bench
args=(-runtime "unha-runtime=$unha")
if p=$(command -v runc); then
	args+=(-runtime "runc=$p")
fi
exec bin/bench -limits "${args[@]}" -n "${N:-50}" -warmup "${WARMUP:-3}" -ref "${REF:-runc}" \
	-memory "${MEMORY:-268435456}" -pids "${PIDS:-128}"
