// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: TO_REFS: granting imported buffers
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include <drm/drm_device.h>
#include <drm/drm_file.h>

#include "zcopy_drv.h"

int zcopy_ioctl_to_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

int zcopy_to_refs(struct drm_device *drm, struct drm_file *file,
		  struct zcopy_to_refs_args *args)
{
	return -EOPNOTSUPP;
}

void zcopy_import_release(struct zcopy_buf *buf)
{
}

void zcopy_deferred_init(struct zcopy_device *zdev)
{
	spin_lock_init(&zdev->deferred_lock);
	INIT_LIST_HEAD(&zdev->deferred_list);
}

void zcopy_deferred_fini(struct zcopy_device *zdev)
{
}
