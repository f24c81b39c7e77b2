#!/bin/sh
# PID 1 of the test domU: load the grant devices and run the agent, which
# serves dom0's requests over xenstore (tests/agent/zcopy-agent.c).
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# xl shutdown: the kernel runs /sbin/poweroff, which signals PID 1
trap 'echo "domU: shutdown requested"; sync; poweroff -f' USR2 TERM INT
modprobe -a xen-evtchn xen-gntdev
modprobe xen-gntalloc limit=65536
echo "domU: init running as domain $(xenstore-read domid), kernel $(uname -r)"
( while :; do
	zcopy-agent
	echo "domU: zcopy-agent exited ($?), restarting"
	sleep 1
  done ) &
# 'sleep & wait' so that the trap runs at once
while :; do sleep 3600 & wait $!; done
