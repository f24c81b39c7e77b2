// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: dma-buf export of FROM_REFS buffers
 *
 * Our own dma_buf_ops instead of the DRM PRIME helpers, because:
 * - each importer gets its own sg table, built with one entry per kernel
 *   page: in a PV domain the machine frames of neighbouring pages are not
 *   contiguous and swiotlb-xen would bounce a multi-page segment;
 * - the dma-buf is whole kernel pages, as importers expect, with the tail of
 *   a 16K/64K page backed (zcopy_map.c);
 * - CPU access (mmap, vmap) of foreign frames needs grant operations in a
 *   PV domain (zcopy_cpu_pv.c);
 * - a read-only buffer is exported read-only.
 *
 * The dma-buf holds a reference to the GEM object (drm_gem_dmabuf_export()),
 * and a user mapping holds the dma-buf file, so the grants stay mapped
 * until the last handle, fd, attachment and mapping are gone.
 */

#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_prime.h>
#include <drm/drm_print.h>

#include "zcopy_drv.h"

/**
 * struct zcopy_attach - per-attachment state of our dma-buf
 */
struct zcopy_attach {
	/** @link: entry in &zcopy_buf.attachments. */
	struct list_head link;
	/** @attach: the dma-buf core's attachment. */
	struct dma_buf_attachment *attach;
	/** @sgt: the mapping for @attach->dev, or NULL while unmapped. */
	struct sg_table *sgt;
	/** @dir: direction of @sgt. */
	enum dma_data_direction dir;
	/** @need_sync: CPU access must sync @sgt (zcopy_sgt_needs_sync()). */
	bool need_sync;
};

static struct zcopy_buf *zcopy_dmabuf_buf(struct dma_buf *dma_buf)
{
	return to_zcopy_buf(dma_buf->priv);
}

static int zcopy_dmabuf_attach(struct dma_buf *dma_buf,
			       struct dma_buf_attachment *attach)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(dma_buf);
	struct zcopy_attach *za = kzalloc(sizeof(*za), GFP_KERNEL);

	if (!za)
		return -ENOMEM;
	za->attach = attach;
	za->dir = DMA_NONE;
	attach->priv = za;

	mutex_lock(&buf->attach_lock);
	list_add_tail(&za->link, &buf->attachments);
	buf->importers++;
	mutex_unlock(&buf->attach_lock);
	return 0;
}

/* the unmap of zcopy_dmabuf_map(): its cache maintenance where it has any */
static void zcopy_unmap_sgt(struct device *dev, struct sg_table *sgt,
			    enum dma_data_direction dir, bool need_sync)
{
	if (need_sync)
		dma_sync_sgtable_for_cpu(dev, sgt, dir);
	dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
}

static void zcopy_dmabuf_detach(struct dma_buf *dma_buf,
				struct dma_buf_attachment *attach)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(dma_buf);
	struct zcopy_attach *za = attach->priv;

	mutex_lock(&buf->attach_lock);
	/* importers unmap before detaching; clean up after one that did not */
	if (za->sgt) {
		drm_warn_once(buf->base.dev, "dma-buf detached while still mapped\n");
		zcopy_unmap_sgt(attach->dev, za->sgt, za->dir, za->need_sync);
		sg_free_table(za->sgt);
		kfree(za->sgt);
	}
	list_del(&za->link);
	buf->importers--;
	mutex_unlock(&buf->attach_lock);
	attach->priv = NULL;
	kfree(za);
}

/* An sg table of @buf's pages, one entry per kernel page. */
static struct sg_table *zcopy_buf_sgt(struct zcopy_buf *buf)
{
	struct zcopy_map *map = buf->map;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, map->nr_pages, GFP_KERNEL);
	if (ret) {
		kfree(sgt);
		return ERR_PTR(ret);
	}
	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, map->pages[i], PAGE_SIZE, 0);
	return sgt;
}

/*
 * Must CPU access sync this mapping? Only if the device is not cache
 * coherent, or if the DMA API bounced a page (the device then works on a
 * copy, which a sync brings up to date). A page was not bounced when its
 * DMA address is what a direct mapping gives: of its pseudo-physical
 * address (dma-direct) or of its machine address (swiotlb-xen). Where
 * nothing needs it, begin/end_cpu_access skip the mapping: they stay O(1)
 * instead of walking every page (swiotlb-xen looks at each entry even when
 * it has nothing to copy).
 */
static bool zcopy_sgt_needs_sync(const struct zcopy_buf *buf,
				 struct device *dev, struct sg_table *sgt)
{
	const struct zcopy_map *map = buf->map;
	struct scatterlist *sg;
	unsigned int i;

	if (!dev_is_dma_coherent(dev) || sgt->nents != sgt->orig_nents)
		return true;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		u64 bus = map->bus_addrs[i * ZCOPY_GRANTS_PER_PAGE];

		if (addr != phys_to_dma(dev, page_to_phys(map->pages[i])) &&
		    addr != phys_to_dma(dev, bus))
			return true;
	}
	return false;
}

static struct sg_table *zcopy_dmabuf_map(struct dma_buf_attachment *attach,
					 enum dma_data_direction dir)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(attach->dmabuf);
	struct zcopy_attach *za = attach->priv;
	struct sg_table *sgt;
	int ret;

	/*
	 * A read-only buffer refuses a device-writes-only mapping, but not
	 * DMA_BIDIRECTIONAL: every DRM importer maps with it
	 * (drm_gem_prime_import_dev()), and refusing it would make read-only
	 * guest framebuffers impossible to scan out. What stops a device
	 * from writing is Xen: the grants are mapped GNTMAP_readonly, which
	 * an IOMMU enforces for DMA; without one (a PV dom0 without IOMMU,
	 * an Arm SoC without SMMU) nothing can.
	 */
	if (buf->map->readonly && dir == DMA_FROM_DEVICE)
		return ERR_PTR(-EACCES);

	mutex_lock(&buf->attach_lock);
	if (za->sgt) {
		/* one mapping per attachment; the DRM importers map once */
		sgt = ERR_PTR(-EBUSY);
		goto out;
	}
	sgt = zcopy_buf_sgt(buf);
	if (IS_ERR(sgt))
		goto out;
	/*
	 * Several importers map the same pages at once (a KMS device and a
	 * capture device, say). The cache maintenance of a map or unmap is
	 * only wanted where there is any (a bounce buffer, a non-coherent
	 * device), so it is done explicitly there, and skipped on a coherent
	 * direct mapping, where it is a no-op. That also keeps the DMA API
	 * debugging from reporting the overlap of the importers' mappings,
	 * as drm_gem_map_dma_buf() and gntdev-dmabuf do by skipping it always.
	 */
	ret = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret) {
		sg_free_table(sgt);
		kfree(sgt);
		sgt = ERR_PTR(ret);
		goto out;
	}
	za->sgt = sgt;
	za->dir = dir;
	za->need_sync = zcopy_sgt_needs_sync(buf, attach->dev, sgt);
	if (za->need_sync)
		dma_sync_sgtable_for_device(attach->dev, sgt, dir);
out:
	mutex_unlock(&buf->attach_lock);
	return sgt;
}

static void zcopy_dmabuf_unmap(struct dma_buf_attachment *attach,
			       struct sg_table *sgt,
			       enum dma_data_direction dir)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(attach->dmabuf);
	struct zcopy_attach *za = attach->priv;
	bool need_sync = true;

	mutex_lock(&buf->attach_lock);
	if (za->sgt == sgt) {
		need_sync = za->need_sync;
		za->sgt = NULL;
		za->dir = DMA_NONE;
	}
	mutex_unlock(&buf->attach_lock);
	zcopy_unmap_sgt(attach->dev, sgt, dir, need_sync);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * CPU access brackets: sync every importer's mapping, as udmabuf does, in
 * the direction it was mapped with (the DMA API wants the mapping's
 * direction, not the CPU's).
 */
static int zcopy_dmabuf_begin_cpu(struct dma_buf *dma_buf,
				  enum dma_data_direction dir)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(dma_buf);
	struct zcopy_attach *za;

	mutex_lock(&buf->attach_lock);
	list_for_each_entry(za, &buf->attachments, link)
		if (za->sgt && za->need_sync)
			dma_sync_sgtable_for_cpu(za->attach->dev, za->sgt,
						 za->dir);
	mutex_unlock(&buf->attach_lock);
	return 0;
}

static int zcopy_dmabuf_end_cpu(struct dma_buf *dma_buf,
				enum dma_data_direction dir)
{
	struct zcopy_buf *buf = zcopy_dmabuf_buf(dma_buf);
	struct zcopy_attach *za;

	mutex_lock(&buf->attach_lock);
	list_for_each_entry(za, &buf->attachments, link)
		if (za->sgt && za->need_sync)
			dma_sync_sgtable_for_device(za->attach->dev, za->sgt,
						    za->dir);
	mutex_unlock(&buf->attach_lock);
	return 0;
}

/*
 * Outside PV the pages are mapped by pfn, one fault at a time, as udmabuf
 * does: a VM_PFNMAP mapping takes no reference on the pages, so nothing
 * (GUP, vmsplice, O_DIRECT, io_uring) can pin them through it and keep the
 * grants mapped after the buffer is gone.
 */
static vm_fault_t zcopy_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct zcopy_buf *buf = to_zcopy_buf(vma->vm_private_data);
	pgoff_t pgoff = vmf->pgoff;

	if (pgoff >= buf->map->nr_pages)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn(vma, vmf->address,
			      page_to_pfn(buf->map->pages[pgoff]));
}

static const struct vm_operations_struct zcopy_vm_ops = {
	.fault	= zcopy_vm_fault,
};

/**
 * zcopy_gem_mmap - map a FROM_REFS buffer into user space
 * @obj: the buffer
 * @vma: the new mapping, whose vm_file (the dma-buf) keeps @obj alive
 *
 * Return: 0, -EACCES for a writable mapping of a read-only buffer,
 * -EINVAL for a private (copy-on-write) mapping or one past the end,
 * -EOPNOTSUPP for an import, or another errno.
 */
int zcopy_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct zcopy_buf *buf = to_zcopy_buf(obj);

	if (buf->kind != ZCOPY_BUF_FOREIGN || !buf->map)
		return -EOPNOTSUPP;
	if (buf->map->readonly) {
		/* Xen would fault the write; refuse it up front, for good */
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		zcopy_vm_flags_clear(vma, VM_MAYWRITE);
	}
	/*
	 * A COW mapping would give the writer a private copy of the foreign
	 * page: its writes would never reach the other domain.
	 */
	if (zcopy_vma_is_cow(vma))
		return -EINVAL;
	zcopy_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);

	/* a plain PTE to a foreign frame is refused by Xen in PV */
	if (zcopy_is_pv())
		return zcopy_pv_mmap(buf, vma);

	zcopy_vm_flags_set(vma, VM_IO | VM_PFNMAP);
	vma->vm_private_data = obj;
	vma->vm_ops = &zcopy_vm_ops;
	return 0;
}

static int zcopy_dmabuf_mmap(struct dma_buf *dma_buf, struct vm_area_struct *vma)
{
	return zcopy_gem_mmap(dma_buf->priv, vma);
}

static int zcopy_dmabuf_vmap(struct dma_buf *dma_buf, struct iosys_map *map)
{
	return zcopy_buf_vmap(zcopy_dmabuf_buf(dma_buf), map);
}

static void zcopy_dmabuf_vunmap(struct dma_buf *dma_buf, struct iosys_map *map)
{
	zcopy_buf_vunmap(zcopy_dmabuf_buf(dma_buf), map);
}

static const struct dma_buf_ops zcopy_dmabuf_ops = {
	.attach			= zcopy_dmabuf_attach,
	.detach			= zcopy_dmabuf_detach,
	.map_dma_buf		= zcopy_dmabuf_map,
	.unmap_dma_buf		= zcopy_dmabuf_unmap,
	.release		= drm_gem_dmabuf_release,
	.begin_cpu_access	= zcopy_dmabuf_begin_cpu,
	.end_cpu_access		= zcopy_dmabuf_end_cpu,
	.mmap			= zcopy_dmabuf_mmap,
	.vmap			= zcopy_dmabuf_vmap,
	.vunmap			= zcopy_dmabuf_vunmap,
};

/**
 * zcopy_is_our_dmabuf - was @dma_buf exported by this driver on @drm?
 * @dma_buf: any dma-buf
 * @drm: our device
 *
 * Return: true for a buffer of ours (self-import returns the same object).
 */
bool zcopy_is_our_dmabuf(struct dma_buf *dma_buf, struct drm_device *drm)
{
	struct drm_gem_object *obj;

	if (dma_buf->ops != &zcopy_dmabuf_ops)
		return false;
	obj = dma_buf->priv;
	return obj->dev == drm;
}

/**
 * zcopy_gem_export - &drm_gem_object_funcs.export
 * @obj: the buffer
 * @flags: file flags from PRIME_HANDLE_TO_FD
 *
 * Only FROM_REFS buffers are exported (an import is re-exported by its
 * own driver). The DRM core installs the fd afterwards; nothing here
 * touches the dma-buf after returning it.
 *
 * Return: the dma-buf or an ERR_PTR.
 */
struct dma_buf *zcopy_gem_export(struct drm_gem_object *obj, int flags)
{
	struct zcopy_buf *buf = to_zcopy_buf(obj);
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	if (buf->kind != ZCOPY_BUF_FOREIGN || !buf->map)
		return ERR_PTR(-EINVAL);

	exp_info.ops = &zcopy_dmabuf_ops;
	/* whole kernel pages, the tail backed (zcopy_map.c) */
	exp_info.size = obj->size;
	exp_info.flags = flags;
	if (buf->map->readonly)
		exp_info.flags = (flags & ~O_ACCMODE) | O_RDONLY;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;

	return drm_gem_dmabuf_export(obj->dev, &exp_info);
}
