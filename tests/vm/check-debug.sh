#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debug`: the whole suite (the same manifest, the same verdict
# rules as `make check`) with the debug kernel of scripts/debug-kernel.sh as
# dom0 and domU: lockdep, kmemleak, KFENCE, UBSAN, DEBUG_SG, DMA-API debug,
# DEBUG_LIST, DEBUG_ATOMIC_SLEEP, fault injection. Any report in any
# domain's log fails the case it happened in (the usual log scan); the
# suite's vm_setup and vm_teardown also fail if a detector is missing or
# switched itself off, and vm_teardown if kmemleak finds a suspect after
# the run (tests/vm/guest/zc-lib.sh: zc_debug_armed, zc_kmemleak).
# The kernel is built once and cached (~/.cache/xen-zcopy/debug).
# Last line: "N passed, N failed[, N skipped]".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
"$TOP/tests/vm/setup-host.sh" || { echo "not ok - host set-up (tests/vm/setup-host.sh)"; echo "0 passed, 1 failed"; exit 1; }
# building a kernel: kconfig (flex, bison), timeconst (bc), objtool (libelf)
# (a subshell: zc_install_missing exits)
. "$TOP/tests/vm/host-lib.sh"
( zc_install_missing "check-debug" "" flex bison bc libelf-dev patch ) ||
	{ echo "not ok - host set-up (flex bison bc libelf-dev patch)"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p build
t0=$SECONDS
if ! D=$(scripts/debug-kernel.sh x86_64 2> build/debug-kernel-x86_64.log | tail -1) || [ ! -e "$D/kernel.env" ]; then
	tail -20 build/debug-kernel-x86_64.log | sed 's/^/    # /'
	echo "not ok - debug kernel build (log: build/debug-kernel-x86_64.log)"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "debug kernel: $(grep -E 'built|cached' build/debug-kernel-x86_64.log | tail -1 | sed 's/^\[[^]]*\] //') ($((SECONDS - t0)) s)"
# the debug kernel is slower under TCG: more time for the whole boot
exec env ZC_KROOT="$D" ZC_DEBUG=1 ZC_MANIFEST=x86_64-debug ZC_OUT="$TOP/build/vm-debug" ZC_TIMEOUT="${ZC_TIMEOUT:-2400}" \
	"$TOP/tests/vm/check.sh" check
