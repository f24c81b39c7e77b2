#!/bin/sh
# Run in dom0 by `make bench` (tests/vm): $1 is the domU's id.
# One boot, both paths side by side, for a 1080p and a 4K frame.
exec /zc/bench/zcbench --domu "${1:?domU id}" --frames "${ZC_BENCH_FRAMES:-30}" \
	--size 1920x1080 --size 3840x2160
