#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xen-zcopy demo, run in dom0 by `make demo` with the domU's id as $1.
# The domU (a para-virtual display frontend, played by the test agent)
# grants a 1920x1080 XRGB8888 framebuffer; dom0 turns it into a PRIME
# buffer, hands it to another DRM driver (vgem, standing in for the KMS
# driver), and shows that both see the guest's own pages: no copy.
D=${1:--1}
HERE=$(dirname "$0")
if [ "$D" -lt 0 ] 2>/dev/null; then
	echo "run-demo.sh: needs the domU id" >&2
	exit 1
fi
mount -t debugfs none /sys/kernel/debug 2>/dev/null
exec "$HERE/zc-demo" "$D"
