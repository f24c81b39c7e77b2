#!/bin/sh
# Run in dom0 by `make bench` (tests/vm): $1 is the domU's id.
# One boot, both paths side by side: the buffer-level benchmark (zcbench,
# a 1080p and a 4K frame), then the per-frame present cost through the
# displif backend with the upstream frontend (display-bench.sh).
/zc/bench/zcbench --domu "${1:?domU id}" --frames "${ZC_BENCH_FRAMES:-30}" \
	--size 1920x1080 --size 3840x2160 || exit 1
exec sh /zc/bench/display-bench.sh
