// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: the 2018 xen-zcopy ioctls
 *
 * DUMB_FROM_REFS, DUMB_TO_REFS and DUMB_WAIT_FREE keep their numbers and
 * LP64 layouts so that the ces2018 display backend runs unmodified. They
 * are translated onto the code of the new ioctls, with the 2018 semantics:
 * grants mapped read-write, dumb.size = pitch * height, the wait handle is
 * the id part of the wait token. The implicit padding of the 2018 structs
 * is ignored, as the 2018 driver did, since old binaries may leave garbage
 * in it.
 */

#include <linux/kernel.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

int zcopy_ioctl_dumb_from_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_dumb_from_refs *req = data;
	struct zcopy_from_refs_args args = { };
	u32 pitch;
	u64 size, token;
	int ret;

	if (!req->num_grefs || req->num_grefs > READ_ONCE(zcopy_max_refs) ||
	    !req->grefs_ptr || zcopy_check_domid(req->otherend_id))
		return -EINVAL;
	ret = zcopy_dumb_geometry(req->dumb.width, req->dumb.height,
				  req->dumb.bpp, &pitch, &size);
	if (ret)
		return ret;
	/* 2018: num_grefs >= the pages the geometry needs; more are mapped */
	if (size > (u64)req->num_grefs * XEN_ZCOPY_GRANT_SIZE)
		return -EINVAL;

	args.domid = req->otherend_id;
	args.readonly = false;
	args.nr_grants = req->num_grefs;
	args.urefs = u64_to_user_ptr(req->grefs_ptr);
	args.flags = ZCOPY_BUF_F_DUMB | ZCOPY_BUF_F_LEGACY;

	ret = zcopy_from_refs(drm, file, &args, &req->dumb.handle, &token);
	if (ret)
		return ret;
	req->dumb.pitch = pitch;
	req->dumb.size = size;
	req->wait_handle = lower_32_bits(token);
	return 0;
}

int zcopy_ioctl_dumb_to_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_dumb_to_refs *req = data;
	struct zcopy_to_refs_args args = { };

	if (!req->num_grefs || req->num_grefs > READ_ONCE(zcopy_max_refs) ||
	    !req->grefs_ptr || zcopy_check_domid(req->otherend_id))
		return -EINVAL;

	args.handle = req->handle;
	args.domid = req->otherend_id;
	args.readonly = false;
	args.pgdir = false;
	args.nr_refs = req->num_grefs;
	args.urefs = u64_to_user_ptr(req->grefs_ptr);
	args.legacy = true;
	return zcopy_to_refs(drm, file, &args);
}

int zcopy_ioctl_dumb_wait_free(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_dumb_wait_free *req = data;

	if (req->wait_to_ms > ZCOPY_MAX_WAIT_MS)
		return -EINVAL;
	return zcopy_wait_free(to_zcopy_device(drm), file->driver_priv,
			       req->wait_handle, true, req->wait_to_ms);
}
