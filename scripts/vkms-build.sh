#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build vkms.ko (the virtual KMS driver, with its writeback connector) out of
# tree for a Debian kernel that does not ship it (# CONFIG_DRM_VKMS is not
# set), from Debian's linux-source package of the same upstream version.
# The display tests use it in dom0 as the KMS device that imports the
# guest's dma-bufs and scans them out (tests/backend, tests/cases/80_display.c).
#
#   scripts/vkms-build.sh KDIR SOURCE-TARBALL OUT-KO [make args...]
#     KDIR            kernel build tree (/lib/modules/<krel>/build)
#     SOURCE-TARBALL  /usr/src/linux-source-<ver>.tar.xz
#     OUT-KO          where to put vkms.ko
#     make args       e.g. ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
#
# Cache: $XZ_CACHE/vkms/<kernel release>-<tarball stamp>/ (default
# ~/.cache/xen-zcopy): the extracted drivers/gpu/drm/vkms and the module.
# A warm run only copies the cached module. Prints "vkms: cold|warm N s".
set -euo pipefail
KDIR=${1:?usage: $0 KDIR SOURCE-TARBALL OUT-KO [make args]}
SRC=${2:?source tarball}
OUTKO=${3:?output .ko}
shift 3
CACHE=${XZ_CACHE:-${HOME:-/root}/.cache/xen-zcopy}/vkms
t0=$SECONDS
[ -r "$SRC" ] || { echo "vkms-build: $SRC missing (apt-get install linux-source-<ver>)" >&2; exit 1; }
[ -e "$KDIR/Makefile" ] || { echo "vkms-build: $KDIR is not a kernel build tree" >&2; exit 1; }
# the resolved build tree names the kernel (linux-headers-<release>)
KREL=$(basename "$(readlink -f "$KDIR")")
# the tarball's size and mtime name its version well enough (a new
# linux-source upload replaces the file)
STAMP=$(stat -c '%s-%Y' "$SRC")-clones1
D=$CACHE/$KREL-$STAMP
if [ -e "$D/vkms.ko" ]; then
	cp "$D/vkms.ko" "$OUTKO"
	echo "vkms: warm $((SECONDS - t0)) s ($D/vkms.ko)"
	exit 0
fi
rm -rf "$D"
mkdir -p "$D"
top=$(tar -tJf "$SRC" 2>/dev/null | head -1 | cut -d/ -f1) || true
[ -n "$top" ] || { echo "vkms-build: cannot list $SRC" >&2; exit 1; }
tar -xJf "$SRC" -C "$D" "$top/drivers/gpu/drm/vkms"
mv "$D/$top/drivers/gpu/drm/vkms" "$D/src"
rm -rf "${D:?}/$top"
# Debian's 6.1.192 has the atomic check that an encoder may only share a CRTC
# with encoders in its possible_clones (drm_atomic_check_valid_clones), but
# not vkms's matching change: every commit that puts the writeback
# connector next to Virtual-1 on the CRTC fails with -EINVAL. Make the two
# encoders clones of each other (what the writeback connector is).
if true &&
   ! grep -q 'possible_clones' "$D/src/vkms_output.c"; then
	sed -i '/DRM_ERROR("Failed to init writeback connector\\n");/a\
		else\
			encoder->possible_clones = output->wb_connector.encoder.possible_clones =\
				drm_encoder_mask(encoder) |\
				drm_encoder_mask(\&output->wb_connector.encoder);' "$D/src/vkms_output.c"
	grep -q 'possible_clones' "$D/src/vkms_output.c" ||
		{ echo "vkms-build: cannot set possible_clones in vkms_output.c" >&2; exit 1; }
fi
# the in-tree Makefile names the objects under CONFIG_DRM_VKMS; BTF for an
# out-of-tree module would need a matching pahole and is not used
make -C "$KDIR" M="$D/src" CONFIG_DRM_VKMS=m CONFIG_DEBUG_INFO_BTF_MODULES= "$@" -j2 modules
cp "$D/src/vkms.ko" "$D/vkms.ko"
cp "$D/vkms.ko" "$OUTKO"
echo "vkms: cold $((SECONDS - t0)) s ($D/vkms.ko)"
