#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The display path of `make demo` (run in dom0 by run-demo.sh): a real
# para-virtual display. The display domU runs the upstream frontend
# (drm_xen_front) and draws frames; dom0 runs our reference displif backend
# (tests/backend/zc-displ-be), which hands the guest's own pages to a KMS
# device (vkms) through xen_drm_zcopy - FROM_REFS of the frontend's page
# directory, PRIME export, PRIME import, drmModeAddFB2, page flips - and
# captures what that device scans out (its writeback connector). The last
# frame scanned out is saved as a PNG and sent to the host over the console
# (between ZCFILE-BEGIN/ZCFILE-END lines; tests/vm/host-lib.sh writes it
# next to the run's logs and prints where).
# Exit status 0 when every frame was shown zero-copy and exactly as drawn.
FRAMES=${ZC_DEMO_FRAMES:-40}
PNG=/run/zc/display.png
LOG=/run/zc/display-be.log
XS=/local/domain
fail() { echo "[FAIL] $*"; exit 1; }

echo
echo "== the display path: a guest draws, dom0 displays it through xen_drm_zcopy =="
# vkms, without an fbdev console on it
modprobe drm_kms_helper && echo 0 > /sys/module/drm_kms_helper/parameters/fbdev_emulation
grep -q '^vkms ' /proc/modules || modprobe vkms enable_writeback=1 enable_cursor=0 ||
	fail "modprobe vkms"
echo "[ ok ] dom0 KMS device: vkms (virtual display with a writeback connector that captures the scan-out)"
zc-displ-be --capture --verify --png $PNG > $LOG 2>&1 &
BE=$!
n=0
until grep -q 'zc-displ-be info: ready' $LOG; do
	n=$((n + 1)); [ $n -lt 100 ] || { cat $LOG; fail "backend not ready"; }
	sleep 0.1
done
echo "[ ok ] backend zc-displ-be started (new UAPI; log $LOG)"
t0=$(cut -d' ' -f1 /proc/uptime)
xl create /etc/xen/zcdisp.cfg > /run/zc/zcdisp-create.log 2>&1 || { cat /run/zc/zcdisp-create.log; fail "xl create zcdisp"; }
D=$(xl domid zcdisp)
n=0
until [ "$(xenstore-read "$XS/$D/data/zcdisp/ready" 2>/dev/null)" = 1 ]; do
	n=$((n + 1)); [ $n -lt 1500 ] || fail "display domU not ready"
	sleep 0.1
done
echo "[ ok ] display domU $D booted (drm_xen_front loaded) in $(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t0}") s"
xl vdispl-attach "$D" backend=0 be-alloc=0 connectors=Virtual-1:640x480 || fail "xl vdispl-attach"
echo "[ ok ] vdispl device attached: connector Virtual-1 640x480, frontend-allocated buffers"
xenstore-write "$XS/$D/data/zcdisp/req" "demo.1 --frames $FRAMES --seed 4242"
n=0
until rsp=$(xenstore-read "$XS/$D/data/zcdisp/rsp" 2>/dev/null) && [ "${rsp%% *}" = demo.1 ]; do
	n=$((n + 1)); [ $n -lt 1800 ] || fail "the guest's client did not finish"
	sleep 0.1
done
echo "[ ok ] the guest drew and flipped $FRAMES frames: ${rsp#demo.1 }"
# (no xl vdispl-detach: the 6.1 frontend WARNs on unplug, docs/display.md)
xl destroy "$D"
kill $BE
wait $BE
grep -E 'FROM_REFS:|imported into the KMS|AddFB2|zero-copy verified' $LOG | head -6 | sed 's/^\[[^]]*\] zc-displ-be info: /         /'
STATS=$(grep '^STATS' $LOG | tail -1)
v() { echo "$STATS" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
echo "         backend: $(v flips) flips, $(v captured) frames captured from the scan-out, $(v mismatches) pixels differing from what the guest drew,"
echo "         zero-copy proven for $(v zc_fb_ok) of $(v fb_attach) framebuffers, DBUF_DESTROY (after WAIT_FREE) at most $(v destroy_ms_max) ms"
ok=1
[ "$(v mismatches)" = 0 ] && [ "$(v captured)" -gt "$FRAMES" ] && [ "$(v zc_fb_bad)" = 0 ] &&
	[ "$(v zc_fb_ok)" = "$(v fb_attach)" ] && [ "$(v req_errors)" = 0 ] || ok=0
if [ $ok = 1 ]; then
	echo "[ ok ] every frame vkms scanned out is the guest's own pages, pixel for pixel: no copy anywhere"
else
	grep ' ERROR: ' $LOG | head -10
	echo "[FAIL] the display path"
fi
if [ -s $PNG ]; then
	echo "[ ok ] the last frame dom0 scanned out: a $(stat -c %s $PNG)-byte PNG, sent to the host (ZCFILE display.png)"
	# straight to the console: the host writes it next to its logs
	{
		echo "ZCFILE-BEGIN display.png $(md5sum < $PNG | cut -d' ' -f1)"
		base64 $PNG
		echo "ZCFILE-END display.png"
	} > /dev/console
else
	echo "[FAIL] no PNG of the scan-out"
	ok=0
fi
[ $ok = 1 ]
