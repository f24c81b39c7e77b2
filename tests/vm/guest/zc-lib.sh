# shellcheck shell=sh
# Shared by the dom0 scripts of the VM harness (sourced). Platform
# independent: the x86_64 and a future arm64 harness use the same guest side.
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin

zc_up() { read -r zc_u_ _ < /proc/uptime; echo $zc_u_; }	# no fork: runs per case
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
		echo "# xen_drm_zcopy.ko is not in the image"
		return 1
	fi
	if ! modprobe xen_drm_zcopy 2>$ZC_RUN/modprobe.err; then
		echo "# modprobe xen_drm_zcopy: $(tail -1 $ZC_RUN/modprobe.err)"
		return 1
	fi
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
# "[ ts] text") and Xen ("(XEN) ...") signs of trouble. (Bracket expressions
# rather than backslashes: awk -v would eat the escapes.)
ZC_KPAT='BUG:|WARNING:|Oops|general protection|Call Trace|KASAN|UBSAN|possible circular locking|(^|[];] ?)INFO: |(^|[];] ?)BUG |Kernel panic|kernel BUG|refcount_t:|detected stall|LOCKUP|Unable to handle kernel'
ZC_XPAT='[(]XEN[)].*(Assertion|(^|[^A-Za-z_])BUG([^A-Za-z_]|$)|FATAL|Panic|domain_crash|Attempt to implicitly unmap|Xen WARN)'

zc_scan_init() {
	: > $ZC_XENLOG
	: > $ZC_RUN/scan.state
}

# zc_scan: 0 = no new trouble since the last call; else prints the offending
# lines as "# log: ..." diagnostics. One awk pass over the new lines of the
# three logs (this runs after every case, so it has to be cheap).
zc_scan() {
	sleep 0.1	# let the consoles catch up
	xl dmesg -c >> $ZC_XENLOG 2>/dev/null
	files="$ZC_KMSG $ZC_XENLOG"
	[ -e $ZC_DOMULOG ] && files="$files $ZC_DOMULOG"
	awk -v st=$ZC_RUN/scan.state -v kmsg=$ZC_KMSG -v xen=$ZC_XENLOG \
	    -v kpat="$ZC_KPAT" -v xpat="$ZC_XPAT" '
	BEGIN { while ((getline l < st) > 0) { split(l, a, " "); off[a[1]] = a[2] }
		close(st) }
	FNR > off[FILENAME] + 0 {
		seen[FILENAME] = FNR
		line = $0
		if (FILENAME == kmsg) { sub(/^[^;]*;/, "", line); tag = "dom0" }
		else if (FILENAME == xen) tag = "xen"
		else tag = "domU"
		if (tag == "xen" ? line ~ xpat : line ~ kpat) {
			hits++
			if (hits <= 20) print "# log: " tag ": " line
		}
	}
	END {	for (f in seen) off[f] = seen[f]
		printf "" > st
		for (f in off) print f, off[f] > st
		exit hits > 0 }' $files
}
