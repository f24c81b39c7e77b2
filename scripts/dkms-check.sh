#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh - prove that DKMS builds and installs the module.
#
#  A. the system dkms, against the kernel headers installed on this machine
#     (/lib/modules/<ver>/build, e.g. Debian 12's 6.1): dkms add, build,
#     install from a clean copy of the sources, check the installed .ko
#     (modinfo: name, vermagic), then dkms remove + rm the source copy so
#     the machine is left as it was. Needs root.
#  B. dkms build against kernels that are NOT running or installed: the
#     unpacked Debian trees of the matrix cache (scripts/fetch.sh), with
#     dkms' trees redirected into build/dkms/ (--dkmstree, --sourcetree,
#     --installtree), so nothing outside the repo is written. Targets:
#     $DKMS_TARGETS (matrix target names, default "exp-arm64-16k deb13-amd64").
#
# Module signing: dkms 3.0 signs when it finds the kernel's sign-file and
# generates /var/lib/dkms/mok.key + mok.pub if they do not exist. Keys that
# this script caused to be generated are deleted at the end; keys that were
# there before are left alone.
#
# The "clean checkout" is the tracked and new, not ignored, files of the
# work tree (git ls-files): no build products of the work tree go in.
#
# Usage: scripts/dkms-check.sh [--no-system] [--no-cache] [--no-fetch]
set -uo pipefail
XZ_TAG=dkms
. "$(dirname "$0")/lib.sh"

SYSTEM=1 CACHE=1 FETCH=1
for a in "$@"; do
	case $a in
	--no-system) SYSTEM=0 ;;
	--no-cache) CACHE=0 ;;
	--no-fetch) FETCH=0 ;;
	-h|--help) sed -n '3,25p' "$0"; exit 0 ;;
	*) xz_die "unknown argument $a" ;;
	esac
done
DKMS_TARGETS=${DKMS_TARGETS:-exp-arm64-16k deb13-amd64}

command -v dkms >/dev/null || xz_die "dkms missing (apt-get install dkms)"
[ -e "$XZ_REPO/dkms.conf" ] || xz_die "no dkms.conf"
NAME=$(sed -nE 's/^PACKAGE_NAME="?([^"]*)"?/\1/p' "$XZ_REPO/dkms.conf")
VER=$(sed -nE 's/^PACKAGE_VERSION="?([^"]*)"?/\1/p' "$XZ_REPO/dkms.conf")
MOD=$(sed -nE 's/^BUILT_MODULE_NAME\[0\]="?([^"]*)"?/\1/p' "$XZ_REPO/dkms.conf")
OUT=$XZ_REPO/build/dkms
rm -rf "$OUT"
mkdir -p "$OUT"
NFAIL=0 NOK=0
T0=$(xz_now)

res() { # res OK|FAIL what seconds
	printf '%-4s %-58s %6ss\n' "$1" "$2" "$3"
	if [ "$1" = OK ]; then NOK=$((NOK + 1)); else NFAIL=$((NFAIL + 1)); fi
}
step() { # step LOG what cmd...: run, report, show the log tail on failure
	local log=$1 what=$2 t0 rc
	shift 2
	t0=$(xz_now)
	"$@" >> "$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		res OK "$what" "$(xz_since "$t0")"
	else
		res FAIL "$what" "$(xz_since "$t0")"
		tail -25 "$log" | sed 's/^/     /'
		for f in "$OUT"/*/tree/"$NAME"/"$VER"/build/make.log /var/lib/dkms/"$NAME"/"$VER"/build/make.log; do
			[ -e "$f" ] && { echo "     --- $f"; tail -15 "$f" | sed 's/^/     /'; }
		done
	fi
	return $rc
}

# ------------------------------------------------- A. system dkms ---
if [ $SYSTEM = 1 ]; then
	[ "$(id -u)" = 0 ] || xz_die "part A needs root (or use --no-system)"
	SRC=/usr/src/$NAME-$VER
	LOG=$OUT/system.log
	if [ -e "$SRC" ] && [ ! -e "$SRC/.dkms-check" ]; then
		xz_die "$SRC exists and was not made by this script: leaving it alone"
	fi
	if [ -e "/var/lib/dkms/$NAME" ]; then
		dkms remove "$NAME/$VER" --all >> "$LOG" 2>&1 || true
	fi
	rm -rf "$SRC"
	KEYS_BEFORE=0
	[ -e /var/lib/dkms/mok.key ] && KEYS_BEFORE=1
	# as a user would: "dkms add <checkout>" copies it to /usr/src/<name>-<ver>
	xz_src_copy "$OUT/checkout"
	for kb in /lib/modules/*/build; do
		[ -e "$kb/Makefile" ] || continue
		kver=$(basename "$(dirname "$kb")")
		step "$LOG" "system dkms add <clean checkout> -> $SRC" dkms add "$OUT/checkout" || break
		touch "$SRC/.dkms-check"
		step "$LOG" "system dkms build -k $kver" dkms build "$NAME/$VER" -k "$kver" || break
		step "$LOG" "system dkms install -k $kver" dkms install "$NAME/$VER" -k "$kver" || break
		ko=$(find "/lib/modules/$kver/updates/dkms" -name "$MOD.ko*" 2>/dev/null | head -1)
		vm=$([ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
		if [ -n "$ko" ] && [[ $vm == "$kver "* ]]; then
			res OK "installed ${ko#/lib/modules/} ($vm)" 0.0
		else
			res FAIL "installed module not found or wrong vermagic: '$ko' '$vm'" 0.0
		fi
		dkms status "$NAME" >> "$LOG" 2>&1
		grep -q AUTOINSTALL=\"yes\" "$SRC/dkms.conf" && res OK "AUTOINSTALL=yes in dkms.conf" 0.0 ||
			res FAIL "AUTOINSTALL=yes missing from dkms.conf" 0.0
		break	# one installed kernel is enough (dkms add is per source)
	done
	if ! ls /lib/modules/*/build/Makefile >/dev/null 2>&1; then
		res FAIL "no installed kernel headers (apt-get install linux-headers-amd64)" 0.0
	fi
	# leave the machine as it was
	dkms remove "$NAME/$VER" --all >> "$LOG" 2>&1
	rm -rf "$SRC"
	if [ $KEYS_BEFORE = 0 ] && [ -e /var/lib/dkms/mok.key ]; then
		rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
		echo "     (removed the MOK signing key pair dkms generated in /var/lib/dkms)"
	fi
	rmdir /var/lib/dkms/"$NAME" 2>/dev/null || true
fi

# ----------------------------------- B. non-running kernels (cache) ---
if [ $CACHE = 1 ]; then
	if [ $FETCH = 1 ]; then
		"$(dirname "$0")/fetch.sh" >&2 || xz_die "fetch.sh failed"
	fi
	for t in $DKMS_TARGETS; do
		line=$(awk -v t="$t" '$1 == t' "$XZ_CACHE/index.txt" 2>/dev/null)
		if [ -z "$line" ]; then
			res FAIL "no matrix target $t in $XZ_CACHE/index.txt" 0.0
			continue
		fi
		read -r name suite fl abi ver gccv kdir <<<"$line"
		D=$OUT/$t
		mkdir -p "$D/tree" "$D/src" "$D/install"
		xz_src_copy "$D/src/$NAME-$VER"
		kver=$abi-$fl
		env=()
		case $fl in arm64*) arch=arm64; env=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;; *) arch=x86_64 ;; esac
		path=$PATH
		[ -x "/usr/bin/x86_64-linux-gnu-gcc-$gccv" ] || path=$XZ_TCS/gcc-$gccv/usr/bin:$PATH
		dk=(dkms --dkmstree "$D/tree" --sourcetree "$D/src" --installtree "$D/install")
		step "$D/dkms.log" "$t: dkms add (trees in build/dkms/$t)" "${dk[@]}" add -m "$NAME" -v "$VER" || continue
		step "$D/dkms.log" "$t: dkms build -k $kver -a $arch" env PATH="$path" "${env[@]}" \
			"${dk[@]}" build -m "$NAME" -v "$VER" -k "$kver" -a "$arch" --kernelsourcedir "$kdir" || continue
		ko=$(find "$D/tree/$NAME/$VER/$kver" -name "$MOD.ko*" | head -1)
		vm=$([ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
		if [ -n "$ko" ] && [[ $vm == "$kver "* ]]; then
			res OK "$t: built ${ko#$OUT/} ($vm)" 0.0
		else
			res FAIL "$t: no module or wrong vermagic: '$ko' '$vm'" 0.0
		fi
	done
fi

if [ $NFAIL = 0 ]; then
	echo "# dkms-check PASS: $NOK checks, $(xz_since "$T0")s"
else
	echo "# dkms-check FAIL: $NFAIL of $((NOK + NFAIL)) checks failed (logs in build/dkms/)"
	exit 1
fi
