#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb-module.sh - build xen_drm_zcopy.ko the way the xen-zcopy-dkms package
# builds it on a user's machine: dkms add + dkms build of the package's
# /usr/src/<name>-<version> tree with the package's dkms.conf, and signed
# as dkms signs it. The VM harness uses it with ZC_MODULE_FROM_DEB
# (tests/vm/build.sh), so the suite tests the shipped artefact.
#
# Nothing outside OUTDIR is written: the .deb is unpacked into
# OUTDIR/deb-module/, dkms' trees are redirected there (--dkmstree,
# --sourcetree, --installtree), and so is its signing key (mok_signing_key,
# mok_certificate: dkms takes them from the environment when
# /etc/dkms/framework.conf does not set them), instead of /var/lib/dkms.
#
# Usage: scripts/deb-module.sh DEB KERNEL-RELEASE OUTDIR
#   e.g. scripts/deb-module.sh build/deb/xen-zcopy-dkms_0.1_all.deb 6.1.0-57-amd64 build/vm/module
# Result: OUTDIR/<module>.ko; the dkms log in OUTDIR/deb-module/dkms.log.
set -euo pipefail
[ $# = 3 ] || { sed -n '3,18p' "$0" >&2; exit 2; }
DEB=$(realpath "$1") KV=$2 OUT=$(realpath -m "$3")
die() { echo "deb-module.sh: $*" >&2; exit 1; }
[ -f "$DEB" ] || die "no such package: $1"
command -v dkms >/dev/null || die "dkms missing (apt-get install dkms)"
KDIR=/lib/modules/$KV/build
[ -e "$KDIR/Makefile" ] || die "no kernel headers in $KDIR"

W=$OUT/deb-module
rm -rf "$W"
mkdir -p "$W/tree" "$W/install"
dpkg-deb -x "$DEB" "$W/root"
conf=$(find "$W/root/usr/src" -mindepth 2 -maxdepth 2 -name dkms.conf | head -1)
[ -n "$conf" ] || die "$DEB has no /usr/src/*/dkms.conf"
NAME=$(sed -nE 's/^PACKAGE_NAME="?([^"]*)"?$/\1/p' "$conf")
VER=$(sed -nE 's/^PACKAGE_VERSION="?([^"]*)"?$/\1/p' "$conf")
MOD=$(sed -nE 's/^BUILT_MODULE_NAME\[0\]="?([^"]*)"?$/\1/p' "$conf")
[ "$(dirname "$conf")" = "$W/root/usr/src/$NAME-$VER" ] || die "$conf is not in /usr/src/$NAME-$VER"

dk=(dkms --dkmstree "$W/tree" --sourcetree "$W/root/usr/src" --installtree "$W/install")
export mok_signing_key=$W/mok.key mok_certificate=$W/mok.pub
{
	"${dk[@]}" add -m "$NAME" -v "$VER" &&
	"${dk[@]}" build -m "$NAME" -v "$VER" -k "$KV" --kernelsourcedir "$KDIR"
} > "$W/dkms.log" 2>&1 || {
	tail -20 "$W/dkms.log" >&2
	log=$W/tree/$NAME/$VER/build/make.log
	[ -e "$log" ] && tail -20 "$log" >&2
	die "dkms build failed (log: $W/dkms.log)"
}
ko=$(find "$W/tree/$NAME/$VER/$KV" -name "$MOD.ko*" | head -1)
[ -n "$ko" ] || die "dkms built no $MOD.ko for $KV"
mkdir -p "$OUT"
case $ko in
*.ko) cp "$ko" "$OUT/$MOD.ko" ;;
*.ko.xz) xz -dc "$ko" > "$OUT/$MOD.ko" ;;
*.ko.zst) zstd -qdc "$ko" > "$OUT/$MOD.ko" ;;
*.ko.gz) gzip -dc "$ko" > "$OUT/$MOD.ko" ;;
*) die "unknown module file $ko" ;;
esac
signer=$(modinfo -F signer "$OUT/$MOD.ko" 2>/dev/null || true)
echo "deb-module.sh: $OUT/$MOD.ko from ${DEB##*/} ($NAME/$VER, dkms build for $KV${signer:+, signed by \"$signer\"})"
