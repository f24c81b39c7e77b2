#!/bin/bash
# Entry point of `make check`, `make demo` and `make vm-shell`:
# set up the host if needed, build (quietly, into build/vm/build.log), boot.
#   tests/vm/check.sh check|demo|bench|shell
# The build output is only shown when the build fails; `make check` then
# still ends with the "N passed, N failed" line.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${ZC_OUT:-$TOP/build/vm}
MODE=${1:-check}
mkdir -p "$OUT"
"$TOP/tests/vm/setup-host.sh" || { echo "not ok - host set-up (tests/vm/setup-host.sh)"; echo "0 passed, 1 failed"; exit 1; }
if ! /bin/busybox sh "$TOP/tests/vm/scan-selftest.sh"; then
	echo "not ok - vm_scan_selftest (tests/vm/scan-selftest.sh: the log scan misses or invents trouble)"
	[ "$MODE" = check ] && echo "0 passed, 1 failed" || echo "$MODE: FAIL"
	exit 1
fi
if ! bash "$TOP/tests/vm/manifest-selftest.sh"; then
	echo "not ok - vm_manifest_selftest (tests/vm/manifest-selftest.sh: the manifest check misses or invents a problem)"
	[ "$MODE" = check ] && echo "0 passed, 1 failed" || echo "$MODE: FAIL"
	exit 1
fi
t0=${EPOCHREALTIME/./}
if ! "$TOP/tests/vm/build.sh" > "$OUT/build.log" 2>&1; then
	tail -30 "$OUT/build.log" | sed 's/^/    # /'
	echo "not ok - build (log: $OUT/build.log)"
	[ "$MODE" = check ] && echo "0 passed, 1 failed" || echo "$MODE: FAIL"
	exit 1
fi
echo "build: ok in $(( (${EPOCHREALTIME/./} - t0) / 1000000 )) s ($(tail -1 "$OUT/build.log"); log: $OUT/build.log)"
exec "$TOP/tests/vm/run.sh" "$MODE"
