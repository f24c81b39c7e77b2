# SPDX-License-Identifier: GPL-2.0
#
# The arm64 Xen VM harness (tests/vm/arm64/, owner: arm):
#   make check-arm64       Xen 4.17 arm64 + Debian 6.12 arm64 (4K pages) dom0/domU
#                          under qemu-system-aarch64 TCG (-cpu cortex-a57)
#   make check-arm64-16k   the same with the arm64-16k flavour (16K pages, -cpu max)
#   make vm-shell-arm64    the 4K system with an interactive dom0 shell
#                          (vm-shell-arm64-16k for the 16K one)
# The arm64 packages are downloaded and unpacked into ~/.cache/xen-zcopy/arm64
# (XZC_ARM64_CACHE), nothing is installed for arm64. Same knobs as `make check`:
# ZC_CASES=a,b ZC_TIMEOUT=s ZC_CASE_TIMEOUT=s ZC_VERBOSE=1, plus ZC_SMP, ZC_MEM.

.PHONY: check-arm64 check-arm64-16k vm-shell-arm64 vm-shell-arm64-16k bench-arm64

check-arm64:
	@tests/vm/arm64/check.sh arm64 check

check-arm64-16k:
	@tests/vm/arm64/check.sh arm64-16k check

vm-shell-arm64:
	@tests/vm/arm64/check.sh arm64 shell

vm-shell-arm64-16k:
	@tests/vm/arm64/check.sh arm64-16k shell

# make bench on the 4K arm64 system (tests/bench/bench.sh, owner: perf)
bench-arm64:
	@tests/bench/bench.sh arm64
