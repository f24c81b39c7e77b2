# shellcheck shell=sh
# Shared by the dom0 scripts of the VM harness (sourced). Platform
# independent: the x86_64 and a future arm64 harness use the same guest side.
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin

zc_up() { read -r zc_u_ _ < /proc/uptime; echo $zc_u_; }	# no fork: runs per case
zc_say() { echo "ZCHECK: $*"; }	# lines the host prints or parses
zc_log() { read -r zc_u_ _ < /proc/uptime; echo "zc: [+${zc_u_}s] $*"; }	# progress, log only (no fork)

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
	# the test importer (tests/kmod): the importer's view of our dma-bufs
	if ! modprobe zc_importer 2>$ZC_RUN/modprobe.err; then
		echo "# modprobe zc_importer (the test importer): $(tail -1 $ZC_RUN/modprobe.err)"
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

# zc_domu_stop DIAG: shut the domU down and dump its console. Returns 1,
# with "# ..." lines appended to DIAG, when it needed 'xl destroy' or left
# a domain behind (a zombie: Xen keeps a dead domain while another domain
# still maps its pages, the one independent sign of a leaked mapping).
zc_domu_stop() {
	[ -n "$ZC_DOMU" ] || return 0
	zc_r_=0
	xenstore-write /local/domain/$ZC_DOMU/data/zc/stop 1 2>/dev/null
	if ! timeout 30 xl shutdown -w domU >/dev/null 2>&1; then
		echo "# the domU did not shut down within 30 s ('xl destroy' instead)" >> "$1"
		xl destroy domU
		zc_r_=1
	fi
	zc_n_=0
	while xl list 2>/dev/null | awk 'NR > 1 && $2 != 0 { f = 1 } END { exit !f }'; do
		zc_n_=$((zc_n_ + 1))
		if [ $zc_n_ -gt 50 ]; then
			echo "# a domain is left 5 s after the domU shut down (a zombie?):" >> "$1"
			xl list 2>&1 | sed 's/^/#   /' >> "$1"
			zc_r_=1
			break
		fi
		sleep 0.1
	done
	sleep 0.3
	[ -n "$ZC_TAILPID" ] && kill $ZC_TAILPID 2>/dev/null
	zc_domu_dump
	ZC_DOMU=
	return $zc_r_
}

# --------------------------------------------------------------- log scanning
# Kernel (dom0 kmsg records "pri,seq,ts,flags;text" and domU console lines
# "[ ts] text") and Xen ("(XEN) ...") signs of trouble. (Bracket expressions
# rather than backslashes: awk -v would eat the escapes.) Besides the
# kernel's own (BUG, WARNING, lockdep, ...): DRM's *ERROR* / *WARNING*, every
# line of the driver and of the test importer ("xen_drm_zcopy: ...",
# "platform xen_drm_zcopy: [drm] ..."), swiotlb bounce exhaustion, user
# space faults, and the domU agent failing or restarting.
ZC_KPAT='BUG:|WARNING:|Oops|general protection|Call Trace|KASAN|UBSAN|possible circular locking|(^|[];] ?)INFO: |(^|[];] ?)BUG |Kernel panic|kernel BUG|refcount_t:|detected stall|LOCKUP|Unable to handle kernel|[*]ERROR[*]|[*]WARNING[*]|xen_drm_zcopy: |zc_importer: |swiotlb buffer is full|segfault at|unhandled exception|zcopy-agent exited|zcopy-agent: (FATAL|ERROR)'
# Lines that match the above (or, for dom0, are kernel warnings) but are
# part of every normal run, or say only that the emulator (QEMU's TCG on a
# loaded 2-core host) stalled a vCPU: hrtimer's "interrupt took N ns"
# (pr_warn_once when one timer interrupt ran long), the RT throttle, and
# the clocksource watchdog finding the emulated TSC skewed against Xen's
# clock (seen on 6.12 dom0: it then switches to the xen clocksource), and
# the test-only vkms's vblank hrtimer missing a period (a stalled vCPU).
# Stalls that are trouble (RCU stalls, lockups, hung tasks) still fail.
# And, since the 7.x series, dom0's xenbus telling that the toolstack
# removed a guest's backend directory ("xen-backend console-2-0: xenbus:
# device forcefully removed from xenstore", xenbus_cleanup_devices() in
# drivers/xen/xenbus/xenbus_probe.c): dom0's kernel prints it for every backend device
# of every guest xl shuts down or destroys (console, vdispl: the ones no
# dom0 kernel driver owns), 6.1 and 6.12 do not. Only that exact text on
# the backend bus; a frontend device or any other xenbus line still fails.
ZC_KALLOW='loading out-of-tree module taints kernel|module verification failed|[[]drm[]] Initialized |hrtimer: interrupt took [0-9]+ ns|sched: RT throttling activated|clocksource: |tsc: Marking TSC unstable due to clocksource watchdog|vkms_vblank_simulate: vblank timer overrun|^xen-backend [a-z]+-[0-9]+-[0-9]+: xenbus: device forcefully removed from xenstore$'
ZC_XPAT='[(]XEN[)].*(Assertion|(^|[^A-Za-z_])BUG([^A-Za-z_]|$)|FATAL|Panic|domain_crash|Attempt to implicitly unmap|Xen WARN)'
# A case that provokes a warning on purpose (a documented one) writes its
# text, one fixed string per line, to $ZC_EXPECT (environment of zctest):
# each expectation excuses one matching line, reported as "# log: expected:".
ZC_EXPECT=$ZC_RUN/expect.log
ZC_KMSG_DEV=/dev/kmsg

# zc_kmsg_start: (re)start the reader that copies every dom0 kernel record
# into $ZC_KMSG (the console may drop some; records carry level and seq)
zc_kmsg_start() {
	cat $ZC_KMSG_DEV >> $ZC_KMSG 2>> $ZC_RUN/kmsg.err &
	echo $! > $ZC_RUN/kmsg.pid
}

# zc_kmsg_alive: the reader still runs (cat exits when kmsg overruns it)
zc_kmsg_alive() {
	read -r zc_p_ < $ZC_RUN/kmsg.pid 2>/dev/null || return 1
	[ -r /proc/$zc_p_/stat ] || return 1
	read -r _ _ zc_st_ _ < /proc/$zc_p_/stat
	[ "$zc_st_" != Z ]
}

# zc_wait_in FILE TEXT: wait (5 s at most) until TEXT is near the end of FILE
zc_wait_in() {
	zc_n_=0
	while ! tail -c 65536 "$1" 2>/dev/null | grep -qF -- "$2"; do
		zc_n_=$((zc_n_ + 1))
		[ $zc_n_ -gt 100 ] && return 1
		sleep 0.05
	done
}

# zc_agent_ping N: the domU agent answers a ping, and its console log (the
# file zc_scan reads) shows the request: everything the domU printed before
# is in that file. Prints a "# log:" line for each failure.
zc_agent_ping() {
	zc_b_=/local/domain/$ZC_DOMU/data/zc
	zc_q_=zcping.$1
	xenstore-write $zc_b_/req "$zc_q_ ping" 2>/dev/null ||
		{ echo "# log: domU: cannot write the agent's request node"; return; }
	zc_n_=0
	while [ "$(xenstore-read $zc_b_/rsp 2>/dev/null)" != "$zc_q_ ok" ]; do
		zc_n_=$((zc_n_ + 1))
		[ $zc_n_ -gt 400 ] && { echo "# log: domU: the agent did not answer a ping within 10 s"; return; }
		sleep 0.02
	done
	zc_wait_in $ZC_DOMULOG "zcopy-agent: $zc_q_ ping" ||
		echo "# log: domU: the agent's answer did not reach its console log within 5 s"
}

ZC_SCAN_N=0

# zc_scan_init: from now on, every dom0 kernel record of level warning or
# worse is trouble too (the boot has a few harmless ones: for those, only
# the patterns count); the first zc_scan reads the logs from the start
zc_scan_init() {
	: > $ZC_XENLOG
	: > $ZC_EXPECT
	echo "<7>zc: log scan start" >> $ZC_KMSG_DEV
	zc_wait_in $ZC_KMSG "zc: log scan start"
	echo "levels_from $(awk -F'[,;]' '/^[0-9]+,[0-9]+,/ { s = $2 } END { print s + 0 }' $ZC_KMSG)" > $ZC_RUN/scan.state
}

# zc_scan: 0 = no new trouble since the last call; else prints the offending
# lines as "# log: ..." diagnostics. Makes sure first that the logs are
# complete up to now: the kmsg reader is alive and a mark written to
# /dev/kmsg has reached its file, the domU agent answers and its console
# log shows it; asks Xen for its grant table usage ('xl debug-keys g', read
# by zc_xen_grants), then one awk pass over the new lines of the three logs
# (this runs after every case, so it has to be cheap).
zc_scan() {
	ZC_SCAN_N=$((ZC_SCAN_N + 1))
	zc_pre_=$ZC_RUN/scan.pre
	: > $zc_pre_
	if ! zc_kmsg_alive; then
		echo "# log: dom0: the /dev/kmsg reader is gone ($(tail -1 $ZC_RUN/kmsg.err 2>/dev/null)); restarted" >> $zc_pre_
		zc_kmsg_start
	fi
	zc_m_="zc: log scan $ZC_SCAN_N"
	echo "<7>$zc_m_" >> $ZC_KMSG_DEV
	zc_wait_in $ZC_KMSG "$zc_m_" ||
		echo "# log: dom0: '$zc_m_' written to /dev/kmsg did not reach $ZC_KMSG within 5 s" >> $zc_pre_
	[ -n "$ZC_DOMU" ] && zc_agent_ping $ZC_SCAN_N >> $zc_pre_
	xl debug-keys g 2>/dev/null
	xl dmesg -c >> $ZC_XENLOG 2>/dev/null
	zc_files_="$ZC_KMSG $ZC_XENLOG"
	[ -e $ZC_DOMULOG ] && zc_files_="$zc_files_ $ZC_DOMULOG"
	cat $zc_pre_
	awk -v st=$ZC_RUN/scan.state -v kmsg=$ZC_KMSG -v xen=$ZC_XENLOG \
	    -v kpat="$ZC_KPAT" -v kallow="$ZC_KALLOW" -v xpat="$ZC_XPAT" \
	    -v expf=$ZC_EXPECT -v grants=$ZC_RUN/grants.now -v prev=$ZC_RUN/grants.prev \
	    -v gdiff=$ZC_RUN/grants.diff -v pre=$zc_pre_ '
	function trouble(tag, l) { hits++; if (hits <= 20) print "# log: " tag ": " l }
	BEGIN { while ((getline l < st) > 0) { split(l, a, " "); off[a[1]] = a[2] }
		close(st)
		lastseq = ("kmsg_seq" in off) ? off["kmsg_seq"] + 0 : -1
		levels = ("levels_from" in off) ? off["levels_from"] + 0 : -1
		while ((getline l < expf) > 0) if (l != "") ex[++ne] = l
		close(expf)
		while ((getline l < pre) > 0) hits++
		close(pre)
		# the grant table entries in use at the last scan
		while ((getline l < prev) > 0) { split(l, a, " "); was[a[1] " " a[2] " " a[3] " " a[4]] = 1; nprev++ }
		close(prev) }
	FNR > off[FILENAME] + 0 {
		seen[FILENAME] = FNR
		line = $0
		if (FILENAME == kmsg) {
			tag = "dom0"
			# records only: not their "  KEY=value" continuation lines
			if (line !~ /^[0-9]+,[0-9]+,/) next
			split(line, h, /[,;]/)
			seq = h[2] + 0
			if (seq <= lastseq) next	# seen before the reader restarted
			if (lastseq >= 0 && seq != lastseq + 1)
				trouble("dom0", "kernel records " lastseq + 1 ".." seq - 1 " lost (the kmsg reader fell behind)")
			lastseq = seq
			sub(/^[^;]*;/, "", line)
			# pri < 8: the kernel facility; level 4 and below: warnings, errors
			bad = (line ~ kpat || (levels >= 0 && seq > levels && h[1] + 0 <= 4)) && line !~ kallow
		} else if (FILENAME == xen) {
			tag = "xen"
			bad = line ~ xpat
			if (line ~ /gnttab_usage_print_all [[] key/) { dump = 1; ng = 0; rd = -1 }
			else if (dump && line ~ /gnttab_usage_print_all []] done/) {
				dump = 0; complete = 1; gn = ng
				for (i = 1; i <= ng; i++) gl[i] = g[i]
			} else if (dump && line ~ /grant-table for remote d/) {
				rd = line; sub(/.*grant-table for remote d(omain:)? */, "", rd); sub(/[^0-9].*/, "", rd)
			} else if (dump && line ~ /[[](0x)?[0-9a-fA-F]+[]] +[0-9]+ +0x/) {
				e = line; sub(/^.*[[]/, "", e); sub(/[]]/, "", e)
				n = split(e, f, " ")
				# rd ref by pin: the key; then the whole entry
				g[++ng] = rd " " f[1] " " f[2] " " f[4] " " e
			}
		} else {
			tag = "domU"
			bad = line ~ kpat && line !~ kallow
		}
		if (bad) {
			for (i = 1; i <= ne; i++)
				if (ex[i] != "" && index(line, ex[i])) break
			if (i <= ne) { print "# log: expected: " line; ex[i] = ""; next }
			trouble(tag, line)
		}
	}
	END {	for (f in seen) off[f] = seen[f]
		off["kmsg_seq"] = lastseq
		printf "" > st
		for (f in off) print f, off[f] > st
		printf "" > expf
		for (i = 1; i <= ne; i++) if (ex[i] != "") print ex[i] > expf
		# what is in use now and was not at the last scan (the first
		# dump is the baseline: the rings of the tools)
		printf "" > gdiff
		if (!complete) print "# xen: no complete grant table dump from xl debug-keys g (ring overrun?)" > gdiff
		else {
			printf "" > grants
			for (i = 1; i <= gn; i++) {
				print gl[i] > grants
				split(gl[i], a, " ")
				if (nprev == 0) continue
				if ((a[1] " " a[2] " " a[3] " " a[4]) in was) continue
				e = gl[i]; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", e)
				if (a[1] == 0) print "# xen: dom0 grant " a[2] " still in use by d" a[3] " (pin " a[4] "): " e > gdiff
				else print "# xen: grant " a[2] " of d" a[1] " still mapped by d" a[3] " (pin " a[4] "): " e > gdiff
			}
			close(grants)
			printf "" > prev
			for (i = 1; i <= gn; i++) print gl[i] > prev
			if (gn == 0) print "none" > prev	# a dump was seen: not the first
		}
		exit hits > 0 }' $zc_files_
}

# zc_xen_grants [BASE]: Xen's own view of grant usage, independent of the
# driver's counters: the grant table entries in use (from the
# "xl debug-keys g" of the last zc_scan; grants.now, one "rd ref by pin
# entry" line each: grant ref of domain rd mapped by domain by) that were
# not in use at the scan before (the first dump is the baseline: the rings
# the Xen tools map), or, with BASE, that are not in the file BASE
# (/dev/null: every entry). Prints "# xen: ..." for each and returns 1 if
# there is any, or if the last scan saw no complete dump.
zc_xen_grants() {
	if [ -n "${1:-}" ]; then
		read -r zc_l_ < $ZC_RUN/grants.diff
		case $zc_l_ in *"no complete"*) echo "$zc_l_"; return 1 ;; esac
		[ -e $ZC_RUN/grants.now ] || { echo "# xen: no grant table dump"; return 1; }
		awk -v wasf="$1" 'FILENAME == wasf { was[$1 " " $2 " " $3 " " $4] = 1; next }
		!(($1 " " $2 " " $3 " " $4) in was) {
			e = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", e)
			print "# xen: grant " $2 " of d" $1 " in use by d" $3 " (pin " $4 "): " e; n++ }
		END { exit n > 0 }' "$1" $ZC_RUN/grants.now
		return
	fi
	zc_r_=0
	while IFS= read -r zc_l_; do
		echo "$zc_l_"
		zc_r_=1
	done < $ZC_RUN/grants.diff
	return $zc_r_
}

# ---------------------------------------------------------------- debug kernel
# (make check-debug, zc.debug=1: scripts/debug-kernel.sh's kernel)

# zc_debug_armed: the detectors are there and still on. Lockdep and the
# DMA-API checker switch themselves off after their first report, so a
# report anywhere (an upstream one at boot included) would blind them for
# the rest of the run: that is a failure of its own, said here.
zc_debug_armed() {
	zc_r_=0
	if ! [ -r /proc/lockdep_stats ]; then
		echo "# debug kernel: no /proc/lockdep_stats (no lockdep)"; zc_r_=1
	elif ! grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats; then
		echo "# debug kernel: lockdep switched itself off ($(grep debug_locks /proc/lockdep_stats | tr -s ' ')): an earlier report, see the log"; zc_r_=1
	fi
	for f in /sys/kernel/debug/kmemleak /proc/self/fail-nth /sys/kernel/debug/kfence/stats \
		 /sys/kernel/debug/dma-api/error_count /sys/kernel/debug/failslab/probability \
		 /sys/kernel/debug/fail_page_alloc/probability; do
		[ -e $f ] || { echo "# debug kernel: no $f"; zc_r_=1; }
	done
	if [ -r /sys/kernel/debug/dma-api/disabled ] && [ "$(cat /sys/kernel/debug/dma-api/disabled)" != N ]; then
		echo "# debug kernel: the DMA-API checker switched itself off"; zc_r_=1
	fi
	v=$(cat /sys/kernel/debug/dma-api/error_count 2>/dev/null)
	[ "${v:-0}" = 0 ] || { echo "# debug kernel: DMA-API: $v errors"; zc_r_=1; }
	grep -q '^enabled: 1' /sys/kernel/debug/kfence/stats 2>/dev/null ||
		{ echo "# debug kernel: KFENCE is not enabled"; zc_r_=1; }
	return $zc_r_
}

# zc_kmemleak: scan for leaks (an object is reported once it was
# unreferenced in two scans and is older than 5 s); any suspect fails
zc_kmemleak() {
	[ -w /sys/kernel/debug/kmemleak ] || { echo "# no /sys/kernel/debug/kmemleak"; return 1; }
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > $ZC_RUN/kmemleak.txt
	zc_n_=$(grep -c '^unreferenced object' $ZC_RUN/kmemleak.txt)
	zc_log "kmemleak: $zc_n_ suspected leaks after the run" >&2	# to the console: the caller keeps stdout
	[ "$zc_n_" = 0 ] && return 0
	echo "# kmemleak: $zc_n_ suspected leaks after the run:"
	head -80 $ZC_RUN/kmemleak.txt | sed 's/^/#   /'
	return 1
}
