/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* zc_contig: ioctl of the test-only contiguous dma-buf exporter (zc_contig.c) */
#ifndef ZC_CONTIG_H
#define ZC_CONTIG_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* in a PV domain, a block whose machine frames are not contiguous */
#define ZC_CONTIG_MACHINE_DISCONTIG	(1u << 0)
/* the segment starts 512 bytes into the block (same size): not on a frame */
#define ZC_CONTIG_OFFSET_512		(1u << 1)

struct zc_contig_create {
	__u32 pages;		/* in: kernel pages, a power of two, at most 512 */
	__u32 flags;		/* in: ZC_CONTIG_* */
	__s32 fd;		/* out: the dma-buf */
	__u32 machine_discontig;	/* out: its machine frames are not contiguous */
};

#define ZC_CONTIG_CREATE	_IOWR('Z', 0x60, struct zc_contig_create)

#endif
