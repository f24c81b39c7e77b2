# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The display path's part of the x86_64 VM image, sourced by
# tests/vm/build.sh while it fills the dom0 root $R (its helpers copy_bin,
# copy_modules, base_root, mkcpio and $TOP $OUT $KV are used):
#   dom0: zc-displ-be (+ libraries), vkms.ko (scripts/vkms-build.sh, from
#         Debian's linux-source of the same version) and its helpers,
#         /etc/xen/zcdisp.cfg, /boot/zcdisp.cpio
#   zcdisp.cpio: the display domU - busybox, xenstore client, drm_xen_front,
#         gntdev, zc-disp-client, tests/backend/guest/disp-init.sh
# Env: ZC_NO_DISPLAY=1 leaves it all out (the display cases then fail).
zc_display_image() {
	local root=$1 D src
	[ "${ZC_NO_DISPLAY:-0}" = 1 ] && { echo "== display: left out (ZC_NO_DISPLAY=1)"; return 0; }
	echo "== display: backend, client, vkms, display domU"
	make -C "$TOP/tests/backend" O="$OUT/tests" -j2
	src=${KSRC:-/usr/src/linux-source-$(echo "$KV" | cut -d. -f1-2).tar.xz}
	[ -e "$src" ] || { echo "build.sh: no /usr/src/linux-source-*.tar.xz for $KV (apt-get install linux-source-6.1)" >&2; return 1; }
	PATH="${KPATH:+$KPATH:}$PATH" "$TOP/scripts/vkms-build.sh" "${KDIR:-/lib/modules/$KV/build}" "$src" "$OUT/module/vkms.ko"
	mkdir -p "$root/lib/modules/$KV/extra"
	cp "$OUT/module/vkms.ko" "$root/lib/modules/$KV/extra/"
	# shellcheck disable=SC2046
	copy_modules "$root" $(modinfo -F depends "$OUT/module/vkms.ko" | tr ',' ' ')
	copy_bin "$root" "$OUT/tests/zc-displ-be"
	mv "$root$OUT/tests/zc-displ-be" "$root/usr/bin/zc-displ-be"
	cp "$TOP/tests/backend/zcdisp.cfg" "$root/etc/xen/zcdisp.cfg"
	install -D -m 0755 "$TOP/tests/bench/display-bench.sh" "$root/zc/bench/display-bench.sh"
	D=$OUT/rootfs-zcdisp
	base_root "$D"
	copy_bin "$D" /usr/bin/xenstore
	for a in read write exists list ls rm watch; do ln -sf xenstore "$D/usr/bin/xenstore-$a"; done
	copy_modules "$D" drm_xen_front xen-gntdev xen-evtchn
	depmod -b "$D" "$KV"
	install -m 0755 "$OUT/tests/zc-disp-client" "$D/bin/zc-disp-client"
	install -m 0755 "$TOP/tests/backend/guest/disp-init.sh" "$D/init"
	ldconfig -r "$D"
	mkcpio "$D" "$OUT/zcdisp.cpio"
	cp "$OUT/zcdisp.cpio" "$root/boot/zcdisp.cpio"
}
