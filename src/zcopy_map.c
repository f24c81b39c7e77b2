// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: mapping foreign grants
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include "zcopy_drv.h"

int zcopy_map_grants(struct zcopy_device *zdev, struct zcopy_map *map)
{
	return -EOPNOTSUPP;
}

void zcopy_unmap_grants(struct zcopy_device *zdev, struct zcopy_map *map)
{
}

int zcopy_gntst_to_errno(s16 status)
{
	return -EINVAL;
}
