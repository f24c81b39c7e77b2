#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian 12 host packages the arm64 VM harness needs, if any is
# missing (nothing for the arm64 architecture itself: fetch.sh downloads and
# unpacks those).
#   tests/vm/arm64/setup-host.sh          install what is missing
#   tests/vm/arm64/setup-host.sh --check  only report; exit 1 if something is missing
set -euo pipefail
PKGS=(qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross
	make cpio xz-utils kmod gzip ca-certificates debian-archive-keyring apt binutils)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "${1:-}" = --check ]; then
	echo "missing packages: ${missing[*]}" >&2
	exit 1
fi
echo "arm64 setup-host: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
