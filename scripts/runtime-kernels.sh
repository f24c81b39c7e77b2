#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# runtime-kernels.sh - download and unpack (never install) one Debian amd64
# kernel for the x86_64 VM harness: linux-image-<abi>-amd64-unsigned (the
# bzImage and its modules), its headers, the -common headers and the
# linux-kbuild of the same version, into one root so the headers' relative
# symlinks resolve. Uses the matrix's private apt instance (scripts/lib.sh);
# the version is resolved from the archive like scripts/fetch.sh does.
#
# Usage: scripts/runtime-kernels.sh SUITE-ID
#   SUITE-ID   deb12-6.12 (bookworm-security's 6.12, the kernel of trixie,
#              built by gcc-12 like the host's) or sid
# Output (stdout, last line): the directory, holding kernel.env
# (KREL, KVER, KDIR, KIMG, KMOD, KSRC) for tests/vm/build.sh (ZC_KROOT=<dir>).
set -euo pipefail
XZ_TAG=runtime-kernels
. "$(dirname "$0")/lib.sh"

ID=${1:?usage: $0 deb12-6.12|sid}
case $ID in
deb12-6.12) RE='bookworm(-security|-updates)?'; META=linux-headers-6.12-amd64 ;;
deb13) RE='trixie(-security|-updates)?'; META=linux-headers-amd64 ;;
sid) RE=sid; META=linux-headers-amd64 ;;
exp) RE=experimental; META=linux-headers-amd64 ;;
*) xz_die "unknown suite id $ID" ;;
esac
mkdir -p "$XZ_DEBS/pool" "$XZ_CACHE/runtime"
exec 9> "$XZ_CACHE/.fetch.lock"
flock 9
xz_apt_setup 0

ver=$(xz_best_version "$META:amd64" "$RE")
[ -n "$ver" ] || xz_die "$META not in $RE"
abi=$(xz_depends "$META:amd64=$ver" | grep -oE 'linux-headers-[^ ,]+-amd64 \(= ' | head -1 |
	sed -E 's/^linux-headers-//; s/-amd64 \(= $//')
[ -n "$abi" ] || xz_die "$META $ver: cannot resolve the ABI"
hdr=linux-headers-$abi-amd64
deps=$(xz_depends "$hdr:amd64=$ver")
common=$(grep -oE 'linux-headers-[^ ,]+-common' <<<"$deps" | head -1)
kb=$(grep -oE 'linux-kbuild-[^ ,]+' <<<"$deps" | head -1)
img=linux-image-$abi-amd64-unsigned
# the display path builds vkms (not enabled in Debian) from the same source
src=linux-source-$(echo "$abi" | cut -d. -f1-2)
[ -n "$common" ] && [ -n "$kb" ] || xz_die "$hdr: no common/kbuild in: $deps"
xz_log "$ID: $abi ($ver)"

D=$XZ_CACHE/runtime/$abi-amd64
stamp="$abi-amd64 $ver"
if [ ! -e "$D/.version" ] || [ "$(cat "$D/.version")" != "$stamp" ]; then
	specs=() files=()
	for p in "$img:amd64" "$hdr:amd64" "$common:amd64" "$kb:amd64" "$src:amd64"; do
		n=${p%%:*}
		a=amd64
		[ "$n" = "$common" ] || [ "$n" = "$src" ] && a=all
		f=$XZ_DEBS/pool/${n}_${ver//:/%3a}_$a.deb
		files+=("$f")
		[ -e "$f" ] || specs+=("$p=$ver")
	done
	if [ ${#specs[@]} -gt 0 ]; then
		xz_log "download: ${specs[*]}"
		(cd "$XZ_DEBS/pool" && apt-get -q -o quiet=1 download "${specs[@]}" >&2) ||
			xz_die "apt-get download failed"
	fi
	xz_log "unpack into $D"
	rm -rf "$D"
	mkdir -p "$D"
	for f in "${files[@]::4}"; do dpkg-deb -x "$f" "$D"; done
	dpkg-deb --fsys-tarfile "${files[4]}" | tar -xO "./usr/src/$src.tar.xz" > "$D/$src.tar.xz"
	m=$D/usr/src/$hdr/Makefile
	sed -i "s|^include /usr/src/|include $D/usr/src/|; s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$D/usr/src/|" "$m"
	km=$D/lib/modules/$abi-amd64
	[ -d "$km" ] || km=$D/usr/lib/modules/$abi-amd64
	# Debian ships no modules.dep: depmod the unpacked tree once
	mkdir -p "$D/depmod/lib"
	ln -sfn "$(dirname "$km")" "$D/depmod/lib/modules"
	depmod -b "$D/depmod" "$abi-amd64"
	{
		echo "KREL=$abi-amd64"
		echo "KVER=$ver"
		echo "KDIR=$D/usr/src/$hdr"
		echo "KIMG=$(ls "$D"/boot/vmlinuz-"$abi"-amd64)"
		echo "KMOD=$D/depmod"
		echo "KSRC=$D/$src.tar.xz"
	} > "$D/kernel.env"
	echo "$stamp" > "$D/.version"
fi
echo "$D"
