#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xen-zcopy demo, run in dom0 by `make demo` with the domU's id as $1.
# 1. zc-demo: the domU (a para-virtual display frontend, played by the test
#    agent) grants a 1920x1080 XRGB8888 framebuffer; dom0 turns it into a
#    PRIME buffer, hands it to another DRM driver (vgem, standing in for the
#    KMS driver), and shows that both see the guest's own pages: no copy.
# 2. display-demo.sh: the real thing - the upstream display frontend in a
#    second domU, our displif backend in dom0, a KMS device scanning the
#    guest's pages out; a PNG of the scan-out comes back to the host.
D=${1:--1}
HERE=$(dirname "$0")
if [ "$D" -lt 0 ] 2>/dev/null; then
	echo "run-demo.sh: needs the domU id" >&2
	exit 1
fi
mount -t debugfs none /sys/kernel/debug 2>/dev/null
"$HERE/zc-demo" "$D" || exit 1
exec sh "$HERE/display-demo.sh"
