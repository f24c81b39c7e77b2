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
#include <stdlib.h>
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

/*
 * Does the driver report the MMAP capability? Only 70_pages.c still asks
 * (to be removed there): a case never decides what to check from what the
 * driver reports; query_fields requires the capability on every platform.
 */
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

/*
 * One line of debugfs "buffers" (docs/design.md):
 *   id foreign|import domid grants refs importers waiters flags
 * domid is -1 and grants 0 for "- 0 -" (an import before TO_REFS, or a
 * FROM_REFS buffer listed before its grants are mapped); refs is
 * "r,r,...", at most 8 then ",...", or "-"; flags a comma list or "-".
 */
struct zcc_dbuf {
	unsigned int id;
	char kind[16];
	int domid;
	unsigned int grants;
	char refs[128];
	unsigned int importers;
	int waiters;
	char flags[64];
};

static inline int zcc_dbuf_parse(const char *line, struct zcc_dbuf *b)
{
	char dom[16];

	memset(b, 0, sizeof(*b));
	if (sscanf(line, "%u %15s %15s %u %127s %u %d %63s", &b->id, b->kind, dom,
		   &b->grants, b->refs, &b->importers, &b->waiters, b->flags) != 8)
		return -1;
	if (strcmp(b->kind, "foreign") && strcmp(b->kind, "import"))
		return -1;
	b->domid = strcmp(dom, "-") ? atoi(dom) : -1;
	return 0;
}

/* The refs field for these refs: "r0,r1,...", at most 8 then ",...". */
static inline void zcc_dbuf_refs(char *out, size_t len, const uint32_t *refs,
				 unsigned int n)
{
	size_t o = 0;
	unsigned int i;

	out[0] = 0;
	for (i = 0; i < n && i < 8 && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%u", i ? "," : "", refs[i]);
	if (n > 8 && o < len)
		snprintf(out + o, len - o, ",...");
}

/*
 * The debugfs line of the buffer of this kind, mapping (or granting) n refs
 * of domid: the one whose refs field lists exactly those refs. Returns how
 * many lines match (a case wants 1), with the last in *b; -1 if the file is
 * unreadable or a line is malformed, or if the number of lines is not the
 * "buffers" counter.
 */
static inline int zcc_dbuf_find(struct zcc_dbuf *b, const char *kind, int domid,
				const uint32_t *refs, unsigned int n)
{
	FILE *f = fopen("/sys/kernel/debug/xen_zcopy/buffers", "r");
	char line[512], want[128];
	struct zcc_dbuf cur;
	int found = 0;
	long lines = 0;

	if (!f) {
		zc_diag("debugfs buffers: %s", strerror(errno));
		return -1;
	}
	zcc_dbuf_refs(want, sizeof(want), refs, n);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (zcc_dbuf_parse(line, &cur)) {
			zc_diag("debugfs buffers: malformed line: %s", line);
			fclose(f);
			return -1;
		}
		if (!strcmp(cur.kind, kind) && cur.domid == domid &&
		    cur.grants == n && !strcmp(cur.refs, want)) {
			*b = cur;
			found++;
		}
	}
	fclose(f);
	if (lines != zc_counter("buffers")) {
		zc_diag("debugfs buffers: %ld lines, counter buffers %ld", lines,
			zc_counter("buffers"));
		return -1;
	}
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
