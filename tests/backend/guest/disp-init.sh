#!/bin/sh
# PID 1 of the display domU (tests/backend/zcdisp.cfg): the upstream
# para-virtual display frontend (drm_xen_front) and our KMS client. dom0
# (tests/cases/80_display.c, the demo, the benchmark) runs the client by
# writing "SEQ ARGS..." to data/zcdisp/req; the answer is
# "SEQ EXIT-STATUS RESULT-LINE" in data/zcdisp/rsp. A vdispl device is
# attached and detached by dom0 (xl vdispl-attach/-detach) while we run.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
trap 'echo "zcdisp: shutdown requested"; sync; poweroff -f' USR2 TERM INT
# no vdispl device yet: loading the frontend does not wait for a backend
modprobe -a xen-evtchn xen-gntdev drm_xen_front
echo "zcdisp: display domain $(xenstore-read domid), kernel $(uname -r)"
xenstore-write data/zcdisp/ready 1
last=
while :; do
	req=$(xenstore-read data/zcdisp/req 2>/dev/null)
	if [ -n "$req" ] && [ "$req" != "$last" ]; then
		last=$req
		# shellcheck disable=SC2086
		set -- $req
		seq=$1
		shift
		zc-disp-client "$@" > /tmp/client.out 2>&1
		rc=$?
		sed 's/^/zcdisp: /' /tmp/client.out
		xenstore-write data/zcdisp/rsp "$seq $rc $(grep '^RESULT' /tmp/client.out | tail -1)"
	fi
	sleep 0.2 & wait $!
done
