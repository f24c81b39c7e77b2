// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: CPU mappings of foreign grants in a PV domain
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include "zcopy_drv.h"

/* "core" placeholder, for QUERY caps: true once mmap/vmap below work */
bool zcopy_pv_cpu_supported(void)
{
	return false;
}

int zcopy_pv_mmap(struct zcopy_buf *buf, struct vm_area_struct *vma)
{
	return -EOPNOTSUPP;
}

void *zcopy_pv_vmap(struct zcopy_buf *buf)
{
	return NULL;
}

void zcopy_pv_vunmap(struct zcopy_buf *buf, void *vaddr)
{
}
