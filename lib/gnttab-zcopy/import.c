// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libxenzcopy-gnttab: dma-buf -> grant refs (be-alloc), with gntdev's
 * semantics on xen_drm_zcopy:
 *
 * xengnttab_dmabuf_imp_to_refs = PRIME_FD_TO_HANDLE on our file
 *   + DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS: @count refs, one per 4 KiB page in
 *   page order, granted read-write to @domid.
 * xengnttab_dmabuf_imp_release = GEM_CLOSE of that handle: the driver ends
 *   the grants, then gives the pages back to their exporter (only once the
 *   other domain no longer maps them, XSA-396; gntdev drops its dma-buf
 *   reference at once).
 *
 * Why the legacy DUMB_TO_REFS and not TO_REFS: gntdev's IMP_TO_REFS always
 * grants read-write, and a frontend of a be-alloc buffer writes into it.
 * TO_REFS grants read-only when the dma-buf's file is not open for writing,
 * and the dma-buf a backend gets from PRIME_HANDLE_TO_FD without DRM_RDWR
 * (what displ_be and libxenbe do) is O_RDONLY: through TO_REFS every such
 * frontend would get read-only grants. DUMB_TO_REFS keeps the 2018 semantics:
 * read-write, refs in page order, no data offset (a buffer whose data does
 * not start at offset 0 is refused, as gntdev refuses it).
 *
 * @count must be the buffer's size in 4 KiB grants: size / 4096, also on a
 * 16K-page kernel (gntdev: size / PAGE_SIZE, one grant per kernel page).
 *
 * Imports are found again by the fd number given to imp_to_refs (newest
 * first, as gntdev's imp_list), so the caller may close that fd in between.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xen_zcopy_drm.h>

#include "zg.h"

/* is @handle the handle of a live import? imp_lock held */
static bool handle_imported(struct zg_handle *h, uint32_t handle)
{
	struct zg_import *i;

	for (i = h->imports; i; i = i->next)
		if (i->handle == handle)
			return true;
	return false;
}

void zg_imports_free(struct zg_handle *h)
{
	struct zg_import *i;

	while ((i = h->imports)) {
		h->imports = i->next;
		free(i);
	}
}

int zg_imp_to_refs(struct zg_handle *h, uint32_t domid, uint32_t fd,
		   uint32_t count, uint32_t *refs)
{
	struct drm_xen_zcopy_dumb_to_refs tr = { 0 };
	struct drm_prime_handle ph = { 0 };
	int saved = errno, err;
	struct zg_import *imp;
	bool owned;

	/* libxengnttab's own check, before any ioctl and without a log line */
	if (!count) {
		errno = EINVAL;
		return -1;
	}
	imp = calloc(1, sizeof(*imp));
	if (!imp) {
		errno = ENOMEM;
		return -1;
	}

	/*
	 * One import at a time per handle: PRIME_FD_TO_HANDLE of a dma-buf
	 * this file imported already returns that import's handle, which must
	 * then not be closed by our error path, nor by a concurrent release.
	 */
	pthread_mutex_lock(&h->imp_lock);
	ph.fd = (int)fd;
	if (zg_ioctl(h->zfd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph)) {
		err = errno;
		goto fail;
	}
	owned = !handle_imported(h, ph.handle);

	tr.num_grefs = count;
	tr.grefs_ptr = (uintptr_t)refs;
	tr.otherend_id = domid;
	tr.handle = ph.handle;
	if (zg_ioctl(h->zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &tr)) {
		err = errno;
		/*
		 * A second import of a buffer we still grant: the driver
		 * grants a buffer once (EBUSY), where gntdev would grant it
		 * again. The first import stays as it is.
		 */
		if (owned)
			zg_gem_close(h->zfd, ph.handle);
		goto fail;
	}
	imp->fd = fd;
	imp->handle = ph.handle;
	imp->next = h->imports;
	h->imports = imp;
	pthread_mutex_unlock(&h->imp_lock);
	errno = saved;
	return 0;

fail:
	pthread_mutex_unlock(&h->imp_lock);
	free(imp);
	if (zg_refused(err)) {
		errno = err;
		return ZG_DELEGATE;
	}
	zg_fail(h, err, "ioctl DMABUF_IMP_TO_REFS failed");
	return -1;
}

int zg_imp_release(struct zg_handle *h, uint32_t fd)
{
	struct zg_import **pp, *imp;
	struct drm_gem_close cl = { 0 };
	int saved = errno, err = 0;

	pthread_mutex_lock(&h->imp_lock);
	for (pp = &h->imports; (imp = *pp); pp = &imp->next)
		if (imp->fd == fd)
			break;
	if (!imp) {
		bool delegate = h->real_imports;

		pthread_mutex_unlock(&h->imp_lock);
		if (delegate)
			return ZG_DELEGATE;
		/* gntdev: -ENOENT, and libxengnttab passes it on */
		zg_fail(h, ENOENT, "ioctl DMABUF_IMP_RELEASE failed");
		return -1;
	}
	*pp = imp->next;
	/* under the lock: a concurrent import of the same buffer gets a new handle */
	cl.handle = imp->handle;
	if (zg_ioctl(h->zfd, DRM_IOCTL_GEM_CLOSE, &cl))
		err = errno;
	pthread_mutex_unlock(&h->imp_lock);
	free(imp);
	if (err) {
		zg_fail(h, err, "ioctl DMABUF_IMP_RELEASE failed (GEM_CLOSE: %s)", strerror(err));
		return -1;
	}
	errno = saved;
	return 0;
}
