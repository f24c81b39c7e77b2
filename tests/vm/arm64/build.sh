#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build everything the arm64 VM harness boots, into $OUT (build/vm-<plat>):
#   module/xen_drm_zcopy.ko  the driver, cross-built against the Debian arm64
#                            headers of the platform's kernel
#   kmod/zc_importer.ko, kmod/zc_contig.ko  test-only dma-buf importer and exporter (tests/kmod)
#   tests/zctest, tests/zcopy-agent   static aarch64 test programs (libdrm.a)
#   xen                      Xen 4.17 arm64 (an arm64 Image, loaded by QEMU -kernel)
#   Image                    the dom0 (and domU) kernel, an uncompressed Image
#   domU.cpio                domU initramfs: busybox, xenstore client, gnt modules, agent
#   dom0.cpio                dom0 initramfs (uncompressed: faster under TCG):
#                            busybox, Xen userspace + libraries, modules (xen-*,
#                            drm, vgem, xen_drm_zcopy), zctest, the shared guest
#                            scripts (tests/vm/guest), Image and domU.cpio
#
#   tests/vm/arm64/build.sh arm64|arm64-16k
#
# Needs tests/vm/arm64/fetch.sh to have filled the cache. The guest side is
# the platform-independent tests/vm/guest/ (owned by the x86 harness); only
# the PID-1 wrapper, which installs the busybox applets, is arm64's own.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
PLAT=${1:?usage: $0 arm64|arm64-16k}
C=${XZC_ARM64_CACHE:-${HOME:-/root}/.cache/xen-zcopy/arm64}
case $PLAT in
arm64) K=$C/k4k ;;
arm64-16k) K=$C/k16k ;;
*) echo "build.sh: unknown platform $PLAT" >&2; exit 2 ;;
esac
# another kernel of the platform's page size, unpacked by
# scripts/runtime-kernels.sh (make check-kernels): its kernel.env names it
K=${ZC_ARM64_KROOT:-$K}
OUT=${ZC_OUT:-$TOP/build/vm-$PLAT}
R0=$C/root
CROSS=${CROSS_COMPILE:-aarch64-linux-gnu-}
[ -e "$K/kernel.env" ] && [ -e "$R0/packages.txt" ] ||
	{ echo "build.sh: $C not fetched (run tests/vm/arm64/fetch.sh)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$K/kernel.env"	# KREL KVER KDIR [KIMG KPATH]
# kmake ARGS...: make for the kernel tree, with the compiler it was
# configured with first in PATH (KPATH: a matrix toolchain such as sid's
# gcc-16; empty or unset when the host has it)
kmake() { PATH="${KPATH:+$KPATH:}$PATH" make "$@"; }
KM=$K/lib/modules/$KREL
[ -d "$KM" ] || KM=$K/usr/lib/modules/$KREL
mkdir -p "$OUT"

# ---------------------------------------------------------------- module
# Built in a copy of the sources: kbuild writes its objects next to them and
# the x86 build (and the other arm64 platform) use the same source tree.
echo "== module ($KREL, KDIR=$KDIR)"
M=$OUT/module
mkdir -p "$M/src"
rm -f "$M/xen_drm_zcopy.ko"
for d in Kbuild src include uapi; do
	cp -a --remove-destination "$TOP/$d" "$M/src/" 2>/dev/null || cp -a "$TOP/$d" "$M/src/"
done
# files deleted from the tree must not linger in the copy
(cd "$M/src" && find src include uapi -type f \( -name '*.c' -o -name '*.h' \) | while read -r f; do
	[ -e "$TOP/$f" ] || rm -f "$f"; done)
# BTF for the module would need the suite's pahole; the tests do not use it
kmake -C "$KDIR" M="$M/src" ARCH=arm64 CROSS_COMPILE="$CROSS" \
	CONFIG_DEBUG_INFO_BTF_MODULES= -j2 modules
cp "$M/src/xen_drm_zcopy.ko" "$M/"

# ---------------------------------------------------------------- test importer module
echo "== test importer module (tests/kmod)"
rm -rf "$OUT/kmod"
mkdir -p "$OUT/kmod"
cp "$TOP"/tests/kmod/Kbuild "$TOP"/tests/kmod/*.[ch] "$OUT/kmod/"
kmake -C "$KDIR" M="$OUT/kmod" ARCH=arm64 CROSS_COMPILE="$CROSS" \
	CONFIG_DEBUG_INFO_BTF_MODULES= -j2 modules

# ---------------------------------------------------------------- test programs
echo "== test programs (static aarch64)"
make -C "$TOP/tests" O="$OUT/tests" CC="${CROSS}gcc" CFLAGS="-O2 -g -static" \
	DRM_CFLAGS="-I$R0/usr/include/libdrm -I$R0/usr/include" \
	DRM_LIBS="$R0/usr/lib/aarch64-linux-gnu/libdrm.a" -j2
# --- bench (owner: perf): tests/bench, for `make bench-arm64` ---
make -C "$TOP/tests/bench" O="$OUT/bench" CC="${CROSS}gcc" CFLAGS="-O2 -g -static" \
	DRM_CFLAGS="-I$R0/usr/include/libdrm -I$R0/usr/include" \
	DRM_LIBS="$R0/usr/lib/aarch64-linux-gnu/libdrm.a"
# --- end bench ---

# ---------------------------------------------------------------- helpers
# The host cannot run aarch64 binaries (no ldd): library closures come from
# readelf's NEEDED entries, resolved in the unpacked arm64 root.
LIBDIRS="lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib"
copy_file() {	# copy_file ROOT ABS-PATH: copy from the arm64 root, same path
	mkdir -p "$1$(dirname "$2")"
	cp -L "$R0$2" "$1$2"
}
find_lib() {	# find_lib SONAME: absolute path inside the arm64 root
	local d
	for d in $LIBDIRS; do
		[ -e "$R0/$d/$1" ] && { echo "/$d/$1"; return 0; }
	done
	return 1
}
copy_bin() {	# copy_bin ROOT ABS-PATH...: binaries + their library closure
	local root=$1 b lib p todo=()
	shift
	for b in "$@"; do copy_file "$root" "$b"; todo+=("$root$b"); done
	while [ ${#todo[@]} -gt 0 ]; do
		b=${todo[0]}; todo=("${todo[@]:1}")
		for lib in $(readelf -d "$b" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			p=$(find_lib "$lib") || { echo "build.sh: $lib (needed by ${b#"$root"}) not in $R0" >&2; exit 1; }
			[ -e "$root$p" ] && continue
			copy_file "$root" "$p"
			todo+=("$root$p")
		done
	done
}
modules_dep() {	# depmod the unpacked kernel tree once (Debian ships no modules.dep)
	[ -e "$KM/modules.dep" ] && [ "$KM/modules.dep" -nt "$K/.version" ] && return 0
	mkdir -p "$K/depmod/lib"
	ln -sfn "$(dirname "$KM")" "$K/depmod/lib/modules"
	depmod -b "$K/depmod" "$KREL"
}
copy_modules() {	# copy_modules ROOT MODULE...: modules + dependencies, uncompressed
	local root=$1 m f rel
	shift
	for m in "$@"; do
		for f in $(modprobe -d "$K/depmod" -S "$KREL" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
			rel=${f#"$KM"/}
			rel=${rel#"$K/depmod/lib/modules/$KREL/"}
			mkdir -p "$root/lib/modules/$KREL/$(dirname "$rel")"
			case $rel in
			*.ko.xz) xz -dc "$f" > "$root/lib/modules/$KREL/${rel%.xz}" ;;
			*.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$KREL/${rel%.zst}" ;;
			*) cp "$f" "$root/lib/modules/$KREL/$rel" ;;
			esac
		done
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -e "$KM/$f" ] && cp "$KM/$f" "$root/lib/modules/$KREL/"
	done
}
base_root() {	# base_root ROOT INIT-SCRIPT: skeleton, busybox, libgcc_s, PID-1 wrapper
	local root=$1
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,var/lib,var/log,usr/bin,usr/sbin,zc}
	ln -s ../run "$root/var/run"
	cp "$R0/bin/busybox" "$root/bin/busybox"
	# the ELF interpreter (PT_INTERP, not a NEEDED entry) and its real file
	mkdir -p "$root/lib/aarch64-linux-gnu"
	cp -a "$R0/lib/ld-linux-aarch64.so.1" "$root/lib/"
	copy_file "$root" /lib/aarch64-linux-gnu/ld-linux-aarch64.so.1
	# glibc dlopen()s libgcc_s for pthread_cancel (xl); NEEDED does not show it
	copy_bin "$root" "$(find_lib libgcc_s.so.1)"
	echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
	echo 'root:x:0:' > "$root/etc/group"
	# The applet links are made at boot by the arm64 busybox itself: the
	# host cannot run it to list them, and the host's busybox may differ.
	cat > "$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s
exec $2
EOF
	chmod 0755 "$root/init"
}
mkcpio() {	# mkcpio ROOT FILE
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) > "$2"
}

modules_dep
cp "$R0/boot/xen-4.17-arm64" "$OUT/xen"
cp "${KIMG:-$K/boot/vmlinuz-$KREL}" "$OUT/Image"
echo "$KREL" > "$OUT/kernel.release"

# ---------------------------------------------------------------- domU
echo "== domU initramfs"
R=$OUT/rootfs-domU
base_root "$R" /zc/domU-init.sh
copy_bin "$R" /usr/bin/xenstore
for a in read write exists list ls rm watch; do ln -sf xenstore "$R/usr/bin/xenstore-$a"; done
copy_modules "$R" xen-gntalloc xen-gntdev xen-evtchn
depmod -b "$R" "$KREL"
install -m 0755 "$OUT/tests/zcopy-agent" "$R/bin/zcopy-agent"
install -m 0755 "$TOP/tests/vm/guest/domU-init.sh" "$R/zc/domU-init.sh"
mkcpio "$R" "$OUT/domU.cpio"

# ---------------------------------------------------------------- dom0
echo "== dom0 initramfs"
R=$OUT/rootfs-dom0
base_root "$R" /zc/dom0-init.sh
XENLIB=/usr/lib/xen-4.17
copy_bin "$R" $XENLIB/bin/xl $XENLIB/bin/xenstored $XENLIB/bin/xenconsoled \
	$XENLIB/bin/xenconsole $XENLIB/bin/xen-init-dom0 /usr/bin/xenstore
for a in read write exists list ls rm watch chmod; do ln -sf xenstore "$R/usr/bin/xenstore-$a"; done
ln -sf $XENLIB/bin/xl "$R/usr/sbin/xl"
install -m 0755 "$OUT/tests/zctest" "$R/usr/bin/zctest"
mkdir -p "$R/etc/xen" "$R/var/lib/xen" "$R/var/log/xen/console" "$R/var/lib/xenstored" "$R/boot"
echo '# xl defaults (no networking or block backends in the test system)' > "$R/etc/xen/xl.conf"
copy_modules "$R" xenfs xen-privcmd xen-evtchn xen-gntdev xen-gntalloc drm vgem vivid
mkdir -p "$R/lib/modules/$KREL/extra"
cp "$M/xen_drm_zcopy.ko" "$OUT/kmod/zc_importer.ko" "$OUT/kmod/zc_contig.ko" \
	"$R/lib/modules/$KREL/extra/"
for m in $(modinfo -F depends "$M/xen_drm_zcopy.ko" | tr ',' ' '); do
	copy_modules "$R" "$m"
done
depmod -b "$R" "$KREL"
cp "$OUT/Image" "$R/boot/Image"
cp "$OUT/domU.cpio" "$R/boot/domU.cpio"
cp "$TOP/tests/vm/arm64/domU.cfg" "$R/etc/xen/domU.cfg"
install -m 0755 "$TOP/tests/vm/guest/dom0-init.sh" "$R/zc/dom0-init.sh"
install -m 0644 "$TOP/tests/vm/guest/zc-lib.sh" "$R/zc/"
install -m 0755 "$TOP/tests/vm/guest/dom0-suite.sh" "$R/zc/"
if [ -d "$TOP/tests/demo" ]; then
	cp -a "$TOP/tests/demo" "$R/zc/demo"
fi
# ---- libxengnttab zero-copy (owner: gnttab): the preload library, the launcher
# and the test program (tests/cases/90_gnttab.c runs it), dynamic aarch64 against
# the arm64 Xen libraries of $R0; the Xen headers are the host's (libxen-dev:
# architecture-independent, with arch-arm.h), in a directory of their own
ZG_AL=$R0$(dirname "$(find_lib libxengnttab.so.1)")
ZG_INC=$OUT/xen-include
mkdir -p "$ZG_INC"
ln -sfn /usr/include/xengnttab.h /usr/include/xentoollog.h /usr/include/xentoolcore.h \
	/usr/include/xen "$ZG_INC/"
ZG_MAKE=(CC="${CROSS}gcc" XEN_CFLAGS="-I$ZG_INC" DRM_CFLAGS="-I$R0/usr/include/libdrm -I$R0/usr/include")
ZG_LINK="-Wl,-rpath-link,$ZG_AL:$R0/lib/aarch64-linux-gnu"
make -C "$TOP/lib/gnttab-zcopy" O="$OUT/lib" "${ZG_MAKE[@]}" \
	XEN_LIBS="$ZG_AL/libxentoollog.so.1 $ZG_LINK"
make -C "$TOP/tests/gnttab" O="$OUT/gnttab" "${ZG_MAKE[@]}" DRM_LIBS="$ZG_AL/libdrm.a" \
	XEN_LIBS="$ZG_AL/libxengnttab.so.1 $ZG_AL/libxentoolcore.so.1 $ZG_LINK"
make -s -C "$TOP" install-lib LIB_O="$OUT/lib" DESTDIR="$R" PREFIX=/usr "${ZG_MAKE[@]}"
install -D -m 0755 "$OUT/gnttab/zc-gnttab" "$R/usr/libexec/xen-zcopy/zc-gnttab"
for l in libxengnttab.so.1 libxentoolcore.so.1 libxentoollog.so.1; do
	copy_bin "$R" "$(find_lib $l)"
done
# ---- end of the libxengnttab zero-copy block
# --- bench (owner: perf) ---
mkdir -p "$R/zc/bench"
install -m 0755 "$OUT/bench/zcbench" "$TOP"/tests/bench/*.sh "$R/zc/bench/"
# --- end bench ---
mkcpio "$R" "$OUT/dom0.cpio"
echo "dom0.cpio $(( $(stat -c %s "$OUT/dom0.cpio") >> 20 )) MiB, domU.cpio $(( $(stat -c %s "$OUT/domU.cpio") >> 20 )) MiB"
echo "KREL=$KREL"
