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
#      ZC_SMP (2, as x86_64: the concurrency cases in parallel), ZC_MEM (MiB, 1024), ZC_DOM0_MEM (MiB, 512), ZC_VERBOSE=1
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
PLAT=${1:?usage: $0 arm64|arm64-16k [check|demo|shell]}
MODE=${2:-check}
OUT=${ZC_OUT:-$TOP/build/vm-$PLAT}
TIMEOUT=${ZC_TIMEOUT:-1200}
case $PLAT in
# Cortex-A57 has no 16K translation granule: a 16K kernel spins silently in
# head.S there, so the 16K platform needs -cpu max. Without SVE and SME:
# Xen 4.17 neither supports them in guests nor hides SME from dom0, and 7.x
# dom0 kernels probe SME's vector lengths at boot, trap, and panic in
# vec_probe_vqs; 6.12 did not probe.
arm64) CPU=cortex-a57 ;;
arm64-16k) CPU=max,sve=off,sme=off ;;
*) echo "run.sh: unknown platform $PLAT" >&2; exit 2 ;;
esac
for f in "$OUT/xen" "$OUT/Image" "$OUT/dom0.cpio"; do
	[ -e "$f" ] || { echo "run.sh: missing $f (run tests/vm/arm64/build.sh $PLAT first)" >&2; exit 2; }
done

XEN_ARGS="dom0_mem=${ZC_DOM0_MEM:-512}M console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all"
# init_on_free: pages freed while a domain still maps them would read as zeros
# (to_refs_release_deferred, to_refs_unload_while_mapped check they do not)
DOM0_ARGS="console=hvc0 earlycon=xenboot rdinit=/init panic=-1 init_on_free=1 zc.mode=$MODE zc.exit=poweroff"
DOM0_ARGS+=" zc.case_timeout=${ZC_CASE_TIMEOUT:-180}"
[ -n "${ZC_CASES:-}" ] && DOM0_ARGS+=" zc.cases=${ZC_CASES// /,}"
# --- bench (owner: perf): tests/bench/bench.sh's knobs, grant tables for 65536 refs
if [ "$MODE" = bench ]; then
	XEN_ARGS+=" gnttab_max_frames=256"
	DOM0_ARGS+=" ${ZC_BENCH_ARGS:-}"
fi
# --- end bench ---
# QEMU splits -device options at commas; ',,' is a literal comma.
# Without -initrd QEMU puts its device tree at RAM base + 128 MiB
# (0x48000000): the guest-loader modules must stay clear of it (kernel at
# 0x42000000 may be up to 96 MiB, the initramfs goes above it).
QEMU=(qemu-system-aarch64 -machine virt,virtualization=on,gic-version=3 -accel tcg
	-cpu $CPU -smp "${ZC_SMP:-2}" -m "${ZC_MEM:-1024}"
	-display none -no-reboot -monitor none -nodefaults
	-kernel "$OUT/xen" -append "$XEN_ARGS"
	-device guest-loader,addr=0x42000000,kernel="$OUT/Image",bootargs="${DOM0_ARGS//,/,,}"
	-device guest-loader,addr=0x4a000000,initrd="$OUT/dom0.cpio")

if [ "$MODE" = shell ]; then
	echo "run.sh: dom0 shell; 'exit' powers off, Ctrl-A X kills QEMU" >&2
	exec "${QEMU[@]}" -serial mon:stdio
fi

. "$TOP/tests/vm/host-lib.sh"
zc_host_run "vm-$PLAT" "vm-$PLAT: booting Xen + dom0 + domU under qemu-system-aarch64 TCG, -cpu $CPU ($MODE)"
