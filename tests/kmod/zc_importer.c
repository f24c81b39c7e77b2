// SPDX-License-Identifier: GPL-2.0
/*
 * zc_importer: a test-only dma-buf importer for the xen-zcopy test suite.
 *
 * The CPU paths of a FROM_REFS buffer (dma-buf mmap, vmap) map the grants
 * again by ref in a PV domain, so they never show what a DMA importer (a
 * scan-out engine) gets: the sg table. This module is such an importer,
 * driven from user space through /dev/zc_importer (interface and commands:
 * zc_importer.h). It attaches a dma-buf to its own platform device, maps
 * the attachment with the direction asked for, and reports for every
 * 4 KiB of the sg table a CRC-32 read through the page's kernel address and
 * the DMA address; independently of the driver under test, it maps a
 * (domid, ref) itself to learn the bus address Xen returns for that grant
 * and its contents. Plus dma_buf_vmap over the whole dma-buf, CPU access
 * brackets, and a pin (get_page) on one sg page held across commands.
 *
 * Loaded in dom0 by the VM harness only; never part of the driver.
 */

#include <linux/crc32.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "zc_importer.h"

#define ZCI_NAME "zc_importer"

static struct platform_device *zci_pdev;

/* One importer context per open file. */
struct zci_file {
	struct mutex lock;	/* one command at a time per file */
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;		/* what the core handed us */
	struct sg_table *pages;		/* the exporter's table: pages */
	enum dma_data_direction dir;
	struct page *pinned;
};

static u32 zci_crc(const void *p, size_t len)
{
	return crc32_le(~0U, p, len) ^ ~0U;
}

/*
 * The page of an sg entry of the file's page table. With CONFIG_DMABUF_DEBUG
 * the 6.x dma-buf core scrambles page_link of the table it hands importers
 * to catch those that use it; this test importer looks at the exporter's
 * pages on purpose, so undo that. A 7.x core hands over a copy instead, and
 * f->pages is then the exporter's own table, unscrambled.
 */
static struct page *zci_sg_page(const struct zci_file *f, struct scatterlist *sg)
{
	unsigned long link = sg->page_link;

	if (IS_ENABLED(CONFIG_DMABUF_DEBUG) && f->pages == f->sgt)
		link ^= ~0xffUL;
	return (struct page *)(link & ~SG_PAGE_LINK_MASK);
}

/*
 * Mirror of the private struct dma_buf_sg_table_wrapper of
 * drivers/dma-buf/dma-buf.c (7.x, read in the 7.2 and 7.3 sources). With
 * CONFIG_DMABUF_DEBUG those kernels no longer scramble page_link: they hand
 * importers a copy of the DMA segments with no page, offset or length at
 * all and keep the exporter's table in ->original. A DMA importer needs
 * nothing else; this test importer also checks the pages behind each DMA
 * address, so it follows ->original, and only when every entry of the
 * table it got has the copy's shape (no page, length 0), which no
 * exporter's table of real pages has.
 */
struct zci_core_sg_wrapper {
	struct sg_table *original;
	struct sg_table wrapper;
};

static struct sg_table *zci_page_table(struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_DMABUF_DEBUG) || !sgt->orig_nents)
		return sgt;
	for_each_sgtable_sg(sgt, sg, i)
		if (sg->length || (sg->page_link & ~SG_PAGE_LINK_MASK))
			return sgt;
	return container_of(sgt, struct zci_core_sg_wrapper, wrapper)->original;
}

static void zci_unmap(struct zci_file *f)
{
	if (!f->sgt)
		return;
	dma_buf_unmap_attachment_unlocked(f->attach, f->sgt, f->dir);
	f->sgt = NULL;
	f->pages = NULL;
}

static void zci_detach(struct zci_file *f)
{
	zci_unmap(f);
	if (f->attach)
		dma_buf_detach(f->dmabuf, f->attach);
	f->attach = NULL;
	if (f->dmabuf)
		dma_buf_put(f->dmabuf);
	f->dmabuf = NULL;
}

static int zci_attach(struct zci_file *f, struct zci_attach __user *uarg)
{
	struct zci_attach a;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (f->dmabuf)
		return -EBUSY;
	dmabuf = dma_buf_get(a.fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, &zci_pdev->dev);
	if (IS_ERR(attach)) {
		dma_buf_put(dmabuf);
		return PTR_ERR(attach);
	}
	f->dmabuf = dmabuf;
	f->attach = attach;
	a.size = dmabuf->size;
	return copy_to_user(uarg, &a, sizeof(a)) ? -EFAULT : 0;
}

static int zci_map(struct zci_file *f, struct zci_map __user *uarg)
{
	struct zci_map m;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (!f->attach)
		return -ENXIO;
	if (f->sgt)
		return -EBUSY;
	if (m.dir != DMA_BIDIRECTIONAL && m.dir != DMA_TO_DEVICE &&
	    m.dir != DMA_FROM_DEVICE)
		return -EINVAL;
	sgt = dma_buf_map_attachment_unlocked(f->attach, m.dir);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	f->sgt = sgt;
	f->pages = zci_page_table(sgt);
	f->dir = m.dir;
	m.nents = f->pages->orig_nents;
	m.dma_nents = sgt->nents;
	m.length = 0;
	m.units = 0;
	for_each_sgtable_sg(f->pages, sg, i) {
		m.length += sg->length;
		m.units += DIV_ROUND_UP(sg->length, ZCI_UNIT);
	}
	return copy_to_user(uarg, &m, sizeof(m)) ? -EFAULT : 0;
}

/* DMA address of byte @pos of the table, walking the DMA segments. */
struct zci_dma_cursor {
	struct scatterlist *sg;
	unsigned int left;	/* DMA segments after this one */
	u64 start;		/* table offset of this segment */
};

static u64 zci_dma_at(struct zci_dma_cursor *c, u64 pos)
{
	while (c->sg && pos >= c->start + sg_dma_len(c->sg) && c->left) {
		c->start += sg_dma_len(c->sg);
		c->sg = sg_next(c->sg);
		c->left--;
	}
	if (!c->sg || pos >= c->start + sg_dma_len(c->sg))
		return DMA_MAPPING_ERROR;
	return sg_dma_address(c->sg) + (pos - c->start);
}

static int zci_frames(struct zci_file *f, struct zci_frames __user *uarg)
{
	struct zci_dma_cursor cur;
	struct zci_frames fr;
	struct zci_frame out;
	struct scatterlist *sg;
	unsigned int i, k, n = 0;
	u64 pos = 0;

	if (copy_from_user(&fr, uarg, sizeof(fr)))
		return -EFAULT;
	if (!f->sgt)
		return -ENXIO;
	cur.sg = f->sgt->nents ? f->sgt->sgl : NULL;
	cur.left = f->sgt->nents ? f->sgt->nents - 1 : 0;
	cur.start = 0;
	for_each_sgtable_sg(f->pages, sg, i) {
		struct page *page = zci_sg_page(f, sg);
		const u8 *kaddr = (const u8 *)page_address(page) + sg->offset;

		for (k = 0; k * ZCI_UNIT < sg->length; k++, n++) {
			u32 len = min_t(u32, ZCI_UNIT, sg->length - k * ZCI_UNIT);

			if (n >= fr.max)
				continue;
			memset(&out, 0, sizeof(out));
			out.dma_addr = zci_dma_at(&cur, pos + (u64)k * ZCI_UNIT);
			out.phys = page_to_phys(page) + sg->offset + (u64)k * ZCI_UNIT;
			out.crc = zci_crc(kaddr + k * ZCI_UNIT, len);
			out.sg_index = i;
			out.len = len;
			if (copy_to_user(u64_to_user_ptr(fr.frames) + n * sizeof(out),
					 &out, sizeof(out)))
				return -EFAULT;
		}
		pos += sg->length;
	}
	fr.count = n;
	return copy_to_user(uarg, &fr, sizeof(fr)) ? -EFAULT : 0;
}

/* Map (domid, ref) at @page ourselves, report bus address and contents. */
static int zci_xen_one(struct page *page, u32 domid, bool ro,
		       struct zci_xen_ref *r)
{
	unsigned long kaddr = (unsigned long)pfn_to_kaddr(page_to_pfn(page));
	struct gnttab_unmap_grant_ref unmap;
	struct gnttab_map_grant_ref op;
	struct gntab_unmap_queue_data q = {
		.unmap_ops = &unmap,
		.pages = &page,
		.count = 1,
	};
	u32 flags = GNTMAP_host_map;
	int ret;

	/* a PV domain learns the machine frame only with device_map */
	if (!xen_feature(XENFEAT_auto_translated_physmap))
		flags |= GNTMAP_device_map;
	if (ro)
		flags |= GNTMAP_readonly;
	gnttab_set_map_op(&op, kaddr, flags, r->ref, domid);
	ret = gnttab_map_refs(&op, NULL, &page, 1);
	if (ret) {
		r->status = ret;
		return 0;
	}
	r->status = op.status;
	if (op.status != GNTST_okay)
		return 0;
	r->bus_addr = op.dev_bus_addr;
	r->crc = zci_crc((const void *)kaddr, XEN_PAGE_SIZE);
	gnttab_set_unmap_op(&unmap, kaddr, flags, op.handle);
	if (flags & GNTMAP_device_map)
		unmap.dev_bus_addr = op.dev_bus_addr;
	ret = gnttab_unmap_refs_sync(&q);
	if (ret || unmap.status != GNTST_okay) {
		pr_err(ZCI_NAME ": unmapping ref %u of domain %u failed (%d, %d)\n",
		       r->ref, domid, ret, unmap.status);
		return -EIO;	/* the page is still mapped: never reuse it */
	}
	return 0;
}

static int zci_xen_frames(struct zci_xen_frames __user *uarg)
{
	struct zci_xen_frames x;
	struct zci_xen_ref r;
	struct zci_xen_ref __user *refs;
	struct page *page;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	refs = u64_to_user_ptr(x.refs);
	ret = gnttab_alloc_pages(1, &page);
	if (ret)
		return ret;
	for (i = 0; i < x.n; i++) {
		if (copy_from_user(&r, &refs[i], sizeof(r))) {
			ret = -EFAULT;
			break;
		}
		r.status = 0;
		r.bus_addr = 0;
		r.crc = 0;
		ret = zci_xen_one(page, x.domid, x.readonly, &r);
		if (ret)
			return ret;	/* leaks the page on purpose */
		if (copy_to_user(&refs[i], &r, sizeof(r))) {
			ret = -EFAULT;
			break;
		}
	}
	gnttab_free_pages(1, &page);
	return ret;
}

static int zci_vmap(struct zci_file *f, struct zci_vmap __user *uarg)
{
	struct iosys_map map;
	struct zci_vmap v;
	u32 __user *crcs;
	size_t size, k;
	int ret;

	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (!f->dmabuf)
		return -ENXIO;
	crcs = u64_to_user_ptr(v.crcs);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	ret = dma_buf_vmap_unlocked(f->dmabuf, &map);
#else
	ret = dma_buf_vmap(f->dmabuf, &map);
#endif
	if (ret)
		return ret;
	if (map.is_iomem) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	size = f->dmabuf->size;
	v.count = DIV_ROUND_UP(size, ZCI_UNIT);
	for (k = 0; k < v.count && k < v.max; k++) {
		u32 crc = zci_crc((const u8 *)map.vaddr + k * ZCI_UNIT,
				  min_t(size_t, ZCI_UNIT, size - k * ZCI_UNIT));

		if (put_user(crc, &crcs[k])) {
			ret = -EFAULT;
			goto out;
		}
	}
	ret = copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
out:
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(f->dmabuf, &map);
#else
	dma_buf_vunmap(f->dmabuf, &map);
#endif
	return ret;
}

static int zci_cpu_access(struct zci_file *f, struct zci_cpu_access __user *uarg)
{
	struct zci_cpu_access c;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (!f->dmabuf)
		return -ENXIO;
	if (c.dir != DMA_BIDIRECTIONAL && c.dir != DMA_TO_DEVICE &&
	    c.dir != DMA_FROM_DEVICE)
		return -EINVAL;
	return c.end ? dma_buf_end_cpu_access(f->dmabuf, c.dir) :
		       dma_buf_begin_cpu_access(f->dmabuf, c.dir);
}

static int zci_pin(struct zci_file *f, struct zci_pin __user *uarg)
{
	struct scatterlist *sg;
	struct zci_pin p;
	unsigned int i;

	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	if (!f->sgt)
		return -ENXIO;
	if (f->pinned)
		return -EBUSY;
	for_each_sgtable_sg(f->pages, sg, i) {
		if (i != p.index)
			continue;
		f->pinned = zci_sg_page(f, sg);
		get_page(f->pinned);
		return 0;
	}
	return -EINVAL;
}

static void zci_unpin(struct zci_file *f)
{
	if (f->pinned)
		put_page(f->pinned);
	f->pinned = NULL;
}

static long zci_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zci_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&f->lock);
	switch (cmd) {
	case ZCI_ATTACH:
		ret = zci_attach(f, uarg);
		break;
	case ZCI_MAP:
		ret = zci_map(f, uarg);
		break;
	case ZCI_FRAMES:
		ret = zci_frames(f, uarg);
		break;
	case ZCI_UNMAP:
		ret = f->sgt ? 0 : -ENXIO;
		zci_unmap(f);
		break;
	case ZCI_XEN_FRAMES:
		ret = zci_xen_frames(uarg);
		break;
	case ZCI_VMAP:
		ret = zci_vmap(f, uarg);
		break;
	case ZCI_CPU_ACCESS:
		ret = zci_cpu_access(f, uarg);
		break;
	case ZCI_PIN:
		ret = zci_pin(f, uarg);
		break;
	case ZCI_UNPIN:
		ret = f->pinned ? 0 : -ENXIO;
		zci_unpin(f);
		break;
	case ZCI_DETACH:
		ret = f->dmabuf ? 0 : -ENXIO;
		zci_detach(f);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int zci_open(struct inode *inode, struct file *file)
{
	struct zci_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int zci_release(struct inode *inode, struct file *file)
{
	struct zci_file *f = file->private_data;

	zci_detach(f);
	zci_unpin(f);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations zci_fops = {
	.owner		= THIS_MODULE,
	.open		= zci_open,
	.release	= zci_release,
	.unlocked_ioctl	= zci_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice zci_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= ZCI_NAME,
	.fops	= &zci_fops,
	.mode	= 0600,
};

static int __init zci_init(void)
{
	int ret;

	if (!xen_domain())
		return -ENODEV;
	zci_pdev = platform_device_register_simple(ZCI_NAME, -1, NULL, 0);
	if (IS_ERR(zci_pdev))
		return PTR_ERR(zci_pdev);
	/* as the driver's own device: any address is fine for the DMA API */
	ret = dma_coerce_mask_and_coherent(&zci_pdev->dev, DMA_BIT_MASK(64));
	if (!ret)
		ret = misc_register(&zci_misc);
	if (ret)
		platform_device_unregister(zci_pdev);
	return ret;
}

static void __exit zci_exit(void)
{
	misc_deregister(&zci_misc);
	platform_device_unregister(zci_pdev);
}

module_init(zci_init);
module_exit(zci_exit);

MODULE_DESCRIPTION("xen-zcopy test suite: a dma-buf importer driven from user space");
MODULE_LICENSE("GPL");
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif
