// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: the DMA view of our own device
 *
 * Our platform device never does DMA. It is attached to other drivers'
 * dma-bufs only so that TO_REFS can learn which memory backs them, and the
 * only thing done with the "DMA addresses" an exporter maps for it is to
 * grant the frames behind them to another domain. What TO_REFS needs is the
 * pseudo-physical address of each 4 KiB frame, which pfn_to_gfn() turns into
 * the frame number a grant names. The architecture's DMA ops are wrong for
 * that in a PV domain: swiotlb-xen returns machine addresses, and it bounces
 * every segment whose pages are contiguous in pseudo-physical but not in
 * machine memory (most multi-page segments, e.g. vgem's), so the address
 * then names a bounce slot instead of the exporter's memory.
 *
 * So the device gets DMA ops of its own that hand out the physical address
 * of each segment unchanged and never bounce, sync or touch the memory.
 * There is no cache maintenance to do either: the only "device" that reads
 * the memory is another domain's CPU, through cacheable mappings on the same
 * coherent interconnect. MMIO (dma_map_resource) is refused: there are no
 * ops for it, so the DMA core answers DMA_MAPPING_ERROR.
 *
 * zcopy_dma_frame() is the inverse: the grantable frame behind one of those
 * addresses, refusing frames that are not this domain's own memory.
 */

#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/scatterlist.h>

#include <xen/page.h>
#include <xen/xen.h>

#include "zcopy_drv.h"

#if IS_ENABLED(CONFIG_XEN_PV)
#include <asm/xen/page.h>

/*
 * A PV domain's p2m marks frames that are not its own RAM: foreign
 * mappings (FOREIGN_FRAME_BIT), MMIO and holes (IDENTITY_FRAME_BIT,
 * INVALID_P2M_ENTRY).
 */
static bool zcopy_pv_own_frame(unsigned long xpfn)
{
	unsigned long mfn = __pfn_to_mfn(xpfn);

	return mfn != INVALID_P2M_ENTRY &&
	       !(mfn & (FOREIGN_FRAME_BIT | IDENTITY_FRAME_BIT));
}
#else
static bool zcopy_pv_own_frame(unsigned long xpfn)
{
	return false;	/* not reached: no PV domain without CONFIG_XEN_PV */
}
#endif

#if ZCOPY_DMA_OPS_MAP_PHYS
static dma_addr_t zcopy_dma_map_phys(struct device *dev, phys_addr_t phys,
				     size_t size, enum dma_data_direction dir,
				     unsigned long attrs)
{
	/* MMIO has no frame this domain could grant */
	if (attrs & DMA_ATTR_MMIO)
		return DMA_MAPPING_ERROR;
	return phys;
}

static void zcopy_dma_unmap_phys(struct device *dev, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
}
#else
static dma_addr_t zcopy_dma_map_page(struct device *dev, struct page *page,
				     unsigned long offset, size_t size,
				     enum dma_data_direction dir,
				     unsigned long attrs)
{
	return page_to_phys(page) + offset;
}

static void zcopy_dma_unmap_page(struct device *dev, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
}
#endif

static int zcopy_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			    int nents, enum dma_data_direction dir,
			    unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = sg_phys(sg);
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static void zcopy_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
}

static const struct dma_map_ops zcopy_dma_ops = {
#if ZCOPY_DMA_OPS_MAP_PHYS
	.map_phys	= zcopy_dma_map_phys,
	.unmap_phys	= zcopy_dma_unmap_phys,
#else
	.map_page	= zcopy_dma_map_page,
	.unmap_page	= zcopy_dma_unmap_page,
#endif
	.map_sg		= zcopy_dma_map_sg,
	.unmap_sg	= zcopy_dma_unmap_sg,
};

/**
 * zcopy_dma_setup - give our device its DMA ops and limits
 * @dev: the platform device, before any dma-buf is attached to it
 *
 * Return: 0 or a negative errno.
 */
int zcopy_dma_setup(struct device *dev)
{
	int ret;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	set_dma_ops(dev, &zcopy_dma_ops);
	/*
	 * Any segment length and alignment is fine: TO_REFS walks each
	 * segment frame by frame. Without this, DMA-API debug rightly
	 * complains about the 64 KiB default when an exporter maps larger
	 * segments (vgem builds them up to the swiotlb limit).
	 */
	if (!dev->dma_parms)
		return -ENODEV;
	/* (int before 6.11, void since; nothing can fail with dma_parms set) */
	dma_set_max_seg_size(dev, UINT_MAX);
	dma_set_seg_boundary(dev, ULONG_MAX);
	return 0;
}

/**
 * zcopy_dma_frame - the grantable frame behind a DMA address of our device
 * @addr: a DMA address an exporter mapped for our device, 4 KiB aligned
 * @gfn: out, the frame number a grant of it names
 *
 * Only this domain's own RAM can be granted: frames of other domains mapped
 * here (a foreign page), MMIO and holes are refused. In a PV domain the p2m
 * tells them apart; in an auto-translated one a foreign mapping is in the
 * p2m tree pfn_to_bfn() reads, while our own RAM is not.
 *
 * Return: 0, or -EINVAL for a frame that cannot be granted.
 */
int zcopy_dma_frame(dma_addr_t addr, unsigned long *gfn)
{
	phys_addr_t phys = addr;
	unsigned long xpfn = XEN_PFN_DOWN(phys);

	if (!pfn_valid(PHYS_PFN(phys)))
		return -EINVAL;
	if (zcopy_is_pv() ? !zcopy_pv_own_frame(xpfn) :
			    pfn_to_bfn(xpfn) != xpfn)
		return -EINVAL;
	*gfn = pfn_to_gfn(xpfn);
	return 0;
}
