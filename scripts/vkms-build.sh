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
STAMP=$(stat -c '%s-%Y' "$SRC")-clones1-wbusers1-blend1
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
# vkms keeps its composer (the vblank work that writes a frame back) on by a
# bool, not a count: each writeback commit turns it on and each job's cleanup,
# which runs later from a workqueue, turns it off. When the cleanup of frame
# N-1 runs after the commit of frame N (a dom0 vCPU stalled by TCG: seen with
# "vblank timer overrun" lines), the composer stops with job N queued, job N
# signals only at the next commit, and every later fence is one frame late:
# the backend's 2 s wait for each frame's writeback fails for the rest of the
# run. Count the writeback users instead (one vkms device per module here).
# Reproduced with a 200 ms sleep at the top of the job cleanup: unpatched,
# display_fe_alloc and display_be_alloc fail with that message on every
# frame; patched, both pass.
if ! grep -q 'vkms_wb_composer_get' "$D/src/vkms_writeback.c"; then
	sed -i 's/^struct vkms_writeback_job {$/&\n\tbool composer_held;\t\/* counted in vkms_wb_users *\//' \
		"$D/src/vkms_drv.h"
	sed -i 's/vkms_set_composer(\([^,]*\), true);/vkms_wb_composer_get(\1, conn_state->writeback_job->priv);/;
		s/vkms_set_composer(\([^,]*\), false);/vkms_wb_composer_put(\1, vkmsjob);/' \
		"$D/src/vkms_writeback.c"
	sed -i '/^static const u32 vkms_wb_formats/i\
/*\
 * xen-zcopy test build: the composer stays on while any writeback job holds\
 * it (from its commit to its cleanup); a job cleaned up without a commit\
 * (a failed commit) holds nothing.\
 */\
static DEFINE_MUTEX(vkms_wb_users_lock);\
static unsigned int vkms_wb_users;\
\
static void vkms_wb_composer_get(struct vkms_output *out, struct vkms_writeback_job *job)\
{\
	mutex_lock(\&vkms_wb_users_lock);\
	if (!job->composer_held) {\
		job->composer_held = true;\
		if (!vkms_wb_users++)\
			vkms_set_composer(out, true);\
	}\
	mutex_unlock(\&vkms_wb_users_lock);\
}\
\
static void vkms_wb_composer_put(struct vkms_output *out, struct vkms_writeback_job *job)\
{\
	mutex_lock(\&vkms_wb_users_lock);\
	if (job->composer_held) {\
		job->composer_held = false;\
		if (!--vkms_wb_users)\
			vkms_set_composer(out, false);\
	}\
	mutex_unlock(\&vkms_wb_users_lock);\
}\
' "$D/src/vkms_writeback.c"
	if [ "$(grep -c 'vkms_wb_composer_[gp][eu]t(' "$D/src/vkms_writeback.c")" != 4 ] ||
	   ! grep -q 'bool composer_held;' "$D/src/vkms_drv.h"; then
		echo "vkms-build: cannot count the writeback composer users" >&2
		exit 1
	fi
fi
# The composer work reads the job to write back before it takes the lock
# under which the commit publishes the job and wb_pending: a commit landing in
# between has its fence signalled with the frame written nowhere. Read both
# under the lock.
if grep -q 'struct vkms_writeback_job \*active_wb = crtc_state->active_writeback;' \
	"$D/src/vkms_composer.c"; then
	sed -i 's/struct vkms_writeback_job \*active_wb = crtc_state->active_writeback;/struct vkms_writeback_job *active_wb;/;
		s/^\(\s*\)wb_pending = crtc_state->wb_pending;/&\n\1active_wb = crtc_state->active_writeback;/' \
		"$D/src/vkms_composer.c"
	grep -q '^\s*active_wb = crtc_state->active_writeback;' "$D/src/vkms_composer.c" ||
		{ echo "vkms-build: cannot move the writeback job read under the lock" >&2; exit 1; }
fi
# vkms offers ARGB formats on every plane but no "pixel blend mode"
# property; since 7.x drm_mode_config_validate() warns about that at
# registration ("[PLANE:35:plane-0] pixel format with alpha exposed but blend
# mode not setup. Please fix."), a warning the display cases' log scan fails.
# Its composer blends premultiplied alpha (pre_mul_alpha_blend()), so state
# exactly that: an immutable property with the one mode it implements.
if ! grep -q 'blend_mode_property' "$D/src/vkms_plane.c"; then
	sed -i 's/^\(\s*\)drm_plane_helper_add(&plane->base, [^)]*);$/&\n\1drm_plane_create_blend_mode_property(\&plane->base, BIT(DRM_MODE_BLEND_PREMULTI));/' \
		"$D/src/vkms_plane.c"
	grep -q 'drm_plane_create_blend_mode_property' "$D/src/vkms_plane.c" ||
		{ echo "vkms-build: cannot add the blend mode property to vkms_plane.c" >&2; exit 1; }
	grep -q 'drm_blend.h' "$D/src/vkms_plane.c" ||
		sed -i '0,/^#include <drm\//s//#include <drm\/drm_blend.h>\n&/' "$D/src/vkms_plane.c"
fi
# the in-tree Makefile names the objects under CONFIG_DRM_VKMS; BTF for an
# out-of-tree module would need a matching pahole and is not used
make -C "$KDIR" M="$D/src" CONFIG_DRM_VKMS=m CONFIG_DEBUG_INFO_BTF_MODULES= "$@" -j2 modules
cp "$D/src/vkms.ko" "$D/vkms.ko"
cp "$D/vkms.ko" "$OUTKO"
echo "vkms: cold $((SECONDS - t0)) s ($D/vkms.ko)"
