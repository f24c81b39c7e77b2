#!/bin/bash
# Install the Debian 12 packages the VM harness needs, if any is missing.
#   tests/vm/setup-host.sh          install what is missing (needs root or sudo)
#   tests/vm/setup-host.sh --check  only report; exit 1 if something is missing
# .ci/run installs the same list (keep them in step).
set -euo pipefail
PKGS=(linux-image-amd64 linux-headers-amd64 xen-hypervisor-4.17-amd64 xen-utils-4.17
	xenstore-utils qemu-system-x86 busybox-static libdrm-dev pkg-config gcc make
	libc6-dev libc-bin cpio xz-utils kmod gzip grep sed coreutils findutils)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "${1:-}" = --check ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
echo "setup-host: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
