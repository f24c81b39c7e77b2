// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: displif page directories
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include "zcopy_drv.h"

int zcopy_pgdir_read(struct zcopy_device *zdev, domid_t domid,
		     grant_ref_t gref_dir, unsigned int nr_refs,
		     grant_ref_t *refs)
{
	return -EOPNOTSUPP;
}

int zcopy_pgdir_build(struct zcopy_device *zdev, struct zcopy_import *imp,
		      domid_t domid)
{
	return -EOPNOTSUPP;
}

void zcopy_pgdir_free(struct zcopy_device *zdev, struct zcopy_import *imp)
{
}
