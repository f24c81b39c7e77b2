/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by every case file (tests/cases/NN_name.c): the checks
 * (domU present, cleanup-running CK), the device opens (vgem), and thin
 * wrappers around the ioctls that return 0 or the errno, so that a case
 * reads as the sequence of calls it checks.
 */
#ifndef ZC_CASES_H
#define ZC_CASES_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "zctest.h"

#define ZCC_PAGE 4096u

#define ZCC_NEED_DOMU(ctx)						\
	do {								\
		if ((ctx)->domu < 0) {					\
			zc_diag("needs the test domU (--domu ID)");	\
			return ZC_SKIP;					\
		}							\
	} while (0)

/*
 * A check that fails the case but still runs its cleanup: the case has an
 * int rc and an out: label that undoes what was set up.
 */
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

/* errno of an ioctl through drmIoctl (which restarts on EINTR/EAGAIN) */
static inline int zcc_err(int fd, unsigned long req, void *arg)
{
	return zc_ioctl(fd, req, arg) ? errno : 0;
}

/* errno of one ioctl(2), no restart: for the EINTR cases */
static inline int zcc_raw_err(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

static inline int zcc_query(int fd, struct drm_xen_zcopy_query *q)
{
	memset(q, 0, sizeof(*q));
	return zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, q);
}

/* Can this domain mmap FROM_REFS buffers (PV needs the grant PTE path)? */
static inline int zcc_have_mmap(int fd)
{
	struct drm_xen_zcopy_query q;

	return !zcc_query(fd, &q) && (q.caps & XEN_ZCOPY_CAP_MMAP);
}

static inline int zcc_from_refs(int fd, struct drm_xen_zcopy_from_refs *fr,
				int domid, const uint32_t *refs, unsigned int n,
				uint32_t flags)
{
	memset(fr, 0, sizeof(*fr));
	fr->flags = flags;
	fr->domid = domid;
	fr->refs = (uintptr_t)refs;
	fr->num_refs = n;
	return zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, fr);
}

/* PRIME fd of a handle, or -1 */
static inline int zcc_prime_fd(int fd, uint32_t handle)
{
	int out = -1;

	if (drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC | DRM_RDWR, &out))
		return -1;
	return out;
}

/* handle of a PRIME fd in fd's file, or 0 */
static inline uint32_t zcc_import(int fd, int prime_fd)
{
	uint32_t h = 0;

	if (drmPrimeFDToHandle(fd, prime_fd, &h))
		return 0;
	return h;
}

/* vgem's primary node: render nodes refuse MODE_CREATE_DUMB */
static inline int zcc_open_vgem_card(void)
{
	int fd = drmOpen("vgem", NULL);

	if (fd < 0) {
		errno = fd < -1 ? -fd : ENODEV;
		return -1;
	}
	return fd;
}

static inline int zcc_close_handle(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return zcc_err(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static inline int zcc_wait(int fd, uint64_t token, uint32_t ms)
{
	struct drm_xen_zcopy_wait_free w = { .wait_token = token, .timeout_ms = ms };

	return zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w);
}

static inline double zcc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the line of debugfs "buffers" starting with "<id> " containing word, 0/1 */
static inline int zcc_buffers_has(const char *needle)
{
	FILE *f = fopen("/sys/kernel/debug/xen_zcopy/buffers", "r");
	char line[512];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/* same open file description behind two fds (same dma-buf) */
static inline int zcc_same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

#endif /* ZC_CASES_H */
