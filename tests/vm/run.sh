#!/bin/bash
# Boot the images of build.sh: Xen 4.17 + PV dom0 (+ the test domU it
# creates) under QEMU TCG, and run one mode:
#   check  the test suite; prints one line per case and, last,
#          "N passed, N failed[, N skipped]"; exit 0 only if nothing failed
#   demo   tests/demo/run-demo.sh in dom0; exit 0 if it passed
#   shell  interactive dom0 shell on this terminal (Ctrl-A X quits QEMU)
# Logs: build/vm/logs/<date>/{serial,dom0,domU,xen}.log (build/vm/logs/latest).
# Env: ZC_TIMEOUT (s, default 900), ZC_CASES="a,b" (only these cases),
#      ZC_CASE_TIMEOUT (s, default 180), ZC_SMP (1), ZC_MEM (MiB, 2048), ZC_VERBOSE=1
#      (echo the whole serial log), KV (from build.sh).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${ZC_OUT:-$TOP/build/vm}
MODE=${1:-check}
TIMEOUT=${ZC_TIMEOUT:-900}
for f in "$OUT/xen" "$OUT/vmlinux" "$OUT/dom0.cpio"; do
	[ -e "$f" ] || { echo "run.sh: missing $f (run tests/vm/build.sh first)" >&2; exit 2; }
done

XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all"
DOM0_ARGS="console=hvc0 earlyprintk=xen panic=-1 zc.mode=$MODE zc.exit=debugexit"
DOM0_ARGS+=" zc.case_timeout=${ZC_CASE_TIMEOUT:-180}"
[ -n "${ZC_CASES:-}" ] && DOM0_ARGS+=" zc.cases=${ZC_CASES// /,}"
# QEMU splits -initrd (the multiboot modules) at commas; ',,' is a literal comma
QEMU=(qemu-system-x86_64 -accel tcg -cpu qemu64 -smp "${ZC_SMP:-1}" -m "${ZC_MEM:-2048}"
	-nodefaults -no-user-config -display none -no-reboot -monitor none
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-kernel "$OUT/xen" -append "$XEN_ARGS"
	-initrd "$OUT/vmlinux ${DOM0_ARGS//,/,,},$OUT/dom0.cpio")

if [ "$MODE" = shell ]; then
	echo "run.sh: dom0 shell; 'exit' powers off, Ctrl-A X kills QEMU" >&2
	"${QEMU[@]}" -serial mon:stdio
	rc=$?
	# 1 is isa-debug-exit with 0 (dom0 powered off after 'exit')
	[ $rc = 1 ] && rc=0
	exit $rc
fi

LOGDIR=$OUT/logs/$(date +%Y%m%d-%H%M%S)-$MODE
mkdir -p "$LOGDIR"
ln -sfn "$(basename "$LOGDIR")" "$OUT/logs/latest"
LOG=$LOGDIR/serial.log
echo "vm: booting Xen + dom0 + domU under QEMU TCG ($MODE); logs: $LOGDIR"
echo "run.sh: ${QEMU[*]}" > "$LOG"
start_us=${EPOCHREALTIME/./}
# each serial line: host seconds since QEMU start, then the line; ZCHECK lines
# (the in-dom0 driver's verdicts) go to stdout as they arrive
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
	echo "not ok - vm: no verdict ($why${last:+; last case started: $last}); see $LOG"
	nfail=$((nfail + 1))
fi
# Backstop: trouble anywhere in the whole serial log (boot, shutdown, or a
# line the in-guest scan missed) fails the run even if every case passed.
# the same patterns as the in-guest scan
eval "$(grep -E '^ZC_[KX]PAT=' "$TOP/tests/vm/guest/zc-lib.sh")"
sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -av -e 'ZCHECK: ' -e '^run.sh: ' |
	grep -aE -e "$ZC_KPAT" -e "$ZC_XPAT" > "$LOGDIR/trouble.log"
if [ -s "$LOGDIR/trouble.log" ] && [ "$nfail" = 0 ]; then
	echo "not ok - vm: kernel/Xen trouble in the logs outside any case:"
	head -5 "$LOGDIR/trouble.log" | sed 's/^/    # /'
	nfail=1
fi
echo "logs: $LOGDIR ($(cat "$LOGDIR/times.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g'))"
[ "$nfail" = 0 ] || rc=1
if [ "$MODE" = check ]; then
	summary="$npass passed, $nfail failed"
	[ "${nskip:-0}" != 0 ] && summary+=", $nskip skipped"
	echo "$summary"
else
	[ "$rc" = 0 ] && echo "$MODE: PASS" || echo "$MODE: FAIL"
fi
exit $rc
