#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - checkpatch.pl --strict and coccicheck over the module sources.
#
# Usage: scripts/lint.sh [--no-fetch] [--checkpatch-only] [--cocci-only]
#
# Both tools come from the newest Debian linux-source-X.Y package (fetched
# into the cache by scripts/fetch.sh --source); spatch is Debian's
# coccinelle, plus ocaml-nox for the two rules that use OCaml scripting.
#
# checkpatch: --no-tree --strict -f over src/*.[ch], include/*.h and
# uapi/drm/*.h. Ignored, because they do not apply to this tree:
#   everywhere:
#     ALLOC_WITH_SIZEOF, ALLOC_WITH_MULTIPLY  checkpatch >= 7.2 suggests
#         kmalloc_obj()/kzalloc_objs() & co, which do not exist before 7.x;
#         the module builds on 6.1
#   include/zcopy_compat.h only (the one place for version gates):
#     LINUX_VERSION_CODE  "code should be for the version to which it is
#         merged": an out-of-tree module supports several versions, and
#         gating on the version there is the project rule. Anywhere else
#         the warning stays on, which enforces that rule
#     CONSTANT_COMPARISON  fires on "LINUX_VERSION_CODE >= KERNEL_VERSION()",
#         the kernel's own idiom for such gates
#   uapi/drm/*.h only (user-space headers):
#     BIT_MACRO  BIT() is kernel-internal and not available to user space;
#         checkpatch itself skips this for include/uapi/, which our path is not
# Everything else must be clean: 0 errors, 0 warnings, 0 checks.
#
# coccicheck: make -C <linux-source> coccicheck MODE=report M=<copy of the
# module sources> with every rule of scripts/coccinelle; any report is a
# finding. Verdict line: "# lint PASS|FAIL ...". Logs in build/lint/.
set -uo pipefail
XZ_TAG=lint
. "$(dirname "$0")/lib.sh"

FETCH=1 CP=1 COCCI=1
for a in "$@"; do
	case $a in
	--no-fetch) FETCH=0 ;;
	--checkpatch-only) COCCI=0 ;;
	--cocci-only) CP=0 ;;
	-h|--help) sed -n '3,34p' "$0"; exit 0 ;;
	*) xz_die "unknown argument $a" ;;
	esac
done

T0=$(xz_now)
if [ $FETCH = 1 ]; then
	"$(dirname "$0")/fetch.sh" --source --no-kernels || xz_die "fetch.sh --source failed"
fi
LS=$XZ_CACHE/source/current
[ -x "$LS/scripts/checkpatch.pl" ] || xz_die "no $LS/scripts/checkpatch.pl: run scripts/fetch.sh --source"
LSNAME=$(basename "$(readlink -f "$LS")")
OUT=$XZ_REPO/build/lint
rm -rf "$OUT"
mkdir -p "$OUT"
VERDICT=PASS
SUMMARY=""

# the module's files (tracked or new, not ignored)
mapfile -t FILES < <(cd "$XZ_REPO" && git ls-files -co --exclude-standard -- \
	'src/*.c' 'src/*.h' 'include/*.h' 'uapi/drm/*.h' 2>/dev/null | sort -u)
[ ${#FILES[@]} -gt 0 ] || mapfile -t FILES < <(cd "$XZ_REPO" && ls src/*.[ch] include/*.h uapi/drm/*.h 2>/dev/null)

if [ $CP = 1 ]; then
	t0=$(xz_now)
	base=ALLOC_WITH_SIZEOF,ALLOC_WITH_MULTIPLY
	G_MAIN=() G_COMPAT=() G_UAPI=()
	for f in "${FILES[@]}"; do
		case $f in
		include/zcopy_compat.h) G_COMPAT+=("$f") ;;
		uapi/*) G_UAPI+=("$f") ;;
		*) G_MAIN+=("$f") ;;
		esac
	done
	cpatch() { # cpatch IGNORES FILE...: one checkpatch run (it is quiet on clean files)
		local ign=$1
		shift
		[ $# -gt 0 ] || return 0
		(cd "$XZ_REPO" && "$LS/scripts/checkpatch.pl" --no-tree --strict --terse \
			--show-types --ignore "$ign" -f "$@") >> "$OUT/checkpatch.log" 2>&1
	}
	: > "$OUT/checkpatch.log"
	cpatch "$base" "${G_MAIN[@]}"
	cpatch "$base,LINUX_VERSION_CODE,CONSTANT_COMPARISON" "${G_COMPAT[@]}"
	cpatch "$base,BIT_MACRO" "${G_UAPI[@]}"
	ne=$(grep -cE '^[^ ]+:[0-9]+: ERROR:' "$OUT/checkpatch.log")
	nw=$(grep -cE '^[^ ]+:[0-9]+: WARNING:' "$OUT/checkpatch.log")
	nc=$(grep -cE '^[^ ]+:[0-9]+: CHECK:' "$OUT/checkpatch.log")
	# anything else checkpatch printed (a crash, a missing data file) also fails
	no=$(grep -vcE '^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK):|^total:|^$|^NOTE:' "$OUT/checkpatch.log")
	ne=$((ne + no))
	grep -vE '^total:|^$|^NOTE:' "$OUT/checkpatch.log" | tee "$OUT/checkpatch-findings.txt"
	st=OK
	[ $((ne + nw + nc)) = 0 ] || { st=FAIL; VERDICT=FAIL; }
	line=$(printf '%-4s checkpatch --strict (%s): %d files, %d errors, %d warnings, %d checks, %ss' \
		"$st" "$LSNAME" "${#FILES[@]}" "$ne" "$nw" "$nc" "$(xz_since "$t0")")
	echo "$line"
	SUMMARY="$SUMMARY; checkpatch $st"
fi

if [ $COCCI = 1 ]; then
	command -v spatch >/dev/null || xz_die "spatch missing (apt-get install coccinelle ocaml-nox libpython3.11)"
	t0=$(xz_now)
	src=$OUT/cocci-src
	xz_src_copy "$src.all"
	mkdir -p "$src"
	# only the module: tests/ are user-space programs, not kernel code
	for d in src include uapi Kbuild; do [ -e "$src.all/$d" ] && mv "$src.all/$d" "$src/"; done
	rm -rf "$src.all"
	make -C "$LS" coccicheck MODE=report M="$src" J=2 > "$OUT/coccicheck.log" 2>&1
	rc=$?
	# reports look like "./src/x.c:12:3-9: WARNING: ..." (or ERROR/INFO)
	grep -E '^\.?/?[^ :]+\.[ch]:[0-9]+' "$OUT/coccicheck.log" > "$OUT/coccicheck-findings.txt"
	nf=$(wc -l < "$OUT/coccicheck-findings.txt")
	nrules=$(find "$LS/scripts/coccinelle" -name '*.cocci' | wc -l)
	st=OK
	note=""
	if [ $rc != 0 ]; then
		st=FAIL note=" (coccicheck failed: $(grep -m1 -iE 'error|not found|failed' "$OUT/coccicheck.log"))"
	fi
	[ "$nf" = 0 ] || st=FAIL
	[ $st = OK ] || VERDICT=FAIL
	sed 's/^/  /' "$OUT/coccicheck-findings.txt"
	printf '%-4s coccicheck (spatch %s, %s rules of %s): %d findings, %ss%s\n' "$st" \
		"$(spatch --version 2>/dev/null | awk 'NR == 1 { print $3 }')" "$nrules" "$LSNAME" \
		"$nf" "$(xz_since "$t0")" "$note"
	SUMMARY="$SUMMARY; coccicheck $st"
fi

echo "# lint $VERDICT${SUMMARY:+ (${SUMMARY#; })}, $(xz_since "$T0")s, logs in build/lint/"
[ $VERDICT = PASS ]
