#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ci-builds.sh - the build checks as CI runs them, in sequence:
#   uapi-check, lint (checkpatch + coccicheck), matrix (18 kernels, W=1 +
#   sparse), dkms-check, deb-check (Debian packages: build, lintian, install
#   in a chroot with two kernels, purge). Installs the Debian host packages
#   they need first (apt-get; root). Each step runs even if an earlier one
#   failed; the summary lists step, verdict and time, and the exit status is
#   non-zero if any step failed.
#
# Usage: scripts/ci-builds.sh [STEP...]   (default: all five)
# Env:   XZ_CACHE (download cache, default ~/.cache/xen-zcopy)
set -uo pipefail
XZ_TAG=ci-builds
. "$(dirname "$0")/lib.sh"
cd "$XZ_REPO" || exit 1
export DEBIAN_FRONTEND=noninteractive

# host packages (bookworm). gcc-multilib is NOT used: it conflicts with
# gcc-aarch64-linux-gnu; libc6-dev-i386 + lib32gcc-12-dev give -m32.
PKGS="make gcc g++ libc6-dev git cpio xz-utils file binutils patchelf
      gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-i386 lib32gcc-12-dev
      dwarves sparse coccinelle ocaml-nox libpython3.11 dkms kmod openssl
      libdrm-dev pkg-config linux-headers-amd64 debian-archive-keyring
      flex bison bc libssl-dev libelf-dev
      debhelper dh-dkms lintian debootstrap zstd build-essential libxen-dev"
T0=$(xz_now)
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || xz_die "missing packages (need root to install):" $missing
	xz_log "apt-get install" $missing
	mkdir -p build
	apt-get -q update > build/ci-apt.log 2>&1 || { cat build/ci-apt.log; xz_die "apt-get update failed"; }
	# shellcheck disable=SC2086
	apt-get -q install -y --no-install-recommends $missing >> build/ci-apt.log 2>&1 ||
		{ cat build/ci-apt.log; xz_die "apt-get install failed"; }
fi
TAPT=$(xz_since "$T0")

# CPU seconds (user + system) used by finished children so far: with the
# wall time it shows how much a step waited for a busy machine or network
# ("times" must run in this shell, not in a $(...) subshell)
CPUF=$(mktemp)
trap 'rm -f "$CPUF"' EXIT
cpu_s() {
	awk 'END { n = 0; for (i = 1; i <= 2; i++) { split($i, t, /m|s/); n += t[1] * 60 + t[2] } printf "%.1f", n }' "$CPUF"
}
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(uapi-check lint matrix dkms-check deb-check)
RESULTS=()
RC=0
# Downloads overlap the CPU-bound steps: the lint tools are fetched first,
# the kernel trees and toolchains in the background while uapi-check and
# lint run; each step then uses the cache without fetching (--no-fetch).
mkdir -p build
FETCH_PID=""
t0=$(xz_now)
if [[ " ${STEPS[*]} " == *" lint "* ]]; then
	scripts/fetch.sh --source --no-kernels || RC=1
fi
if [[ " ${STEPS[*]} " == *" matrix "* || " ${STEPS[*]} " == *" dkms-check "* ]]; then
	scripts/fetch.sh > build/ci-fetch.log 2>&1 &
	FETCH_PID=$!
fi
RESULTS+=("$(printf '%-14s %-4s %7ss  (lint tools; kernels in the background: build/ci-fetch.log)' fetch \
	"$([ $RC = 0 ] && echo PASS || echo FAIL)" "$(xz_since "$t0")")")
wait_fetch() {
	[ -n "$FETCH_PID" ] || return 0
	local t0 r
	t0=$(xz_now)
	wait "$FETCH_PID"
	r=$?
	FETCH_PID=""
	cat build/ci-fetch.log
	RESULTS+=("$(printf '%-14s %-4s %7ss  (waited for the background fetch)' fetch-kernels \
		"$([ $r = 0 ] && echo PASS || echo FAIL)" "$(xz_since "$t0")")")
	[ $r = 0 ] || RC=1
}
for s in "${STEPS[@]}"; do
	case $s in matrix|dkms-check) wait_fetch ;; esac
	echo "=== $s"
	t0=$(xz_now)
	times > "$CPUF"
	c0=$(cpu_s)
	case $s in
	uapi-check) scripts/uapi-check.sh ;;
	lint) scripts/lint.sh --no-fetch ;;
	matrix) scripts/matrix.sh --no-fetch ;;
	dkms-check) scripts/dkms-check.sh --no-fetch ;;
	deb-check) scripts/deb-check.sh ;;
	*) xz_log "unknown step $s"; false ;;
	esac
	r=$?
	times > "$CPUF"
	v=PASS
	[ $r = 0 ] || { v=FAIL; RC=1; }
	RESULTS+=("$(printf '%-14s %-4s %7ss  (cpu %ss)' "$s" "$v" "$(xz_since "$t0")" \
		"$(awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { printf "%.0f", b - a }')")")
done
wait_fetch
echo "=== ci-builds summary (host packages: ${TAPT}s)"
printf '  %s\n' "${RESULTS[@]}"
echo "# ci-builds $([ $RC = 0 ] && echo PASS || echo FAIL): total $(xz_since "$T0")s"
exit $RC
