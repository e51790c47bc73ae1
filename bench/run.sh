#!/usr/bin/env bash
# Times unha-runtime against runc (and crun, when installed) on one busybox
# bundle, interleaved in one run: see bench/doc.go. As root:
#
#   bench/run.sh                      # N=50 iterations each
#   N=200 bench/run.sh
#   RUNTIMES="runc=/usr/sbin/runc runc2=/usr/sbin/runc" bench/run.sh   # check the bench itself
#
# Needs ./bin/unha-runtime (make build) unless RUNTIMES is given.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ -z "${RUNTIMES:-}" ]; then
	RUNTIMES="unha-runtime=$PWD/bin/unha-runtime"
	for rt in runc crun; do
		if p=$(command -v "$rt"); then
			RUNTIMES+=" $rt=$p"
		fi
	done
fi
args=()
for rt in $RUNTIMES; do
	args+=(-runtime "$rt")
done
go build -o bin/bench ./bench
exec bin/bench "${args[@]}" -n "${N:-50}" -warmup "${WARMUP:-3}" -ref "${REF:-runc}"
