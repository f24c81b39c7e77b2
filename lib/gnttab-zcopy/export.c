// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libxenzcopy-gnttab: grant refs -> dma-buf (front-alloc), with gntdev's
 * semantics on xen_drm_zcopy:
 *
 * xengnttab_dmabuf_exp_from_refs = FROM_REFS (read-write, as gntdev maps)
 *   + PRIME_HANDLE_TO_FD (O_RDWR | O_CLOEXEC, as gntdev's dma-buf file)
 *   + GEM_CLOSE: the dma-buf keeps the buffer, so the only reference user
 *   space holds is the fd it gets, as with gntdev.
 * xengnttab_dmabuf_exp_wait_released = WAIT_FREE on the token of the newest
 *   live buffer exported with that fd number, so it works after the caller
 *   closed the fd (libxenbe closes first, then waits). The buffer is "released"
 *   when its dma-buf, every importer and every mapping are gone and its grants
 *   are unmapped (gntdev: when the dma-buf is released and the unmap issued).
 *
 * Return values and errno are libxengnttab's (Debian 4.17): -1 and errno
 * from the ioctl; count 0 is EINVAL before any ioctl; a wait that gntdev
 * answers -ENOENT (no such buffer, or already released) returns 0 with errno
 * 0, because libxengnttab turns that answer into success.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <xen_zcopy_drm.h>

#include "zg.h"

/* the table is pruned of freed buffers when it grows past this (then 2x) */
#define ZG_PRUNE_MIN	64

/* did the buffer of this token go? (WAIT_FREE with no wait) */
static bool export_freed(struct zg_handle *h, const struct zg_export *e)
{
	struct drm_xen_zcopy_wait_free w = { .wait_token = e->token };

	return !zg_ioctl(h->zfd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w) || errno == ENOENT;
}

/* drop every entry whose buffer is gone; exp_lock held */
static void prune_exports(struct zg_handle *h)
{
	struct zg_export **pp = &h->exports, *e;

	while ((e = *pp)) {
		if (export_freed(h, e)) {
			*pp = e->next;
			free(e);
			h->nr_exports--;
		} else {
			pp = &e->next;
		}
	}
	h->prune_at = h->nr_exports * 2 > ZG_PRUNE_MIN ? h->nr_exports * 2 : ZG_PRUNE_MIN;
}

/*
 * The newest live buffer exported as fd number @fd, as gntdev's lookup in
 * exp_list, which holds only buffers not yet released: entries of the same
 * number whose buffer is gone are dropped on the way. exp_lock held.
 */
static struct zg_export *find_live_export(struct zg_handle *h, uint32_t fd)
{
	struct zg_export **pp = &h->exports, *e;

	while ((e = *pp)) {
		if (e->fd != fd) {
			pp = &e->next;
			continue;
		}
		if (!export_freed(h, e))
			return e;
		*pp = e->next;
		free(e);
		h->nr_exports--;
	}
	return NULL;
}

static void forget_export(struct zg_handle *h, uint64_t id)
{
	struct zg_export **pp, *e;

	pthread_mutex_lock(&h->exp_lock);
	for (pp = &h->exports; (e = *pp); pp = &e->next) {
		if (e->id == id) {
			*pp = e->next;
			free(e);
			h->nr_exports--;
			break;
		}
	}
	pthread_mutex_unlock(&h->exp_lock);
}

void zg_exports_free(struct zg_handle *h)
{
	struct zg_export *e;

	while ((e = h->exports)) {
		h->exports = e->next;
		free(e);
	}
	h->nr_exports = 0;
}

/*
 * gntdev answers -EINVAL for every grant that fails to map, whatever Xen's
 * status; xen_drm_zcopy tells them apart (bad domain, permission, maptrack
 * space, eagain). The caller gets gntdev's errno; the log line has ours.
 */
static int gntdev_map_errno(int err)
{
	switch (err) {
	case ESRCH:
	case EACCES:
	case ENOSPC:
	case EAGAIN:
	case EIO:
		return EINVAL;
	default:
		return err;
	}
}

int zg_exp_from_refs(struct zg_handle *h, uint32_t domid, uint32_t flags,
		     uint32_t count, const uint32_t *refs, uint32_t *fd)
{
	struct drm_xen_zcopy_from_refs fr = { 0 };
	struct drm_prime_handle ph = { 0 };
	int saved = errno, err;
	struct zg_export *e;

	/* libxengnttab's own check, before any ioctl and without a log line */
	if (!count) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * GNTDEV_DMA_FLAG_WC / _COHERENT ask gntdev for backing pages from
	 * dma_alloc_wc() / dma_alloc_coherent() (contiguous, ballooned out)
	 * to map the grants onto. Our buffers are the foreign grants mapped on
	 * unpopulated (ZONE_DEVICE or ballooned) pages, what gntdev itself uses
	 * without the flags, and what its gntdev_alloc_map() falls back to,
	 * flags ignored, in a kernel without CONFIG_XEN_GRANT_DMA_ALLOC. So
	 * either flag is accepted and has no effect (libxenbe always passes
	 * WC); importers see the pages and map them as their device needs.
	 * Both at once are refused as gntdev-dmabuf.c refuses them; other bits
	 * are ignored, as gntdev ignores them.
	 */
	if ((flags & GNTDEV_DMA_FLAG_WC) && (flags & GNTDEV_DMA_FLAG_COHERENT)) {
		zg_fail(h, EINVAL, "ioctl DMABUF_EXP_FROM_REFS failed (flags %#x: WC and COHERENT)",
			flags);
		return -1;
	}
	/* before any ioctl: nothing to undo if it fails */
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return -1;
	}

	fr.domid = domid;
	fr.refs = (uintptr_t)refs;
	fr.num_refs = count;
	if (zg_ioctl(h->zfd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr)) {
		err = errno;
		free(e);
		if (zg_refused(err)) {
			errno = err;
			return ZG_DELEGATE;
		}
		zg_fail(h, gntdev_map_errno(err),
			"ioctl DMABUF_EXP_FROM_REFS failed (xen_drm_zcopy FROM_REFS: %s)",
			strerror(err));
		return -1;
	}
	ph.handle = fr.handle;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	if (zg_ioctl(h->zfd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		err = errno;
		zg_gem_close(h->zfd, fr.handle);	/* frees the buffer */
		free(e);
		zg_fail(h, err, "ioctl DMABUF_EXP_FROM_REFS failed (PRIME_HANDLE_TO_FD: %s)",
			strerror(err));
		return -1;
	}
	/* the dma-buf holds the buffer from now on */
	zg_gem_close(h->zfd, fr.handle);

	e->token = fr.wait_token;
	e->fd = (uint32_t)ph.fd;
	pthread_mutex_lock(&h->exp_lock);
	e->id = ++h->next_id;
	e->next = h->exports;
	h->exports = e;
	if (++h->nr_exports >= h->prune_at)
		prune_exports(h);
	pthread_mutex_unlock(&h->exp_lock);

	*fd = (uint32_t)ph.fd;
	errno = saved;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int zg_exp_wait_released(struct zg_handle *h, uint32_t fd, uint32_t wait_to_ms)
{
	uint64_t token = 0, id = 0, deadline;
	int saved = errno;
	bool delegate;

	pthread_mutex_lock(&h->exp_lock);
	{
		struct zg_export *e = find_live_export(h, fd);

		if (e) {
			token = e->token;
			id = e->id;
		}
	}
	delegate = h->real_exports;
	pthread_mutex_unlock(&h->exp_lock);

	if (!id) {
		/* not one of ours: maybe the real library exported it */
		if (delegate)
			return ZG_DELEGATE;
		/* gntdev: -ENOENT; libxengnttab returns 0 and sets errno 0 */
		errno = 0;
		return 0;
	}

	/*
	 * WAIT_FREE is bounded (max_wait_ms) and interruptible; gntdev's wait
	 * is neither (wait_for_completion_timeout of any u32 ms): wait in
	 * pieces until the caller's deadline, and go on after a signal.
	 */
	deadline = now_ms() + wait_to_ms;
	for (;;) {
		struct drm_xen_zcopy_wait_free w = { .wait_token = token };
		uint64_t now = now_ms();
		int err;

		w.timeout_ms = now >= deadline ? 0 :
			       deadline - now > h->max_wait_ms ? h->max_wait_ms :
			       (uint32_t)(deadline - now);
		if (!ioctl(h->zfd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w))
			break;
		err = errno;
		/*
		 * Freed between our lookup and the wait: gntdev holds a
		 * reference from its lookup, so it sees the release and
		 * answers 0, not -ENOENT.
		 */
		if (err == ENOENT)
			break;
		if (err == EINTR || (err == ETIMEDOUT && now_ms() < deadline))
			continue;
		zg_fail(h, err, "ioctl DMABUF_EXP_WAIT_RELEASED failed");
		return -1;
	}
	forget_export(h, id);
	errno = saved;
	return 0;
}
