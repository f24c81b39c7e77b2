#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 part of CI: host packages, the arm64 downloads (cached in
# XZC_ARM64_CACHE, default ~/.cache/xen-zcopy/arm64), then the suite on both
# arm64 platforms, one VM at a time. Each platform prints its own
# "N passed, N failed" line; the last line is the sum over both, and the exit
# status is non-zero if either platform failed or gave no verdict.
#   bash tests/vm/arm64/ci.sh
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$TOP"
# the CI step runs the whole suite (see .ci/run): ZC_CASES is ignored, loudly
if [ -n "${ZC_CASES:-}" ]; then
	echo "arm64 ci: ZC_CASES=$ZC_CASES is set in the environment: ignored (CI runs the whole suite)"
	unset ZC_CASES
fi
t0=${EPOCHREALTIME/./}
"$TOP/tests/vm/arm64/setup-host.sh" || { echo "not ok - arm64 host set-up"; echo "0 passed, 1 failed"; exit 1; }
tp=0 tf=0 ts=0 rc=0
for plat in arm64 arm64-16k; do
	log=$TOP/build/vm-$plat.ci.log
	mkdir -p "$TOP/build"
	s=${EPOCHREALTIME/./}
	"$TOP/tests/vm/arm64/check.sh" "$plat" check </dev/null 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$sum" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$sum" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	k=$(echo "$sum" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	[ -n "$p" ] || { p=0; f=1; rc=1; }
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + ${k:-0}))
	echo "$plat: $sum in $(( (${EPOCHREALTIME/./} - s) / 1000000 )) s"
done
echo "arm64 total: $(( (${EPOCHREALTIME/./} - t0) / 1000000 )) s"
line="$tp passed, $tf failed"
[ $ts != 0 ] && line+=", $ts skipped"
echo "$line"
[ $tf = 0 ] && [ $rc = 0 ]
