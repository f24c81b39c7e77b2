// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: TO_REFS (granting the pages of an imported PRIME buffer to
 * another domain) and the release of imports.
 *
 * The frames are taken from the DMA addresses of our own attachment, never
 * from sg_page(): the pages behind an importer's sg table belong to the
 * exporter, and dma-buf deliberately mangles those pointers. Our device's
 * DMA addresses are pseudo-physical addresses, never bounced (zcopy_dma.c),
 * so they name the exporter's memory in every domain type.
 *
 * Release follows XSA-396: foreign access is ended before the exporter gets
 * its pages back, and a page the other domain still maps is kept (the whole
 * import moves to the device's deferred list) until that domain unmaps it.
 */

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include <xen/grant_table.h>
#include <xen/page.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

/* Deferred release: first retry after 100 ms, then back off to 5 s. */
#define ZCOPY_DEFER_MIN_MS	100
#define ZCOPY_DEFER_MAX_MS	5000

/*
 * End every grant of @imp that is still issued, data and directory. A grant
 * the other domain still maps stays issued. Return true when none is left,
 * after freeing the ref arrays and the directory pages.
 */
static bool zcopy_import_revoke(struct zcopy_device *zdev,
				struct zcopy_import *imp)
{
	unsigned int i, left = 0;

	for (i = 0; i < imp->nr_refs; i++) {
		if (imp->refs[i] == INVALID_GRANT_REF)
			continue;
		if (gnttab_try_end_foreign_access(imp->refs[i])) {
			imp->refs[i] = INVALID_GRANT_REF;
			atomic_long_dec(&zdev->grants_issued);
		} else {
			left++;
		}
	}
	for (i = 0; i < imp->nr_dir; i++) {
		if (imp->dir_refs[i] == INVALID_GRANT_REF)
			continue;
		if (gnttab_try_end_foreign_access(imp->dir_refs[i])) {
			imp->dir_refs[i] = INVALID_GRANT_REF;
			atomic_long_dec(&zdev->grants_issued);
		} else {
			left++;
		}
	}
	if (left)
		return false;

	kvfree(imp->refs);
	imp->refs = NULL;
	imp->nr_refs = 0;
	zcopy_pgdir_free(zdev, imp);
	return true;
}

/*
 * Every grant ended: give the exporter its buffer back (unmap, detach, put,
 * as drm_prime_gem_destroy() does), free @imp and end the GEM object.
 */
static void zcopy_import_finish(struct zcopy_buf *buf, struct zcopy_import *imp)
{
	struct dma_buf_attachment *attach = imp->attach;
	struct dma_buf *dma_buf = attach->dmabuf;

	dma_buf_unmap_attachment_unlocked(attach, imp->sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(dma_buf, attach);
	dma_buf_put(dma_buf);
	mutex_destroy(&imp->lock);
	kfree(imp);
	/* the exporter's memory is free: the import stops counting */
	zcopy_buf_uncharge(buf);
	zcopy_buf_destroy(buf);
}

static unsigned long zcopy_defer_delay(unsigned int tries)
{
	unsigned int ms = ZCOPY_DEFER_MIN_MS << min(tries, 6u);

	return msecs_to_jiffies(min_t(unsigned int, ms, ZCOPY_DEFER_MAX_MS));
}

/*
 * The GEM free of an imported buffer (already off the debugfs list): end
 * the grants, then release the attachment and the object, now or later.
 */
void zcopy_import_release(struct zcopy_buf *buf)
{
	struct zcopy_device *zdev = zcopy_buf_dev(buf);
	struct zcopy_import *imp = buf->imp;

	if (!imp) {
		zcopy_buf_destroy(buf);
		return;
	}
	buf->imp = NULL;

	if (zcopy_import_revoke(zdev, imp)) {
		zcopy_import_finish(buf, imp);
		return;
	}

	/*
	 * The other domain still maps a page: handing it back to the exporter
	 * now would let that domain read or write memory reused by someone
	 * else. Keep the attachment (and so the pages) until it unmaps.
	 */
	imp->buf = buf;
	imp->deferred_tries = 0;
	atomic_long_inc(&zdev->deferred);
	spin_lock(&zdev->deferred_lock);
	list_add_tail(&imp->deferred_link, &zdev->deferred_list);
	mod_delayed_work(zcopy_unbound_wq(), &zdev->deferred_work,
			 zcopy_defer_delay(0));
	spin_unlock(&zdev->deferred_lock);
}

static void zcopy_deferred_run(struct work_struct *work)
{
	struct zcopy_device *zdev = container_of(to_delayed_work(work),
						 struct zcopy_device,
						 deferred_work);
	unsigned long delay = zcopy_defer_delay(~0u);
	struct zcopy_import *imp, *tmp;
	LIST_HEAD(todo);

	spin_lock(&zdev->deferred_lock);
	list_splice_init(&zdev->deferred_list, &todo);
	spin_unlock(&zdev->deferred_lock);

	list_for_each_entry_safe(imp, tmp, &todo, deferred_link) {
		if (zcopy_import_revoke(zdev, imp)) {
			list_del(&imp->deferred_link);
			zcopy_import_finish(imp->buf, imp);
			atomic_long_dec(&zdev->deferred);
			continue;
		}
		imp->deferred_tries++;
		delay = min(delay, zcopy_defer_delay(imp->deferred_tries));
	}

	spin_lock(&zdev->deferred_lock);
	list_splice(&todo, &zdev->deferred_list);
	/* A release that raced with us has already armed the work sooner. */
	if (!list_empty(&zdev->deferred_list) &&
	    !delayed_work_pending(&zdev->deferred_work))
		queue_delayed_work(zcopy_unbound_wq(),
				   &zdev->deferred_work, delay);
	spin_unlock(&zdev->deferred_lock);
}

void zcopy_deferred_init(struct zcopy_device *zdev)
{
	spin_lock_init(&zdev->deferred_lock);
	INIT_LIST_HEAD(&zdev->deferred_list);
	INIT_DELAYED_WORK(&zdev->deferred_work, zcopy_deferred_run);
}

void zcopy_deferred_fini(struct zcopy_device *zdev)
{
	struct zcopy_import *imp, *tmp;
	unsigned int leaked = 0;
	LIST_HEAD(todo);

	cancel_delayed_work_sync(&zdev->deferred_work);

	spin_lock(&zdev->deferred_lock);
	list_splice_init(&zdev->deferred_list, &todo);
	spin_unlock(&zdev->deferred_lock);

	list_for_each_entry_safe(imp, tmp, &todo, deferred_link) {
		list_del(&imp->deferred_link);
		if (zcopy_import_revoke(zdev, imp)) {
			zcopy_import_finish(imp->buf, imp);
			atomic_long_dec(&zdev->deferred);
			continue;
		}
		/*
		 * Never hand a page another domain still maps back to its
		 * exporter: leak the attachment, its mapping, the dma-buf
		 * reference and the GEM object for good. The attachment
		 * names our device, so keep the device alive too (dma-buf
		 * debugfs prints it).
		 */
		get_device(imp->attach->dev);
		/* on purpose: kmemleak still scans it, so what it holds too */
		kmemleak_not_leak(imp);
		leaked++;
	}
	if (leaked)
		pr_warn(ZCOPY_DRIVER_NAME ": %u imported buffer(s) still mapped by another domain at unload: leaked\n",
			leaked);
}

/*
 * The 4 KiB frames of the import, from the DMA addresses of our attachment
 * (zcopy_dma.c). The sg table must describe whole frames exactly: every
 * segment starts on a frame, every segment but the last ends on one, and
 * the segments add up to the dma-buf size, a multiple of 4 KiB. A buffer
 * that starts or ends inside a frame is refused: granting the whole frame
 * would share memory outside the buffer. Returns the number of frames, with
 * @gfns (kvmalloc'ed, the caller frees) filled in.
 */
static int zcopy_import_frames(struct zcopy_buf *buf, unsigned long **gfns)
{
	struct zcopy_import *imp = buf->imp;
	struct sg_table *sgt = imp->sgt;
	size_t size = imp->attach->dmabuf->size;
	unsigned int nr, n = 0, i;
	struct scatterlist *sg;
	unsigned long *frames;
	u64 total = 0;

	if (!sgt || !sgt->nents || !size || (size & ~XEN_PAGE_MASK) ||
	    size > (u64)UINT_MAX * XEN_PAGE_SIZE)
		return -EINVAL;
	nr = size >> XEN_PAGE_SHIFT;

	frames = kvmalloc_array(nr, sizeof(*frames), GFP_KERNEL);
	if (!frames)
		return -ENOMEM;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		unsigned int len = sg_dma_len(sg);
		dma_addr_t a, end = addr + len;

		if (!len || (addr & ~XEN_PAGE_MASK) ||
		    (i + 1 < sgt->nents && (end & ~XEN_PAGE_MASK)))
			goto inval;
		total += len;
		if (total > size)
			goto inval;

		for (a = addr; a < end; a += XEN_PAGE_SIZE) {
			if (n >= nr || zcopy_dma_frame(a, &frames[n]))
				goto inval;
			n++;
		}
		cond_resched();
	}
	if (total != size || n != nr)
		goto inval;

	*gfns = frames;
	return nr;

inval:
	kvfree(frames);
	return -EINVAL;
}

/*
 * Grant @n frames to @domid, writing the refs to @refs. The grant-table
 * helpers count in u16, so allocate in chunks. On failure the grants made
 * so far stay in @refs (the rest is INVALID_GRANT_REF) for the caller to end.
 */
static int zcopy_grant_frames(struct zcopy_device *zdev, grant_ref_t *refs,
			      const unsigned long *gfns, unsigned int n,
			      domid_t domid, bool readonly)
{
	unsigned int done = 0, i;

	for (i = 0; i < n; i++)
		refs[i] = INVALID_GRANT_REF;

	while (done < n) {
		unsigned int chunk = min_t(unsigned int, n - done, U16_MAX);
		grant_ref_t head;
		int ret;

		/* Fails with -ENOSPC once the table cannot grow: no waiting. */
		ret = gnttab_alloc_grant_references(chunk, &head);
		if (ret)
			return ret;
		for (i = 0; i < chunk; i++, done++) {
			int ref = gnttab_claim_grant_reference(&head);

			gnttab_grant_foreign_access_ref(ref, domid, gfns[done],
							readonly);
			refs[done] = ref;
			atomic_long_inc(&zdev->grants_issued);
		}
		gnttab_free_grant_references(head);
	}
	return 0;
}

/*
 * Undo a failed TO_REFS. The refs were not handed out yet, but another
 * domain can guess and map them: what cannot be ended stays recorded, the
 * import counts as granted, and its release defers like any other.
 */
static void zcopy_to_refs_undo(struct zcopy_device *zdev,
			       struct zcopy_buf *buf)
{
	struct zcopy_import *imp = buf->imp;

	/* debugfs reads the refs under the lock while the buffer is listed */
	mutex_lock(&imp->lock);
	if (zcopy_import_revoke(zdev, imp)) {
		imp->granted = false;
		clear_bit(0, &imp->busy);
	}
	mutex_unlock(&imp->lock);
}

int zcopy_to_refs(struct drm_device *drm, struct drm_file *file,
		  struct zcopy_to_refs_args *args)
{
	struct zcopy_device *zdev = to_zcopy_device(drm);
	struct drm_gem_object *obj;
	struct zcopy_import *imp;
	unsigned long *gfns = NULL;
	struct zcopy_buf *buf;
	grant_ref_t *refs;
	bool readonly;
	int nr, ret;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	buf = to_zcopy_buf(obj);
	/* FROM_REFS buffers and self-imports are ours, not imports. */
	if (buf->kind != ZCOPY_BUF_IMPORTED || !buf->imp) {
		ret = -EINVAL;
		goto out_put;
	}
	imp = buf->imp;

	/* Granted, or being granted by another thread: once only. */
	if (test_and_set_bit(0, &imp->busy)) {
		ret = -EBUSY;
		goto out_put;
	}

	/*
	 * A dma-buf whose file is not open for writing gets read-only grants
	 * (and the caller learns it from the READ_ONLY flag on return). The
	 * 2018 ioctl keeps its contract, read-write: its backend exports with
	 * DRM_CLOEXEC alone, which makes every dma-buf file read-only, and
	 * the frontend maps what it is given for writing.
	 */
	readonly = args->readonly;
	if (!args->legacy && !(imp->attach->dmabuf->file->f_mode & FMODE_WRITE))
		readonly = true;

	nr = zcopy_import_frames(buf, &gfns);
	if (nr < 0) {
		ret = nr;
		goto out_idle;
	}
	if (nr != args->nr_refs) {
		ret = -EINVAL;
		goto out_idle;
	}

	refs = kvmalloc_array(nr, sizeof(*refs), GFP_KERNEL);
	if (!refs) {
		ret = -ENOMEM;
		goto out_idle;
	}
	imp->domid = args->domid;
	imp->readonly = readonly;

	/*
	 * Published (under the lock, for debugfs) before anything is granted:
	 * from the first grant on, undo and release must find every ref.
	 */
	mutex_lock(&imp->lock);
	imp->refs = refs;
	imp->nr_refs = nr;
	imp->granted = true;
	ret = zcopy_grant_frames(zdev, refs, gfns, nr, args->domid, readonly);
	mutex_unlock(&imp->lock);
	if (ret)
		goto out_undo;

	args->gref_dir = 0;
	if (args->pgdir) {
		ret = zcopy_pgdir_build(zdev, imp, args->domid);
		if (ret)
			goto out_undo;
		args->gref_dir = imp->dir_refs[0];
	}

	if (args->urefs &&
	    copy_to_user(args->urefs, refs, nr * sizeof(*refs))) {
		ret = -EFAULT;
		goto out_undo;
	}

	args->readonly = readonly;
	args->data_ofs = 0;
	args->size = imp->attach->dmabuf->size;
	ret = 0;
	goto out_free;

out_idle:
	clear_bit(0, &imp->busy);
	goto out_free;
out_undo:
	args->gref_dir = 0;
	zcopy_to_refs_undo(zdev, buf);
out_free:
	kvfree(gfns);
out_put:
	drm_gem_object_put(obj);
	return ret;
}

int zcopy_ioctl_to_refs(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct drm_xen_zcopy_to_refs *req = data;
	struct zcopy_to_refs_args args = {};
	int ret;

	if (req->flags & ~XEN_ZCOPY_TO_REFS_FLAGS)
		return -EINVAL;
	if (req->reserved[0] || req->reserved[1])
		return -EINVAL;
	if (zcopy_check_domid(req->domid))
		return -EINVAL;
	if (!req->num_refs || req->num_refs > READ_ONCE(zcopy_max_refs))
		return -EINVAL;
	if (!req->refs && !(req->flags & XEN_ZCOPY_TO_REFS_PGDIR))
		return -EINVAL;

	args.handle = req->handle;
	args.domid = req->domid;
	args.readonly = req->flags & XEN_ZCOPY_TO_REFS_READ_ONLY;
	args.pgdir = req->flags & XEN_ZCOPY_TO_REFS_PGDIR;
	args.nr_refs = req->num_refs;
	args.urefs = u64_to_user_ptr(req->refs);

	ret = zcopy_to_refs(drm, file, &args);
	if (ret)
		return ret;

	req->gref_dir = args.gref_dir;
	req->data_ofs = args.data_ofs;
	req->size = args.size;
	if (args.readonly)
		req->flags |= XEN_ZCOPY_TO_REFS_READ_ONLY;
	return 0;
}
