#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Entry point of `make check-arm64`, `make check-arm64-16k`, `make vm-shell-arm64`:
# host packages, arm64 downloads (cached), build (quietly, into
# build/vm-<plat>/build.log), boot.
#   tests/vm/arm64/check.sh arm64|arm64-16k [check|demo|shell]
# A failed step still ends with the "N passed, N failed" line in check mode.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
PLAT=${1:?usage: $0 arm64|arm64-16k [check|demo|shell]}
MODE=${2:-check}
OUT=${ZC_OUT:-$TOP/build/vm-$PLAT}
mkdir -p "$OUT"
step_fail() { # step_fail NAME LOG
	tail -30 "$2" | sed 's/^/    # /'
	echo "not ok - $PLAT: $1 (log: $2)"
	[ "$MODE" = check ] && echo "0 passed, 1 failed" || echo "$MODE: FAIL"
	exit 1
}
"$TOP/tests/vm/arm64/setup-host.sh" > "$OUT/setup.log" 2>&1 || step_fail "host set-up" "$OUT/setup.log"
/bin/busybox sh "$TOP/tests/vm/scan-selftest.sh" > "$OUT/scan-selftest.log" 2>&1 ||
	step_fail "vm_scan_selftest (the log scan misses or invents trouble)" "$OUT/scan-selftest.log"
bash "$TOP/tests/vm/manifest-selftest.sh" > "$OUT/manifest-selftest.log" 2>&1 ||
	step_fail "vm_manifest_selftest (the manifest check misses or invents a problem)" "$OUT/manifest-selftest.log"
t0=${EPOCHREALTIME/./}
"$TOP/tests/vm/arm64/fetch.sh" > "$OUT/fetch.log" 2>&1 || step_fail "fetch of the arm64 packages" "$OUT/fetch.log"
t1=${EPOCHREALTIME/./}
"$TOP/tests/vm/arm64/build.sh" "$PLAT" > "$OUT/build.log" 2>&1 || step_fail "build" "$OUT/build.log"
t2=${EPOCHREALTIME/./}
echo "$PLAT: fetch $(( (t1 - t0) / 1000000 )) s, build $(( (t2 - t1) / 1000000 )) s ($(tail -1 "$OUT/build.log"); log: $OUT/build.log)"
exec "$TOP/tests/vm/arm64/run.sh" "$PLAT" "$MODE"
