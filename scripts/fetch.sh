#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch.sh - download and unpack (never install) the Debian kernel header
# trees of the build matrix and the compilers they need, into $XZ_CACHE
# (default ~/.cache/xen-zcopy). Re-running is cheap: what is unpacked stays.
#
# Usage: scripts/fetch.sh [--update] [--source] [--no-kernels]
#   --update      refresh the private apt lists now (otherwise once a day)
#   --source      also fetch checkpatch.pl and the coccinelle scripts from
#                 the newest Debian linux-source-X.Y package (for lint)
#   --no-kernels  skip the header trees and toolchains (lint only needs
#                 --source)
#   --no-upstream skip the arm64 64K-page tree configured from upstream
#                 source (Debian has no 64K flavour; see setup_upstream)
#
# Versions are resolved at run time from the archive (apt-cache madison on
# the linux-headers-<flavour> meta packages), so an ABI bump in Debian
# (6.12.117+deb13 -> ...) is picked up without editing this file.
#
# Output: $XZ_CACHE/index.txt, one line per target:
#   <target-id> <suite-id> <flavour> <abi> <package-version> <gcc-N> <kdir>
set -euo pipefail
XZ_TAG=fetch
. "$(dirname "$0")/lib.sh"

# suite-id ; suite regex (apt suite names) ; meta package prefix ; flavours
TARGETS=(
	"deb12;bookworm(-security|-updates)?;linux-headers-;amd64 arm64 arm64-16k"
	"deb12-6.12;bookworm(-security|-updates)?;linux-headers-6.12-;amd64 arm64 arm64-16k"
	"deb13;trixie(-security|-updates)?;linux-headers-;amd64 arm64 arm64-16k"
	"deb13-bpo;trixie-backports;linux-headers-;amd64 arm64 arm64-16k"
	"sid;sid;linux-headers-;amd64 arm64 arm64-16k"
	"exp;experimental;linux-headers-;amd64 arm64 arm64-16k"
)
# suites searched, in this order, for a gcc-N the host does not have
GCC_SUITES="bookworm trixie sid experimental"

UPDATE=0 SOURCE=0 KERNELS=1 UPSTREAM=1
for a in "$@"; do
	case $a in
	--no-upstream) UPSTREAM=0 ;;
	--update) UPDATE=1 ;;
	--source) SOURCE=1 ;;
	--no-kernels) KERNELS=0 ;;
	-h|--help) sed -n '3,23p' "$0"; exit 0 ;;
	*) xz_die "unknown argument $a" ;;
	esac
done

T0=$(xz_now)
mkdir -p "$XZ_DEBS/pool" "$XZ_KERNELS" "$XZ_TCS"
# one fetch at a time per cache (make -j, or CI prefetching in the background)
exec 9> "$XZ_CACHE/.fetch.lock"
flock 9
xz_apt_setup "$UPDATE"

# xz_download SPEC...: apt-get download of the specs not yet in debs/pool
# (one call, so apt pipelines the transfers)
DL_SPECS=()
xz_download() {
	[ $# -gt 0 ] || return 0
	(cd "$XZ_DEBS/pool" && apt-get -q -o quiet=1 download "$@" >&2) ||
		xz_die "apt-get download failed"
}
# deb_of PKG VER ARCH: the file name apt-get download gives that package
deb_of() {
	local v=${2//:/%3a}
	echo "$XZ_DEBS/pool/${1}_${v}_$3.deb"
}
want() { # want PKG VER ARCH(amd64|arm64|all)
	local f
	f=$(deb_of "$1" "$2" "$3")
	[ -e "$f" ] || DL_SPECS+=("$1:$([ "$3" = all ] && echo amd64 || echo "$3")=$2")
	echo "$f"
}

# ------------------------------------------------------------ resolve ---
declare -A TC_NEEDED=()
RESOLVED=()
SKIPPED=()
resolve_kernels() {
	local t id re prefix fls fl arch meta ver deps abi hdr common kb gccv
	for t in "${TARGETS[@]}"; do
		IFS=';' read -r id re prefix fls <<<"$t"
		for fl in $fls; do
			case $fl in arm64*) arch=arm64 ;; *) arch=amd64 ;; esac
			meta=$prefix$fl
			ver=$(xz_best_version "$meta:$arch" "$re")
			if [ -z "$ver" ]; then
				xz_log "$id/$fl: no $meta in $re (flavour not built there)"
				SKIPPED+=("$id-$fl")
				continue
			fi
			deps=$(xz_depends "$meta:$arch=$ver")
			abi=$(grep -oE "linux-headers-[^ ,]+-$fl \(= " <<<"$deps" | head -1 |
			      sed -E "s/^linux-headers-//; s/-$fl \(= $//")
			[ -n "$abi" ] || xz_die "$meta $ver: no linux-headers-*-$fl dependency"
			hdr=linux-headers-$abi-$fl
			deps=$(xz_depends "$hdr:$arch=$ver")
			common=$(grep -oE 'linux-headers-[^ ,]+-common' <<<"$deps" | head -1)
			kb=$(grep -oE 'linux-kbuild-[^ ,]+' <<<"$deps" | head -1)
			# "gcc-14", "gcc-16-for-host" or "linux-compiler-gcc-12-x86"
			gccv=$(grep -oE 'gcc-[0-9]+' <<<"$deps" | head -1 | grep -oE '[0-9]+$' || true)
			[ -n "$common" ] && [ -n "$kb" ] || xz_die "$hdr $ver: cannot find common/kbuild in: $deps"
			RESOLVED+=("$id $fl $abi $ver $hdr $common $kb $arch ${gccv:-?}")
		done
	done
}

# ---------------------------------------------------------- toolchains ---
# gcc-N for x86_64 and aarch64 with binutils, pahole, sparse and every
# library they load, all from ONE suite: mixing suites breaks (sid pahole
# with bookworm libdw segfaults). The ELF files are patchelf'ed to the
# suite's own ld.so/glibc, since bookworm's glibc 2.36 is too old for them.
TC_DENY='^(libasan|libtsan|libubsan|libhwasan|liblsan|libquadmath|libgomp|libitm|libatomic|libcc1|libc-gconv|libgprofng|libxml2|libsqlite3|libperl|perl|python|gcc-[0-9]+$|binutils$|libc6-.*-cross|.*-arm64-cross$)'
declare -A TC_SUITE=()
host_has_gcc() {
	[ -x "/usr/bin/x86_64-linux-gnu-gcc-$1" ] && [ -x "/usr/bin/aarch64-linux-gnu-gcc-$1" ]
}
# has_pkg PKG/SUITE (apt-cache show exits 0 even when the suite lacks it)
has_pkg() { [ -n "$(apt-cache show "$1" 2>/dev/null | sed -n 's/^Package: //p')" ]; }
resolve_toolchain() { # resolve_toolchain N -> TC_SUITE[N], debs queued
	local v=$1 s suite="" queue p q list="" file
	[ -e "$XZ_TCS/gcc-$v/.ok" ] && { TC_SUITE[$v]="done"; return 0; }
	for s in $GCC_SUITES; do
		if has_pkg "gcc-$v-x86-64-linux-gnu/$s" && has_pkg "gcc-$v-aarch64-linux-gnu/$s"; then
			suite=$s
			break
		fi
	done
	[ -n "$suite" ] || xz_die "no suite ships gcc-$v for x86_64 and aarch64"
	TC_SUITE[$v]=$suite
	queue="libc6 libstdc++6 libgcc-s1 gcc-$v-base cpp-$v-x86-64-linux-gnu
	       gcc-$v-x86-64-linux-gnu libgcc-$v-dev gcc-$v-aarch64-linux-gnu
	       cpp-$v-aarch64-linux-gnu libgcc-$v-dev-arm64-cross
	       gcc-$v-aarch64-linux-gnu-base gcc-$v-cross-base
	       binutils-x86-64-linux-gnu binutils-aarch64-linux-gnu pahole sparse"
	local want_set
	want_set=" $(echo $queue) "
	queue=$(echo $queue)
	declare -A seen=()
	while [ -n "$queue" ]; do
		p=${queue%% *}; queue=${queue#"$p"}; queue=${queue# }
		[ -n "${seen[$p]:-}" ] && continue
		seen[$p]=1
		has_pkg "$p/$suite" || { xz_log "  $p/$suite: not found, skipped"; continue; }
		list="$list $p"
		for q in $(xz_depends "$p/$suite" | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*//; s/:any//; s/ //g'); do
			[[ $q =~ ^lib|^zlib1g$|^binutils-common$|^gcc-$v-|^cpp-$v- ]] || continue
			[[ $q =~ $TC_DENY ]] && [[ $want_set != *" $q "* ]] && continue
			[ -n "${seen[$q]:-}" ] || queue="$queue $q"
		done
		queue=${queue# }
	done
	mkdir -p "$XZ_DEBS/toolchain-gcc-$v"
	: > "$XZ_DEBS/toolchain-gcc-$v/list"
	for p in $list; do
		# exact version + arch of the suite's package, so the file name is known
		read -r ver arch < <(apt-cache show "$p/$suite" | awk '/^Version:/{v=$2} /^Architecture:/{a=$2} /^$/{print v, a; exit} END{if (v) print v, a}')
		[ "$arch" = all ] || arch=amd64
		file=$(deb_of "$p" "$ver" "$arch")
		echo "$file" >> "$XZ_DEBS/toolchain-gcc-$v/list"
		[ -e "$file" ] || DL_SPECS+=("$p:amd64=$ver")
	done
}

patch_elf_dir() { # patch_elf_dir DIR SYSROOT: re-point ELF executables to SYSROOT's glibc
	local dir=$1 sr=$2 f
	find "$dir" -type f -print0 | xargs -0 -r file -N |
	awk -F: '/ELF .*(executable|pie)/ { print $1 }' | while read -r f; do
		patchelf --set-interpreter "$sr/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
			--force-rpath --set-rpath "$sr/usr/lib/x86_64-linux-gnu" "$f"
	done
}

unpack_toolchain() { # unpack_toolchain N
	local v=$1
	local dir=$XZ_TCS/gcc-$v f p
	[ -e "$dir/.ok" ] && return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	while read -r f; do dpkg-deb -x "$f" "$dir"; done < "$XZ_DEBS/toolchain-gcc-$v/list"
	patch_elf_dir "$dir/usr/bin" "$dir"
	patch_elf_dir "$dir/usr/libexec" "$dir"
	# the native gcc looks for 'as' in <prefix>/x86_64-linux-gnu/bin first
	if [ -e "$dir/usr/bin/x86_64-linux-gnu-as" ]; then
		mkdir -p "$dir/usr/x86_64-linux-gnu/bin"
		for p in as ld ld.bfd; do
			ln -sfn "../../bin/x86_64-linux-gnu-$p" "$dir/usr/x86_64-linux-gnu/bin/$p"
		done
	fi
	"$dir/usr/bin/x86_64-linux-gnu-gcc-$v" --version >/dev/null &&
	"$dir/usr/bin/aarch64-linux-gnu-gcc-$v" --version >/dev/null ||
		xz_die "toolchain gcc-$v does not run"
	xz_log "toolchain gcc-$v (${TC_SUITE[$v]}): $("$dir/usr/bin/x86_64-linux-gnu-gcc-$v" --version | head -1)"
	touch "$dir/.ok"
}

# -------------------------------------------------------------- kernels ---
# upstream scripts/checker-valid.sh; Debian's linux-kbuild-7.x lacks it, and
# without it 'make C=2' silently disables sparse
CHECKER_VALID='#!/bin/sh -eu
# SPDX-License-Identifier: GPL-2.0
[ ! -x "$(command -v "$1")" ] && exit 1
tmp_file=$(mktemp)
trap "rm -f $tmp_file" EXIT
cat << EOT >$tmp_file
static inline int u(const int *q)
{
	__typeof_unqual__(*q) v = *q;
	return v;
}
EOT
$@ $tmp_file 2>&1 | awk -v c=1 '"'"'/error/{c=0}END{print c}'"'"''

glibc_need() { # highest GLIBC_x.y needed by the ELF files under $1
	find "$1" -type f -print0 | xargs -0 -r file -N | awk -F: '/ELF/ { print $1 }' |
	while read -r f; do objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' || true; done |
	sed 's/GLIBC_//' | sort -uV | tail -1
}

unpack_kernel() { # id fl abi ver hdr common kb arch gccv
	local id=$1 fl=$2 abi=$3 ver=$4 hdr=$5 common=$6 kb=$7 arch=$8 gccv=$9
	local root=$XZ_KERNELS/$abi m kbdir
	if [ ! -e "$root/.ok-common" ]; then
		rm -rf "$root"
		mkdir -p "$root"
		dpkg-deb -x "$(deb_of "$common" "$ver" all)" "$root"
		dpkg-deb -x "$(deb_of "$kb" "$ver" amd64)" "$root"
		kbdir=$(echo "$root"/usr/lib/linux-kbuild-*)
		if grep -q checker-valid.sh "$root/usr/src/$common/Makefile" &&
		   [ ! -e "$kbdir/scripts/checker-valid.sh" ]; then
			printf '%s\n' "$CHECKER_VALID" > "$kbdir/scripts/checker-valid.sh"
			chmod 755 "$kbdir/scripts/checker-valid.sh"
		fi
		touch "$root/.ok-common"
	fi
	if [ ! -e "$root/.ok-$fl" ]; then
		dpkg-deb -x "$(deb_of "$hdr" "$ver" "$arch")" "$root"
		# the flavour Makefile includes the common one by absolute path
		m=$root/usr/src/$hdr/Makefile
		sed -i "s|^include /usr/src/|include $root/usr/src/|; s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" "$m"
		touch "$root/.ok-$fl"
	fi
}

# fix_glibc ABI GCC-N: the linux-kbuild host tools of trixie and later need
# glibc >= 2.38 (only for __isoc23_strtol & co); bookworm has 2.36. Re-point
# them to the glibc of the toolchain that builds this tree.
fix_glibc() {
	local root=$XZ_KERNELS/$1 tc=$2 kbdir need sys
	[ -e "$root/.ok-glibc" ] && return 0
	kbdir=$(echo "$root"/usr/lib/linux-kbuild-*)
	sys=$(ldd --version | awk 'NR == 1 { print $NF }')
	need=$(glibc_need "$kbdir")
	if [ -n "$need" ] && dpkg --compare-versions "$need" gt "$sys"; then
		[ -e "$XZ_TCS/gcc-$tc/.ok" ] ||
			tc=$(ls "$XZ_TCS" | sed -n 's/^gcc-//p' | sort -n | tail -1)
		[ -n "$tc" ] && [ -e "$XZ_TCS/gcc-$tc/.ok" ] ||
			xz_die "$1: linux-kbuild needs GLIBC_$need and no toolchain provides it"
		xz_log "$1: linux-kbuild needs GLIBC_$need > $sys: patchelf to toolchains/gcc-$tc"
		patch_elf_dir "$kbdir" "$XZ_TCS/gcc-$tc"
	fi
	touch "$root/.ok-glibc"
}

# --------------------------------------------------------------- source ---
# checkpatch.pl is only shipped in the linux-source-X.Y tarball. Extract the
# files lint needs: checkpatch and its data files, and what
# 'make coccicheck M=...' reads: top Makefile, scripts/, include/ (spatch
# --include's kconfig.h and compiler-version.h) and the x86 arch Makefile
# and headers (about 80 MB instead of 1.8 GB for the whole tree).
source_pkg() { # sets SRC_PKG, SRC_VER, SRC_DEB: the newest linux-source-X.Y of sid
	SRC_PKG=$(xz_depends "linux-source/sid" | grep -oE 'linux-source-[0-9.]+' | head -1)
	[ -n "$SRC_PKG" ] || xz_die "cannot resolve linux-source in sid"
	SRC_VER=$(xz_best_version "$SRC_PKG" sid)
	SRC_DEB=$(deb_of "$SRC_PKG" "$SRC_VER" all)
}

fetch_source() {
	local dir=$XZ_CACHE/source pkg
	source_pkg
	pkg=$SRC_PKG
	if [ -e "$dir/$pkg/.ok" ]; then
		ln -sfn "$pkg" "$dir/current"
		return 0
	fi
	[ -e "$SRC_DEB" ] || xz_download "$pkg:amd64=$SRC_VER"
	xz_log "source: $pkg $SRC_VER (extracting checkpatch and coccinelle files)"
	rm -rf "${dir:?}/$pkg"
	mkdir -p "$dir"
	dpkg-deb --fsys-tarfile "$SRC_DEB" | tar -xO "./usr/src/$pkg.tar.xz" |
		xz -dc -T2 | tar -x -C "$dir" --wildcards \
			"$pkg/Makefile" "$pkg/scripts/*" "$pkg/include/*" \
			"$pkg/arch/x86/Makefile*" "$pkg/arch/arm64/Makefile*" \
			"$pkg/arch/x86/include/*" || xz_die "$pkg: extraction failed"
	[ -e "$dir/$pkg/scripts/checkpatch.pl" ] || xz_die "$pkg: no scripts/checkpatch.pl"
	touch "$dir/$pkg/.ok"
	ln -sfn "$pkg" "$dir/current"
}

# ------------------------------------------------- upstream arm64 64K ---
# Debian builds no arm64 kernel with 64K pages. To still compile the module
# with PAGE_SIZE = 64K (16 grants per page), sid's linux-source-X.Y is
# configured for arm64 (defconfig + CONFIG_ARM64_64K_PAGES + the Xen and DRM
# options the driver needs) with sid's gcc, modules_prepare'd, and given the
# Module.symvers of sid's arm64 headers (same version) for modpost. Host
# needs: flex, bison, bc, libssl-dev, libelf-dev. About 1.8 GB unpacked.
UPSTREAM_FRAG='CONFIG_ARM64_64K_PAGES=y
CONFIG_XEN=y
CONFIG_XEN_DOM0=y
CONFIG_XEN_BALLOON=y
CONFIG_XEN_UNPOPULATED_ALLOC=y
CONFIG_XEN_GNTDEV=m
CONFIG_XEN_GRANT_DEV_ALLOC=m
CONFIG_DMA_SHARED_BUFFER=y
CONFIG_DRM=m
CONFIG_DRM_VGEM=m
CONFIG_MEMORY_HOTPLUG=y
CONFIG_ZONE_DEVICE=y
CONFIG_DEBUG_FS=y'
setup_upstream() { # setup_upstream GCC-N SYMVERS-FILE -> one index line
	local g=$1 symvers=$2 full o kv mk
	source_pkg
	full=$XZ_CACHE/source-full/$SRC_PKG
	if [ ! -e "$full/.ok" ]; then
		[ -e "$SRC_DEB" ] || xz_download "$SRC_PKG:amd64=$SRC_VER"
		xz_log "upstream: unpacking $SRC_PKG $SRC_VER"
		rm -rf "$full"
		mkdir -p "$XZ_CACHE/source-full"
		dpkg-deb --fsys-tarfile "$SRC_DEB" | tar -xO "./usr/src/$SRC_PKG.tar.xz" |
			xz -dc -T2 | tar -x -C "$XZ_CACHE/source-full" || xz_die "$SRC_PKG: extraction failed"
		touch "$full/.ok"
	fi
	kv=$(make -s -C "$full" kernelversion)
	o=$XZ_CACHE/upstream/$kv-arm64-64k
	if [ ! -e "$o/.ok" ]; then
		xz_log "upstream: configuring $kv arm64 64K pages with gcc-$g (defconfig + Xen/DRM)"
		rm -rf "$o"
		mkdir -p "$o"
		printf '%s\n' "$UPSTREAM_FRAG" > "$o/frag.config"
		mk=(make -s -C "$full" O="$o" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- CC="aarch64-linux-gnu-gcc-$g")
		{ PATH=$XZ_TCS/gcc-$g/usr/bin:$PATH "${mk[@]}" defconfig &&
		  "$full/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "$o/frag.config" &&
		  PATH=$XZ_TCS/gcc-$g/usr/bin:$PATH "${mk[@]}" olddefconfig &&
		  PATH=$XZ_TCS/gcc-$g/usr/bin:$PATH "${mk[@]}" -j2 modules_prepare; } > "$o/prepare.log" 2>&1 ||
			{ tail -20 "$o/prepare.log" >&2; xz_die "upstream $kv arm64-64k: configuration failed (flex, bison, libssl-dev installed?)"; }
		grep -q '^CONFIG_ARM64_64K_PAGES=y' "$o/.config" || xz_die "upstream: CONFIG_ARM64_64K_PAGES did not stick"
		cp "$symvers" "$o/Module.symvers"
		touch "$o/.ok"
	fi
	echo "up-arm64-64k up arm64-64k $kv $SRC_VER $g $o"
}

# ----------------------------------------------------------------- main ---
# warm cache: the index was made from the current package lists and every
# tree in it is unpacked -> nothing to resolve
if [ $KERNELS = 1 ] && [ -s "$XZ_CACHE/index.txt" ] && [ "$XZ_CACHE/index.txt" -nt "$XZ_APT/.updated" ]; then
	KERNELS=2
	while read -r _ suite fl abi _ g kd; do
		if [ "$suite" = up ]; then
			[ -e "$kd/.ok" ] || KERNELS=1
			continue
		fi
		[ -e "$XZ_KERNELS/$abi/.ok-$fl" ] && [ -e "$XZ_KERNELS/$abi/.ok-glibc" ] && [ -d "$kd" ] &&
		{ host_has_gcc "$g" || [ -e "$XZ_TCS/gcc-$g/.ok" ]; } || KERNELS=1
	done < "$XZ_CACHE/index.txt"
	if [ $UPSTREAM = 1 ] && ! grep -q '^up-' "$XZ_CACHE/index.txt"; then KERNELS=1; fi
	[ $KERNELS = 2 ] && xz_log "kernels: cache is current ($(wc -l < "$XZ_CACHE/index.txt") targets)"
fi
if [ $KERNELS = 1 ]; then
	resolve_kernels
	for r in "${RESOLVED[@]}"; do
		read -r id fl abi ver hdr common kb arch gccv <<<"$r"
		if [ ! -e "$XZ_KERNELS/$abi/.ok-$fl" ]; then
			want "$hdr" "$ver" "$arch" >/dev/null
			[ -e "$XZ_KERNELS/$abi/.ok-common" ] || {
				want "$common" "$ver" all >/dev/null
				want "$kb" "$ver" amd64 >/dev/null
			}
		fi
		if [ "$gccv" != "?" ] && ! host_has_gcc "$gccv"; then TC_NEEDED[$gccv]=1; fi
	done
	for v in "${!TC_NEEDED[@]}"; do resolve_toolchain "$v"; done
	# de-duplicate (a common package is shared by all flavours of one ABI)
	mapfile -t DL_SPECS < <(printf '%s\n' "${DL_SPECS[@]}" | sort -u | sed '/^$/d')
	if [ ${#DL_SPECS[@]} -gt 0 ]; then
		xz_log "downloading ${#DL_SPECS[@]} packages"
		xz_download "${DL_SPECS[@]}"
	fi
	for v in "${!TC_NEEDED[@]}"; do unpack_toolchain "$v"; done
	: > "$XZ_CACHE/index.txt.new"
	for r in "${RESOLVED[@]}"; do
		read -r id fl abi ver hdr common kb arch gccv <<<"$r"
		unpack_kernel "$id" "$fl" "$abi" "$ver" "$hdr" "$common" "$kb" "$arch" "$gccv"
		kd=$XZ_KERNELS/$abi/usr/src/$hdr
		# the tree's own Makefile is authoritative for the compiler
		g=$(xz_gcc_of "$kd")
		[ -n "$g" ] || g=$gccv
		if ! host_has_gcc "$g" && [ ! -e "$XZ_TCS/gcc-$g/.ok" ]; then
			DL_SPECS=()
			resolve_toolchain "$g"
			[ ${#DL_SPECS[@]} = 0 ] || xz_download "${DL_SPECS[@]}"
			unpack_toolchain "$g"
		fi
		fix_glibc "$abi" "$g"
		echo "$id-$fl $id $fl $abi $ver $g $kd" >> "$XZ_CACHE/index.txt.new"
	done
	# the 64K-page target, next to sid's arm64 tree of the same version
	if [ $UPSTREAM = 1 ]; then
		read -r _ _ _ _ _ g kd < <(awk '$1 == "sid-arm64"' "$XZ_CACHE/index.txt.new")
		[ -n "${kd:-}" ] || xz_die "upstream arm64-64k: no sid-arm64 tree to take the compiler and Module.symvers from"
		setup_upstream "$g" "$kd/Module.symvers" >> "$XZ_CACHE/index.txt.new"
	fi
	mv "$XZ_CACHE/index.txt.new" "$XZ_CACHE/index.txt"
	printf '%s\n' "${SKIPPED[@]}" | sed '/^$/d' > "$XZ_CACHE/skipped.txt"
fi
[ $SOURCE = 1 ] && fetch_source
xz_log "done in $(xz_since "$T0")s (cache: $XZ_CACHE)"
