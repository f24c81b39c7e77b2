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
# and then calls: zc_host_run NAME BANNER
#   NAME    prefix of the host's own "not ok - NAME: ..." lines (vm, vm-arm64)
#   BANNER  first line printed, before "; logs: <dir>"
# The verdict comes from the "ZCHECK: RESULT" line, never from QEMU's exit
# status alone (x86 stops through isa-debug-exit, arm64 through PSCI poweroff).
# Last line: "N passed, N failed[, N skipped]" (check) or "MODE: PASS|FAIL".
# Does not return: exits 0 only if nothing failed.

zc_host_run() {
	local name=$1 banner=$2
	local LOGDIR LOG start_us end_us qrc line l now_us rel rc
	local npass nfail nskip last why summary ZC_KPAT ZC_XPAT
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
	# Backstop: trouble anywhere in the whole serial log (boot, shutdown, or a
	# line the in-guest scan missed) fails the run even if every case passed.
	# The same patterns as the in-guest scan (tests/vm/guest/zc-lib.sh).
	eval "$(grep -E '^ZC_[KX]PAT=' "$TOP/tests/vm/guest/zc-lib.sh")"
	sed 's/^\[[ 0-9.]*\] //' "$LOG" | grep -av -e 'ZCHECK: ' -e '^run.sh: ' |
		grep -aE -e "$ZC_KPAT" -e "$ZC_XPAT" > "$LOGDIR/trouble.log"
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
		echo "$summary"
	else
		[ "$rc" = 0 ] && echo "$MODE: PASS" || echo "$MODE: FAIL"
	fi
	exit $rc
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
