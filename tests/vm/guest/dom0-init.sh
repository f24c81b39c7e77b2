#!/bin/sh
# PID 1 of the test dom0 (initramfs /init). Kernel command line knobs:
#   zc.mode=check|shell|demo|bench   the suite / a shell / the demo / the benchmark
#   zc.exit=debugexit|poweroff how to stop the machine (x86 QEMU isa-debug-exit,
#                              or an ordinary power-off, e.g. PSCI on arm64)
#   zc.cases="a b"             run only these cases (check mode; ',' separated)
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /run/lock /run/zc
exec </dev/console >/dev/console 2>&1
. /zc/zc-lib.sh
# every dom0 kernel message, for the per-case scan (the console may drop
# some); the scan writes a mark to /dev/kmsg before each pass, so lift the
# rate limit on writes from user space
echo on > /proc/sys/kernel/printk_devkmsg
zc_kmsg_start

MODE=$(zc_arg zc.mode check)
EXIT=$(zc_arg zc.exit debugexit)
zc_log "dom0 init running, mode $MODE, kernel $(uname -r)"

finish() { # finish 0|1: stop the whole machine
	sync
	if [ "$EXIT" = debugexit ]; then
		# isa-debug-exit at port 0xf4: QEMU exits with status (val << 1) | 1
		printf "\\$(printf '%03o' "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
		sleep 2
	fi
	poweroff -f
	sleep 10
	echo "zc: poweroff failed"
	while :; do sleep 3600; done
}

case $MODE in
check)
	sh /zc/dom0-suite.sh
	finish $? ;;
demo|bench)
	sh /zc/dom0-suite.sh --$MODE
	finish $? ;;
*)
	if zc_xen_setup; then zc_log "Xen userspace up"; else zc_log "Xen userspace setup FAILED"; fi
	zc_load_modules || zc_log "module load FAILED"
	zc_domu_start quiet && echo "zc: domU is domain $ZC_DOMU (agent running)"
	cat <<EOM

zc: dom0 shell. Try:  xl list; zctest --list; zctest --domu $ZC_DOMU <case>;
    cat /sys/kernel/debug/xen_zcopy/counters; xl console domU (Ctrl-] leaves);
    logs: $ZC_DOMULOG, xl dmesg, dmesg.  'exit' powers the machine off.
EOM
	setsid cttyhack sh -l
	finish 0 ;;
esac
