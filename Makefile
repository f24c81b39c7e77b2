# SPDX-License-Identifier: GPL-2.0
#
# xen-zcopy top-level Makefile.
#
#   make                 build xen_drm_zcopy.ko against the running kernel
#   make KDIR=<dir>      ... against the kernel build tree <dir>
#   make clean
#
# Other targets (check, vm-shell, matrix, lint, ...) live in mk/*.mk.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

.PHONY: all modules clean help

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		rm -rf src/*.o src/.*.cmd *.ko *.mod *.mod.c *.o .*.cmd modules.order Module.symvers

-include $(sort $(wildcard mk/*.mk))
