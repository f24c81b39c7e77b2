#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Download and unpack everything the arm64 VM harness needs, without
# installing anything for arm64 on the host: a private apt instance
# (APT_CONFIG) with amd64+arm64 indexes of bookworm, apt-get download,
# dpkg-deb -x into a cache directory.
#
#   tests/vm/arm64/fetch.sh [--update]
#
#   XZC_ARM64_CACHE   cache dir (default ~/.cache/xen-zcopy/arm64)
#   --update          refresh the apt indexes even when they are recent
#
# Layout of the cache:
#   apt/              private apt config, lists and state
#   debs/             the downloaded .deb files (a warm run downloads nothing)
#   root/             arm64 user space: Xen 4.17 hypervisor + tools + their
#                     library closure, busybox-static, libdrm (a sysroot for
#                     cross-building the test programs)
#   k4k/  k16k/       one kernel each: linux-image-*-unsigned, its headers,
#                     the -common headers and the amd64 linux-kbuild of the
#                     same version, unpacked into one root so the relative
#                     scripts/tools symlinks resolve
#   <dir>/.version    what was resolved (ABI, version) for that directory
#
# Kernels: bookworm-security's linux-6.12 (6.12.117+deb12), flavours arm64
# (4K pages) and arm64-16k. That is the kernel of trixie, built by bookworm's
# gcc-12 with bookworm-glibc kbuild tools, so it cross-builds with the host's
# aarch64-linux-gnu-gcc-12 and needs no foreign toolchain or patchelf.
# Bookworm's own 6.1 arm64 kernel is not used: it has no
# XEN_UNPOPULATED_ALLOC, so gntdev takes ballooned pages, and after a refused
# gntdev map the domU's balloon thread hotplugs memory below the RAM base and
# WARNs in vmemmap_populate (arch/arm64/mm/mmu.c:1222) - a kernel bug that
# fails every run. XZC_ARM64_4K_META=linux-headers-arm64 selects it anyway.
# Versions and ABI names are resolved from the archive on every run, so
# Debian ABI bumps need no edit here.
set -euo pipefail

C=${XZC_ARM64_CACHE:-${HOME:-/root}/.cache/xen-zcopy/arm64}
MIRROR=${XZC_MIRROR:-http://deb.debian.org/debian}
SECMIRROR=${XZC_SECMIRROR:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
UPDATE=0
for a in "$@"; do
	case $a in
	--update) UPDATE=1 ;;
	*) echo "usage: $0 [--update]" >&2; exit 2 ;;
	esac
done

log() { printf '[arm64-fetch] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for t in apt-get apt-cache dpkg-deb; do
	command -v $t >/dev/null || die "$t not found (Debian host required)"
done
[ -r $KEYRING ] || die "$KEYRING missing (apt-get install debian-archive-keyring)"

A=$C/apt
export APT_CONFIG=$A/apt.conf
mkdir -p $A/lists/partial $A/cache/archives/partial $A/etc.d $C/debs
[ -e $A/status ] || : > $A/status
cat > $A/sources.list.new <<EOF
deb [signed-by=$KEYRING] $MIRROR bookworm main
deb [signed-by=$KEYRING] $MIRROR bookworm-updates main
deb [signed-by=$KEYRING] $SECMIRROR bookworm-security main
EOF
# Own Dir::Etc::parts: the host's apt.conf.d may disable the binary cache
# (each apt-cache call would re-parse the indexes) or add architectures.
cat > $A/apt.conf.new <<EOF
Dir::Etc::parts "$A/etc.d";
Dir::Etc::main "$A/etc.d/none";
Dir::Etc::sourcelist "$A/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferencesparts "$A/etc.d";
Dir::State::Lists "$A/lists";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/cache/archives";
Dir::Cache::pkgcache "pkgcache.bin";
Dir::Cache::srcpkgcache "srcpkgcache.bin";
APT::Architecture "amd64";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
EOF
# ... but keep the host's way out to the archive (proxies), if it has one
env -u APT_CONFIG apt-config dump 2>/dev/null | grep -E '^Acquire::(https?|ftp)::Proxy' >> $A/apt.conf.new || true
for f in sources.list apt.conf; do
	if ! cmp -s $A/$f.new $A/$f; then mv $A/$f.new $A/$f; UPDATE=1; else rm $A/$f.new; fi
done
# Refresh the indexes when asked, when missing, or when older than a day;
# otherwise a warm run touches the network not at all.
if [ $UPDATE = 1 ] || [ -z "$(find $A/lists -maxdepth 1 -name '*_Packages*' -mtime -1 | head -1)" ]; then
	log "apt-get update (private lists in $A/lists)"
	if ! apt-get -q update >&2; then
		# stale lists still name the packages already in debs/
		ls $A/lists/*_Packages* >/dev/null 2>&1 || die "apt-get update failed"
		log "warning: apt-get update failed; using the lists from before"
	fi
fi

# field PKG NAME: a field of the candidate version (highest in bookworm*);
# Architecture: all packages are only known without the :arm64 qualifier
field() {
	{ apt-cache show --no-all-versions "$1" 2>/dev/null ||
	  apt-cache show --no-all-versions "${1%:*}" 2>/dev/null; } | sed -n "s/^$2: //p" | head -1
}

# fetch NAME:ARCH=VERSION...: download what is not in debs/ yet; prints the files
fetch() {
	local spec name arch ver file need=()
	for spec in "$@"; do
		name=${spec%%:*}; arch=${spec#*:}; arch=${arch%%=*}; ver=${spec#*=}
		[ "$arch" = all ] && spec="$name=$ver"
		file=$C/debs/${name}_${ver/:/%3a}_*.deb
		# shellcheck disable=SC2086
		if ! ls $file >/dev/null 2>&1; then need+=("$spec"); fi
	done
	if [ ${#need[@]} -gt 0 ]; then
		log "download: ${need[*]}"
		(cd $C/debs && apt-get -q download "${need[@]}" >&2) || die "apt-get download failed"
	fi
}

# deb NAME VERSION: path of the downloaded file
deb() { ls $C/debs/${1}_${2/:/%3a}_*.deb | head -1; }

# unpack DIR STAMP DEB...: dpkg-deb -x into DIR unless DIR/.version == STAMP
unpack() {
	local dir=$1 stamp=$2 d
	shift 2
	if [ -e $dir/.version ] && [ "$(cat $dir/.version)" = "$stamp" ]; then
		return 0
	fi
	log "unpack into $dir"
	rm -rf $dir
	mkdir -p $dir
	for d in "$@"; do dpkg-deb -x "$d" $dir; done
	echo "$stamp" > $dir/.version
}

# ------------------------------------------------------------- kernels ---
# kernel DIR HEADERS-META FLAVOUR: resolve the meta package to its ABI, then
# fetch image (unsigned: an uncompressed Image, loaded directly), headers,
# common headers and the amd64 kbuild of exactly that version.
kernel() {
	local dir=$1 meta=$2 fl=$3 ver abi kb hdr files m
	ver=$(field "$meta:arm64" Version)
	[ -n "$ver" ] || die "$meta:arm64 not in the archive"
	abi=$(field "$meta:arm64" Depends | grep -oE "linux-headers-[^ ,]+-$fl \(= " | head -1 |
		sed -E "s/^linux-headers-//; s/-$fl \(= $//")
	[ -n "$abi" ] || die "cannot resolve the ABI of $meta"
	hdr=linux-headers-$abi-$fl
	kb=$(apt-cache show "$hdr:arm64=$ver" | sed -n 's/^Depends: //p' | head -1 |
		grep -oE 'linux-kbuild-[^ ,]+' | head -1)
	[ -n "$kb" ] || die "cannot resolve the kbuild package of $hdr"
	log "$fl: $abi ($ver), $kb:amd64"
	fetch "linux-image-$abi-$fl-unsigned:arm64=$ver" "$hdr:arm64=$ver" \
		"linux-headers-$abi-common:all=$ver" "$kb:amd64=$ver"
	files=("$(deb linux-image-$abi-$fl-unsigned $ver)" "$(deb $hdr $ver)"
	       "$(deb linux-headers-$abi-common $ver)" "$(deb $kb $ver)")
	unpack $dir "$abi-$fl $ver" "${files[@]}"
	# the flavour Makefile includes the common one by absolute path
	for m in $dir/usr/src/linux-headers-*-$fl/Makefile; do
		sed -i "s|^include /usr/src/|include $dir/usr/src/|; s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$dir/usr/src/|" "$m"
	done
	echo "KREL=$abi-$fl" > $dir/kernel.env
	echo "KVER=$ver" >> $dir/kernel.env
	echo "KDIR=$dir/usr/src/$hdr" >> $dir/kernel.env
}

kernel $C/k4k "${XZC_ARM64_4K_META:-linux-headers-6.12-arm64}" arm64
kernel $C/k16k linux-headers-6.12-arm64-16k arm64-16k

# ----------------------------------------------------------- user space ---
# The Xen tools with the closure of their library dependencies (Depends
# restricted to libraries), busybox, and libdrm for the test programs.
ROOTS="xen-hypervisor-4.17-arm64 xen-utils-4.17 xenstore-utils libxenmisc4.17 libxenstore4 busybox-static libdrm2 libdrm-dev"
# One apt-cache call per dependency level (each call costs ~1 s here).
# stanzas P...: "name arch version deps" of the arm64 (or arch all) candidates
stanzas() {
	local q=() p
	for p in "$@"; do q+=("$p:arm64" "$p"); done
	apt-cache show --no-all-versions "${q[@]}" 2>/dev/null | awk '
		/^Package: /{n=$2} /^Architecture: /{a=$2} /^Version: /{v=$2}
		/^(Pre-)?Depends: /{sub(/^[^:]*: /,""); d=d "," $0}
		/^$/{ if (n != "" && (a == "arm64" || a == "all") && !(n in done)) {
			done[n]=1; gsub(/ /,"",d); print n, a, v, (d == "" ? "," : d) }
		      n=""; a=""; v=""; d="" }'
}
declare -A seen=()
level=$ROOTS list=()
for p in $level; do seen[$p]=1; done
while [ -n "$level" ]; do
	next=""
	while read -r n a v d; do
		list+=("$n:$a=$v")
		[ "$n" = libdrm-dev ] && continue	# only libdrm.a and the headers are used
		for q in $(echo "$d" | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*//; s/:any//'); do
			[[ $q =~ ^lib|^zlib1g$|^gcc-[0-9]+-base$ ]] || continue
			[ -n "${seen[$q]:-}" ] && continue
			seen[$q]=1
			next="$next $q"
		done
	done < <(stanzas $level)
	level=${next# }
done
fetch "${list[@]}"
files=()
for s in "${list[@]}"; do
	n=${s%%:*}; v=${s#*=}
	files+=("$(deb $n $v)")
done
unpack $C/root "$(printf '%s\n' "${list[@]}" | sort | md5sum | cut -c1-16)" "${files[@]}"
printf '%s\n' "${list[@]}" | sort > $C/root/packages.txt

log "cache $C: $(du -sh $C | cut -f1) ($(du -sh $C/debs | cut -f1) of debs)"
