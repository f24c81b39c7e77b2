#!/bin/sh
# The in-dom0 test driver: set up Xen userspace, load the driver, start the
# domU, then run each case of 'zctest --list' as its own process. After each
# one (skipped or not): wait while the driver still releases something in the
# background, scan every domain's log (zc_scan), compare Xen's grant table
# usage with what it was before the case (zc_xen_grants) and the driver's
# counters with theirs. Prints "ZCHECK: ok - NAME" / "ZCHECK: not ok -
# NAME" per case (plus the pseudo-cases vm_setup and vm_teardown), failure
# diagnostics as "ZCHECK: # ...", and "ZCHECK: RESULT <passed> <failed> <skipped>".
# The host checks the verdicts against the platform's manifest (tests/manifest).
# With --demo (--bench) it runs /zc/demo/run-demo.sh (/zc/bench/run-bench.sh)
# <domU> instead of the cases.
. /zc/zc-lib.sh
PASS=0 FAIL=0 SKIP=0
CASE_TIMEOUT=$(zc_arg zc.case_timeout 180)

verdict() { # verdict NAME ok|fail|skip [DIAG-FILE]
	case $2 in
	ok) PASS=$((PASS+1)); zc_say "ok - $1" ;;
	skip) SKIP=$((SKIP+1)); zc_say "ok - $1 # SKIP $3" ;;
	*) FAIL=$((FAIL+1))
	   [ -n "$3" ] && [ -s "$3" ] && grep '^#' "$3" | tail -15 | sed 's/^/ZCHECK:     /'
	   zc_say "not ok - $1" ;;
	esac
}

COUNTERS=/sys/kernel/debug/xen_zcopy/counters
# counters all zero? (no driver debugfs: treated as idle)
counters_busy() {
	[ -r $COUNTERS ] || return 1
	awk '$2 != 0 { b = b " " $1 "=" $2 } END { if (b != "") { print b; exit 0 } exit 1 }' $COUNTERS
}

# settle: wait until the counters are idle: 3 s, or 12 s while the driver
# has deferred releases (it retries them with back-off up to 5 s), so that
# what the release logs is blamed on the case that caused it. Leaves the
# counters that are still busy in $b ("" when idle).
settle() {
	n=0
	while b=$(counters_busy); do
		case $b in
		*" deferred="*) [ $n -ge 120 ] && return ;;
		*) [ $n -ge 30 ] && return ;;
		esac
		sleep 0.1
		n=$((n + 1))
	done
}

# grown BEFORE AFTER: the counters ("name=value" lists) that grew
grown() {
	echo "$1 | $2" | awk -F'|' '{ n = split($1, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); was[kv[1]] = kv[2] }
		n = split($2, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[2] + 0 > was[kv[1]] + 0) g = g " " a[i] }
		if (g != "") { print g; exit 0 } exit 1 }'
}

# ------------------------------------------------------------------ setup
zc_scan_init
D=$ZC_RUN/setup.diag
: > $D
ok=1
zc_log "setting up Xen userspace"
zc_xen_setup >> $D 2>&1 || { ok=0; echo "# Xen userspace setup failed" >> $D; }
zc_log "DOM0_READY"
# make check-debug (zc.debug=1): the detectors must be there and armed
DEBUG=$(zc_arg zc.debug 0)
if [ "$DEBUG" = 1 ]; then
	zc_debug_armed >> $D || ok=0
	# what boot and Xen userspace's start left is not ours to report:
	# kmemleak counts from here, before our modules load
	[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
	# every DMA-API error printed, not only the first (blamed on its case)
	[ -w /sys/kernel/debug/dma-api/all_errors ] && echo 1 > /sys/kernel/debug/dma-api/all_errors
fi
if [ $ok = 1 ]; then
	zc_load_modules >> $D 2>&1 || { ok=0; echo "# the driver module did not load" >> $D; }
	zc_domu_start || { ok=0; echo "# the domU did not come up" >> $D; }
fi
zc_scan >> $D || ok=0
zc_xen_grants >> $D || ok=0	# the first call: the baseline (the tools' rings)
cat $D | grep -v '^#'
if [ $ok = 1 ]; then verdict vm_setup ok; else verdict vm_setup fail $D; fi

if [ "$1" = --demo ] || [ "$1" = --bench ]; then
	JOB=${1#--}
	DEMO=/zc/$JOB/run-$JOB.sh
	if [ ! -e $DEMO ]; then
		zc_say "$JOB: tests/$JOB/run-$JOB.sh does not exist yet"
		verdict $JOB fail
	else
		# the demo's own output is what the user came for: show all of it
		{ sh $DEMO "${ZC_DOMU:--1}"; echo $? > $ZC_RUN/$JOB.rc; } 2>&1 |
			while IFS= read -r l; do zc_say "  $l"; done
		res=ok
		[ "$(cat $ZC_RUN/$JOB.rc)" = 0 ] || { res=fail; echo "# run-$JOB.sh exited with status $(cat $ZC_RUN/$JOB.rc)" > $ZC_RUN/$JOB.diag; }
		zc_scan >> $ZC_RUN/$JOB.diag || res=fail
		verdict $JOB $res $ZC_RUN/$JOB.diag
	fi
else
	# ------------------------------------------------------------ cases
	CASES=$(zc_arg zc.cases "" | tr ',' ' ')
	[ -n "$CASES" ] || CASES=$(zctest --list) || { echo "# zctest --list failed" > $ZC_RUN/list.diag; verdict zctest_list fail $ZC_RUN/list.diag; }
	busy_before=$(counters_busy)
	export ZC_EXPECT
	for c in $CASES; do
		out=$ZC_RUN/case.out
		: > $ZC_EXPECT
		zc_log "case $c"
		timeout -s KILL $((CASE_TIMEOUT + 30)) zctest --timeout $CASE_TIMEOUT --domu "${ZC_DOMU:--1}" --reset-agent "$c" > $out 2>&1
		rc=$?
		line=$(grep -E "^(not )?ok - $c( |\$)" $out | tail -1)
		res=fail
		case $line in
		"ok - $c # SKIP"*) [ $rc = 0 ] && res=skip ;;
		"ok - $c") [ $rc = 0 ] && res=ok ;;
		esac
		[ -z "$line" ] && echo "# no verdict line (exit status $rc$([ $rc = 137 ] && echo ", killed after $CASE_TIMEOUT s"))" >> $out
		[ -n "$line" ] && [ $rc != 0 ] && [ $res = fail ] && echo "# zctest exit status $rc" >> $out
		# a case, skipped or not, must leave the driver, Xen and the logs
		# as it found them
		settle
		zc_scan >> $out || { res=fail; echo "# kernel/Xen log trouble while $c ran (above)" >> $out; }
		zc_xen_grants >> $out || { res=fail; echo "# Xen: grants left in use after $c (above)" >> $out; }
		if [ -n "$b" ]; then
			if [ -z "$busy_before" ]; then
				res=fail; echo "# driver counters not back to 0 after the case:$b" >> $out
			elif g=$(grown "$busy_before" "$b"); then
				res=fail; echo "# driver counters grew during the case:$g (before:$busy_before)" >> $out
			fi
		fi
		busy_before=$b
		sed 's/^/  /' $out	# full output in the serial log
		if [ $res = skip ]; then verdict "$c" skip "${line#*# SKIP }"; else verdict "$c" $res $out; fi
	done
fi

# ------------------------------------------------------------------ teardown
D=$ZC_RUN/teardown.diag
: > $D
ok=1
zc_domu_stop $D || ok=0
for m in zc_importer xen_drm_zcopy; do
	if lsmod | grep -q "^$m "; then
		rmmod $m >> $D 2>&1 || { ok=0; echo "# rmmod $m failed" >> $D; }
	fi
done
zc_scan >> $D || ok=0
# no domain but dom0 left: nothing at all may be in use any more
zc_xen_grants /dev/null >> $D || { ok=0; echo "# Xen: grants still in use after the domU is gone (above)" >> $D; }
if [ "$DEBUG" = 1 ]; then
	zc_debug_armed >> $D || ok=0
	zc_kmemleak >> $D || ok=0
fi
if [ $ok = 1 ]; then verdict vm_teardown ok; else verdict vm_teardown fail $D; fi
zc_say "RESULT $PASS $FAIL $SKIP"
[ $FAIL = 0 ]
