#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb-build.sh - build the Debian packages (make deb) and run lintian.
#
#   1. copy the clean checkout (tracked and new, not ignored files) to
#      build/deb/src/<source>-<version>/, so nothing is written into the
#      tree and no build product of the tree gets into a package;
#   2. dpkg-buildpackage -us -uc -b there (dh + dh-dkms, debian/);
#   3. lintian --pedantic -I on the .changes: any error fails, warnings and
#      the rest are printed (build/deb/lintian.txt).
# Results: build/deb/xen-zcopy-dkms_<v>_all.deb, xen-zcopy-dev_<v>_all.deb,
# the .changes and .buildinfo; build/deb/build.log.
#
# Usage: scripts/deb-build.sh [--list] [--no-lintian]
#   --list   also print the file list of every package (dpkg -c)
# Needs: dpkg-dev debhelper dh-dkms lintian (scripts/ci-builds.sh installs them)
set -uo pipefail
XZ_TAG=deb
. "$(dirname "$0")/lib.sh"

LIST=0 LINTIAN=1
for a in "$@"; do
	case $a in
	--list) LIST=1 ;;
	--no-lintian) LINTIAN=0 ;;
	-h|--help) sed -n '3,19p' "$0"; exit 0 ;;
	*) xz_die "unknown argument $a" ;;
	esac
done
for t in dpkg-buildpackage dh dh_dkms; do
	command -v "$t" >/dev/null || xz_die "$t missing (apt-get install dpkg-dev debhelper dh-dkms)"
done
[ $LINTIAN = 0 ] || command -v lintian >/dev/null || xz_die "lintian missing (apt-get install lintian)"

OUT=$XZ_REPO/build/deb
T0=$(xz_now)
SRC=$(dpkg-parsechangelog -l "$XZ_REPO/debian/changelog" -S Source) || xz_die "cannot read debian/changelog"
VER=$(dpkg-parsechangelog -l "$XZ_REPO/debian/changelog" -S Version)
rm -rf "$OUT"
mkdir -p "$OUT/src"
xz_src_copy "$OUT/src/$SRC-$VER"
if ! (cd "$OUT/src/$SRC-$VER" && dpkg-buildpackage -us -uc -b) > "$OUT/build.log" 2>&1; then
	tail -30 "$OUT/build.log" | sed 's/^/     /'
	echo "# deb FAIL: dpkg-buildpackage failed (build/deb/build.log)"
	exit 1
fi
# dpkg-buildpackage writes next to the source directory
mv "$OUT/src/"*.deb "$OUT/src/"*.changes "$OUT/src/"*.buildinfo "$OUT/"
rm -rf "$OUT/src"
DEBS=""
for d in "$OUT"/*.deb; do DEBS+="${d##*/} "; done
DEBS=${DEBS% }
printf 'OK   %-58s %6ss\n' "dpkg-buildpackage -us -uc -b: $DEBS" "$(xz_since "$T0")"
if [ $LIST = 1 ]; then
	for d in "$OUT"/*.deb; do
		echo "--- dpkg -c ${d##*/}"
		dpkg -c "$d" | awk '{ print "    " $1 " " $3 " " $6 ($7 ? " " $7 " " $8 : "") }'
	done
fi
RC=0
if [ $LINTIAN = 1 ]; then
	t0=$(xz_now)
	# lintian says "running with root privileges is not recommended!" as root
	lintian --pedantic -I --fail-on error "$OUT/${SRC}_${VER}_"*.changes > "$OUT/lintian.txt" 2> "$OUT/lintian.err"
	lrc=$?
	grep -v 'running with root privileges' "$OUT/lintian.err" >&2
	sed 's/^/     lintian: /' "$OUT/lintian.txt"
	nerr=$(grep -c '^E:' "$OUT/lintian.txt")
	nwarn=$(grep -c '^W:' "$OUT/lintian.txt")
	nother=$(grep -c '^[IPX]:' "$OUT/lintian.txt")
	if [ $lrc = 0 ]; then
		printf 'OK   %-58s %6ss\n' "lintian: $nerr errors, $nwarn warnings, $nother info/pedantic" "$(xz_since "$t0")"
	else
		printf 'FAIL %-58s %6ss\n' "lintian: $nerr errors, $nwarn warnings, $nother info/pedantic (exit $lrc)" "$(xz_since "$t0")"
		RC=1
	fi
fi
echo "# deb $([ $RC = 0 ] && echo PASS || echo FAIL): $DEBS in build/deb/, $(xz_since "$T0")s"
exit $RC
