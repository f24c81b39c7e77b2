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
fail() { echo "display bench: FAIL: $*"; exit 1; }
seq=0

guest() { # guest ARGS...: run the client in the display domU; prints its RESULT
	seq=$((seq + 1))
	xenstore-write "$XS/$D/data/zcdisp/req" "bench.$seq $*"
	n=0
	until rsp=$(xenstore-read "$XS/$D/data/zcdisp/rsp" 2>/dev/null) && [ "${rsp%% *}" = bench.$seq ]; do
		n=$((n + 1)); [ $n -lt 3000 ] || return 1
		sleep 0.1
	done
	# shellcheck disable=SC2086
	set -- $rsp
	[ "$2" = 0 ] || return 1
	echo "$rsp"
}

run_one() { # run_one zc|copy: one attach, FRAMES flips, detach; appends a result line
	mode=$1
	args=
	[ "$mode" = copy ] && args=--copy
	zc-displ-be $args > $R/be.log 2>&1 &
	be=$!
	n=0
	until grep -q 'zc-displ-be info: ready' $R/be.log; do
		n=$((n + 1)); [ $n -lt 100 ] || fail "backend not ready"
		sleep 0.1
	done
	xl vdispl-attach "$D" backend=0 be-alloc=0 "connectors=Virtual-1:$SIZE" || fail "vdispl-attach"
	res=$(guest --frames "$FRAMES" --seed $((seq * 1000 + 1))) || fail "guest client ($mode)"
	xl vdispl-detach "$D" 0 || fail "vdispl-detach"
	kill $be
	wait $be
	st=$(grep '^STATS' $R/be.log | tail -1)
	pm=$(echo "$st" | tr ' ' '\n' | sed -n 's/^present_ms_avg=//p')
	fl=$(echo "$res" | tr ' ' '\n' | sed -n 's/^flip_ms_avg=//p')
	nf=$(echo "$st" | tr ' ' '\n' | sed -n 's/^flips=//p')
	[ "$nf" = "$FRAMES" ] || fail "$mode: $nf flips, want $FRAMES"
	echo "$mode $pm $fl"
}

# vkms, without an fbdev console on it
modprobe drm_kms_helper && echo 0 > /sys/module/drm_kms_helper/parameters/fbdev_emulation
grep -q '^vkms ' /proc/modules || modprobe vkms enable_writeback=1 enable_cursor=0 || fail "modprobe vkms"
xl create /etc/xen/zcdisp.cfg > $R/create.log 2>&1 || fail "xl create zcdisp"
D=$(xl domid zcdisp)
n=0
until [ "$(xenstore-read "$XS/$D/data/zcdisp/ready" 2>/dev/null)" = 1 ]; do
	n=$((n + 1)); [ $n -lt 1500 ] || fail "display domU not ready"
	sleep 0.1
done
echo "== display present cost through zc-displ-be: $SIZE XRGB8888, $FRAMES flips per run, $REPS repetitions =="
echo "   VM: $(xl info | sed -n 's/^nr_cpus *: //p') vCPU(s) (QEMU -smp), dom0 sees $(nproc); vkms in dom0, upstream drm_xen_front in domU $D"
run_one zc > /dev/null || exit 1
run_one copy > /dev/null || exit 1
echo "   warm-up done (one run of each mode)"
r=1
while [ $r -le "$REPS" ]; do
	if [ $((r % 2)) = 1 ]; then order="zc copy"; else order="copy zc"; fi
	for m in $order; do
		line=$(run_one "$m") || exit 1
		echo "$line" >> $R/results
		# shellcheck disable=SC2086
		set -- $line
		printf '   rep %d %-4s present %7.3f ms/frame, round trip %7.2f ms\n' "$r" "$1" "$2" "$3"
	done
	r=$((r + 1))
done
xl destroy "$D"
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
