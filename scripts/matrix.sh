#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# matrix.sh - build xen_drm_zcopy.ko against every Debian kernel of the
# matrix (bookworm 6.1, bookworm-security 6.12, trixie 6.12,
# trixie-backports 7.2, sid 7.2, experimental 7.3; amd64, arm64 and, where
# Debian builds it, arm64-16k) with W=1 and sparse (C=2, newest sparse),
# plus up-arm64-64k: sid's upstream source configured for 64K pages.
#
# Usage: scripts/matrix.sh [--no-fetch] [--no-sparse] [-j N] [FILTER...]
#   FILTER       only targets whose name contains one of the substrings
#                (e.g. "arm64-16k", "exp-", "deb12")
#   --no-fetch   use what is in the cache, do not run scripts/fetch.sh
#   --no-sparse  skip sparse (faster, not what CI runs)
#   -j N         make parallelism (default 2)
#
# Each target builds in its own copy of the sources under
# build/matrix/<target>/ (log: build/matrix/<target>/build.log), so the
# work tree is never written to. One line per target:
#   OK|FAIL  <target>  <abi>  <arch>  <compiler>  <seconds>  warnings=N
# then every warning with its target, and a summary line. Exit status is
# non-zero if any target failed or printed any warning (compiler, W=1,
# sparse or modpost): zero warnings is the bar.
set -uo pipefail
XZ_TAG=matrix
. "$(dirname "$0")/lib.sh"

JOBS=2 SPARSE=1 FETCH=1
FILTERS=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-fetch) FETCH=0 ;;
	--no-sparse) SPARSE=0 ;;
	-j) JOBS=$2; shift ;;
	-j*) JOBS=${1#-j} ;;
	-h|--help) sed -n '3,23p' "$0"; exit 0 ;;
	-*) xz_die "unknown option $1" ;;
	*) FILTERS+=("$1") ;;
	esac
	shift
done

T0=$(xz_now)
if [ $FETCH = 1 ]; then
	"$(dirname "$0")/fetch.sh" || xz_die "fetch.sh failed"
fi
[ -s "$XZ_CACHE/index.txt" ] || xz_die "no $XZ_CACHE/index.txt: run scripts/fetch.sh"
[ -e "$XZ_REPO/Kbuild" ] || xz_die "no Kbuild in $XZ_REPO"

OUT=$XZ_REPO/build/matrix
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
WARNLOG=$OUT/warnings.txt
: > "$SUMMARY"
: > "$WARNLOG"

SPARSE_BIN=""
if [ $SPARSE = 1 ]; then
	SPARSE_BIN=$(xz_newest_sparse)
	[ -n "$SPARSE_BIN" ] || xz_die "no sparse found (apt-get install sparse, or run fetch.sh)"
fi

selected() {
	[ ${#FILTERS[@]} = 0 ] && return 0
	local f
	for f in "${FILTERS[@]}"; do [[ $1 == *"$f"* ]] && return 0; done
	return 1
}

NOK=0 NFAIL=0 NWARN=0 NTGT=0
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
say "# xen_drm_zcopy matrix: $(git -C "$XZ_REPO" describe --always --dirty 2>/dev/null || echo '?')" \
    "W=1 $([ $SPARSE = 1 ] && echo "sparse=$("$SPARSE_BIN" --version | tr -d ' ')")" \
    "host=$(. /etc/os-release; echo "$ID-$VERSION_ID") $(date -u +%FT%TZ)"

while read -r name suite fl abi ver gccv kdir; do
	selected "$name" || continue
	NTGT=$((NTGT + 1))
	case $fl in
	arm64*) arch=arm64; args=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-); cc=aarch64-linux-gnu-gcc-$gccv ;;
	*) arch=x86_64; args=(); cc=x86_64-linux-gnu-gcc-$gccv ;;
	esac
	# the compiler the tree was configured with: bookworm's own when the
	# host has it, else the extracted toolchain (with its binutils/pahole)
	if [ -x "/usr/bin/$cc" ]; then
		pathpre="" label="$cc"
	else
		pathpre=$XZ_TCS/gcc-$gccv/usr/bin label="$cc (cache)"
	fi
	# an upstream tree has no Debian "CC = gcc-N" line: name the compiler
	[ "$suite" = up ] && args+=("CC=${cc}")
	[ $SPARSE = 1 ] && args+=(C=2 "CHECK=$SPARSE_BIN")
	bdir=$OUT/$name
	xz_src_copy "$bdir"
	t0=$(xz_now)
	(cd "$bdir" && PATH="$pathpre${pathpre:+:}$PATH" \
		make -j"$JOBS" -C "$kdir" M="$bdir" W=1 "${args[@]}" modules) > "$bdir/build.log" 2>&1
	rc=$?
	secs=$(xz_since "$t0")
	# every diagnostic counts: gcc/sparse "warning:"/"error:", modpost
	# "WARNING:"/"ERROR:" (make's own "***" follow-up lines do not)
	grep -E ': (warning|error):|WARNING:|ERROR:' "$bdir/build.log" |
		sed "s|$bdir/||g; s|^|$name: |" > "$bdir/warnings.txt"
	nwarn=$(wc -l < "$bdir/warnings.txt")
	note=""
	if [ $SPARSE = 1 ] && ! grep -qE '^ +CHECK ' "$bdir/build.log"; then
		note=" (sparse did not run)"
		rc=1
	fi
	if [ $rc = 0 ] && [ -e "$bdir/xen_drm_zcopy.ko" ]; then
		st=OK NOK=$((NOK + 1))
	else
		st=FAIL NFAIL=$((NFAIL + 1))
		[ -n "$note" ] || note=" ($(grep -m1 -E 'error|Error|No such|not found' "$bdir/build.log" | cut -c1-120))"
	fi
	[ "$nwarn" -gt 0 ] && NWARN=$((NWARN + nwarn)) && cat "$bdir/warnings.txt" >> "$WARNLOG"
	say "$(printf '%-4s %-22s %-16s %-6s %-32s %6ss  warnings=%s%s' \
		"$st" "$name" "$abi" "$arch" "$label" "$secs" "$nwarn" "$note")"
done < "$XZ_CACHE/index.txt"

if [ -s "$XZ_CACHE/skipped.txt" ]; then
	say "# not built by Debian (no such flavour in that suite): $(tr '\n' ' ' < "$XZ_CACHE/skipped.txt")"
fi
[ $NTGT -gt 0 ] || xz_die "no target matches ${FILTERS[*]}"
if [ -s "$WARNLOG" ]; then
	say "# warnings (full logs: build/matrix/<target>/build.log):"
	sed 's/^/  /' "$WARNLOG" | tee -a "$SUMMARY"
fi
verdict=PASS
[ $NFAIL = 0 ] && [ $NWARN = 0 ] || verdict=FAIL
say "# matrix $verdict: $NTGT targets, $NOK OK, $NFAIL FAIL, $NWARN warnings, $(xz_since "$T0")s"
[ $verdict = PASS ]
