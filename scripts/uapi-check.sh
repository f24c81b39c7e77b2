#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uapi-check.sh - checks of the user-space API header uapi/drm/xen_zcopy_drm.h
#
#  1. it compiles on its own, first and only include, in user-space C
#     (-std=c11 and the compiler default) and C++ (-std=c++11, c++17) with
#     libdrm's include directory, -m64 and -m32, -Wall -Wextra -Werror
#     -pedantic (C11 because libdrm's own drm_mode.h needs anonymous unions);
#  2. every struct it defines has the same size and the same member offsets
#     with -m32 and -m64. The table is generated, not listed by hand: every
#     "struct drm_xen_zcopy_*" of the header is instantiated in a -g object
#     and pahole prints its layout from the DWARF. Only the size of pointer
#     members may differ (they sit in a union with a __u64);
#  3. the 2018 ioctl numbers are unchanged, for -m64 and -m32:
#     DUMB_FROM_REFS 0xC0406440, DUMB_TO_REFS 0xC0206441,
#     DUMB_WAIT_FREE 0xC0086442;
#  4. make install-headers (into a DESTDIR) installs it where a libdrm
#     program finds it with only `pkg-config --cflags libdrm`.
#
# Needs gcc, g++, libc6-dev-i386 + lib32gcc-12-dev (for -m32; gcc-multilib
# conflicts with the arm64 cross compiler, so it is not used: its only
# extra is the /usr/include/asm link, replaced by -idirafter below),
# libdrm-dev, pkg-config and pahole (dwarves). Output in build/uapi/.
set -uo pipefail
XZ_TAG=uapi
. "$(dirname "$0")/lib.sh"

HDR=$XZ_REPO/uapi/drm/xen_zcopy_drm.h
OUT=$XZ_REPO/build/uapi
rm -rf "$OUT"
mkdir -p "$OUT"
[ -e "$HDR" ] || xz_die "no $HDR"
command -v pahole >/dev/null || xz_die "pahole missing (apt-get install dwarves)"
DRMINC=$(pkg-config --cflags libdrm 2>/dev/null) || xz_die "libdrm-dev/pkg-config missing"
# without gcc-multilib there is no /usr/include/asm for -m32; the x86 asm/
# headers of linux-libc-dev serve both word sizes
M32INC="-idirafter /usr/include/$(gcc -print-multiarch)"
FLAGS="-Wall -Wextra -Werror -pedantic -I$XZ_REPO/uapi/drm $DRMINC"
NFAIL=0
T0=$(xz_now)

fail() { echo "FAIL $*"; NFAIL=$((NFAIL + 1)); }
ok() { echo "ok   $*"; }

# -------------------------------------------------------- 1. compiles ---
printf '#include <xen_zcopy_drm.h>\n' > "$OUT/only.c"
cp "$OUT/only.c" "$OUT/only.cc"
for m in 64 32; do
	extra=""
	[ $m = 32 ] && extra=$M32INC
	for std in c11 gnu17; do
		if gcc -m$m -std=$std $FLAGS $extra -c "$OUT/only.c" -o "$OUT/only-$std-$m.o" 2> "$OUT/only-$std-$m.log"; then
			ok "C   -std=$std -m$m: header compiles alone"
		else
			fail "C   -std=$std -m$m: header does not compile alone:"; sed 's/^/     /' "$OUT/only-$std-$m.log"
		fi
	done
	for std in c++11 c++17; do
		if g++ -m$m -std=$std $FLAGS $extra -c "$OUT/only.cc" -o "$OUT/only-$std-$m.o" 2> "$OUT/only-$std-$m.log"; then
			ok "C++ -std=$std -m$m: header compiles alone"
		else
			fail "C++ -std=$std -m$m: header does not compile alone:"; sed 's/^/     /' "$OUT/only-$std-$m.log"
		fi
	done
done

# ---------------------------------------------------------- 2. layout ---
mapfile -t STRUCTS < <(sed -nE 's/^struct (drm_xen_zcopy_[a-z0-9_]+) \{.*/\1/p' "$HDR" | sort -u)
[ ${#STRUCTS[@]} -gt 0 ] || fail "no struct drm_xen_zcopy_* found in the header"
{
	echo '#include <xen_zcopy_drm.h>'
	for s in "${STRUCTS[@]}"; do echo "struct $s xzc_$s;"; done
} > "$OUT/layout.c"
# layout OBJ: "struct.member offset size" per member ("-" for pointer sizes)
# and "struct size N", from pahole's /* offset size */ comments
layout() {
	local s
	for s in "${STRUCTS[@]}"; do
		pahole -C "$s" "$1" | awk -v s="$s" '
			/\/\* size:/ { sub(/.*size: /, ""); sub(/,.*/, ""); print s " size " $0; next }
			/\/\*[ ]+[0-9]+[ ]+[0-9]+ \*\// {
				line = $0
				c = line; sub(/.*\/\*[ ]*/, "", c); sub(/[ ]*\*\/.*/, "", c); split(c, os, /[ ]+/)
				d = line; sub(/;.*/, "", d)
				n = split(d, w, /[ \t*]+/); name = w[n]
				if (d ~ /^[ \t]*}/) name = "(union/struct)"
				sz = (d ~ /\*/) ? "-" : os[2]
				printf "%s.%s %s %s\n", s, name, os[1], sz
			}'
	done
}
for m in 64 32; do
	extra=""
	[ $m = 32 ] && extra=$M32INC
	gcc -m$m -g -std=c11 $FLAGS $extra -c "$OUT/layout.c" -o "$OUT/layout-$m.o" ||
		{ fail "layout.c -m$m does not compile"; continue; }
	layout "$OUT/layout-$m.o" > "$OUT/layout-m$m.txt"
done
if [ -s "$OUT/layout-m64.txt" ] && [ -s "$OUT/layout-m32.txt" ]; then
	n=$(grep -vc ' size ' "$OUT/layout-m64.txt")
	if diff -u "$OUT/layout-m64.txt" "$OUT/layout-m32.txt" > "$OUT/layout.diff"; then
		ok "layout: ${#STRUCTS[@]} structs, $n members: same sizes and offsets with -m32 and -m64 (table: build/uapi/layout-m64.txt)"
	else
		fail "layout differs between -m64 (-) and -m32 (+):"; sed 's/^/     /' "$OUT/layout.diff"
	fi
	grep ' size ' "$OUT/layout-m64.txt" | sed 's/^/     /'
else
	fail "layout: no pahole table"
fi

# -------------------------------------------------- 3. ioctl numbers ---
cat > "$OUT/ioctl.c" <<'EOC'
#include <stdio.h>
#include <xen_zcopy_drm.h>

/* the numbers of the 2018 driver: existing backends must keep working */
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS == 0xC0406440, "DUMB_FROM_REFS");
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS == 0xC0206441, "DUMB_TO_REFS");
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE == 0xC0086442, "DUMB_WAIT_FREE");

int main(void)
{
#define P(x) printf("%-36s 0x%08lX\n", #x, (unsigned long)(x))
	P(DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS);
	P(DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS);
	P(DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE);
	P(DRM_IOCTL_XEN_ZCOPY_QUERY);
	P(DRM_IOCTL_XEN_ZCOPY_FROM_REFS);
	P(DRM_IOCTL_XEN_ZCOPY_TO_REFS);
	P(DRM_IOCTL_XEN_ZCOPY_WAIT_FREE);
	return 0;
}
EOC
for m in 64 32; do
	extra=""
	[ $m = 32 ] && extra=$M32INC
	if gcc -m$m -std=c11 $FLAGS $extra "$OUT/ioctl.c" -o "$OUT/ioctl-$m" 2> "$OUT/ioctl-$m.log" &&
	   "$OUT/ioctl-$m" > "$OUT/ioctl-m$m.txt"; then
		ok "ioctl numbers -m$m: legacy 0xC0406440 0xC0206441 0xC0086442 unchanged"
	else
		fail "ioctl numbers -m$m:"; sed 's/^/     /' "$OUT/ioctl-$m.log"
	fi
done
if [ -s "$OUT/ioctl-m64.txt" ]; then
	cmp -s "$OUT/ioctl-m64.txt" "$OUT/ioctl-m32.txt" ||
		fail "ioctl numbers differ between -m64 and -m32: $(diff "$OUT/ioctl-m64.txt" "$OUT/ioctl-m32.txt" | tr '\n' ' ')"
	sed 's/^/     /' "$OUT/ioctl-m64.txt"
fi

# ------------------------------------------------- 4. install-headers ---
# make install-headers puts the header next to libdrm's drm.h. A libdrm
# program then needs nothing but pkg-config's flags: with PREFIX=/usr (a
# distribution package) as <xen_zcopy_drm.h>, like <i915_drm.h>; with the
# default PREFIX=/usr/local as <libdrm/xen_zcopy_drm.h> (/usr/local/include
# is a default include directory; it is stood in for by -isystem here since
# the files go to a DESTDIR), its "drm.h" then found through pkg-config's
# -I/usr/include/libdrm.
cat > "$OUT/prog.c" <<'EOC'
#include <stdio.h>
#include <xf86drm.h>
#include XZ_HDR

int main(void)
{
	struct drm_xen_zcopy_query q = { 0 };

	printf("%s %d %zu\n", XENDRM_ZCOPY_DRIVER_NAME, XEN_ZCOPY_API_VERSION, sizeof(q));
	return drmIoctl(-1, DRM_IOCTL_XEN_ZCOPY_QUERY, &q) == 0;
}
EOC
for pfx in /usr/local /usr; do
	dd=$OUT/destdir$(echo "$pfx" | tr / -)
	if ! make -s -C "$XZ_REPO" install-headers DESTDIR="$dd" PREFIX="$pfx" > "$OUT/install.log" 2>&1; then
		fail "make install-headers PREFIX=$pfx:"; sed 's/^/     /' "$OUT/install.log"
		continue
	fi
	if [ $pfx = /usr ]; then
		inc="-idirafter $dd/usr/include/libdrm" hdr='<xen_zcopy_drm.h>'
	else
		inc="-isystem $dd$pfx/include" hdr='<libdrm/xen_zcopy_drm.h>'
	fi
	# shellcheck disable=SC2046
	if gcc -std=c11 -Wall -Wextra -Werror "-DXZ_HDR=$hdr" $inc $(pkg-config --cflags libdrm) \
		"$OUT/prog.c" -o "$OUT/prog" $(pkg-config --libs libdrm) 2> "$OUT/prog.log" &&
	   "$OUT/prog" > /dev/null; then
		ok "install-headers PREFIX=$pfx: $(cd "$dd" && find . -name '*.h' | sed 's|^\.||'); #include $hdr + pkg-config --cflags libdrm builds and links"
	else
		fail "install-headers PREFIX=$pfx: libdrm program does not build:"; sed 's/^/     /' "$OUT/prog.log"
	fi
done

if [ $NFAIL = 0 ]; then
	echo "# uapi-check PASS ($(xz_since "$T0")s)"
else
	echo "# uapi-check FAIL: $NFAIL check(s) failed"
	exit 1
fi
