#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once, cached) the debug kernel that `make
# check-debug` boots as dom0 and domU: Debian's own linux-source, the config
# fragment tests/vm/debug/<arch>.config on top of allnoconfig (lockdep,
# kmemleak, KFENCE, UBSAN, DEBUG_SG, DMA-API debug, fault injection, ...),
# and the patches tests/vm/debug/*.patch (documented in each).
#
# Usage: scripts/debug-kernel.sh x86_64
# Output (stdout, last line): the directory holding kernel.env (KREL KVER
# KDIR KIMG KELF KMOD KSRC KPATH) for tests/vm/build.sh (ZC_KROOT=<dir>).
# The cache key is the source package version, a hash of the fragment and
# the patches, and RECIPE (bump it when the build steps below change what
# is built). Build time is logged.
set -euo pipefail
XZ_TAG=debug-kernel
. "$(dirname "$0")/lib.sh"

ARCH=${1:?usage: $0 x86_64}
case $ARCH in
x86_64) SRCPKG=linux-source-6.1 KARCH=x86_64 ;;
*) xz_die "unknown arch $ARCH" ;;
esac
TAR=/usr/src/$SRCPKG.tar.xz
[ -e "$TAR" ] || xz_die "no $TAR (apt-get install $SRCPKG)"
VER=$(dpkg-query -W -f '${Version}' "$SRCPKG")
FRAG=$XZ_REPO/tests/vm/debug/$ARCH.config
PATCHES=("$XZ_REPO"/tests/vm/debug/*.patch)
for t in flex bison bc; do command -v $t > /dev/null || xz_die "no $t (apt-get install flex bison bc libelf-dev)"; done
RECIPE=1
KEY=$( { echo "recipe $RECIPE"; cat "$FRAG" "${PATCHES[@]}"; } | sha256sum | cut -c1-12)
D=$XZ_CACHE/debug/$ARCH-$VER-$KEY
if [ -e "$D/kernel.env" ]; then
	xz_log "cached: $D"
	echo "$D"
	exit 0
fi
t0=$(xz_now)
mkdir -p "$XZ_CACHE/debug"
exec 9> "$XZ_CACHE/debug/.lock"
flock 9
rm -rf "$D"
mkdir -p "$D"
xz_log "unpack $TAR ($VER)"
tar -C "$D" -xf "$TAR"
S=$D/$SRCPKG
for p in "${PATCHES[@]}"; do
	xz_log "patch: $(basename "$p")"
	patch -d "$S" -p1 --quiet < "$p" || xz_die "$p does not apply"
done
O=$D/build
mkdir -p "$O"
xz_log "config: allnoconfig + $(basename "$FRAG")"
make -C "$S" O="$O" ARCH="$KARCH" KCONFIG_ALLCONFIG="$FRAG" allnoconfig > "$D/config.log" 2>&1 ||
	{ tail -20 "$D/config.log" >&2; xz_die "allnoconfig failed"; }
# every symbol the fragment asks for must be in the result, as asked
miss=0
while IFS= read -r l; do
	case $l in CONFIG_*=*) ;; *) continue ;; esac
	grep -qxF "$l" "$O/.config" || { xz_log "config: lost $l (a dependency is missing)"; miss=1; }
done < "$FRAG"
[ $miss = 0 ] || xz_die "the fragment did not survive allnoconfig"
xz_log "build (make -j$(nproc) vmlinux modules)"
make -C "$S" O="$O" ARCH="$KARCH" -j"$(nproc)" vmlinux modules > "$D/build.log" 2>&1 ||
	{ grep -E 'error|Error' "$D/build.log" | head -20 >&2; xz_die "build failed (log: $D/build.log)"; }
KREL=$(make -s -C "$S" O="$O" ARCH="$KARCH" kernelrelease)
make -C "$S" O="$O" ARCH="$KARCH" INSTALL_MOD_PATH="$D/mods" modules_install > /dev/null
rm -f "$D/mods/lib/modules/$KREL/build" "$D/mods/lib/modules/$KREL/source"
cp "$O/vmlinux" "$D/vmlinux"
strip --strip-debug "$D/vmlinux"
{
	echo "KREL=$KREL"
	echo "KVER='$VER (debug: $(basename "$FRAG"), key $KEY)'"
	echo "KDIR=$O"
	echo "KIMG=$D/vmlinux"
	echo "KELF=$D/vmlinux"
	echo "KMOD=$D/mods"
	echo "KSRC=$TAR"
	echo "KPATH="
} > "$D/kernel.env.new"
mv "$D/kernel.env.new" "$D/kernel.env"
xz_log "built $KREL in $(xz_since "$t0") s: $D"
# older builds of this arch are stale
for o in "$XZ_CACHE/debug/$ARCH"-*; do [ "$o" = "$D" ] || rm -rf "$o"; done
echo "$D"
