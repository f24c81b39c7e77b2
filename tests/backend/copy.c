// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The copy path a backend takes without xen_drm_zcopy (displ_be's DumbDrm
 * fallback): map the guest's pages with gntdev, and on every SET_CONFIG and
 * PG_FLIP copy the frame into a KMS dumb buffer of our own before showing
 * it. Only the benchmark uses it (--copy), to put a number on what
 * zero-copy saves per frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "be.h"

int copy_dbuf_create(struct be_dev *d, struct be_dbuf *b)
{
	uint64_t size;

	if (!b->width) {
		ERR("copy path: DBUF_CREATE with width 0 not supported");
		return -EINVAL;
	}
	b->refs = calloc(b->nrefs, sizeof(uint32_t));
	if (!b->refs)
		return -ENOMEM;
	if (pgdir_read(d->domid, b->gref_dir, b->refs, b->nrefs))
		return -EIO;
	b->copy_map = xengnttab_map_domain_grant_refs(be_xgt, b->nrefs, (uint32_t)d->domid,
						      b->refs, PROT_READ);
	if (!b->copy_map) {
		ERR("copy path: gntdev map of %u refs: %s", b->nrefs, strerror(errno));
		return -EIO;
	}
	if (kms_create_dumb(b->width, b->height, b->bpp, &b->copy_dumb, &b->copy_pitch, &size))
		return -ENOMEM;
	b->copy_dst = kms_map_dumb(b->copy_dumb, size);
	if (!b->copy_dst)
		return -ENOMEM;
	b->kms_size = size;
	b->pitch = (b->width * b->bpp + 7) / 8;	/* the frontend's pitch */
	LOG("copy path: dbuf %#llx: %u refs mapped with gntdev, KMS dumb %u",
	    (unsigned long long)b->cookie, b->nrefs, b->copy_dumb);
	return 0;
}

void copy_dbuf_destroy(struct be_dbuf *b)
{
	if (b->copy_dst)
		munmap(b->copy_dst, b->kms_size);
	if (b->copy_map)
		xengnttab_unmap(be_xgt, b->copy_map, b->nrefs);
	kms_close_handle(b->copy_dumb);
	b->copy_dst = b->copy_map = NULL;
	b->copy_dumb = 0;
}

int copy_present(struct be_dbuf *b)
{
	const char *src;
	uint32_t y, row = (b->width * b->bpp + 7) / 8;

	if (!b->copy_map || !b->copy_dst)
		return -1;
	src = (const char *)b->copy_map + b->data_ofs;
	if (b->pitch == b->copy_pitch) {
		memcpy(b->copy_dst, src, (size_t)b->pitch * b->height);
		return 0;
	}
	for (y = 0; y < b->height; y++)
		memcpy((char *)b->copy_dst + (size_t)y * b->copy_pitch,
		       src + (size_t)y * b->pitch, row);
	return 0;
}
