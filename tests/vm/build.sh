#!/bin/bash
# Build everything the x86_64 VM harness boots, into $ZC_OUT (build/vm):
#   module/xen_drm_zcopy.ko  the driver, built against the Debian kernel $KV
#   kmod/zc_importer.ko      the test-only dma-buf importer (tests/kmod), same kernel
#   tests/zctest, tests/zcopy-agent
#   xen                      the Xen 4.17 hypervisor (multiboot ELF)
#   vmlinux                  the kernel (dom0 and domU) as an uncompressed ELF
#   domU.cpio                domU initramfs: busybox, xenstore client, gnt modules, agent
#   dom0.cpio                dom0 initramfs (uncompressed: faster under TCG): busybox,
#                            Xen userspace, modules (xen-*, drm, vgem, xen_drm_zcopy),
#                            zctest, the domU kernel (ELF vmlinux) and domU.cpio
# Uses only host packages (see .ci/run), or an unpacked archive kernel
# (ZC_KROOT). No BTF for the modules (no pahole needed). Prints "KV=<version>" last.
# Env: KV (default: newest installed Debian *-amd64 kernel with headers),
#      ZC_ALLOW_NO_MODULE=1 (development only: boot without the driver),
#      ZC_MODULE_FROM_DEB=<xen-zcopy-dkms .deb> (the module as DKMS builds it
#      from the package: scripts/deb-module.sh, instead of the tree's build),
#      ZC_KROOT=<dir> (a kernel unpacked, not installed, by
#      scripts/runtime-kernels.sh: its kernel.env names image, modules, headers;
#      overrides KV).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${ZC_OUT:-$TOP/build/vm}
XENLIB=/usr/lib/xen-4.17
mkdir -p "$OUT"

KMOD=/			# root of lib/modules/$KV (modprobe -d)
if [ -n "${ZC_KROOT:-}" ]; then
	[ -e "$ZC_KROOT/kernel.env" ] || { echo "build.sh: no $ZC_KROOT/kernel.env (scripts/runtime-kernels.sh)" >&2; exit 1; }
	. "$ZC_KROOT/kernel.env"	# KREL KVER KDIR KIMG KMOD KSRC KPATH [KELF]
	KV=$KREL
fi
# kmake ARGS...: make for the kernel tree, with the compiler it was
# configured with first in PATH (KPATH: a matrix toolchain, e.g. sid's
# gcc-16; empty when the host has it). Only kernel builds see it.
kmake() { PATH="${KPATH:+$KPATH:}$PATH" make "$@"; }
if [ -z "${KV:-}" ]; then
	for k in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -rV); do
		[ -e "/lib/modules/$k/build/Makefile" ] && { KV=$k; break; }
	done
fi
[ -n "${KV:-}" ] || { echo "build.sh: no /boot/vmlinuz-*-amd64 with headers in /lib/modules/*/build (install linux-image-amd64 linux-headers-amd64)" >&2; exit 1; }
KIMG=${KIMG:-/boot/vmlinuz-$KV}
KDIR=${KDIR:-/lib/modules/$KV/build}
for f in "$KIMG" "$KDIR/Makefile" /boot/xen-4.17-amd64.gz $XENLIB/bin/xl /bin/busybox; do
	[ -e "$f" ] || { echo "build.sh: missing $f (see .ci/run for the packages)" >&2; exit 1; }
done

# ---------------------------------------------------------------- helpers
copy_file() {   # copy_file ROOT ABS-PATH: copy (dereferenced) to the same path
	mkdir -p "$1$(dirname "$2")"
	cp -L "$2" "$1$2"
}
copy_bin() {    # copy_bin ROOT BINARY...: binaries + their shared libraries
	local root=$1 b lib
	shift
	for b in "$@"; do
		copy_file "$root" "$b"
		for lib in $(ldd "$b" 2>/dev/null | grep -o '/[^ ]*' || true); do
			[ -e "$root$lib" ] || copy_file "$root" "$lib"
		done
	done
}
copy_modules() { # copy_modules ROOT MODULE...: modules + dependencies, uncompressed
	local root=$1 m f rel
	shift
	for m in "$@"; do
		for f in $(modprobe -d "$KMOD" -S "$KV" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
			rel=/${f#"${KMOD%/}"/}
			mkdir -p "$root$(dirname "$rel")"
			case $rel in
			*.ko.xz) xz -dc "$f" > "$root${rel%.xz}" ;;
			*.ko.zst) zstd -qdc "$f" > "$root${rel%.zst}" ;;
			*) cp -L "$f" "$root$rel" ;;
			esac
		done
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "$KMOD/lib/modules/$KV/$f" "$root/lib/modules/$KV/"
	done
}
base_root() {   # base_root ROOT: skeleton + busybox + libgcc_s
	local root=$1 a
	rm -rf "$root"
	mkdir -p "$root"/{bin,etc,proc,sys,dev,run,tmp,root,var/lib,var/log,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu}
	ln -s bin "$root/sbin"   # the kernel runs /sbin/poweroff and /sbin/modprobe
	ln -s ../run "$root/var/run"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' > "$root/etc/ld.so.conf"
	# glibc dlopen()s libgcc_s for pthread_cancel; ldd does not list it, and
	# without it xl aborts ("libgcc_s.so.1 must be installed for pthread_cancel")
	copy_file "$root" "$(ls /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null | head -1)"
	echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
	echo 'root:x:0:' > "$root/etc/group"
}
mkcpio() {      # mkcpio ROOT FILE
	(cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) > "$2"
}

# ---------------------------------------------------------------- module
mkdir -p "$OUT/module"
rm -f "$OUT/module/xen_drm_zcopy.ko"
if [ -n "${ZC_MODULE_FROM_DEB:-}" ]; then
	# the module exactly as the xen-zcopy-dkms package builds it (owner: pkg)
	echo "== module from $ZC_MODULE_FROM_DEB (dkms build for $KV)"
	"$TOP/scripts/deb-module.sh" "$ZC_MODULE_FROM_DEB" "$KV" "$OUT/module"
elif [ -e "$TOP/Kbuild" ] && ls "$TOP"/src/*.c >/dev/null 2>&1; then
	echo "== module (KDIR=$KDIR)"
	kmake -C "$TOP" KDIR="$KDIR" CONFIG_DEBUG_INFO_BTF_MODULES= -j2 modules
	cp "$TOP/xen_drm_zcopy.ko" "$OUT/module/"
elif [ "${ZC_ALLOW_NO_MODULE:-0}" = 1 ]; then
	echo "== module: no driver source (Kbuild, src/*.c) yet; ZC_ALLOW_NO_MODULE=1, continuing without it"
else
	echo "build.sh: no driver source (Kbuild, src/*.c) to build" >&2
	exit 1
fi

# ---------------------------------------------------------------- test modules
# tests/kmod: zc_importer.ko (a test importer), zc_contig.ko (a test exporter)
# built in a copy: kbuild writes its objects next to the sources
echo "== test importer module (tests/kmod, KDIR=$KDIR)"
rm -rf "$OUT/kmod"
mkdir -p "$OUT/kmod"
cp "$TOP"/tests/kmod/Kbuild "$TOP"/tests/kmod/*.[ch] "$OUT/kmod/"
kmake -C "$KDIR" M="$OUT/kmod" CONFIG_DEBUG_INFO_BTF_MODULES= -j2 modules

# ---------------------------------------------------------------- test programs
echo "== test programs"
make -C "$TOP/tests" O="$OUT/tests" -j2

# ---------------------------------------------------------------- xen
zcat /boot/xen-4.17-amd64.gz > "$OUT/xen"

# ---------------------------------------------------------------- domU
echo "== domU initramfs"
R=$OUT/rootfs-domU
base_root "$R"
copy_bin "$R" /usr/bin/xenstore
for a in read write exists list ls rm watch; do ln -sf xenstore "$R/usr/bin/xenstore-$a"; done
copy_modules "$R" xen-gntalloc xen-gntdev xen-evtchn
depmod -b "$R" "$KV"
install -m 0755 "$OUT/tests/zcopy-agent" "$R/bin/zcopy-agent"
install -m 0755 "$TOP/tests/vm/guest/domU-init.sh" "$R/init"
ldconfig -r "$R"
mkcpio "$R" "$OUT/domU.cpio"

# ---------------------------------------------------------------- dom0
echo "== dom0 initramfs"
R=$OUT/rootfs-dom0
base_root "$R"
copy_bin "$R" $XENLIB/bin/xl $XENLIB/bin/xenstored $XENLIB/bin/xenconsoled \
	$XENLIB/bin/xenconsole $XENLIB/bin/xen-init-dom0 $XENLIB/bin/libxl-save-helper \
	/usr/bin/xenstore "$OUT/tests/zctest"
mv "$R$OUT/tests/zctest" "$R/usr/bin/zctest"
for a in read write exists list ls rm watch chmod; do ln -sf xenstore "$R/usr/bin/xenstore-$a"; done
ln -sf $XENLIB/bin/xl "$R/usr/sbin/xl"
mkdir -p "$R/etc/xen" "$R/var/lib/xen" "$R/var/log/xen/console" "$R/var/lib/xenstored" "$R/boot"
cp /etc/xen/xl.conf "$R/etc/xen/"
cp -a /etc/xen/scripts "$R/etc/xen/"
copy_modules "$R" xenfs xen-privcmd xen-evtchn xen-gntdev xen-gntalloc drm vgem vivid
if [ -e "$OUT/module/xen_drm_zcopy.ko" ]; then
	mkdir -p "$R/lib/modules/$KV/extra"
	cp "$OUT/module/xen_drm_zcopy.ko" "$R/lib/modules/$KV/extra/"
	# whatever the driver depends on (drm helpers, ...), from the Debian tree
	for m in $(modinfo -F depends "$OUT/module/xen_drm_zcopy.ko" | tr ',' ' '); do
		copy_modules "$R" "$m"
	done
fi
mkdir -p "$R/lib/modules/$KV/extra"
cp "$OUT/kmod/zc_importer.ko" "$OUT/kmod/zc_contig.ko" "$R/lib/modules/$KV/extra/"
# --- display path (tests/backend/vm-build.sh, owner: display) ---
. "$TOP/tests/backend/vm-build.sh"
zc_display_image "$R"
# --- end display path ---
depmod -b "$R" "$KV"
# the domU kernel: the ELF vmlinux inside the bzImage (xl create would
# otherwise XZ-decompress it in dom0 user space: ~5 s per domain under TCG)
# (XZ up to 6.1, zstd in Debian's 6.12 and later); a kernel built here
# (scripts/debug-kernel.sh) names its ELF itself (KELF)
if [ -n "${KELF:-}" ]; then
	cp "$KELF" "$OUT/vmlinux"
else
	off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$KIMG" | LC_ALL=C cut -d: -f1 | sed -n 1p || true)
	unz=(xz -dc --single-stream)
	if [ -z "$off" ]; then
		off=$(LC_ALL=C grep -m1 -obUaP '\x28\xb5\x2f\xfd' "$KIMG" | LC_ALL=C cut -d: -f1 | sed -n 1p || true)
		unz=(zstd -qdc)
	fi
	[ -n "$off" ] || { echo "build.sh: no XZ or zstd payload in $KIMG" >&2; exit 1; }
	# zstd -d stops at the end of the frame but complains about the trailing data
	{ tail -c +$((off + 1)) "$KIMG" || true; } | { "${unz[@]}" 2>/dev/null || true; } > "$OUT/vmlinux"   # tail: SIGPIPE
fi
file "$OUT/vmlinux" | grep -q 'ELF 64-bit' || { echo "build.sh: no ELF vmlinux out of $KIMG" >&2; exit 1; }
# the same ELF is the dom0 kernel too: Xen's own XZ decompression of the
# bzImage took ~9 s of the boot under TCG
cp "$OUT/vmlinux" "$R/boot/vmlinux"
cp "$OUT/domU.cpio" "$R/boot/domU.cpio"
cp "$TOP/tests/vm/domU.cfg" "$R/etc/xen/domU.cfg"
mkdir -p "$R/zc"
install -m 0755 "$TOP/tests/vm/guest/dom0-init.sh" "$R/init"
install -m 0644 "$TOP"/tests/vm/guest/zc-lib.sh "$R/zc/"
install -m 0755 "$TOP"/tests/vm/guest/dom0-suite.sh "$R/zc/"
if [ -d "$TOP/tests/demo" ]; then
	[ -e "$TOP/tests/demo/Makefile" ] && make -C "$TOP/tests/demo" -j2
	cp -a "$TOP/tests/demo" "$R/zc/demo"
fi
if [ -d "$TOP/tests/bench" ]; then
	make -C "$TOP/tests/bench" O="$OUT/bench"
	mkdir -p "$R/zc/bench"
	install -m 0755 "$OUT/bench/zcbench" "$TOP"/tests/bench/*.sh "$R/zc/bench/"
fi
# ---- libxengnttab zero-copy (owner: gnttab): lib/gnttab-zcopy, tools/xen-zcopy-run,
# the test program tests/gnttab (run by tests/cases/90_gnttab.c); both with
# their shared libraries (the real Debian libxengnttab among them)
make -C "$TOP" lib LIB_O="$OUT/lib"
make -C "$TOP/tests/gnttab" O="$OUT/gnttab"
make -s -C "$TOP" install-lib LIB_O="$OUT/lib" DESTDIR="$R" PREFIX=/usr
install -D -m 0755 "$OUT/gnttab/zc-gnttab" "$R/usr/libexec/xen-zcopy/zc-gnttab"
for b in "$OUT/gnttab/zc-gnttab" "$OUT/lib/libxenzcopy-gnttab.so"; do
	for lib in $(ldd "$b" | grep -o '/[^ ]*' || true); do
		[ -e "$R$lib" ] || copy_file "$R" "$lib"
	done
done
# ---- end of the libxengnttab zero-copy block
ldconfig -r "$R"
mkcpio "$R" "$OUT/dom0.cpio"
echo "KV=$KV"
