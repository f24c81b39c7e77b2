#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench` (and `make bench-arm64`): boot the emulated Xen system in
# bench mode (tests/bench/run-bench.sh runs in dom0), keep the output, turn
# the scaling table into a plot, and name the host the figures come from.
#   tests/bench/bench.sh [x86_64|arm64]
# Env (host):
#   ZC_BENCH=full|smoke   full (default): the issue's sizes, 5 runs and the
#                         profile; smoke: CI's short run (tables and every
#                         check, small sizes, 3 runs, no profile)
#   ZC_BENCH_REPS ZC_BENCH_FRAMES ZC_BENCH_CALLS ZC_BENCH_SIZES=WxH,..
#   ZC_BENCH_REFS=N,.. ZC_BENCH_SYNC=N,.. ZC_BENCH_PROFILE=0|1
#   ZC_BENCH_PARTS=frame,scale,sync (development: only these zcbench parts)
#                         override one knob of the chosen set
# Output: build/bench[-arm64]/bench.log (everything printed, host lines
# included), scaling.dat, bench-scaling.png; the VM's own logs stay in
# build/vm*/logs/. Exit status non-zero when the run or a check failed, or
# when the tables are missing; no time is ever asserted.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ARCH=${1:-x86_64}
case $ARCH in
x86_64) OUT=$TOP/build/bench RUN=("$TOP/tests/vm/check.sh" bench) LABEL="x86_64 PV" ;;
arm64)	OUT=$TOP/build/bench-arm64 RUN=("$TOP/tests/vm/arm64/check.sh" arm64 bench)
	LABEL="arm64 auto-translated"
	# its domU has 256 MiB (tests/vm/arm64/domU.cfg): with 32768 pages
	# (128 MiB) granted, its gntdev could not map one more page (ENOMEM)
	[ "${ZC_BENCH:-full}" = full ] && : "${ZC_BENCH_REFS:=1,16,256,2025,8100,16384}"
	export ZC_BENCH_REFS ;;
*) echo "bench.sh: unknown architecture $ARCH" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
LOG=$OUT/bench.log
. "$TOP/tests/vm/host-lib.sh"
(zc_install_missing bench "" gnuplot-nox) || { echo "bench: FAIL: cannot install gnuplot-nox"; exit 1; }

args="zc.bench=${ZC_BENCH:-full}"
for k in REPS FRAMES CALLS SIZES REFS SYNC PROFILE PARTS; do
	v=$(printenv "ZC_BENCH_$k") && [ -n "$v" ] && args+=" zc.bench_${k,,}=$v"
done
export ZC_BENCH_ARGS=$args

host() { # the machine the emulation runs on
	echo "host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 || uname -m)," \
		"$(nproc) core(s) for QEMU's TCG threads, load $(cut -d' ' -f1-3 /proc/loadavg) ($1)"
}
{
	host "before the run"
	echo "bench: $ARCH, $args"
} | tee "$LOG"
t0=$SECONDS
"${RUN[@]}" 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
host "after the run, $((SECONDS - t0)) s" | tee -a "$LOG"

# the tables' rows: "from|to N zmin zmed zmax omin omed omax ratio zus ous zrel orel [vgem to_refs]"
awk '$1 == "from" && $2 ~ /^[0-9]+$/ { f[$2] = $0 }
     $1 == "to" && $2 ~ /^[0-9]+$/ { t[$2] = $0 }
     END { print "# refs  from: zc_ms gntdev_ms zc_us/ref gntdev_us/ref  to: zc_ms gntalloc_ms zc_us/ref gntalloc_us/ref TO_REFS-alone_ms"
	   for (n in f) { split(f[n], a, " "); split(t[n], b, " ")
		print n, a[4], a[7], a[10], a[11], b[4], b[7], b[10], b[11], b[15] } }' \
	"$LOG" | sort -n > "$OUT/scaling.dat"
rows=$(grep -vc '^#' "$OUT/scaling.dat")
if [ "$rows" -lt 2 ]; then
	echo "bench: FAIL: the scaling table is missing or has fewer than 2 sizes (see $LOG)" | tee -a "$LOG"
	rc=1
elif ! gnuplot -e "dat='$OUT/scaling.dat'; png='$OUT/bench-scaling.png'; arch='$LABEL'" \
	"$TOP/tests/bench/scaling.gp" 2>> "$LOG"; then
	echo "bench: FAIL: gnuplot (see $LOG)" | tee -a "$LOG"
	rc=1
fi
for t in "CPU consumer, per frame" "DMA_BUF_IOCTL_SYNC" "targets"; do
	grep -q "== $t" "$LOG" || { echo "bench: FAIL: no '$t' table (see $LOG)" | tee -a "$LOG"; rc=1; }
done
grep -q 'zcbench: all checks passed' "$LOG" || rc=1
echo "bench: log $LOG, plot $OUT/bench-scaling.png ($rows sizes); $( [ "$rc" = 0 ] && echo PASS || echo FAIL)" | tee -a "$LOG"
exit "$rc"
