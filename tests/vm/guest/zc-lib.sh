# shellcheck shell=sh
# Shared by the dom0 scripts of the VM harness (sourced). Platform
# independent: the x86_64 and a future arm64 harness use the same guest side.
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin

zc_up() { cut -d' ' -f1 /proc/uptime; }
zc_say() { echo "ZCHECK: $*"; }	# lines the host prints or parses
zc_log() { echo "zc: [+$(zc_up)s] $*"; }	# progress, log only

# zc_arg NAME DEFAULT: value of NAME= on the kernel command line
zc_arg() {
	v=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -1)
	echo "${v:-$2}"
}

# zc_wait_xs PATH TIMEOUT-S: poll xenstore until PATH exists, print value
zc_wait_xs() {
	n=0
	while [ $n -lt $(($2 * 10)) ]; do
		v=$(xenstore-read "$1" 2>/dev/null) && { echo "$v"; return 0; }
		sleep 0.1; n=$((n+1))
	done
	return 1
}

ZC_RUN=/run/zc
ZC_KMSG=$ZC_RUN/dom0.kmsg
ZC_XENLOG=$ZC_RUN/xen.log
ZC_DOMULOG=/var/log/xen/console/guest-domU.log

# Xen userspace: xenfs, device modules, xenstored, xenconsoled.
zc_xen_setup() {
	modprobe xenfs && mount -t xenfs xenfs /proc/xen || { zc_log "xenfs failed"; return 1; }
	modprobe -a xen-privcmd xen-evtchn xen-gntdev || { zc_log "modprobe xen-* failed"; return 1; }
	# gntalloc's default limit (1024 grants) is below what the tests grant
	modprobe xen-gntalloc limit=65536 || { zc_log "modprobe xen-gntalloc failed"; return 1; }
	grep -q control_d /proc/xen/capabilities || { zc_log "not the control domain"; return 1; }
	export XENSTORED_ROOTDIR=/run/xenstored
	mkdir -p /run/xen /run/xenstored /var/log/xen/console
	xenstored --pid-file /run/xen/xenstored.pid || { zc_log "xenstored failed"; return 1; }
	n=0
	while [ ! -S /run/xenstored/socket ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
	[ -S /run/xenstored/socket ] || { zc_log "xenstored socket missing"; return 1; }
	xen-init-dom0 >/dev/null || { zc_log "xen-init-dom0 failed"; return 1; }
	xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
		{ zc_log "xenconsoled failed"; return 1; }
	xl list >/dev/null || { zc_log "xl list failed"; return 1; }
}

# The driver and its test companions. Fails when the module does not load.
zc_load_modules() {
	modprobe vgem || zc_log "modprobe vgem failed (PRIME import tests will fail)"
	if [ ! -e /lib/modules/"$(uname -r)"/extra/xen_drm_zcopy.ko ]; then
		zc_log "xen_drm_zcopy.ko is not in the image"
		return 1
	fi
	modprobe xen_drm_zcopy || { zc_log "modprobe xen_drm_zcopy failed"; return 1; }
	zc_log "xen_drm_zcopy loaded; /dev/dri: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')"
}

# zc_domu_start [quiet]: create the domU, wait until its agent serves; sets ZC_DOMU.
zc_domu_start() {
	t0=$(zc_up)
	xl create /etc/xen/domU.cfg >$ZC_RUN/xl-create.log 2>&1 || {
		zc_log "xl create failed:"; cat $ZC_RUN/xl-create.log; return 1; }
	ZC_DOMU=$(xl domid domU) || return 1
	if ! zc_wait_xs /local/domain/$ZC_DOMU/data/zc/ready 180 >/dev/null; then
		zc_log "domU $ZC_DOMU: agent not ready within 180 s"
		zc_domu_dump
		return 1
	fi
	zc_log "DOMU_READY domain $ZC_DOMU (xl create + boot: $(awk "BEGIN{print $(zc_up)-$t0}") s)"
	# From now on, stream the domU console into ours, prefixed "[domU] " (not
	# during its boot: relaying each line costs the one emulated CPU that the
	# domU boots on; the boot is in the full dump at the end, zc_domu_dump).
	if [ "$1" != quiet ]; then
		tail -n 0 -f $ZC_DOMULOG | while IFS= read -r l; do echo "[domU] $l"; done &
		ZC_TAILPID=$!
	fi
}

# the whole domU console so far, each line prefixed "[domU-log] "
zc_domu_dump() {
	[ -e $ZC_DOMULOG ] && sed 's/^/[domU-log] /' $ZC_DOMULOG
}

zc_domu_stop() {
	[ -n "$ZC_DOMU" ] || return 0
	xenstore-write /local/domain/$ZC_DOMU/data/zc/stop 1 2>/dev/null
	timeout 30 xl shutdown -w domU >/dev/null 2>&1 || { zc_log "xl shutdown timed out"; xl destroy domU; }
	sleep 0.3
	[ -n "$ZC_TAILPID" ] && kill $ZC_TAILPID 2>/dev/null
	zc_domu_dump
	ZC_DOMU=
}

# --------------------------------------------------------------- log scanning
# Kernel (dom0 kmsg records "pri,seq,ts,flags;text" and domU console lines
# "[ ts] text") and Xen ("(XEN) ...") signs of trouble.
ZC_KPAT='BUG:|WARNING:|Oops|general protection|Call Trace|KASAN|UBSAN|possible circular locking|(^|[];] ?)INFO: |(^|[];] ?)BUG |Kernel panic|kernel BUG|refcount_t:'
ZC_XPAT='\(XEN\).*(Assertion|(^|[^A-Za-z_])BUG([^A-Za-z_]|$)|FATAL|Panic|domain_crash|Attempt to implicitly unmap)'

zc_scan_init() {
	ZC_OFF_K=0; ZC_OFF_U=0; ZC_OFF_X=0
	: > $ZC_XENLOG
}

# zc_new FILE OFFSET-VAR: print the lines of FILE after the saved offset, advance it
zc_new() {
	eval off=\$$2
	[ -e "$1" ] || return 0
	now=$(wc -l < "$1")
	[ "$now" -gt "$off" ] && sed -n "$((off+1)),${now}p" "$1"
	eval $2=$now
}

# zc_scan: 0 = clean; else prints the offending lines as "# ..." diagnostics
zc_scan() {
	sleep 0.2	# let the consoles catch up
	xl dmesg -c >> $ZC_XENLOG 2>/dev/null
	hits=$ZC_RUN/hits
	: > $hits
	# (zc_new must not run in a pipeline: its offset update would be lost)
	zc_new $ZC_KMSG ZC_OFF_K > $ZC_RUN/new
	sed 's/^[^;]*;//' $ZC_RUN/new | grep -E "$ZC_KPAT" | sed 's/^/dom0: /' >> $hits
	zc_new $ZC_DOMULOG ZC_OFF_U > $ZC_RUN/new
	grep -E "$ZC_KPAT" $ZC_RUN/new | sed 's/^/domU: /' >> $hits
	zc_new $ZC_XENLOG ZC_OFF_X > $ZC_RUN/new
	grep -E "$ZC_XPAT" $ZC_RUN/new | sed 's/^/xen: /' >> $hits
	[ -s $hits ] || return 0
	head -20 $hits | sed 's/^/# log: /'
	return 1
}
