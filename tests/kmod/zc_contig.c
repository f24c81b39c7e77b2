// SPDX-License-Identifier: GPL-2.0
/*
 * zc_contig: a test-only dma-buf exporter of physically contiguous memory.
 *
 * TO_REFS must grant the right frames whatever the segments an exporter
 * hands out. The exporters the suite has (vgem) build their sg tables from
 * pages that happen to be contiguous or not; this one exports one block of
 * 2^order pages as a single segment, deliberately. With
 * ZC_CONTIG_MACHINE_DISCONTIG it looks, in a Xen PV domain, for a block
 * whose machine frames are NOT contiguous: the arch DMA ops (swiotlb-xen)
 * bounce such a segment, which is exactly what TO_REFS must not grant.
 *
 * /dev/zc_contig, ioctl ZC_CONTIG_CREATE: a new dma-buf fd (O_RDWR) whose
 * pages are zeroed and can be mmap()ed by user space to fill them.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/version.h>

#include <xen/page.h>
#include <xen/xen.h>

#include "zc_contig.h"

struct zc_contig_buf {
	struct page *page;
	unsigned int order;
	unsigned int offset;	/* of the segment in the block */
	unsigned int alloc_order;	/* of the block: order, or order + 1 */
};

static struct sg_table *zc_contig_map(struct dma_buf_attachment *attach,
				      enum dma_data_direction dir)
{
	struct zc_contig_buf *b = attach->dmabuf->priv;
	struct sg_table *sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	int ret;

	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto err_free;
	/*
	 * One segment for the whole buffer: the point of this exporter. With
	 * an offset, the block is twice the buffer (alloc order + 1), so the
	 * segment is the buffer's full size and still has memory behind it.
	 */
	sg_set_page(sgt->sgl, b->page, attach->dmabuf->size, b->offset);
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void zc_contig_unmap(struct dma_buf_attachment *attach,
			    struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static void zc_contig_release(struct dma_buf *dmabuf)
{
	struct zc_contig_buf *b = dmabuf->priv;

	__free_pages(b->page, b->alloc_order);
	kfree(b);
}

static int zc_contig_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct zc_contig_buf *b = dmabuf->priv;

	return remap_pfn_range(vma, vma->vm_start,
			       page_to_pfn(b->page) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static const struct dma_buf_ops zc_contig_ops = {
	.map_dma_buf	= zc_contig_map,
	.unmap_dma_buf	= zc_contig_unmap,
	.release	= zc_contig_release,
	.mmap		= zc_contig_mmap,
};

/* are the machine frames of the block's 4 KiB frames consecutive? */
static bool zc_contig_machine(struct page *page, unsigned int order)
{
	unsigned long xpfn = page_to_xen_pfn(page), first = pfn_to_bfn(xpfn), i;
	unsigned long n = (PAGE_SIZE / XEN_PAGE_SIZE) << order;

	for (i = 1; i < n; i++)
		if (pfn_to_bfn(xpfn + i) != first + i)
			return false;
	return true;
}

/* blocks tried for a machine-discontiguous one: at most 64 MiB held at once */
#define ZC_CONTIG_TRIES(order)	min(256u, 16384u >> (order))

static struct page *zc_contig_alloc(unsigned int order, bool discontig,
				    __u32 *is_discontig)
{
	struct page **tried, *page = NULL;
	unsigned int i, n = 0;

	*is_discontig = 0;
	tried = kcalloc(ZC_CONTIG_TRIES(order), sizeof(*tried), GFP_KERNEL);
	if (!tried)
		return NULL;
	for (i = 0; i < ZC_CONTIG_TRIES(order); i++) {
		struct page *p = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);

		if (!p)
			break;
		if (!discontig || !zc_contig_machine(p, order)) {
			page = p;
			*is_discontig = !zc_contig_machine(p, order);
			break;
		}
		tried[n++] = p;	/* keep it, so the next try is another block */
	}
	while (n--)
		__free_pages(tried[n], order);
	kfree(tried);
	return page;
}

static long zc_contig_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct zc_contig_create c;
	struct zc_contig_buf *b;
	struct dma_buf *dmabuf;
	int fd;

	if (cmd != ZC_CONTIG_CREATE)
		return -ENOTTY;
	if (copy_from_user(&c, (void __user *)arg, sizeof(c)))
		return -EFAULT;
	if (!c.pages || c.pages > 512 || !is_power_of_2(c.pages) ||
	    (c.flags & ~(ZC_CONTIG_MACHINE_DISCONTIG | ZC_CONTIG_OFFSET_512)))
		return -EINVAL;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->order = ilog2(c.pages);
	b->offset = c.flags & ZC_CONTIG_OFFSET_512 ? 512 : 0;
	b->alloc_order = b->order + !!b->offset;
	b->page = zc_contig_alloc(b->alloc_order,
				  c.flags & ZC_CONTIG_MACHINE_DISCONTIG,
				  &c.machine_discontig);
	if (!b->page) {
		kfree(b);
		return c.flags & ZC_CONTIG_MACHINE_DISCONTIG ? -EAGAIN : -ENOMEM;
	}
	exp_info.ops = &zc_contig_ops;
	exp_info.size = PAGE_SIZE << b->order;
	exp_info.flags = O_RDWR | O_CLOEXEC;
	exp_info.priv = b;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		__free_pages(b->page, b->alloc_order);
		kfree(b);
		return PTR_ERR(dmabuf);
	}
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	c.fd = fd;
	/* the fd is installed: on a copy error user space just closes it */
	if (copy_to_user((void __user *)arg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static const struct file_operations zc_contig_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= zc_contig_ioctl,
};

static struct miscdevice zc_contig_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "zc_contig",
	.fops	= &zc_contig_fops,
};

module_misc_device(zc_contig_misc);
MODULE_DESCRIPTION("xen-zcopy tests: dma-buf exporter of contiguous memory");
MODULE_LICENSE("GPL");
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif
