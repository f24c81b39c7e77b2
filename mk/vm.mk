# SPDX-License-Identifier: GPL-2.0
#
# The Xen VM harness (tests/vm/, owner: harness):
#   make check      build module + tests, boot Xen/dom0/domU under QEMU TCG, run
#                   every test case; last line "N passed, N failed"
#   make demo       the same system, running tests/demo/run-demo.sh in dom0
#   make bench      the same system, running the benchmark (tests/bench/run-bench.sh):
#                   copy vs zero-copy side by side in one boot; log and plot in
#                   build/bench/ (tests/bench/bench.sh; ZC_BENCH=smoke for CI's short run)
#   make vm-shell   the same system with an interactive dom0 shell
#   make tests      only build the test programs (build/tests/)
#   make check-kernels  the suite once per runtime kernel (x86_64 6.1 host and
#                   6.12 from the archive, arm64 and arm64-16k 6.12, and the
#                   newest sid/experimental kernel of all three), one boot
#                   each; per-kernel lines, last line the sum (tests/vm/check-kernels.sh;
#                   ZC_LOCK=<file> takes flock per kernel)
#   make check-debug  the suite with a debug dom0/domU kernel (lockdep, kmemleak,
#                   KFENCE, UBSAN, DMA-API debug, fault injection ...), built once
#                   from linux-source-6.1 and cached (tests/vm/check-debug.sh)
# Knobs (environment): ZC_CASES=a,b ZC_TIMEOUT=s ZC_CASE_TIMEOUT=s ZC_VERBOSE=1 KV=...

.PHONY: check check-debug check-kernels demo bench vm-shell tests

check:
	@tests/vm/check.sh check

check-debug:
	@tests/vm/check-debug.sh

check-kernels:
	@tests/vm/check-kernels.sh

demo:
	@tests/vm/check.sh demo

bench:
	@tests/bench/bench.sh x86_64

vm-shell:
	@tests/vm/check.sh shell

tests:
	$(MAKE) -C tests
