# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Host side of a VM run, shared by tests/vm/run.sh (x86_64) and
# tests/vm/arm64/run.sh: run QEMU under a timeout, timestamp the serial log,
# split it into dom0/domU/xen logs, report the ZCHECK verdicts, apply the
# trouble-pattern backstop, print the times and the summary line.
# Sourced, not run. The caller sets:
#   TOP      repository root
#   OUT      build output directory (logs go to $OUT/logs/<date>-<mode>)
#   MODE     check | demo (shell mode is the caller's own business)
#   TIMEOUT  seconds for the whole run
#   QEMU     array: the QEMU command line without -serial
#   PLAT     x86_64 | arm64 | arm64-16k: the manifest of the check mode
#            (tests/manifest/$PLAT.txt, see zc_manifest_check)
# and then calls: zc_host_run NAME BANNER
#   NAME    prefix of the host's own "not ok - NAME: ..." lines (vm, vm-arm64)
#   BANNER  first line printed, before "; logs: <dir>"
# The verdict comes from the "ZCHECK: RESULT" line, never from QEMU's exit
# status alone (x86 stops through isa-debug-exit, arm64 through PSCI poweroff).
# Last line: "N passed, N failed[, N skipped]" (check; with ZC_CASES set
# followed by " (partial run: ZC_CASES)") or "MODE: PASS|FAIL".
# Does not return: exits 0 only if nothing failed.

zc_host_run() {
	local name=$1 banner=$2
	local LOGDIR LOG start_us end_us qrc line l now_us rel rc
	local npass nfail nskip last why summary
	LOGDIR=$OUT/logs/$(date +%Y%m%d-%H%M%S)-$MODE
	mkdir -p "$LOGDIR"
	ln -sfn "$(basename "$LOGDIR")" "$OUT/logs/latest"
	LOG=$LOGDIR/serial.log
	echo "$banner; logs: $LOGDIR"
	echo "run.sh: ${QEMU[*]}" > "$LOG"
	start_us=${EPOCHREALTIME/./}
	# each serial line: host seconds since QEMU start, then the line; ZCHECK
	# lines (the in-dom0 driver's verdicts) go to stdout as they arrive
	timeout -k 10 "$TIMEOUT" "${QEMU[@]}" -serial stdio </dev/null 2>&1 |
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		now_us=${EPOCHREALTIME/./}
		rel=$(( (now_us - start_us) / 1000 ))
		printf '[%4d.%03d] %s\n' $((rel / 1000)) $((rel % 1000)) "$line" >> "$LOG"
		if [ "${ZC_VERBOSE:-0}" = 1 ]; then
			printf '[%4d.%03d] %s\n' $((rel / 1000)) $((rel % 1000)) "$line"
		elif [[ $line == *"ZCHECK: "* ]]; then
			l=${line#*ZCHECK: }
			[[ $l == RESULT* ]] || printf '%s\n' "$l"
		fi
	done
	qrc=${PIPESTATUS[0]}
	end_us=${EPOCHREALTIME/./}

	# split the serial log: Xen, dom0 (its console), domU (tailed by dom0)
	sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '(XEN)' > "$LOGDIR/xen.log"
	# domU: the full dump at domU shutdown if there is one, else the live lines
	if grep -aq '^\[[ 0-9.]*\] \[domU-log\] ' "$LOG"; then
		sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '^\[domU-log\] ' | sed 's/^\[domU-log\] //' > "$LOGDIR/domU.log"
	else
		sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -a '^\[domU\] ' | sed 's/^\[domU\] //' > "$LOGDIR/domU.log"
	fi
	sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -av -e '(XEN)' -e '^\[domU\] ' -e '^\[domU-log\] ' -e '^run.sh: ' > "$LOGDIR/dom0.log"

	# --- files dom0 sent over the console (display demo, owner: display) ---
	zc_host_files "$LOG" "$LOGDIR"
	# --- end files ---

	times > "$LOGDIR/times.raw"	# here: 'times' in a subshell would show 0
	t_of() { grep -a -m1 "$1" "$LOG" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
	{
		echo "QEMU exit status $qrc after $(( (end_us - start_us) / 1000 )) ms (timeout $TIMEOUT s)"
		echo "dom0 kernel started: $(t_of 'Linux version') s"
		echo "dom0 Xen userspace up: $(t_of 'DOM0_READY') s"
		echo "domU agent ready: $(t_of 'DOMU_READY') s"
		echo "verdict: $(t_of 'ZCHECK: RESULT') s"
		# CPU time is steadier than wall time on a shared host
		echo "host CPU (QEMU and helpers): $(tail -1 "$LOGDIR/times.raw")"
		echo "host load: $(cut -d' ' -f1-3 /proc/loadavg)"
	} > "$LOGDIR/times.txt"

	read -r _ npass nfail nskip < <(grep -a -o 'ZCHECK: RESULT [0-9]* [0-9]* [0-9]*' "$LOG" | tail -1 | cut -d' ' -f2-) || true
	rc=0
	if [ -z "${npass:-}" ]; then
		# no verdict: count what was printed, plus the run itself as a failure
		npass=$(grep -a -c 'ZCHECK: ok - ' "$LOG")
		nfail=$(grep -a -c 'ZCHECK: not ok - ' "$LOG")
		nskip=$(grep -a -c 'ZCHECK: ok - .* # SKIP' "$LOG")
		npass=$((npass - nskip))
		last=$(grep -a 'zc: .*case ' "$LOG" | tail -1 | sed 's/.*case //')
		why="QEMU exit status $qrc"
		[ "$qrc" = 124 ] && why="timeout after $TIMEOUT s"
		echo "not ok - $name: no verdict ($why${last:+; last case started: $last}); see $LOG"
		nfail=$((nfail + 1))
	fi
	if [ "$MODE" = check ]; then
		zc_manifest_check "$PLAT" "$LOG"
		nfail=$((nfail + ZC_MANIFEST_FAILS))
	fi
	# Backstop: trouble anywhere in the whole serial log (boot, shutdown, or a
	# line the in-guest scan missed) fails the run even if every case passed.
	zc_host_trouble "$LOG" "$LOGDIR"
	if [ -s "$LOGDIR/trouble.log" ] && [ "$nfail" = 0 ]; then
		echo "not ok - $name: kernel/Xen trouble in the logs outside any case:"
		head -5 "$LOGDIR/trouble.log" | sed 's/^/    # /'
		nfail=1
	fi
	echo "logs: $LOGDIR ($(tr '\n' ';' < "$LOGDIR/times.txt" | sed 's/;$//; s/;/; /g'))"
	[ "$nfail" = 0 ] || rc=1
	if [ "$MODE" = check ]; then
		summary="$npass passed, $nfail failed"
		[ "${nskip:-0}" != 0 ] && summary+=", $nskip skipped"
		[ -n "${ZC_CASES:-}" ] && summary+=" (partial run: ZC_CASES)"
		echo "$summary"
	else
		[ "$rc" = 0 ] && echo "$MODE: PASS" || echo "$MODE: FAIL"
	fi
	exit $rc
}

# zc_serial_lines LOG: the serial log's lines without the host's timestamps,
# one line per writer. dom0's console carries two writers, the kernel's printk
# and the relay of the domU console (zc-lib.sh, "[domU] " lines), and the
# kernel's record can land inside a relayed line ("[domU] text\r[  56.9]
# xen_drm_zcopy: ..."). Split at every inner CR and before every kernel
# timestamp that does not follow a line's own prefix ("[domU] ",
# "[domU-log] ", "(XEN) "), so that each record is matched (and excused) whole.
zc_serial_lines() {
	sed 's/^\[[ 0-9.]*\] //' "$1" |
		perl -pe 's/\r+$//; s/\r/\n/g;
			s/(?<!^\[domU\] )(?<!^\[domU-log\] )(?<!^\(XEN\) )(?<=.)(?=\[ *\d+\.\d{6}\] )/\n/mg'
}

# zc_host_trouble LOG LOGDIR: the lines of the serial log LOG that match the
# in-guest scan's trouble patterns (tests/vm/guest/zc-lib.sh, read from
# $TOP) and are not allowed, into LOGDIR/trouble.log. A line a case declared
# as expected ("# log: expected: TEXT" in its output, collected into
# LOGDIR/expected.log) is excused once for each time it was declared.
zc_host_trouble() {
	local log=$1 dir=$2 lines ZC_KPAT ZC_KALLOW ZC_XPAT
	eval "$(grep -E '^ZC_(KPAT|KALLOW|XPAT)=' "$TOP/tests/vm/guest/zc-lib.sh")"
	# split once, read twice: the declarations may come after their records
	lines=$(mktemp "$dir/.lines.XXXXXX")
	zc_serial_lines "$log" > "$lines"
	sed -n 's/^ *# log: expected: //p' "$lines" > "$dir/expected.log"
	grep -av -e 'ZCHECK: ' -e '^run.sh: ' -e '^ *# ' "$lines" |
		grep -aE -e "$ZC_KPAT" -e "$ZC_XPAT" | grep -avE -e "$ZC_KALLOW" |
		awk -v exf="$dir/expected.log" 'FILENAME == exf { ex[$0]++; next }
		{ t = $0; sub(/^\[ *[0-9.]+\] /, "", t); if (ex[t] > 0) { ex[t]--; next } print }' \
		"$dir/expected.log" - > "$dir/trouble.log"
	rm -f "$lines"
}

# zc_manifest_check PLAT LOG: compare the verdicts in the serial log LOG
# ("ZCHECK: ok - NAME", "ZCHECK: ok - NAME # SKIP why", "ZCHECK: not ok -
# NAME") with tests/manifest/PLAT.txt (its header has the format). Prints one
# "not ok - manifest: ..." line per problem (at most 10, then a count) and
# sets ZC_MANIFEST_FAILS to the number of problems. With ZC_CASES set, only
# the named cases are required (a partial run, and said so).
zc_manifest_check() {
	local plat=$1 log=$2 mf name kind rest line n=0 shown=0 c
	local -A want=() reason=() got=() times=()
	local -a problems=() order=()
	mf=$TOP/tests/manifest/$plat.txt
	ZC_MANIFEST_FAILS=0
	if [ ! -r "$mf" ]; then
		echo "not ok - manifest: no $mf"
		ZC_MANIFEST_FAILS=1
		return
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r name kind rest <<< "$line"
		[ -n "$name" ] || continue
		if ! [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { [ -n "$kind" ] && { [ "$kind" != SKIP ] || [ -z "$rest" ]; }; }; then
			problems+=("$mf:$n: not 'NAME' or 'NAME SKIP REASON': $line")
			continue
		fi
		[ -n "${want[$name]:-}" ] && problems+=("$mf:$n: $name listed twice")
		want[$name]=${kind:-run}
		reason[$name]=$rest
		order+=("$name")
	done < "$mf"
	# the verdicts, in the order they came
	while IFS= read -r line; do
		line=${line#*ZCHECK: }
		case $line in
		"ok - "*"# SKIP"*) name=${line#ok - }; name=${name%% *}; kind=skip ;;
		"ok - "*) name=${line#ok - }; name=${name%% *}; kind=ok ;;
		"not ok - "*) name=${line#not ok - }; name=${name%% *}; kind=fail ;;
		*) continue ;;
		esac
		times[$name]=$(( ${times[$name]:-0} + 1 ))
		got[$name]=$kind
	done < <(tr -d '\r' < "$log" | grep -a -o -E 'ZCHECK: (not )?ok - .*')
	for name in "${!got[@]}"; do
		case $name in vm_setup|vm_teardown) continue ;; esac
		[ "${times[$name]}" -gt 1 ] && problems+=("$name reported ${times[$name]} verdicts")
		if [ -z "${want[$name]:-}" ]; then
			problems+=("$name ran but is not in tests/manifest/$plat.txt")
		elif [ "${got[$name]}" = skip ] && [ "${want[$name]}" != SKIP ]; then
			problems+=("$name skipped, but it must run on $plat")
		elif [ "${got[$name]}" = ok ] && [ "${want[$name]}" = SKIP ]; then
			problems+=("$name passed, but tests/manifest/$plat.txt says it skips here (${reason[$name]}): fix the manifest")
		fi
	done
	for name in vm_setup vm_teardown; do
		[ -n "${got[$name]:-}" ] || problems+=("$name reported no verdict")
	done
	if [ -n "${ZC_CASES:-}" ]; then
		for c in ${ZC_CASES//,/ }; do
			[ -n "${got[$c]:-}" ] || problems+=("$c (ZC_CASES) reported no verdict")
		done
		echo "# partial run (ZC_CASES=$ZC_CASES): the other cases of tests/manifest/$plat.txt were not run; this verdict is not the whole suite's"
	else
		for name in "${order[@]}"; do
			[ -n "${got[$name]:-}" ] || problems+=("$name (tests/manifest/$plat.txt) reported no verdict")
		done
	fi
	for line in "${problems[@]}"; do
		shown=$((shown + 1))
		[ $shown -le 10 ] && echo "not ok - manifest: $line"
	done
	[ $shown -gt 10 ] && echo "not ok - manifest: ... and $((shown - 10)) more problems"
	ZC_MANIFEST_FAILS=${#problems[@]}
}

# --- files dom0 sent over the console (display demo, owner: display) ---
# zc_host_files SERIAL-LOG DIR: dom0 writes a file to its console as
#   ZCFILE-BEGIN NAME MD5 / base64 lines / ZCFILE-END NAME
# (tests/demo/display-demo.sh): decode each into DIR/NAME, check its MD5,
# and print where it is.
zc_host_files() {
	local log=$1 dir=$2 name md5 got
	grep -aq 'ZCFILE-BEGIN ' "$log" || return 0
	while read -r name md5; do
		case $name in */*|.*|'') continue ;; esac
		sed 's/^\[[ 0-9.]*\] //; s/\r$//' "$log" |
			awk -v n="$name" '$1 == "ZCFILE-BEGIN" && $2 == n { on = 1; next }
				$1 == "ZCFILE-END" { on = 0 } on' | base64 -d > "$dir/$name" 2>/dev/null
		got=$(md5sum < "$dir/$name" | cut -d' ' -f1)
		if [ "$got" = "$md5" ]; then
			echo "file from dom0: $dir/$name"
		else
			echo "not ok - file from dom0 $name: damaged on the console (md5 $got, want $md5)"
		fi
	done < <(sed 's/^\[[ 0-9.]*\] //; s/\r$//' "$log" | awk '$1 == "ZCFILE-BEGIN" { print $2, $3 }')
}
# --- end files ---

# zc_install_missing WHO ARG PKG...: install the Debian packages PKG that are
# not installed, as tests/vm/setup-host.sh and tests/vm/arm64/setup-host.sh
# do (WHO names the script in its message). ARG "--check": only report.
# Does not return: exits 0 if nothing is missing (or after installing),
# 1 if something is missing under --check.
zc_install_missing() {
	local who=$1 arg=$2 p SUDO=
	local missing=()
	shift 2
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && exit 0
	if [ "$arg" = --check ]; then
		echo "missing packages: ${missing[*]}" >&2
		exit 1
	fi
	echo "$who: installing ${missing[*]}" >&2
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
	exit 0
}
