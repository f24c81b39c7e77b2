// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: dma-buf export
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include <linux/dma-buf.h>
#include <linux/err.h>

#include "zcopy_drv.h"

struct dma_buf *zcopy_gem_export(struct drm_gem_object *obj, int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

bool zcopy_is_our_dmabuf(struct dma_buf *dma_buf, struct drm_device *drm)
{
	return false;
}

int zcopy_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	return -EOPNOTSUPP;
}
