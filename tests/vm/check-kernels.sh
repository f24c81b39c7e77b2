#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Entry point of `make check-kernels`: the full suite once per runtime
# kernel, one boot each, same manifest and verdict rules as `make check`:
#   x86_64-6.1     the host's /boot kernel (tests/vm/check.sh)
#   x86_64-6.12    bookworm-security's 6.12 (the kernel of trixie), fetched
#                  from the archive and unpacked, not installed
#                  (scripts/runtime-kernels.sh deb12-6.12)
#   arm64-6.12, arm64-16k-6.12   tests/vm/arm64/check.sh (tests/vm/arm64/fetch.sh)
#   x86_64-newest, arm64-newest, arm64-16k-newest   the newest kernel of sid
#                  and experimental (scripts/runtime-kernels.sh newest FLAVOUR:
#                  resolved from the archive at run time, built by the gcc-N
#                  it was configured with, from the matrix's toolchains)
# One line per kernel "<kernel>: N passed, N failed[, N skipped] in S s",
# then the sum "N passed, N failed[, N skipped]"; exit 0 only if all passed.
#   tests/vm/check-kernels.sh [NAME...]   (default: all of the above)
# Env: ZC_LOCK=<file> runs each kernel under flock <file> (a shared machine).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
ALL="x86_64-6.1 x86_64-6.12 x86_64-newest arm64-6.12 arm64-16k-6.12 arm64-newest arm64-16k-newest"
LIST=${*:-$ALL}
if [ -n "${ZC_CASES:-}" ]; then
	echo "check-kernels: ZC_CASES=$ZC_CASES is set in the environment: ignored (the whole suite runs)"
	unset ZC_CASES
fi
lock=()
[ -n "${ZC_LOCK:-}" ] && lock=(flock "$ZC_LOCK")
mkdir -p build
t0=${EPOCHREALTIME/./}
tp=0 tf=0 ts=0 rc=0 lines=()
for k in $LIST; do
	log=$TOP/build/check-kernels-$k.log
	s=${EPOCHREALTIME/./}
	case $k in
	x86_64-6.1) "${lock[@]}" env ZC_OUT="$TOP/build/vm" tests/vm/check.sh check ;;
	x86_64-6.12)
		d=$(scripts/runtime-kernels.sh deb12-6.12 2> "$TOP/build/fetch-$k.log" | tail -1)
		if [ -z "$d" ]; then
			tail -5 "$TOP/build/fetch-$k.log"; echo "not ok - $k: fetch"; echo "0 passed, 1 failed"
		else
			"${lock[@]}" env ZC_KROOT="$d" ZC_OUT="$TOP/build/vm-$k" tests/vm/check.sh check
		fi ;;
	x86_64-newest | arm64-newest | arm64-16k-newest)
		fl=${k%-newest}
		[ "$fl" = x86_64 ] && fl=amd64
		d=$(scripts/runtime-kernels.sh newest "$fl" 2> "$TOP/build/fetch-$k.log" | tail -1)
		if [ -z "$d" ] || [ ! -e "$d/kernel.env" ]; then
			tail -5 "$TOP/build/fetch-$k.log"; echo "not ok - $k: fetch"; echo "0 passed, 1 failed"
		else
			echo "$k: $(grep -E '^KREL=|^KVER=' "$d/kernel.env" | cut -d= -f2 | tr '\n' ' ')"
			if [ "$fl" = amd64 ]; then
				"${lock[@]}" env ZC_KROOT="$d" ZC_OUT="$TOP/build/vm-$k" tests/vm/check.sh check
			else
				"${lock[@]}" env ZC_ARM64_KROOT="$d" ZC_OUT="$TOP/build/vm-$k" \
					tests/vm/arm64/check.sh "${k%-newest}" check
			fi
		fi ;;
	arm64-6.12) "${lock[@]}" tests/vm/arm64/check.sh arm64 check ;;
	arm64-16k-6.12) "${lock[@]}" tests/vm/arm64/check.sh arm64-16k check ;;
	*) echo "not ok - unknown kernel $k (one of: $ALL)"; echo "0 passed, 1 failed" ;;
	esac </dev/null 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(echo "$sum" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$sum" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	n=$(echo "$sum" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	[ -n "$p" ] || { p=0; f=1; rc=1; sum="no verdict"; }
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + ${n:-0}))
	rel=$(grep -m1 "^$k: [0-9]" "$log" | cut -d' ' -f2-3 | sed 's/ *$//')
	lines+=("$k${rel:+ ($rel)}: $sum in $(( (${EPOCHREALTIME/./} - s) / 1000000 )) s")
done
printf '%s\n' "${lines[@]}"
echo "check-kernels total: $(( (${EPOCHREALTIME/./} - t0) / 1000000 )) s"
line="$tp passed, $tf failed"
[ $ts != 0 ] && line+=", $ts skipped"
echo "$line"
[ $tf = 0 ] && [ $rc = 0 ]
