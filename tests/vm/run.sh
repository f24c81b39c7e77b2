#!/bin/bash
# Boot the images of build.sh: Xen 4.17 + PV dom0 (+ the test domU it
# creates) under QEMU TCG, and run one mode:
#   check  the test suite; prints one line per case and, last,
#          "N passed, N failed[, N skipped]"; exit 0 only if nothing failed
#   demo   tests/demo/run-demo.sh in dom0; exit 0 if it passed
#   shell  interactive dom0 shell on this terminal (Ctrl-A X quits QEMU)
# Logs: build/vm/logs/<date>/{serial,dom0,domU,xen}.log (build/vm/logs/latest).
# Env: ZC_TIMEOUT (s, default 900), ZC_CASES="a,b" (only these cases),
#      ZC_CASE_TIMEOUT (s, default 180), ZC_SMP (2: the concurrency cases run
#      on two vCPUs at once), ZC_MEM (MiB, 2048), ZC_VERBOSE=1
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
# init_on_free: pages freed while a domain still maps them would read as zeros
# (to_refs_release_deferred, to_refs_unload_while_mapped check they do not)
DOM0_ARGS="console=hvc0 earlyprintk=xen panic=-1 init_on_free=1 zc.mode=$MODE zc.exit=debugexit"
DOM0_ARGS+=" zc.case_timeout=${ZC_CASE_TIMEOUT:-180}"
# make check-debug: the suite also checks the detectors (zc_debug_armed, zc_kmemleak)
[ "${ZC_DEBUG:-0}" = 1 ] && DOM0_ARGS+=" zc.debug=1"
[ -n "${ZC_CASES:-}" ] && DOM0_ARGS+=" zc.cases=${ZC_CASES// /,}"
# the knobs of the cases (zc_param): e.g. "zc.fuzz_secs=600 zc.soak_cycles=10000"
[ -n "${ZC_DOM0_ARGS:-}" ] && DOM0_ARGS+=" $ZC_DOM0_ARGS"
# --- bench (owner: perf): the knobs of tests/bench/bench.sh; grant tables
# for 65536 refs both ways (Xen's default of 64 frames holds 32768 entries)
if [ "$MODE" = bench ]; then
	XEN_ARGS+=" gnttab_max_frames=256"
	DOM0_ARGS+=" ${ZC_BENCH_ARGS:-}"
fi
# --- end bench ---
# QEMU splits -initrd (the multiboot modules) at commas; ',,' is a literal comma
QEMU=(qemu-system-x86_64 -accel tcg -cpu qemu64 -smp "${ZC_SMP:-2}" -m "${ZC_MEM:-2048}"
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

# the manifest: x86_64, or x86_64-debug for make check-debug (tests/vm/check-debug.sh)
PLAT=${ZC_MANIFEST:-x86_64}
. "$TOP/tests/vm/host-lib.sh"
zc_host_run vm "vm: booting Xen + dom0 + domU under QEMU TCG ($MODE)"
