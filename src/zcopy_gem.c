// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: GEM objects
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include <linux/err.h>

#include <drm/drm_prime.h>

#include "zcopy_drv.h"

int zcopy_from_refs(struct drm_device *drm, struct drm_file *file,
		    const struct zcopy_from_refs_args *args,
		    u32 *handle, u64 *wait_token)
{
	return -EOPNOTSUPP;
}

struct drm_gem_object *zcopy_gem_prime_import(struct drm_device *drm,
					      struct dma_buf *dma_buf)
{
	return ERR_PTR(-EOPNOTSUPP);
}

struct drm_gem_object *zcopy_gem_import_sg_table(struct drm_device *drm,
						 struct dma_buf_attachment *attach,
						 struct sg_table *sgt)
{
	return ERR_PTR(-EOPNOTSUPP);
}
