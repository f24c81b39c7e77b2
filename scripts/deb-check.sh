#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb-check.sh - install the Debian packages the way a user does, in a fresh
# Debian 12 chroot, and remove them again (make deb-check; root).
#
#   1. scripts/deb-build.sh: dpkg-buildpackage + lintian (or --debs DIR);
#   2. a fresh copy of a cached base system, a Debian 12 dom0 as far as
#      DKMS can tell: debootstrap --variant=minbase bookworm + dkms, gcc,
#      libdrm-dev, pkg-config and, for each kernel of $DEB_CHECK_KERNELS
#      (default: linux-headers-amd64 = 6.1, the "running" one, and
#      linux-headers-6.12-amd64 from bookworm-security), its headers and its
#      image. The image's modules are not unpacked (dpkg path-exclude
#      /lib/modules/*/kernel/*: only /boot/config-*, System.map and the
#      depmod files matter here, and it saves 450 MB). Kept as
#      $XZ_CACHE/deb-check/base-bookworm-amd64.tar.zst, rebuilt when its
#      recipe changes, after 7 days, or with --rebuild-base; a warm run
#      needs no network;
#   3. apt-get install ./xen-zcopy-dkms_*.deb ./xen-zcopy-dev_*.deb ./xen-zcopy-gnttab_*.deb: the
#      package's postinst (dkms' common.postinst) builds and installs the
#      module for the running and the newest kernel, as on a real dom0;
#      then, for every other kernel, what installing a new kernel does:
#      dkms remove for that kernel (if built), then the kernel's
#      header_postinst.d hooks (run-parts, as linux-headers-* postinst
#      runs them) must build and install it again (AUTOINSTALL);
#   4. checks: dkms status "installed" for every kernel; modinfo of each
#      installed .ko (name, vermagic, license, every module_param of src/);
#      the man page names everything in the header (gen-manpage.pl --check);
#      udev rule and modprobe.d example in place; a libdrm program that
#      includes <xen_zcopy_drm.h> compiles and links with nothing but
#      `pkg-config --cflags --libs xen-zcopy` (-Wall -Wextra -Werror);
#      xen-zcopy-run (xen-zcopy-gnttab) runs a program with its library
#      preloaded, and has its man page;
#   5. apt-get purge of the three packages; then the chroot must have exactly
#      the paths it had before the install (find / -xdev, less /tmp, /var/log,
#      /var/cache, apt lists), and no file under /lib/modules, /usr/src,
#      /usr/include, /usr/share, /etc, /var/lib/dkms or /var/lib/dpkg may
#      name the module. One exception, printed when it applies:
#      /var/lib/dkms/mok.key and mok.pub, the signing key dkms 3.0 makes at
#      its first build and keeps on purpose (enrolled for Secure Boot).
#
# In a chroot `uname -r` is the host's kernel: the base has a
# /usr/local/bin/uname that answers -r with the first kernel's release, so
# that dkms' postinst sees the dom0 it would see on a real machine.
#
# Usage: scripts/deb-check.sh [--debs DIR] [--rebuild-base] [--keep]
#   --keep   leave the chroot in $XZ_CACHE/deb-check/run.* (for debugging)
# Env: DEB_CHECK_KERNELS ("running other...": linux-headers-* packages of
#      bookworm; the images are the linux-image-* of the same names),
#      XZ_CACHE, XZ_MIRROR, XZ_SECMIRROR (scripts/lib.sh)
set -uo pipefail
XZ_TAG=deb-check
. "$(dirname "$0")/lib.sh"

DEBS_DIR="" REBUILD=0 KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--debs) DEBS_DIR=$(cd "${2:?--debs DIR}" && pwd) || exit 1; shift ;;
	--rebuild-base) REBUILD=1 ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '3,51p' "$0"; exit 0 ;;
	*) xz_die "unknown argument $1" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || xz_die "needs root (debootstrap, chroot)"
for t in debootstrap zstd chroot; do
	command -v "$t" >/dev/null || xz_die "$t missing (apt-get install debootstrap zstd)"
done
read -r -a KERNELS <<< "${DEB_CHECK_KERNELS:-linux-headers-amd64 linux-headers-6.12-amd64}"
[ ${#KERNELS[@]} -ge 2 ] || xz_die "DEB_CHECK_KERNELS needs at least two header packages"
SUITE=bookworm
KPKGS=""
for k in "${KERNELS[@]}"; do KPKGS+=" $k ${k/linux-headers-/linux-image-}"; done
BASE_PKGS="dkms gcc libc6-dev make openssl libdrm-dev pkg-config libxengnttab1$KPKGS"
CACHE=$XZ_CACHE/deb-check
BASE=$CACHE/base-$SUITE-amd64.tar.zst
LOGD=$XZ_REPO/build/deb-check
mkdir -p "$CACHE" "$LOGD"
LOG=$LOGD/deb-check.log
: > "$LOG"
NFAIL=0 NOK=0
T0=$(xz_now)

res() { # res OK|FAIL what seconds
	printf '%-4s %-60s %6ss\n' "$1" "$2" "$3"
	if [ "$1" = OK ]; then NOK=$((NOK + 1)); else NFAIL=$((NFAIL + 1)); fi
}
fail_log() { tail -"${1:-25}" "$LOG" | sed 's/^/     /'; }
finish() {
	if [ -n "${R:-}" ] && [ $KEEP = 0 ]; then
		remove_tree "$R"
	elif [ -n "${R:-}" ]; then
		umount_all "$R/proc"
		echo "(chroot kept: $R)"
	fi
	R=""
	if [ $NFAIL = 0 ]; then
		echo "# deb-check PASS: $NOK checks, $(xz_since "$T0")s"
		exit 0
	fi
	echo "# deb-check FAIL: $NFAIL of $((NOK + NFAIL)) checks failed (log: build/deb-check/deb-check.log)"
	exit 1
}

# ------------------------------------------------------------ chroot helpers
# Nothing of the host is bind-mounted into a chroot (debootstrap made its
# own /dev nodes), only a new proc instance: removing the tree can never
# reach host files. umount_all + the findmnt check guard the rm -rf anyway.
umount_all() { # umount_all DIR: DIR itself and everything mounted below it
	local r=$1 m
	for m in $(findmnt -rn -o TARGET | awk -v r="$r" '$0 == r || index($0, r "/") == 1' | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}
remove_tree() {
	local r=$1
	[ -n "$r" ] && [ -d "$r" ] || return 0
	umount_all "$r"
	if findmnt -rn -o TARGET | awk -v r="$r" '$0 == r || index($0, r "/") == 1' | grep -q .; then
		xz_log "error: still mounted under $r, not removing it"
		return 1
	fi
	rm -rf "$r"
}
in_root() { # in_root ROOT CMD...: run in the chroot with a clean environment
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
KVER_OF() { # KVER_OF ROOT PKG: the kernel release of a headers package (or meta-package)
	if [ -d "$1/usr/src/$2" ] && [ -e "$1/var/lib/dpkg/info/$2.list" ]; then
		echo "${2#linux-headers-}"
		return
	fi
	# shellcheck disable=SC2016
	in_root "$1" dpkg-query -W -f '${Depends}\n' "$2" 2>/dev/null |
		sed -nE 's/.*linux-headers-([0-9][^ ,]*).*/\1/p' | head -1
}
apt_proxy() { # the host's apt proxy, if any, for the chroot's apt
	env -u APT_CONFIG apt-config dump 2>/dev/null | grep -E '^Acquire::(https?|ftp)::Proxy' || true
}

# ------------------------------------------------------------ 1. packages
if [ -z "$DEBS_DIR" ]; then
	"$XZ_REPO/scripts/deb-build.sh" || { res FAIL "scripts/deb-build.sh" "$(xz_since "$T0")"; finish; }
	DEBS_DIR=$XZ_REPO/build/deb
fi
DKMS_DEB="" DEV_DEB="" GNT_DEB=""
for f in "$DEBS_DIR"/xen-zcopy-dkms_*_all.deb; do [ -e "$f" ] && DKMS_DEB=$f; done
for f in "$DEBS_DIR"/xen-zcopy-dev_*_all.deb; do [ -e "$f" ] && DEV_DEB=$f; done
for f in "$DEBS_DIR"/xen-zcopy-gnttab_*_"$(dpkg --print-architecture)".deb; do [ -e "$f" ] && GNT_DEB=$f; done
if [ -z "$DKMS_DEB" ] || [ -z "$DEV_DEB" ] || [ -z "$GNT_DEB" ]; then
	xz_die "no xen-zcopy-dkms/-dev/-gnttab .deb in $DEBS_DIR"
fi
VER=$(dpkg-deb -f "$DKMS_DEB" Version)
NAME=$(sed -nE 's/^PACKAGE_NAME="?([^"]*)"?$/\1/p' "$XZ_REPO/dkms.conf")
MOD=$(sed -nE 's/^BUILT_MODULE_NAME\[0\]="?([^"]*)"?$/\1/p' "$XZ_REPO/dkms.conf")

# ------------------------------------------------------------ 2. base system
RECIPE="suite=$SUITE mirror=$XZ_MIRROR security=$XZ_SECMIRROR base=[$BASE_PKGS] v=2"
exec 9> "$CACHE/.lock"
flock 9
if [ $REBUILD = 1 ] || [ ! -s "$BASE" ] || [ "$(cat "$BASE.recipe" 2>/dev/null)" != "$RECIPE" ] ||
   [ -n "$(find "$BASE" -mtime +7 2>/dev/null)" ]; then
	t0=$(xz_now)
	B=$CACHE/base.tmp
	remove_tree "$B" || finish
	rm -f "$BASE" "$BASE.recipe"
	xz_log "base system: debootstrap --variant=minbase $SUITE + $BASE_PKGS (log: build/deb-check/deb-check.log)"
	proxy=$(apt_proxy | sed -nE 's/^Acquire::http::Proxy "([^"]*)".*/\1/p' | head -1)
	ok=1
	env ${proxy:+http_proxy=$proxy} debootstrap --variant=minbase --keyring="$XZ_KEYRING" \
		"$SUITE" "$B" "$XZ_MIRROR" >> "$LOG" 2>&1 || ok=0
	if [ $ok = 1 ]; then
		cat > "$B/etc/apt/sources.list" <<-EOF
		deb $XZ_MIRROR $SUITE main
		deb $XZ_MIRROR $SUITE-updates main
		deb $XZ_SECMIRROR $SUITE-security main
		EOF
		apt_proxy > "$B/etc/apt/apt.conf.d/01proxy"
		cp /etc/resolv.conf "$B/etc/resolv.conf"
		# bookworm's kernel packages still ship /lib/modules (merged /usr)
		printf 'path-exclude=/lib/modules/*/kernel/*\npath-exclude=/usr/lib/modules/*/kernel/*\n' \
			> "$B/etc/dpkg/dpkg.cfg.d/deb-check-no-kernel-modules"
		mount -t proc proc "$B/proc"
		{
			# shellcheck disable=SC2086
			in_root "$B" apt-get -q update &&
			in_root "$B" apt-get -q install -y --no-install-recommends $BASE_PKGS &&
			in_root "$B" apt-get clean
		} >> "$LOG" 2>&1 || ok=0
		umount_all "$B"
		running=$(KVER_OF "$B" "${KERNELS[0]}")
		if [ $ok = 1 ] && [ -e "$B/boot/config-$running" ]; then
			mkdir -p "$B/usr/local/bin"
			cat > "$B/usr/local/bin/uname" <<-EOF
			#!/bin/sh
			# deb-check: the chroot's "running" kernel, for dkms' postinst
			[ "\$*" = -r ] && { echo $running; exit 0; }
			exec /usr/bin/uname "\$@"
			EOF
			chmod 0755 "$B/usr/local/bin/uname"
		else
			ok=0
		fi
	fi
	if [ $ok = 1 ] && tar -C "$B" --zstd -cf "$BASE.tmp" . >> "$LOG" 2>&1; then
		mv "$BASE.tmp" "$BASE"
		echo "$RECIPE" > "$BASE.recipe"
		res OK "base system made ($(du -sh "$BASE" | cut -f1)): running kernel $running" "$(xz_since "$t0")"
	else
		rm -f "$BASE.tmp"
		res FAIL "base system (debootstrap / apt-get in the chroot)" "$(xz_since "$t0")"
		fail_log
	fi
	remove_tree "$B"
	[ -s "$BASE" ] || finish
fi
t0=$(xz_now)
R=$(mktemp -d "$CACHE/run.XXXXXX")
# shellcheck disable=SC2317  # (called by the trap)
on_exit() {
	[ -n "$R" ] || return 0
	if [ "$KEEP" = 1 ]; then umount_all "$R/proc"; else remove_tree "$R"; fi
}
trap on_exit EXIT
# in memory when there is plenty (about 0.8 GB are unpacked): unpacking and
# removing 50000 files on a slow disk costs more than the whole check
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
if [ $KEEP = 0 ] && [ "${avail:-0}" -ge 4096 ]; then
	mount -t tmpfs -o size=2500m,mode=0755 deb-check "$R"
fi
tar -C "$R" --zstd -xf "$BASE" || { res FAIL "unpack $BASE" "$(xz_since "$t0")"; finish; }
flock -u 9
mount -t proc proc "$R/proc"
mkdir -p "$R/tmp/debs"
cp "$DKMS_DEB" "$DEV_DEB" "$GNT_DEB" "$R/tmp/debs/"
KVERS=()
for k in "${KERNELS[@]}"; do KVERS+=("$(KVER_OF "$R" "$k")"); done
res OK "fresh chroot from the cached base: kernels ${KVERS[*]}" "$(xz_since "$t0")"

# the chroot's paths, without the ones that change on any apt run
snapshot() {
	in_root "$R" find / -xdev \( -path /proc -o -path /tmp -o -path /run -o -path /root \
		-o -path /var/cache -o -path /var/log -o -path /var/lib/apt \
		-o -path '/var/lib/dpkg/*-old' \) -prune -o -printf '%y %p\n' | LC_ALL=C sort
}
snapshot > "$LOGD/files-before.txt"

# ------------------------------------------------------------ 3. install
t0=$(xz_now)
if in_root "$R" apt-get -q install -y --no-install-recommends \
	"/tmp/debs/${DKMS_DEB##*/}" "/tmp/debs/${DEV_DEB##*/}" "/tmp/debs/${GNT_DEB##*/}" >> "$LOG" 2>&1; then
	n=$(sed -nE 's/.* ([0-9]+) newly installed.*/\1/p' "$LOG" | tail -1)
	res OK "apt-get install ./${DKMS_DEB##*/} ./${DEV_DEB##*/} ./${GNT_DEB##*/}" "$(xz_since "$t0")"
	[ "$n" = 3 ] || res FAIL "apt-get installed $n packages, not 3: dependencies missing from the base?" 0.0
else
	res FAIL "apt-get install of the packages" "$(xz_since "$t0")"
	fail_log 40
	finish
fi
sed -n '/^Building for /p' "$LOG" | tail -1 | sed 's/^/     postinst: /'
# a kernel installed later: its headers' postinst runs header_postinst.d
for kv in "${KVERS[@]:1}"; do
	t0=$(xz_now)
	in_root "$R" dkms remove -m "$NAME" -v "$VER" -k "$kv" >> "$LOG" 2>&1
	if in_root "$R" run-parts --report --exit-on-error --arg="$kv" /etc/kernel/header_postinst.d >> "$LOG" 2>&1 &&
	   in_root "$R" dkms status -m "$NAME" -v "$VER" -k "$kv" 2>/dev/null | grep -q ': installed'; then
		res OK "new kernel $kv: header_postinst.d hook rebuilt and installed it" "$(xz_since "$t0")"
	else
		res FAIL "new kernel $kv: header_postinst.d hook did not install it" "$(xz_since "$t0")"
		fail_log 20
	fi
done

# ------------------------------------------------------------ 4. checks
# (dkms 3.0 status prints readelf warnings about .comment on stderr)
in_root "$R" dkms status > "$LOGD/dkms-status.txt" 2>/dev/null
sed 's/^/     dkms status: /' "$LOGD/dkms-status.txt"
PARAMS=$(cat "$XZ_REPO"/src/*.c | sed -nE 's/^\s*module_param(_named)?\(\s*(\w+)\s*,.*/\2/p' | sort -u)
for kv in "${KVERS[@]}"; do
	[ -n "$kv" ] || { res FAIL "could not tell the kernel release of a headers package" 0.0; continue; }
	if awk -v p="$NAME/$VER, $kv, " 'index($0, p) == 1 && / installed$/ { f = 1 } END { exit !f }' \
		"$LOGD/dkms-status.txt"; then
		res OK "dkms status: $NAME/$VER, $kv: installed" 0.0
	else
		res FAIL "dkms status has no '$NAME/$VER, $kv, ...: installed'" 0.0
	fi
	ko=$(in_root "$R" find "/lib/modules/$kv/updates" -name "$MOD.ko*" 2>/dev/null | head -1)
	mi=$( [ -n "$ko" ] && in_root "$R" modinfo "$ko" 2>&1)
	vm=$(sed -nE 's/^vermagic: +//p' <<< "$mi")
	bad=""
	[ -n "$ko" ] || bad+=" no $MOD.ko under /lib/modules/$kv/updates;"
	[ "$(sed -nE 's/^name: +//p' <<< "$mi")" = "$MOD" ] || bad+=" name;"
	[[ $vm == "$kv "* ]] || bad+=" vermagic '$vm';"
	[ "$(sed -nE 's/^license: +//p' <<< "$mi")" = GPL ] || bad+=" license;"
	for p in $PARAMS; do
		grep -qE "^parm: +$p:" <<< "$mi" || bad+=" parm $p missing;"
	done
	if [ -z "$bad" ]; then
		res OK "modinfo ${ko}: vermagic, license, parms $(paste -sd, <<< "$PARAMS")" 0.0
	else
		res FAIL "modinfo ${ko:-<none>}:$bad" 0.0
	fi
done
page=$R/usr/share/man/man4/$MOD.4.gz
if [ -e "$page" ] && "$XZ_REPO/scripts/gen-manpage.pl" --check "$page" >> "$LOG" 2>&1; then
	res OK "man page ${page#"$R"} names every ioctl, struct, flag, param, errno" 0.0
else
	res FAIL "man page ${page#"$R"} missing or incomplete (see the log)" 0.0
	fail_log 10
fi
rule=$(dpkg-deb -c "$DKMS_DEB" | awk '{ print $6 }' | grep -E '/udev/rules\.d/70-xen-zcopy\.rules$' | sed 's|^\.||')
if [ -n "$rule" ] && cmp -s "$R$rule" "$XZ_REPO/udev/70-xen-zcopy.rules"; then
	res OK "udev rule $rule = udev/70-xen-zcopy.rules" 0.0
else
	res FAIL "udev rule missing or different: '$rule'" 0.0
fi
ex=$R/usr/share/doc/xen-zcopy-dkms/examples/xen-zcopy.conf
bad=""
for p in $PARAMS; do grep -qE "^#options $MOD $p=" "$ex" 2>/dev/null || bad+=" $p"; done
if [ -z "$bad" ]; then
	res OK "modprobe.d example ${ex#"$R"} has every parameter" 0.0
else
	res FAIL "modprobe.d example ${ex#"$R"} lacks:$bad" 0.0
fi
cat > "$R/tmp/zc-pc.c" <<'EOF'
/* a libdrm program using the UAPI: built with pkg-config only */
#include <stdio.h>
#include <xf86drm.h>
#include <xen_zcopy_drm.h>

int main(void)
{
	struct drm_xen_zcopy_query q = { 0 };
	int fd = drmOpen(XENDRM_ZCOPY_DRIVER_NAME, NULL);

	if (fd < 0 || drmIoctl(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q)) {
		printf("no %s device here\n", XENDRM_ZCOPY_DRIVER_NAME);
		return 0;
	}
	printf("api %u, max_refs %u\n", q.api_version, q.max_refs);
	drmClose(fd);
	return 0;
}
EOF
# shellcheck disable=SC2016
if in_root "$R" sh -c 'cd /tmp && gcc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags xen-zcopy) \
		zc-pc.c -o zc-pc $(pkg-config --libs xen-zcopy) && ./zc-pc' >> "$LOG" 2>&1 &&
   [ "$(in_root "$R" pkg-config --modversion xen-zcopy)" = "$VER" ]; then
	res OK "libdrm program: gcc -Werror \$(pkg-config --cflags --libs xen-zcopy)" 0.0
else
	res FAIL "libdrm program does not build with pkg-config xen-zcopy" 0.0
	fail_log 10
fi

# the preload library loads, and says why zero-copy is off (no driver here)
# (ld.so only warns, "cannot be preloaded", when it cannot load it)
out=$(in_root "$R" xen-zcopy-run /bin/sh -c 'echo ran' 2>&1)
if [ "$out" = ran ] && [ -e "$R/usr/share/man/man1/xen-zcopy-run.1.gz" ]; then
	res OK "xen-zcopy-run runs a program with the installed library preloaded" 0.0
else
	res FAIL "xen-zcopy-run: $(head -3 <<< "$out" | tr '\n' ' ')" 0.0
fi

# ------------------------------------------------------------ 5. purge
t0=$(xz_now)
if in_root "$R" apt-get -q purge -y xen-zcopy-dkms xen-zcopy-dev xen-zcopy-gnttab >> "$LOG" 2>&1; then
	res OK "apt-get purge xen-zcopy-dkms xen-zcopy-dev xen-zcopy-gnttab" "$(xz_since "$t0")"
else
	res FAIL "apt-get purge" "$(xz_since "$t0")"
	fail_log 30
fi
if [ -z "$(in_root "$R" dkms status "$NAME" 2>&1)" ]; then
	res OK "dkms status: no $NAME left" 0.0
else
	res FAIL "dkms still lists $NAME: $(in_root "$R" dkms status "$NAME" 2>&1 | head -2 | tr '\n' ' ')" 0.0
fi
snapshot > "$LOGD/files-after.txt"
LC_ALL=C comm -13 "$LOGD/files-before.txt" "$LOGD/files-after.txt" | cut -d' ' -f2- > "$LOGD/added.txt"
LC_ALL=C comm -23 "$LOGD/files-before.txt" "$LOGD/files-after.txt" | cut -d' ' -f2- > "$LOGD/removed.txt"
mok=$(grep -E '^/var/lib/dkms/mok\.(key|pub)$' "$LOGD/added.txt")
left=$(grep -vE '^/var/lib/dkms/mok\.(key|pub)$' "$LOGD/added.txt")
if [ -n "$mok" ]; then
	echo "     (left by dkms itself, not by the package: $(tr '\n' ' ' <<< "$mok")= its signing key)"
fi
if [ -z "$left" ] && [ ! -s "$LOGD/removed.txt" ]; then
	res OK "after purge: the same paths as before the install" 0.0
else
	res FAIL "after purge: $(grep -c . <<< "$left") paths left, $(grep -c . "$LOGD/removed.txt") gone" 0.0
	printf '%s\n' "$left" > "$LOGD/left.txt"
	sed '/^$/d; s/^/     left: /' "$LOGD/left.txt" | head -20
	sed 's/^/     gone: /' "$LOGD/removed.txt" | head -20
fi
named=$(cd "$R" && grep -rlE "xen_drm_zcopy|xen-zcopy" lib/modules etc usr/src usr/include usr/share/doc \
	usr/share/man usr/share/pkgconfig lib/udev var/lib/dkms var/lib/dpkg/info var/lib/dpkg/status 2>/dev/null | head -20)
if [ -z "$named" ]; then
	res OK "no file in /lib/modules /usr/src /etc /var/lib/dkms ... names $MOD" 0.0
else
	res FAIL "files still naming the module after purge:" 0.0
	printf '%s\n' "$named" | sed 's|^|     /|'
fi
finish
