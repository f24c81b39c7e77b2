# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for the build scripts (sourced, not executed).
#
# Everything downloaded lives in one cache directory, $XZ_CACHE, default
# ~/.cache/xen-zcopy (outside the repository, re-used across runs and
# checkouts):
#   apt/         a private apt configuration and its package lists; the
#                system's apt state is never touched
#   debs/        downloaded .deb files (kept, so an unpack can be redone)
#   kernels/<abi>/usr/src/linux-headers-<abi>-<flavour>   unpacked trees
#   toolchains/gcc-<N>/   gcc-N, binutils, pahole and sparse of the suite
#                that ships gcc-N, patchelf'ed to that suite's own glibc
#   source/      the few files of a Debian linux-source package that lint
#                needs (checkpatch, coccinelle scripts, top-level Makefile)
#   index.txt    what the last fetch resolved (one line per matrix target)

XZ_CACHE=${XZ_CACHE:-$HOME/.cache/xen-zcopy}
XZ_MIRROR=${XZ_MIRROR:-http://deb.debian.org/debian}
XZ_SECMIRROR=${XZ_SECMIRROR:-http://deb.debian.org/debian-security}
XZ_KEYRING=${XZ_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
XZ_APT=$XZ_CACHE/apt
XZ_DEBS=$XZ_CACHE/debs
XZ_KERNELS=$XZ_CACHE/kernels
XZ_TCS=$XZ_CACHE/toolchains

# the repository this script belongs to
XZ_REPO=${XZ_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

xz_log() { printf "[%s %3ss] %s\n" "${XZ_TAG:-xz}" "$SECONDS" "$*" >&2; }
xz_die() { xz_log "error: $*"; exit 1; }
xz_now() { date +%s.%N; }
xz_since() { awk -v a="$1" -v b="$(xz_now)" 'BEGIN { printf "%.1f", b - a }'; }

# xz_apt_setup [force-update]: private apt instance. Its own Dir::Etc::parts
# keeps the host's apt.conf.d out: a docker-style "Dir::Cache::pkgcache" ""
# there makes every apt-cache call re-parse all lists (~4 s instead of 0.04 s).
# The mirror may be a frozen snapshot, so Valid-Until is not enforced.
xz_apt_setup() {
	local force=${1:-0}
	mkdir -p "$XZ_APT/etc/apt.conf.d" "$XZ_APT/etc/preferences.d" \
		"$XZ_APT/lists/partial" "$XZ_APT/cache/archives/partial"
	[ -e "$XZ_APT/status" ] || : > "$XZ_APT/status"
	local s
	{
		for s in bookworm bookworm-updates bookworm-backports trixie \
			 trixie-updates trixie-backports sid experimental; do
			echo "deb [signed-by=$XZ_KEYRING] $XZ_MIRROR $s main"
		done
		for s in bookworm-security trixie-security; do
			echo "deb [signed-by=$XZ_KEYRING] $XZ_SECMIRROR $s main"
		done
	} > "$XZ_APT/etc/sources.list.new"
	cat > "$XZ_APT/etc/apt.conf.new" <<EOC
Dir::Etc::parts "$XZ_APT/etc/apt.conf.d";
Dir::Etc::main "$XZ_APT/etc/apt.conf.d/none";
Dir::Etc::sourcelist "$XZ_APT/etc/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferencesparts "$XZ_APT/etc/preferences.d";
Dir::State::Lists "$XZ_APT/lists";
Dir::State::status "$XZ_APT/status";
Dir::Cache "$XZ_APT/cache";
Dir::Cache::archives "$XZ_APT/cache/archives";
Dir::Cache::pkgcache "pkgcache.bin";
Dir::Cache::srcpkgcache "srcpkgcache.bin";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::CNF::DefaultEnabled "false";
EOC
	# ... but keep the host's way out to the archive (proxies), if any
	env -u APT_CONFIG apt-config dump 2>/dev/null |
		grep -E '^Acquire::(https?|ftp)::Proxy' >> "$XZ_APT/etc/apt.conf.new" || true
	# rewrite only on change: a newer sources.list makes apt rebuild its
	# 160 MB package cache (~10-25 s) on the next call
	for s in sources.list apt.conf; do
		if cmp -s "$XZ_APT/etc/$s.new" "$XZ_APT/etc/$s"; then
			rm -f "$XZ_APT/etc/$s.new"
		else
			mv "$XZ_APT/etc/$s.new" "$XZ_APT/etc/$s"
		fi
	done
	export APT_CONFIG=$XZ_APT/etc/apt.conf
	# refresh the lists when asked, when there are none, or once a day
	# (Debian bumps ABI names such as 6.12.117+deb13 with security updates)
	local stamp=$XZ_APT/.updated
	if [ "$force" = 1 ] || [ ! -e "$stamp" ] ||
	   [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
		xz_log "apt-get update (private lists in $XZ_APT/lists)"
		if apt-get -q -o quiet=2 update >&2; then
			touch "$stamp"
		elif compgen -G "$XZ_APT/lists/*_Packages*" >/dev/null; then
			# a mirror hiccup should not stop a build: the old lists still
			# resolve (and the cached .debs match them)
			xz_log "warning: apt-get update failed, going on with the lists of $(date -r "$stamp" +%F 2>/dev/null || echo '?')"
		else
			xz_die "apt-get update failed"
		fi
	fi
}

# xz_best_version PKG[:ARCH] SUITE_REGEX: highest version of PKG published
# in a suite whose name matches SUITE_REGEX (apt-cache madison).
xz_best_version() {
	local best="" v
	for v in $(apt-cache madison "$1" 2>/dev/null | awk -F'|' -v re="^($2)\$" '
		{ gsub(/ /, "", $2); split($3, f, " "); s = f[2]; sub(/\/.*/, "", s);
		  if (s ~ re) print $2 }'); do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	echo "$best"
}

# xz_depends PKG[:ARCH][=VER|/SUITE]: the Depends line of that package
xz_depends() {
	apt-cache show "$1" 2>/dev/null | awk '/^Depends:/ { sub(/^Depends: /, ""); print; exit }'
}

# xz_gcc_of KDIR: the N of the gcc-N the Debian tree was configured with
# (flavour Makefile up to 7.2, .kernelvariables in newer packages)
xz_gcc_of() {
	cat "$1/.kernelvariables" "$1/Makefile" 2>/dev/null |
		sed -nE 's/^ *CC *:?= .*gcc-([0-9]+).*/\1/p' | head -1
}

# xz_newest_sparse: path of the newest sparse available (cache or host)
xz_newest_sparse() {
	local s best="" bv="" v
	for s in "$XZ_TCS"/*/usr/bin/sparse /usr/bin/sparse; do
		[ -x "$s" ] || continue
		# "0.6.4 (Debian: 0.6.5~rc1-2)": the Debian version is the real one
		v=$("$s" --version 2>/dev/null | sed -E 's/^v//; s/.*\(Debian: ([^)]*)\).*/\1/; s/ .*//')
		[ -n "$v" ] || continue
		if [ -z "$bv" ] || dpkg --compare-versions "$v" gt "$bv"; then
			best=$s bv=$v
		fi
	done
	echo "$best"
}

# xz_src_copy DEST: copy the module sources (tracked and new, not ignored
# files of the work tree) to DEST, so that builds never write into the repo
xz_src_copy() {
	local dest=$1
	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$XZ_REPO" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$XZ_REPO" && git ls-files -z -co --exclude-standard |
			xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			cpio -0 -pdm --quiet "$dest")
	else
		(cd "$XZ_REPO" && tar --exclude=./build --exclude=./.git -cf - .) |
			(cd "$dest" && tar -xf -)
	fi
}
