# SPDX-License-Identifier: GPL-2.0
#
# Builds where users run it (scripts/, owner: builds). docs/building.md has
# the details and the timings.
#
#   make matrix           build against Debian 6.1 ... 7.3, amd64/arm64/arm64-16k,
#                         W=1 + sparse; zero warnings (MATRIX_ARGS="arm64 -j2" ...)
#   make fetch            only download/unpack the matrix kernels + toolchains
#   make lint             checkpatch --strict + coccicheck
#   make uapi-check       UAPI header: standalone C/C++, -m32/-m64 layout, ioctl numbers,
#                         install-headers
#   make dkms-check       dkms add/build/install (installed headers) + dkms build
#                         (unpacked non-running kernels); needs root
#   make deb              the Debian packages xen-zcopy-dkms + xen-zcopy-dev into build/deb/
#                         (dpkg-buildpackage -us -uc -b in a clean copy, then lintian)
#   make deb-check        make deb, then install them in a fresh Debian 12 chroot with two
#                         kernels, check DKMS, modinfo, man page, pkg-config, purge (root)
#   make check-deb        make check with the module as the package's DKMS builds it
#                         (ZC_MODULE_FROM_DEB=build/deb/xen-zcopy-dkms_<v>_all.deb)
#   make man              build/man/xen_drm_zcopy.4, generated from the UAPI header,
#                         docs/design.md and src/*.c (man -l build/man/xen_drm_zcopy.4)
#   make install-headers  uapi/drm/xen_zcopy_drm.h -> $(DESTDIR)$(PREFIX)/include/libdrm/
#   make install-udev     udev/70-xen-zcopy.rules -> $(DESTDIR)$(UDEVDIR)/rules.d/
#   make ci-builds        all of the above as CI runs it (installs host packages)
# Cache of downloads: $(XZ_CACHE), default ~/.cache/xen-zcopy.

PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev
MATRIX_ARGS ?=

.PHONY: matrix fetch lint uapi-check dkms-check install-headers install-udev ci-builds \
	deb deb-check check-deb man

matrix:
	@scripts/matrix.sh $(MATRIX_ARGS)

fetch:
	@scripts/fetch.sh --source

lint:
	@scripts/lint.sh

uapi-check:
	@scripts/uapi-check.sh

dkms-check:
	@scripts/dkms-check.sh

deb:
	@scripts/deb-build.sh --list

deb-check:
	@scripts/deb-check.sh

check-deb:
	@mkdir -p build
	@scripts/deb-build.sh --no-lintian > build/deb-build.log 2>&1 || \
		{ cat build/deb-build.log; echo "not ok - deb build"; echo "0 passed, 1 failed"; exit 1; }
	@ZC_MODULE_FROM_DEB=$$(ls build/deb/xen-zcopy-dkms_*_all.deb) tests/vm/check.sh check

man:
	@mkdir -p build/man
	@scripts/gen-manpage.pl -o build/man/xen_drm_zcopy.4 --modprobe-example build/man/xen-zcopy.conf
	@echo "build/man/xen_drm_zcopy.4 (man -l build/man/xen_drm_zcopy.4), build/man/xen-zcopy.conf"

# next to libdrm's own drm.h: the header includes "drm.h" and "drm_mode.h"
install-headers:
	install -d $(DESTDIR)$(PREFIX)/include/libdrm
	install -m 0644 uapi/drm/xen_zcopy_drm.h $(DESTDIR)$(PREFIX)/include/libdrm/

install-udev:
	install -d $(DESTDIR)$(UDEVDIR)/rules.d
	install -m 0644 udev/70-xen-zcopy.rules $(DESTDIR)$(UDEVDIR)/rules.d/

ci-builds:
	@scripts/ci-builds.sh
