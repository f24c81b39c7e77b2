#!/bin/sh
# Self-test of the per-case log scan (tests/vm/guest/zc-lib.sh, zc_scan):
# known trouble lines must be caught, known harmless boot lines must not.
# Runs on the host with busybox sh (the shell dom0 uses); silent on success.
#   busybox sh tests/vm/scan-selftest.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$HERE/guest/zc-lib.sh"
ZC_RUN=$T ZC_KMSG=$T/kmsg ZC_XENLOG=$T/xen ZC_DOMULOG=$T/domu
xl() { cat "$T/ring"; : > "$T/ring"; }	# stands in for 'xl dmesg -c'
sleep() { :; }
FAILS=0
# expect 0|1 KMSG-TEXT DOMU-LINE XEN-LINE
expect() {
	: > "$T/ring"
	[ -n "$2" ] && echo "4,1,1,-;$2" >> "$T/kmsg"
	[ -n "$3" ] && echo "$3" >> "$T/domu"
	[ -n "$4" ] && echo "$4" >> "$T/ring"
	zc_scan > "$T/out"
	got=$?
	if [ "$got" != "$1" ]; then
		echo "scan-selftest: want $1, got $got for: $2|$3|$4"
		FAILS=$((FAILS+1))
	fi
}
: > "$T/kmsg"; : > "$T/domu"
zc_scan_init
expect 0 "" "" ""
expect 1 "WARNING: CPU: 0 PID: 431 at src/zcopy_drv.c:78 zcopy_open+0x9/0x30" "" ""
expect 1 "BUG: kernel NULL pointer dereference, address: 0000000000000008" "" ""
expect 1 "BUG kmalloc-64 (Tainted: G O): Poison overwritten" "" ""
expect 1 "general protection fault, probably for non-canonical address" "" ""
expect 1 "Call Trace:" "" ""
expect 1 "INFO: task zctest:123 blocked for more than 120 seconds." "" ""
expect 1 "rcu: INFO: rcu_sched self-detected stall on CPU" "" ""
expect 1 "WARNING: possible circular locking dependency detected" "" ""
expect 1 "refcount_t: underflow; use-after-free." "" ""
expect 1 "" "[   12.345678] kernel BUG at mm/slub.c:100!" ""
expect 1 "" "[    3.300000] Oops: 0000 [#1] PREEMPT SMP NOPTI" ""
expect 1 "" "" "(XEN) Assertion 'x' failed at common/grant_table.c:100"
expect 1 "" "" "(XEN) Xen BUG at grant_table.c:100"
expect 1 "" "" "(XEN) d1v0 domain_crash called from p2m.c:100"
expect 1 "" "" "(XEN) Attempt to implicitly unmap a granted PTE c0000000"
expect 1 "" "" "(XEN) Panic on CPU 0:"
expect 1 "" "" "(XEN) FATAL TRAP: vector = 14 (page fault)"
expect 1 "" "" "(XEN) Xen WARN at common/grant_table.c:100"
# harmless lines seen in normal runs
expect 0 "ACPI: bus type drm_connector registered" "" ""
expect 0 "xen_drm_zcopy: loading out-of-tree module taints kernel." "" ""
expect 0 "" "[    0.000000] Hypervisor detected: Xen PV" ""
expect 0 "" "" "(XEN) ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]"
expect 0 "" "" "(XEN) Xen version 4.17.7 (Debian) debug=n"
expect 0 "" "" "(XEN) grant_table.c:1234:d0v0 Bad flags (0) or dom (0); expected d1"
# each line is reported once: the offsets advance
echo "4,1,1,-;WARNING: once" >> "$T/kmsg"
zc_scan > /dev/null
expect 0 "" "" ""
[ $FAILS = 0 ]
