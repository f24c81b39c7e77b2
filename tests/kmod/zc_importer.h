/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zc_importer: the ioctl interface of the test-only dma-buf importer
 * (tests/kmod/zc_importer.c), shared by the module and the test library
 * (tests/lib/importer.c). Test code only: no compatibility promise.
 *
 * /dev/zc_importer: each open file is one importer context, holding at
 * most one attachment (open the device again for a second one). Every
 * ioctl returns 0 or -1 with errno; ZCI_MAP's errno is the one
 * dma_buf_map_attachment() returned.
 *
 *   ZCI_ATTACH     dma_buf_get(fd) + dma_buf_attach() to the module's own
 *                  platform device (64-bit DMA mask, like the driver's)
 *   ZCI_MAP        dma_buf_map_attachment() with the given direction
 *   ZCI_FRAMES     for each 4 KiB unit of the mapped sg table: a CRC-32 of
 *                  its bytes read through the sg page's kernel address, the
 *                  page's physical address and the unit's DMA address
 *   ZCI_UNMAP      dma_buf_unmap_attachment()
 *   ZCI_XEN_FRAMES maps (domid, ref) for each ref itself with the kernel
 *                  grant API (GNTMAP_host_map, + GNTMAP_device_map in a PV
 *                  domain), reads the bus address Xen returned and a CRC-32
 *                  of the 4 KiB through that mapping, and unmaps again
 *   ZCI_VMAP       dma_buf_vmap() of the whole dma-buf: a CRC-32 per 4 KiB
 *                  of the full dma-buf size, then dma_buf_vunmap()
 *   ZCI_CPU_ACCESS dma_buf_begin_cpu_access() / dma_buf_end_cpu_access()
 *   ZCI_PIN        get_page() on the page of sg entry @index (kept after
 *                  ZCI_UNMAP and ZCI_DETACH, until ZCI_UNPIN or close)
 *   ZCI_UNPIN      put_page() of the pinned page
 *   ZCI_DETACH     unmap (if mapped), dma_buf_detach(), dma_buf_put()
 *
 * CRC-32 is the zlib one: crc32_le(~0, p, len) ^ ~0 in the kernel.
 */
#ifndef ZC_IMPORTER_H
#define ZC_IMPORTER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ZCI_DEVICE	"/dev/zc_importer"
#define ZCI_UNIT	4096u

/* enum dma_data_direction */
#define ZCI_DMA_BIDIRECTIONAL	0
#define ZCI_DMA_TO_DEVICE	1
#define ZCI_DMA_FROM_DEVICE	2

struct zci_attach {
	__s32 fd;		/* in: the dma-buf */
	__u32 pad;
	__u64 size;		/* out: dma-buf size in bytes */
};

struct zci_map {
	__u32 dir;		/* in: ZCI_DMA_* */
	__u32 nents;		/* out: CPU entries of the sg table */
	__u32 dma_nents;	/* out: DMA segments */
	__u32 units;		/* out: 4 KiB units the sg table covers */
	__u64 length;		/* out: total length of the CPU entries */
};

struct zci_frame {
	__u64 dma_addr;		/* DMA address of this unit */
	__u64 phys;		/* page_to_phys(sg page) + offset of this unit */
	__u32 crc;		/* CRC-32 of the unit through its kernel address */
	__u32 sg_index;		/* the sg entry it belongs to */
	__u32 len;		/* bytes of the unit (4096 but for a short tail) */
	__u32 pad;
};

struct zci_frames {
	__u64 frames;		/* in: user array of struct zci_frame */
	__u32 max;		/* in: its capacity */
	__u32 count;		/* out: units of the sg table (may exceed max) */
};

struct zci_xen_ref {
	__u32 ref;		/* in */
	__s32 status;		/* out: GNTST_* of the map (0 = mapped), or -errno */
	__u64 bus_addr;		/* out: dev_bus_addr Xen returned */
	__u32 crc;		/* out: CRC-32 of the 4 KiB through our mapping */
	__u32 pad;
};

struct zci_xen_frames {
	__u64 refs;		/* in/out: user array of struct zci_xen_ref */
	__u32 n;		/* in: entries */
	__u32 domid;		/* in: the granting domain */
	__u32 readonly;		/* in: map read-only */
	__u32 pad;
};

struct zci_vmap {
	__u64 crcs;		/* in: user array of __u32 */
	__u32 max;		/* in: its capacity */
	__u32 count;		/* out: 4 KiB units of the dma-buf size */
};

struct zci_cpu_access {
	__u32 dir;		/* in: ZCI_DMA_* */
	__u32 end;		/* in: 0 begin, 1 end */
};

struct zci_pin {
	__u32 index;		/* in: sg entry */
	__u32 pad;
};

#define ZCI_IOC 'Z'
#define ZCI_ATTACH	_IOWR(ZCI_IOC, 0x40, struct zci_attach)
#define ZCI_MAP		_IOWR(ZCI_IOC, 0x41, struct zci_map)
#define ZCI_FRAMES	_IOWR(ZCI_IOC, 0x42, struct zci_frames)
#define ZCI_UNMAP	_IO(ZCI_IOC, 0x43)
#define ZCI_XEN_FRAMES	_IOWR(ZCI_IOC, 0x44, struct zci_xen_frames)
#define ZCI_VMAP	_IOWR(ZCI_IOC, 0x45, struct zci_vmap)
#define ZCI_CPU_ACCESS	_IOW(ZCI_IOC, 0x46, struct zci_cpu_access)
#define ZCI_PIN		_IOW(ZCI_IOC, 0x47, struct zci_pin)
#define ZCI_UNPIN	_IO(ZCI_IOC, 0x48)
#define ZCI_DETACH	_IO(ZCI_IOC, 0x49)

#endif /* ZC_IMPORTER_H */
