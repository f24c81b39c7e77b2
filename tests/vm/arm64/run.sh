#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the images of tests/vm/arm64/build.sh: Xen 4.17 arm64 + dom0 (+ the
# test domU it creates) under qemu-system-aarch64 TCG, and run one mode:
#   check  the test suite; one line per case and, last,
#          "N passed, N failed[, N skipped]"; exit 0 only if nothing failed
#   demo   tests/demo/run-demo.sh in dom0
#   shell  interactive dom0 shell on this terminal (Ctrl-A X quits QEMU)
#
#   tests/vm/arm64/run.sh arm64|arm64-16k [check|demo|shell]
#
# The guest side is tests/vm/guest (shared with x86); dom0 stops the machine
# with an ordinary power-off (zc.exit=poweroff: Xen turns dom0's shutdown
# into PSCI SYSTEM_OFF and QEMU exits), so the verdict is read from the
# "ZCHECK: RESULT" line, never from QEMU's exit status alone.
# Logs: build/vm-<plat>/logs/<date>-<mode>/{serial,dom0,domU,xen,trouble}.log
# Env: ZC_TIMEOUT (s, default 1200), ZC_CASES="a,b", ZC_CASE_TIMEOUT (s, 180),
#      ZC_SMP (1), ZC_MEM (MiB, 1024), ZC_DOM0_MEM (MiB, 512), ZC_VERBOSE=1
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
PLAT=${1:?usage: $0 arm64|arm64-16k [check|demo|shell]}
MODE=${2:-check}
OUT=${ZC_OUT:-$TOP/build/vm-$PLAT}
TIMEOUT=${ZC_TIMEOUT:-1200}
case $PLAT in
# Cortex-A57 has no 16K translation granule: a 16K kernel spins silently in
# head.S there, so the 16K platform needs -cpu max
arm64) CPU=cortex-a57 ;;
arm64-16k) CPU=max ;;
*) echo "run.sh: unknown platform $PLAT" >&2; exit 2 ;;
esac
for f in "$OUT/xen" "$OUT/Image" "$OUT/dom0.cpio"; do
	[ -e "$f" ] || { echo "run.sh: missing $f (run tests/vm/arm64/build.sh $PLAT first)" >&2; exit 2; }
done

XEN_ARGS="dom0_mem=${ZC_DOM0_MEM:-512}M console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all"
DOM0_ARGS="console=hvc0 earlycon=xenboot rdinit=/init panic=-1 zc.mode=$MODE zc.exit=poweroff"
DOM0_ARGS+=" zc.case_timeout=${ZC_CASE_TIMEOUT:-180}"
[ -n "${ZC_CASES:-}" ] && DOM0_ARGS+=" zc.cases=${ZC_CASES// /,}"
# QEMU splits -device options at commas; ',,' is a literal comma.
# Without -initrd QEMU puts its device tree at RAM base + 128 MiB
# (0x48000000): the guest-loader modules must stay clear of it (kernel at
# 0x42000000 may be up to 96 MiB, the initramfs goes above it).
QEMU=(qemu-system-aarch64 -machine virt,virtualization=on,gic-version=3 -accel tcg
	-cpu $CPU -smp "${ZC_SMP:-1}" -m "${ZC_MEM:-1024}"
	-display none -no-reboot -monitor none -nodefaults
	-kernel "$OUT/xen" -append "$XEN_ARGS"
	-device guest-loader,addr=0x42000000,kernel="$OUT/Image",bootargs="${DOM0_ARGS//,/,,}"
	-device guest-loader,addr=0x4a000000,initrd="$OUT/dom0.cpio")

if [ "$MODE" = shell ]; then
	echo "run.sh: dom0 shell; 'exit' powers off, Ctrl-A X kills QEMU" >&2
	exec "${QEMU[@]}" -serial mon:stdio
fi

LOGDIR=$OUT/logs/$(date +%Y%m%d-%H%M%S)-$MODE
mkdir -p "$LOGDIR"
ln -sfn "$(basename "$LOGDIR")" "$OUT/logs/latest"
LOG=$LOGDIR/serial.log
echo "vm-$PLAT: booting Xen + dom0 + domU under qemu-system-aarch64 TCG, -cpu $CPU ($MODE); logs: $LOGDIR"
echo "run.sh: ${QEMU[*]}" > "$LOG"
start_us=${EPOCHREALTIME/./}
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" -serial stdio </dev/null 2>&1 |
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%$'\r'}
	now_us=${EPOCHREALTIME/./}
	rel=$(( (now_us - start_us) / 1000 ))
	printf '[%4d.%03d] %s\n' $((rel / 1000)) $((rel % 1000)) "$line" >> "$LOG"
	if [ "${ZC_VERBOSE:-0}" = 1 ]; then
		printf '[%4d.%03d] %s\n' $((rel / 1000)) $((rel % 1000)) "$line"
	elif [[ $line == *"ZCHECK: "* ]]; then
		l=${line#*ZCHECK: }
		[[ $l == RESULT* ]] || printf '%s\n' "$l"
	fi
done
qrc=${PIPESTATUS[0]}
end_us=${EPOCHREALTIME/./}

# split the serial log: Xen, dom0 (its console), domU (tailed by dom0)
sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '(XEN)' > "$LOGDIR/xen.log"
# domU: the full dump at domU shutdown if there is one, else the live lines
if grep -aq '^\[[ 0-9.]*\] \[domU-log\] ' "$LOG"; then
	sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '^\[domU-log\] ' | sed 's/^\[domU-log\] //' > "$LOGDIR/domU.log"
else
	sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '^\[domU\] ' | sed 's/^\[domU\] //' > "$LOGDIR/domU.log"
fi
sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -av -e '(XEN)' -e '^\[domU\] ' -e '^\[domU-log\] ' -e '^run.sh: ' > "$LOGDIR/dom0.log"

times > "$LOGDIR/times.raw"	# here: 'times' in a subshell would show 0

t_of() { grep -a -m1 "$1" "$LOG" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
{
	echo "QEMU exit status $qrc after $(( (end_us - start_us) / 1000 )) ms (timeout $TIMEOUT s)"
	echo "dom0 kernel started: $(t_of 'Linux version') s"
	echo "dom0 Xen userspace up: $(t_of 'DOM0_READY') s"
	echo "domU agent ready: $(t_of 'DOMU_READY') s"
	echo "verdict: $(t_of 'ZCHECK: RESULT') s"
	# CPU time is steadier than wall time on a shared host
	echo "host CPU (QEMU and helpers): $(tail -1 "$LOGDIR/times.raw")"
	echo "host load: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$LOGDIR/times.txt"

read -r _ npass nfail nskip < <(grep -a -o 'ZCHECK: RESULT [0-9]* [0-9]* [0-9]*' "$LOG" | tail -1 | cut -d' ' -f2-) || true
rc=0
if [ -z "${npass:-}" ]; then
	# no verdict: count what was printed, plus the run itself as a failure
	npass=$(grep -a -c 'ZCHECK: ok - ' "$LOG")
	nfail=$(grep -a -c 'ZCHECK: not ok - ' "$LOG")
	nskip=$(grep -a -c 'ZCHECK: ok - .* # SKIP' "$LOG")
	npass=$((npass - nskip))
	last=$(grep -a 'zc: .*case ' "$LOG" | tail -1 | sed 's/.*case //')
	why="QEMU exit status $qrc"
	[ "$qrc" = 124 ] && why="timeout after $TIMEOUT s"
	echo "not ok - vm-$PLAT: no verdict ($why${last:+; last case started: $last}); see $LOG"
	nfail=$((nfail + 1))
fi
# Backstop: trouble anywhere in the whole serial log (boot, shutdown, or a
# line the in-guest scan missed) fails the run even if every case passed.
# the same patterns as the in-guest scan (tests/vm/guest/zc-lib.sh)
eval "$(grep -E '^ZC_[KX]PAT=' "$TOP/tests/vm/guest/zc-lib.sh")"
sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -av -e 'ZCHECK: ' -e '^run.sh: ' |
	grep -aE -e "$ZC_KPAT" -e "$ZC_XPAT" > "$LOGDIR/trouble.log"
if [ -s "$LOGDIR/trouble.log" ] && [ "$nfail" = 0 ]; then
	echo "not ok - vm-$PLAT: kernel/Xen trouble in the logs outside any case:"
	head -5 "$LOGDIR/trouble.log" | sed 's/^/    # /'
	nfail=1
fi
echo "logs: $LOGDIR ($(tr '\n' ';' < "$LOGDIR/times.txt" | sed 's/;$//; s/;/; /g'))"
[ "$nfail" = 0 ] || rc=1
if [ "$MODE" = check ]; then
	summary="$npass passed, $nfail failed"
	[ "${nskip:-0}" != 0 ] && summary+=", $nskip skipped"
	echo "$summary"
else
	[ "$rc" = 0 ] && echo "$MODE: PASS" || echo "$MODE: FAIL"
fi
exit $rc
