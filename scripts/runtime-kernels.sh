#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# runtime-kernels.sh - download and unpack (never install) one Debian kernel
# for the VM harnesses: linux-image-<abi>-<flavour>-unsigned (the image and
# its modules), the header tree it is built against, and for amd64 the
# linux-source of the same version (vkms for the display cases). Uses the
# matrix's private apt instance (scripts/lib.sh); versions are resolved from
# the archive like scripts/fetch.sh does.
#
# Usage: scripts/runtime-kernels.sh SUITE-ID [FLAVOUR]
#   SUITE-ID   deb12-6.12  bookworm-security's 6.12 (the kernel of trixie,
#                          built by gcc-12 like the host's; amd64 only):
#                          its own headers, common headers and kbuild
#              deb12 (bookworm's 6.1), deb13, deb13-bpo, sid, exp
#                          that suite's kernel (a matrix target)
#              newest      the higher version of sid's and experimental's
#                          (experimental only while it is ahead of sid). The header tree, the gcc-N it was configured
#                          with and the glibc fix of its kbuild tools are the
#                          matrix's own (scripts/fetch.sh --no-upstream).
#   FLAVOUR    amd64 (default), arm64 or arm64-16k (all but deb12-6.12)
# Output (stdout, last line): the directory, holding kernel.env
# (KREL, KVER, KDIR, KIMG, KMOD, KSRC, KPATH: the directory to put first in
# PATH for the compiler, empty if the host has it) for tests/vm/build.sh
# (ZC_KROOT=<dir>) and tests/vm/arm64/build.sh (ZC_ARM64_KROOT=<dir>).
set -euo pipefail
XZ_TAG=runtime-kernels
. "$(dirname "$0")/lib.sh"

ID=${1:?usage: $0 deb12-6.12|deb12|deb13|deb13-bpo|sid|exp|newest [amd64|arm64|arm64-16k]}
FL=${2:-amd64}
case $FL in
amd64) ARCH=amd64 ;;
arm64 | arm64-16k) ARCH=arm64 ;;
*) xz_die "unknown flavour $FL" ;;
esac
case $ID in
deb12-6.12)
	[ "$FL" = amd64 ] || xz_die "deb12-6.12 is amd64 only here (tests/vm/arm64/fetch.sh has its arm64 kernels)"
	RE='bookworm(-security|-updates)?'; META=linux-headers-6.12-amd64 ;;
deb12 | deb13 | deb13-bpo | sid | exp | newest) ;;
*) xz_die "unknown suite id $ID" ;;
esac

# debs_get SPEC...: apt-get download the packages not in the pool yet
debs_get() {
	[ $# -gt 0 ] || return 0
	xz_log "download: $*"
	(cd "$XZ_DEBS/pool" && apt-get -q -o quiet=1 download "$@" >&2) ||
		xz_die "apt-get download failed"
}

# fresh_dir DIR: an empty DIR to unpack into
fresh_dir() {
	xz_log "unpack into $1"
	rm -rf "$1"
	mkdir -p "$1"
}

# hostcc GCC-N: the PATH entry for x86_64-/aarch64-linux-gnu-gcc-N (empty:
# the host has it)
hostcc() {
	local cc
	case $FL in amd64) cc=x86_64-linux-gnu-gcc-$1 ;; *) cc=aarch64-linux-gnu-gcc-$1 ;; esac
	if [ -x "/usr/bin/$cc" ]; then
		echo ""
	elif [ -x "$XZ_TCS/gcc-$1/usr/bin/$cc" ]; then
		echo "$XZ_TCS/gcc-$1/usr/bin"
	else
		xz_die "no $cc on the host or in $XZ_TCS/gcc-$1"
	fi
}

if [ "$ID" != deb12-6.12 ]; then
	# the matrix's header trees, toolchains and kbuild glibc fix (takes
	# the fetch lock itself; a warm cache costs a few seconds)
	"$XZ_REPO/scripts/fetch.sh" --no-upstream >&2 || xz_die "scripts/fetch.sh failed"
	pick=""
	for s in deb12 deb13 deb13-bpo sid exp; do
		case $ID in newest) [ $s = sid ] || [ $s = exp ] ;; *) [ "$ID" = $s ] ;; esac || continue
		line=$(awk -v t="$s-$FL" '$1 == t' "$XZ_CACHE/index.txt")
		[ -n "$line" ] || continue
		if [ -z "$pick" ] || dpkg --compare-versions "$(echo "$line" | cut -d' ' -f5)" gt \
			"$(echo "$pick" | cut -d' ' -f5)"; then
			pick=$line
		fi
	done
	[ -n "$pick" ] || xz_die "no $ID-$FL target in $XZ_CACHE/index.txt"
	read -r tgt _ _ abi ver gccv kdir <<<"$pick"
	xz_log "$ID/$FL: $tgt $abi ($ver), gcc-$gccv, $kdir"
	kpath=$(hostcc "$gccv")
	mkdir -p "$XZ_DEBS/pool" "$XZ_CACHE/runtime"
	exec 9> "$XZ_CACHE/.fetch.lock"
	flock 9
	xz_apt_setup 0
	# bookworm's -unsigned image became plain linux-image-<abi>-<flavour>
	# in trixie and later (the signed one moved to linux-image-*-signed)
	img=linux-image-$abi-$FL-unsigned
	apt-cache show "$img:$ARCH=$ver" > /dev/null 2>&1 || img=linux-image-$abi-$FL
	# ... and is only a meta package: the image, the modules and their
	# base files (modules.builtin & co) are its linux-{binary,modules,base}-*
	pkgs=("$img")
	for p in $(xz_depends "$img:$ARCH=$ver" | grep -oE "linux-(binary|modules|base)-$abi-$FL \(= " |
		   cut -d' ' -f1); do
		pkgs+=("$p")
	done
	files=() specs=()
	for p in "${pkgs[@]}"; do
		files+=("$XZ_DEBS/pool/${p}_${ver//:/%3a}_$ARCH.deb")
		specs+=("$p:$ARCH=$ver")
	done
	nk=${#files[@]}
	src=""
	if [ "$FL" = amd64 ]; then
		# vkms (the display cases) from the same source; Debian's
		# upstream version (7.3~rc7 -> 7.3) names the package
		src=linux-source-$(echo "$abi" | grep -oE '^[0-9]+\.[0-9]+')
		files+=("$XZ_DEBS/pool/${src}_${ver//:/%3a}_all.deb")
		specs+=("$src:amd64=$ver")
	fi
	D=$XZ_CACHE/runtime/$abi-$FL
	stamp="$abi-$FL $ver $kdir"
	if [ ! -e "$D/.version" ] || [ "$(cat "$D/.version")" != "$stamp" ]; then
		need=()
		for i in "${!files[@]}"; do [ -e "${files[$i]}" ] || need+=("${specs[$i]}"); done
		debs_get ${need[@]+"${need[@]}"}
		fresh_dir "$D"
		for f in "${files[@]::nk}"; do dpkg-deb -x "$f" "$D"; done
		ksrc=""
		if [ -n "$src" ]; then
			dpkg-deb --fsys-tarfile "${files[nk]}" | tar -xO "./usr/src/$src.tar.xz" > "$D/$src.tar.xz"
			ksrc=$D/$src.tar.xz
		fi
		km=$D/lib/modules/$abi-$FL
		[ -d "$km" ] || km=$D/usr/lib/modules/$abi-$FL
		mkdir -p "$D/depmod/lib"
		ln -sfn "$(dirname "$km")" "$D/depmod/lib/modules"
		depmod -b "$D/depmod" "$abi-$FL"
		# /boot/vmlinuz-<release> up to trixie, <modules>/vmlinuz after
		kimg=$D/boot/vmlinuz-$abi-$FL
		[ -e "$kimg" ] || kimg=$km/vmlinuz
		[ -e "$kimg" ] || xz_die "$img: no kernel image in $D"
		{
			echo "KREL=$abi-$FL"
			echo "KVER=$ver"
			echo "KDIR=$kdir"
			echo "KIMG=$kimg"
			echo "KMOD=$D/depmod"
			echo "KSRC=$ksrc"
			echo "KPATH=$kpath"
		} > "$D/kernel.env"
		echo "$stamp" > "$D/.version"
	fi
	echo "$D"
	exit 0
fi

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
	debs_get ${specs[@]+"${specs[@]}"}
	fresh_dir "$D"
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
		echo "KPATH="
	} > "$D/kernel.env"
	echo "$stamp" > "$D/.version"
fi
echo "$D"
