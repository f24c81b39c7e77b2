/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zc-gnttab: the libxengnttab test program (tests/gnttab/). Its cases are
 * written against xengnttab.h only, in the order libxenbe and displ_be make
 * the calls, and run under xen-zcopy-run (tests/cases/90_gnttab.c runs each
 * one so). They use the zctest framework (tests/lib: runner, domU agent,
 * debugfs counters) and libdrm for vgem, the stand-in for a KMS driver.
 */
#ifndef ZG_TEST_H
#define ZG_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xengnttab.h>

#include "zctest.h"

#define ZG_GRANT 4096u

/* a check that fails the case but runs its cleanup (int rc; out:) */
#define CK(cond, ...)							\
	do {								\
		if (!(cond)) {						\
			zc_diag("%s:%d: check failed: %s", __FILE__,	\
				__LINE__, #cond);			\
			zc_diag(__VA_ARGS__);				\
			rc = ZC_FAIL;					\
			goto out;					\
		}							\
	} while (0)

/*
 * Run a libxengnttab call: r = its result, e = errno right after it. errno
 * is EXDEV before the call, a value none of the calls sets, so that a check
 * tells "left alone" (EXDEV: libxengnttab on success) from "set to 0" (its
 * answer to gntdev's -ENOENT of a wait).
 */
#define CALL(expr) (errno = EXDEV, r = (expr), e = errno)

#define NEED_DOMU(ctx)							\
	do {								\
		if ((ctx)->domu < 0) {					\
			zc_diag("needs the test domU (--domu ID)");	\
			return ZC_SKIP;					\
		}							\
	} while (0)

/*
 * The process's open fds, "N -> target" lines: a leak check compares two.
 * Sockets are left out (the agent's xenstore connection opens on first use;
 * neither libxengnttab nor the preload library opens one).
 */
struct zg_fds {
	char text[8192];
};
int zg_fds_take(struct zg_fds *s);
/* 1 if equal, else 0 with a diagnostic naming both */
int zg_fds_same(const struct zg_fds *before, const struct zg_fds *after);
/* is any open fd a path starting with prefix? */
int zg_fds_have(const char *prefix);

/* vgem, the KMS driver of the tests: primary node (MODE_CREATE_DUMB) */
int zg_vgem_open(void);

/*
 * A be-alloc buffer, as displ_be makes it: a vgem dumb buffer, its dma-buf
 * (PRIME_HANDLE_TO_FD with DRM_CLOEXEC only, as displ_be: O_RDONLY) and a
 * CPU mapping through vgem.
 */
struct zg_vbuf {
	int vgem;
	uint32_t handle;
	int fd;
	uint64_t size;
	unsigned char *map;
};
int zg_vbuf_new(struct zg_vbuf *b, int vgem, unsigned int width, unsigned int height);
void zg_vbuf_free(struct zg_vbuf *b);

/* GEM_CLOSE on fd; 0 or errno */
int zg_gem_close(int fd, uint32_t handle);
/* PRIME import of a dma-buf into fd (a KMS driver's import); 0 or errno */
int zg_prime_import(int fd, int dmabuf, uint32_t *handle);

/* mmap a whole dma-buf and sync it for CPU access (NULL + diag on error) */
unsigned char *zg_dmabuf_map(int fd, size_t len, int writable);
void zg_dmabuf_unmap(int fd, unsigned char *m, size_t len, int writable);

double zg_now(void);
size_t zg_page(void);

#endif /* ZG_TEST_H */
