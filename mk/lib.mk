# SPDX-License-Identifier: GPL-2.0
#
# The user-space library (lib/gnttab-zcopy/, owner: gnttab): libxengnttab's
# dma-buf calls served by xen_drm_zcopy, for unmodified backends.
#   make lib              build/lib/libxenzcopy-gnttab.so
#   make install          the library and its launcher:
#                         $(DESTDIR)$(LIBDIR)/xen-zcopy/libxenzcopy-gnttab.so
#                         $(DESTDIR)$(BINDIR)/xen-zcopy-run
#   make install-lib      the same (what `make install` does here)
# PREFIX (default /usr/local), BINDIR, LIBDIR and DESTDIR as usual. The
# library is not on the linker's path on purpose: it is only ever preloaded.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
LIB_O ?= $(CURDIR)/build/lib
ZCOPY_LIB_DIR = $(LIBDIR)/xen-zcopy

.PHONY: lib install install-lib

lib:
	$(MAKE) -C lib/gnttab-zcopy O=$(LIB_O)

install: install-lib

install-lib: lib
	install -d $(DESTDIR)$(ZCOPY_LIB_DIR) $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIB_O)/libxenzcopy-gnttab.so $(DESTDIR)$(ZCOPY_LIB_DIR)/
	sed 's|^lib_default=@ZCOPY_LIB@$$|lib_default=$(ZCOPY_LIB_DIR)/libxenzcopy-gnttab.so|' \
		tools/xen-zcopy-run > $(DESTDIR)$(BINDIR)/xen-zcopy-run.tmp
	grep -q '^lib_default=/' $(DESTDIR)$(BINDIR)/xen-zcopy-run.tmp
	chmod 0755 $(DESTDIR)$(BINDIR)/xen-zcopy-run.tmp
	mv $(DESTDIR)$(BINDIR)/xen-zcopy-run.tmp $(DESTDIR)$(BINDIR)/xen-zcopy-run
