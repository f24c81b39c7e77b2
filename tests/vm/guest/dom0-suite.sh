#!/bin/sh
# The in-dom0 test driver: set up Xen userspace, load the driver, start the
# domU, then run each case of 'zctest --list' as its own process and scan every
# domain's log after each one. Prints "ZCHECK: ok - NAME" / "ZCHECK: not ok -
# NAME" per case (plus the pseudo-cases vm_setup and vm_teardown), failure
# diagnostics as "ZCHECK: # ...", and "ZCHECK: RESULT <passed> <failed> <skipped>".
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

# counters all zero? (no driver debugfs: treated as idle)
counters_busy() {
	f=/sys/kernel/debug/xen_zcopy/counters
	[ -r $f ] || return 1
	awk '$2 != 0 { b = b " " $1 "=" $2 } END { if (b != "") { print b; exit 0 } exit 1 }' $f
}

# ------------------------------------------------------------------ setup
zc_scan_init
D=$ZC_RUN/setup.diag
: > $D
ok=1
zc_log "setting up Xen userspace"
zc_xen_setup >> $D 2>&1 || { ok=0; echo "# Xen userspace setup failed" >> $D; }
zc_log "DOM0_READY"
if [ $ok = 1 ]; then
	zc_load_modules >> $D 2>&1 || { ok=0; echo "# the driver module did not load" >> $D; }
	zc_domu_start || { ok=0; echo "# the domU did not come up" >> $D; }
fi
zc_scan >> $D || ok=0
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
	for c in $CASES; do
		out=$ZC_RUN/case.out
		zc_log "case $c"
		timeout -s KILL $((CASE_TIMEOUT + 30)) zctest --timeout $CASE_TIMEOUT --domu "${ZC_DOMU:--1}" --reset-agent "$c" > $out 2>&1
		rc=$?
		sed 's/^/  /' $out	# full output in the serial log
		line=$(grep -E "^(not )?ok - $c( |\$)" $out | tail -1)
		res=fail
		case $line in
		"ok - $c # SKIP"*) res=skip ;;
		"ok - $c") [ $rc = 0 ] && res=ok ;;
		esac
		[ -z "$line" ] && echo "# no verdict line (exit status $rc$([ $rc = 137 ] && echo ", killed after $CASE_TIMEOUT s"))" >> $out
		zc_scan >> $out || { res=fail; echo "# kernel/Xen log trouble while $c ran (above)" >> $out; }
		# a case must leave the driver as it found it (deferred releases
		# may take a moment)
		b=$(counters_busy)
		if [ -z "$busy_before" ] && [ $res != skip ]; then
			n=0
			while [ -n "$b" ] && [ $n -lt 30 ]; do sleep 0.1; b=$(counters_busy); n=$((n+1)); done
			if [ -n "$b" ]; then
				res=fail; echo "# driver counters not back to 0 after the case:$b" >> $out
			fi
		fi
		busy_before=$b
		if [ $res = skip ]; then verdict "$c" skip "${line#*# SKIP }"; else verdict "$c" $res $out; fi
	done
fi

# ------------------------------------------------------------------ teardown
D=$ZC_RUN/teardown.diag
: > $D
ok=1
zc_domu_stop
if lsmod | grep -q '^xen_drm_zcopy '; then
	rmmod xen_drm_zcopy >> $D 2>&1 || { ok=0; echo "# rmmod xen_drm_zcopy failed" >> $D; }
fi
zc_scan >> $D || ok=0
if [ $ok = 1 ]; then verdict vm_teardown ok; else verdict vm_teardown fail $D; fi
zc_say "RESULT $PASS $FAIL $SKIP"
[ $FAIL = 0 ]
