#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, display part (run in dom0 by run-bench.sh): the per-frame
# present cost through the reference displif backend (tests/backend), for
# the same guest (the upstream frontend in the display domU, flipping the
# same frames), side by side in one boot:
#   zero-copy  the guest's pages are the KMS framebuffer (xen_drm_zcopy):
#              per frame one atomic page-flip commit
#   copy       the backend maps the guest's pages with gntdev and, per frame,
#              copies them into a KMS dumb buffer of its own, then flips
#              (what displ_be does without a zero-copy driver)
# "present" is the backend's time from receiving PG_FLIP to the flip being
# queued (copy included); "round trip" is the guest's time from its page
# flip to the flip event (includes vkms's 60 Hz vblank, so mostly waiting).
# One display domU, one vdispl device and one backend for all runs (the 6.1
# frontend cannot be detached and attached again, docs/display.md): each
# run is one guest client (its own dumb buffers, FRAMES flips, buffers
# destroyed); the backend switches mode between runs (SIGUSR2: buffers
# created afterwards use the other path), and a run's figures are the
# difference of the backend's STATS before and after it (SIGUSR1).
# A warm-up run of each mode, then ZC_BENCH_REPS (5) repetitions,
# interleaved (zc/copy, copy/zc, ...); min/median/max over the repetitions
# of each run's mean per-frame cost.
SIZE=${ZC_BENCH_DISPLAY_SIZE:-1920x1080}
FRAMES=${ZC_BENCH_DISPLAY_FRAMES:-30}
REPS=${ZC_BENCH_REPS:-5}
XS=/local/domain
R=/run/zc/display-bench
mkdir -p $R
: > $R/results
echo 0 > $R/seq
be=''
D=''
# a failure says why (on stderr: run_one's stdout is captured), shows the
# backend's last lines, and leaves nothing behind: no domain, no backend
# holding the guest's grants (the harness checks both after the bench)
cleanup() {
	[ -n "$D" ] && xl destroy "$D" 2>/dev/null
	D=
	if [ -n "$be" ]; then
		kill "$be" 2>/dev/null
		wait "$be"
	fi
	be=
}
fail() {
	echo "display bench: FAIL: $*" >&2
	[ -s $R/be.log ] && tail -20 $R/be.log | sed 's/^/   be: /' >&2
	cleanup
	exit 1
}

guest() { # guest ARGS...: run the client in the display domU; prints its RESULT
	# (a file, not a variable: run_one runs in a subshell)
	seq=$(($(cat $R/seq) + 1))
	echo $seq > $R/seq
	xenstore-write "$XS/$D/data/zcdisp/req" "bench.$seq $*"
	n=0
	until rsp=$(xenstore-read "$XS/$D/data/zcdisp/rsp" 2>/dev/null) && [ "${rsp%% *}" = bench.$seq ]; do
		n=$((n + 1)); [ $n -lt 3000 ] || return 1
		sleep 0.1
	done
	# shellcheck disable=SC2086
	set -- $rsp
	[ "$2" = 0 ] || { echo "guest: $rsp" >&2; return 1; }
	echo "$rsp"
}

# more_lines PATTERN N0: wait (5 s at most) until the backend's log has more
# than N0 lines matching PATTERN
more_lines() {
	n=0
	until [ "$(grep -c "$1" $R/be.log)" -gt "$2" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || return 1
		sleep 0.05
	done
}

stats() { # stats: the backend's STATS line, fresh
	n0=$(grep -c '^STATS' $R/be.log)
	kill -USR1 "$be"
	more_lines '^STATS' "$n0" || return 1
	grep '^STATS' $R/be.log | tail -1
}
key() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

run_one() { # run_one zc|copy: one guest client, FRAMES flips; prints a result line
	# the backend's mode (run_one runs in a subshell: no variable survives)
	mode=zc
	grep 'mode: ' $R/be.log | tail -1 | grep -q 'copy path' && mode=copy
	if [ "$1" != "$mode" ]; then
		n0=$(grep -c 'mode: ' $R/be.log)
		kill -USR2 "$be"
		more_lines 'mode: ' "$n0" || fail "backend did not switch to $1"
		mode=$1
	fi
	c0=$(grep -c 'copy path: dbuf' $R/be.log)
	s0=$(stats) || fail "no STATS from the backend"
	res=$(guest --frames "$FRAMES" --seed $(($(cat $R/seq) * 1000 + 1001))) || fail "guest client ($mode)"
	s1=$(stats) || fail "no STATS from the backend"
	# the run used the path it is named after: copy-path buffers, or none
	nc=$(($(grep -c 'copy path: dbuf' $R/be.log) - c0))
	if { [ "$mode" = copy ] && [ "$nc" = 0 ]; } || { [ "$mode" = zc ] && [ "$nc" != 0 ]; }; then
		fail "$mode run: $nc buffers through the copy path"
	fi
	nf=$(($(key "$s1" flips) - $(key "$s0" flips)))
	np=$(($(key "$s1" present_n) - $(key "$s0" present_n)))
	ne=$(($(key "$s1" req_errors) - $(key "$s0" req_errors)))
	if [ "$nf" != "$FRAMES" ] || [ "$np" != "$FRAMES" ] || [ "$ne" != 0 ]; then
		fail "$mode: $nf flips, $np presented, $ne request errors; want $FRAMES, $FRAMES, 0"
	fi
	pm=$(awk -v a="$(key "$s0" present_ms_sum)" -v b="$(key "$s1" present_ms_sum)" \
		-v n="$np" 'BEGIN { printf "%.4f", (b - a) / n }')
	fl=$(key "$res" flip_ms_avg)
	echo "$mode $pm $fl"
}

# vkms, without an fbdev console on it
modprobe drm_kms_helper && echo 0 > /sys/module/drm_kms_helper/parameters/fbdev_emulation
grep -q '^vkms ' /proc/modules || modprobe vkms enable_writeback=1 enable_cursor=0 || fail "modprobe vkms"
zc-displ-be > $R/be.log 2>&1 &
be=$!
n=0
until grep -q 'zc-displ-be info: ready' $R/be.log; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "backend not ready"
	sleep 0.1
done
xl create /etc/xen/zcdisp.cfg > $R/create.log 2>&1 || fail "xl create zcdisp: $(cat $R/create.log)"
D=$(xl domid zcdisp)
n=0
until [ "$(xenstore-read "$XS/$D/data/zcdisp/ready" 2>/dev/null)" = 1 ]; do
	n=$((n + 1)); [ $n -lt 1500 ] || fail "display domU not ready"
	sleep 0.1
done
xl vdispl-attach "$D" backend=0 be-alloc=0 "connectors=Virtual-1:$SIZE" || fail "vdispl-attach"
echo "== display present cost through zc-displ-be: $SIZE XRGB8888, $FRAMES flips per run, $REPS repetitions =="
echo "   VM: $(xl info | sed -n 's/^nr_cpus *: //p') vCPU(s) (QEMU -smp), dom0 sees $(nproc); vkms in dom0, upstream drm_xen_front in domU $D"
run_one zc > /dev/null
run_one copy > /dev/null
echo "   warm-up done (one run of each mode)"
r=1
while [ $r -le "$REPS" ]; do
	if [ $((r % 2)) = 1 ]; then order="zc copy"; else order="copy zc"; fi
	for m in $order; do
		line=$(run_one "$m") || { cleanup; exit 1; }
		echo "$line" >> $R/results
		# shellcheck disable=SC2086
		set -- $line
		printf '   rep %d %-4s present %7.3f ms/frame, round trip %7.2f ms\n' "$r" "$1" "$2" "$3"
	done
	r=$((r + 1))
done
cleanup
if grep -q 'zc-displ-be ERROR' $R/be.log; then
	grep 'zc-displ-be ERROR' $R/be.log | head -5 >&2
	fail "errors in the backend's log"
fi
stat() { # stat MODE FIELD: "min median max"
	awk -v m="$1" -v f="$2" '$1 == m { print $f }' $R/results | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
echo "   per-frame cost, ms (min / median / max over $REPS runs):"
printf '   %-10s %-28s %s\n' mode "present (backend)" "round trip (guest)"
for m in zc copy; do
	# shellcheck disable=SC2046
	set -- $(stat $m 2) $(stat $m 3)
	printf '   %-10s %7s %7s %7s          %7s %7s %7s\n' "$([ $m = zc ] && echo zero-copy || echo copy)" "$1" "$2" "$3" "$4" "$5" "$6"
done
zc=$(stat zc 2 | cut -d' ' -f2)
cp=$(stat copy 2 | cut -d' ' -f2)
awk -v z="$zc" -v c="$cp" 'BEGIN { if (z > 0) printf "   zero-copy presents a frame %.1fx cheaper (median), %.3f ms less per frame\n", c / z, c - z }'
