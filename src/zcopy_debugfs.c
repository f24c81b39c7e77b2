// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: debugfs
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include "zcopy_drv.h"

void zcopy_debugfs_init(struct zcopy_device *zdev)
{
}

void zcopy_debugfs_fini(struct zcopy_device *zdev)
{
}
