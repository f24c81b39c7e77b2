#!/bin/bash
# Install the Debian 12 packages the VM harness needs, if any is missing.
#   tests/vm/setup-host.sh          install what is missing (needs root or sudo)
#   tests/vm/setup-host.sh --check  only report; exit 1 if something is missing
# .ci/run installs the same list (keep them in step).
set -euo pipefail
PKGS=(linux-image-amd64 linux-headers-amd64 xen-hypervisor-4.17-amd64 xen-utils-4.17
	xenstore-utils qemu-system-x86 busybox-static libdrm-dev pkg-config gcc make
	libc6-dev libc-bin cpio xz-utils kmod gzip grep sed coreutils findutils
	libxen-dev)
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/vm/host-lib.sh"
zc_install_missing "setup-host" "${1:-}" "${PKGS[@]}"
