#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian 12 host packages the arm64 VM harness needs, if any is
# missing (nothing for the arm64 architecture itself: fetch.sh downloads and
# unpacks those). busybox-static: the host runs the log scan self-test with it.
#   tests/vm/arm64/setup-host.sh          install what is missing
#   tests/vm/arm64/setup-host.sh --check  only report; exit 1 if something is missing
set -euo pipefail
PKGS=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross
	make cpio xz-utils kmod gzip ca-certificates debian-archive-keyring apt binutils
	busybox-static libxen-dev)
. "$(cd "$(dirname "$0")/../../.." && pwd)/tests/vm/host-lib.sh"
zc_install_missing "arm64 setup-host" "${1:-}" "${PKGS[@]}"
