// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: the 2018 xen-zcopy ioctls
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include <drm/drm_device.h>
#include <drm/drm_file.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

int zcopy_ioctl_dumb_from_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

int zcopy_ioctl_dumb_to_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}

int zcopy_ioctl_dumb_wait_free(struct drm_device *drm, void *data, struct drm_file *file)
{
	return -EOPNOTSUPP;
}
