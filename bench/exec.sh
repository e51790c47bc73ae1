#!/usr/bin/env bash
# Times `RUNTIME exec ID /bin/true` into a running container, one per
# runtime, for unha-runtime and runc, interleaved in one run, with the exec
# command's peak RSS: see bench/exec.go. As root:
#
#   bench/exec.sh                            # N=50 iterations each
#   N=200 bench/exec.sh
#   UNHA_RUNTIME=/path/to/unha-runtime bench/exec.sh     # time that build, do not build one
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
exec bin/bench -exec "${args[@]}" -n "${N:-50}" -warmup "${WARMUP:-3}" -ref "${REF:-runc}"
