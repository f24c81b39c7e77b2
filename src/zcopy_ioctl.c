// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: the new ioctls (QUERY, FROM_REFS, WAIT_FREE)
 *
 * Each ioctl checks the caller's privilege first, then every field of its
 * argument (unknown flags and non-zero reserved or padding fields are
 * -EINVAL, so that they can be given a meaning later), then calls the
 * buffer code shared with the 2018 ioctls.
 */

#include <linux/kernel.h>
#include <linux/overflow.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>

#include <xen/xen.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

static bool zcopy_reserved_zero(const u64 *reserved, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (reserved[i])
			return false;
	return true;
}

int zcopy_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_query *q = data;
	u32 caps = XEN_ZCOPY_CAP_LEGACY;

	if (q->flags || q->pad ||
	    !zcopy_reserved_zero(q->reserved, ARRAY_SIZE(q->reserved)))
		return -EINVAL;

	if (xen_pv_domain())
		caps |= XEN_ZCOPY_CAP_PV_DOMAIN;
	/* CPU mappings of foreign frames need grant PTE ops in PV */
	if (!zcopy_is_pv() || zcopy_pv_cpu_supported())
		caps |= XEN_ZCOPY_CAP_MMAP | XEN_ZCOPY_CAP_VMAP;

	q->api_version = XEN_ZCOPY_API_VERSION;
	q->max_refs = READ_ONCE(zcopy_max_refs);
	q->max_buffers = READ_ONCE(zcopy_max_buffers);
	q->max_wait_ms = ZCOPY_MAX_WAIT_MS;
	q->grant_size = XEN_ZCOPY_GRANT_SIZE;
	q->page_size = PAGE_SIZE;
	q->caps = caps;
	q->from_refs_flags = XEN_ZCOPY_FROM_REFS_FLAGS;
	q->to_refs_flags = XEN_ZCOPY_TO_REFS_FLAGS;
	q->wait_free_flags = 0;
	return 0;
}

/**
 * zcopy_dumb_geometry - pitch and data size of a dumb buffer
 * @width: pixels per line
 * @height: lines
 * @bpp: bits per pixel
 * @pitch: out, DIV_ROUND_UP(width * bpp, 8), as MODE_CREATE_DUMB computes
 * @size: out, pitch * height
 *
 * Return: 0, or -EINVAL for a zero or overflowing geometry.
 */
int zcopy_dumb_geometry(u32 width, u32 height, u32 bpp, u32 *pitch, u64 *size)
{
	u64 p;

	if (!width || !height || !bpp)
		return -EINVAL;
	/* u32 * u32 fits in u64: no overflow before the range checks */
	p = DIV_ROUND_UP((u64)width * bpp, 8);
	if (p > U32_MAX)
		return -EINVAL;
	*pitch = p;
	*size = p * height;
	return 0;
}

int zcopy_ioctl_from_refs(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_from_refs *req = data;
	struct zcopy_from_refs_args args = { };
	bool pgdir = req->flags & XEN_ZCOPY_FROM_REFS_PGDIR;
	bool dumb = req->flags & XEN_ZCOPY_FROM_REFS_DUMB;
	u32 pitch = 0;
	u64 token;
	int ret;

	if (req->flags & ~XEN_ZCOPY_FROM_REFS_FLAGS ||
	    !zcopy_reserved_zero(req->reserved, ARRAY_SIZE(req->reserved)))
		return -EINVAL;
	if (zcopy_check_domid(req->domid))
		return -EINVAL;
	if (!req->num_refs || req->num_refs > READ_ONCE(zcopy_max_refs))
		return -EINVAL;
	/* exactly one source of refs: a user array or a page directory */
	if (pgdir ? (req->refs || !req->gref_dir) : (!req->refs || req->gref_dir))
		return -EINVAL;
	if (req->data_ofs >= XEN_ZCOPY_GRANT_SIZE)
		return -EINVAL;
	if (dumb) {
		u64 size;

		ret = zcopy_dumb_geometry(req->width, req->height, req->bpp,
					  &pitch, &size);
		if (ret)
			return ret;
		if (size > (u64)req->num_refs * XEN_ZCOPY_GRANT_SIZE -
			   req->data_ofs)
			return -EINVAL;
	} else if (req->width || req->height || req->bpp) {
		/* geometry only means something with the DUMB flag */
		return -EINVAL;
	}

	args.domid = req->domid;
	args.readonly = req->flags & XEN_ZCOPY_FROM_REFS_READ_ONLY;
	args.nr_grants = req->num_refs;
	args.urefs = pgdir ? NULL : u64_to_user_ptr(req->refs);
	args.gref_dir = req->gref_dir;
	args.data_ofs = req->data_ofs;
	if (args.readonly)
		args.flags |= ZCOPY_BUF_F_READONLY;
	if (pgdir)
		args.flags |= ZCOPY_BUF_F_PGDIR;
	if (dumb)
		args.flags |= ZCOPY_BUF_F_DUMB;

	ret = zcopy_from_refs(drm, file, &args, &req->handle, &token);
	if (ret)
		return ret;
	req->pitch = pitch;
	req->size = (u64)req->num_refs * XEN_ZCOPY_GRANT_SIZE;
	req->wait_token = token;
	return 0;
}

int zcopy_ioctl_wait_free(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_xen_zcopy_wait_free *req = data;

	if (req->flags || req->reserved || req->timeout_ms > ZCOPY_MAX_WAIT_MS)
		return -EINVAL;
	return zcopy_wait_free(to_zcopy_device(drm), file->driver_priv,
			       req->wait_token, false, req->timeout_ms);
}
