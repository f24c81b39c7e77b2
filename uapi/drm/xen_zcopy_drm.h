/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Xen zero-copy helper DRM driver (xen_drm_zcopy): user-space API.
 *
 * Copyright (C) 2026 The xen-zcopy authors
 */

#ifndef __XEN_ZCOPY_DRM_H__
#define __XEN_ZCOPY_DRM_H__

#include "drm.h"
#include "drm_mode.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: xen_drm_zcopy
 *
 * xen_drm_zcopy is a render-node DRM driver that lets a Xen display backend
 * share buffers with a guest without copying them:
 *
 * - &DRM_IOCTL_XEN_ZCOPY_FROM_REFS maps the pages another domain granted
 *   (an array of grant references, or a displif page directory) and creates
 *   a GEM object backed by them. Export it with DRM_IOCTL_PRIME_HANDLE_TO_FD
 *   and import the dma-buf into a KMS driver, a GPU or a compositor.
 * - &DRM_IOCTL_XEN_ZCOPY_TO_REFS grants the pages of a buffer imported with
 *   DRM_IOCTL_PRIME_FD_TO_HANDLE to another domain and returns the grant
 *   references, one per 4 KiB page in page order.
 * - &DRM_IOCTL_XEN_ZCOPY_WAIT_FREE waits until a FROM_REFS buffer and every
 *   mapping of it are gone, so that the backend can tell the frontend that
 *   its pages are no longer in use.
 * - &DRM_IOCTL_XEN_ZCOPY_QUERY reports the API version, the limits and the
 *   supported flags.
 *
 * Grant references always describe 4 KiB Xen pages, whatever the page size
 * of the kernel: sizes and counts in this API are in units of
 * %XEN_ZCOPY_GRANT_SIZE. On kernels with 16 or 64 KiB pages a FROM_REFS
 * buffer packs several grants into each kernel page, and its dma-buf (and
 * GEM object) is rounded up to whole kernel pages, as importers require:
 * the slots past the last grant map that grant again.
 *
 * Opening the device (render or primary node) requires CAP_SYS_ADMIN, or
 * membership of the group the administrator named with the module parameter
 * ``allow_gid`` (a gid of the initial user namespace); otherwise open()
 * fails with -EPERM. Mapping foreign grants and granting memory to another
 * domain are as powerful as /dev/xen/gntdev. The check is made once, at
 * open: the file descriptor is the capability, and may be passed on.
 * Unknown flags and non-zero reserved or padding fields are rejected with
 * -EINVAL so that they can be given a meaning later.
 *
 * The three ioctls of the 2018 xen-zcopy driver (DUMB_FROM_REFS,
 * DUMB_TO_REFS, DUMB_WAIT_FREE) are kept with their numbers and 64-bit
 * layouts, so that existing backends run unmodified.
 */

/** @XENDRM_ZCOPY_DRIVER_NAME: DRM driver name, for drmOpen() and drmGetVersion(). */
#define XENDRM_ZCOPY_DRIVER_NAME	"xen_drm_zcopy"

/** @XEN_ZCOPY_API_VERSION: version reported by &DRM_IOCTL_XEN_ZCOPY_QUERY. */
#define XEN_ZCOPY_API_VERSION		1

/** @XEN_ZCOPY_GRANT_SIZE: bytes described by one grant reference. */
#define XEN_ZCOPY_GRANT_SIZE		4096

/** @XEN_ZCOPY_PGDIR_REFS_PER_PAGE: refs in one displif page-directory page. */
#define XEN_ZCOPY_PGDIR_REFS_PER_PAGE	((XEN_ZCOPY_GRANT_SIZE - 4) / 4)

#define DRM_XEN_ZCOPY_DUMB_FROM_REFS	0x00
#define DRM_XEN_ZCOPY_DUMB_TO_REFS	0x01
#define DRM_XEN_ZCOPY_DUMB_WAIT_FREE	0x02
#define DRM_XEN_ZCOPY_QUERY		0x03
#define DRM_XEN_ZCOPY_FROM_REFS		0x04
#define DRM_XEN_ZCOPY_TO_REFS		0x05
#define DRM_XEN_ZCOPY_WAIT_FREE		0x06

/* Capabilities reported in &drm_xen_zcopy_query.caps */
/** @XEN_ZCOPY_CAP_LEGACY: the 2018 DUMB_* ioctls are served. */
#define XEN_ZCOPY_CAP_LEGACY		(1u << 0)
/** @XEN_ZCOPY_CAP_MMAP: FROM_REFS buffers can be mmap()ed by user space. */
#define XEN_ZCOPY_CAP_MMAP		(1u << 1)
/** @XEN_ZCOPY_CAP_VMAP: FROM_REFS buffers can be vmap()ed by importers. */
#define XEN_ZCOPY_CAP_VMAP		(1u << 2)
/** @XEN_ZCOPY_CAP_PV_DOMAIN: this domain is a Xen PV domain. */
#define XEN_ZCOPY_CAP_PV_DOMAIN		(1u << 3)

/**
 * struct drm_xen_zcopy_query - driver version, limits and supported flags
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_QUERY.
 */
struct drm_xen_zcopy_query {
	/** @flags: in, must be 0. */
	__u32 flags;
	/** @api_version: out, %XEN_ZCOPY_API_VERSION of the running driver. */
	__u32 api_version;
	/** @max_refs: out, the most grant references one buffer may have. */
	__u32 max_refs;
	/**
	 * @max_buffers: out, the most live buffers one open file may have:
	 * FROM_REFS buffers and PRIME imports (-EMFILE beyond).
	 */
	__u32 max_buffers;
	/** @max_wait_ms: out, the largest timeout WAIT_FREE accepts. */
	__u32 max_wait_ms;
	/** @grant_size: out, %XEN_ZCOPY_GRANT_SIZE. */
	__u32 grant_size;
	/** @page_size: out, the page size of the kernel (4, 16 or 64 KiB). */
	__u32 page_size;
	/** @caps: out, XEN_ZCOPY_CAP_* bits. */
	__u32 caps;
	/** @from_refs_flags: out, the XEN_ZCOPY_FROM_REFS_* flags supported. */
	__u32 from_refs_flags;
	/** @to_refs_flags: out, the XEN_ZCOPY_TO_REFS_* flags supported. */
	__u32 to_refs_flags;
	/** @wait_free_flags: out, the WAIT_FREE flags supported (none yet). */
	__u32 wait_free_flags;
	/** @pad: in, must be 0. */
	__u32 pad;
	/** @reserved: in, must be 0. */
	__u64 reserved[4];
};

/** @XEN_ZCOPY_FROM_REFS_READ_ONLY: map the grants read-only. */
#define XEN_ZCOPY_FROM_REFS_READ_ONLY	(1u << 0)
/** @XEN_ZCOPY_FROM_REFS_PGDIR: refs come from a displif page directory. */
#define XEN_ZCOPY_FROM_REFS_PGDIR	(1u << 1)
/** @XEN_ZCOPY_FROM_REFS_DUMB: width, height and bpp describe the buffer. */
#define XEN_ZCOPY_FROM_REFS_DUMB	(1u << 2)
#define XEN_ZCOPY_FROM_REFS_FLAGS	(XEN_ZCOPY_FROM_REFS_READ_ONLY | \
					 XEN_ZCOPY_FROM_REFS_PGDIR | \
					 XEN_ZCOPY_FROM_REFS_DUMB)

/**
 * struct drm_xen_zcopy_from_refs - map foreign grants into a new GEM object
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_FROM_REFS. The buffer is @num_refs grants
 * of 4 KiB, mapped in the order given. The mapping lives until the last GEM
 * handle, dma-buf file descriptor, importer attachment and CPU mapping of
 * the buffer is gone; &DRM_IOCTL_XEN_ZCOPY_WAIT_FREE with @wait_token tells
 * when that has happened.
 */
struct drm_xen_zcopy_from_refs {
	/** @flags: in, XEN_ZCOPY_FROM_REFS_* bits. */
	__u32 flags;
	/** @domid: in, the domain that granted the pages. */
	__u32 domid;
	/**
	 * @refs: in, user pointer to @num_refs __u32 grant references. Must
	 * be 0 with %XEN_ZCOPY_FROM_REFS_PGDIR.
	 */
	__u64 refs;
	/** @num_refs: in, the number of 4 KiB grants of the buffer (> 0). */
	__u32 num_refs;
	/**
	 * @gref_dir: in, with %XEN_ZCOPY_FROM_REFS_PGDIR the grant reference
	 * of the first page of a displif page directory
	 * (struct xendispl_page_directory): each directory page holds
	 * %XEN_ZCOPY_PGDIR_REFS_PER_PAGE refs and the ref of the next page,
	 * 0 on the last one. Must be 0 otherwise.
	 */
	__u32 gref_dir;
	/**
	 * @data_ofs: in, offset of the data in the first page (displif v2
	 * data_ofs), below %XEN_ZCOPY_GRANT_SIZE.
	 */
	__u32 data_ofs;
	/** @width: in, with %XEN_ZCOPY_FROM_REFS_DUMB the width in pixels. */
	__u32 width;
	/** @height: in, with %XEN_ZCOPY_FROM_REFS_DUMB the height in lines. */
	__u32 height;
	/** @bpp: in, with %XEN_ZCOPY_FROM_REFS_DUMB the bits per pixel. */
	__u32 bpp;
	/**
	 * @pitch: out, with %XEN_ZCOPY_FROM_REFS_DUMB the line length in
	 * bytes, DIV_ROUND_UP(width * bpp, 8), as DRM_IOCTL_MODE_CREATE_DUMB
	 * computes it; @data_ofs + @pitch * @height must fit in the buffer.
	 * 0 otherwise.
	 */
	__u32 pitch;
	/** @handle: out, GEM handle of the new buffer in this file. */
	__u32 handle;
	/**
	 * @size: out, size of the data in bytes, @num_refs * 4096. The GEM
	 * object and its dma-buf are this rounded up to the kernel page size.
	 */
	__u64 size;
	/** @wait_token: out, token for &DRM_IOCTL_XEN_ZCOPY_WAIT_FREE. */
	__u64 wait_token;
	/** @reserved: in, must be 0. */
	__u64 reserved[2];
};

/** @XEN_ZCOPY_TO_REFS_READ_ONLY: grant the pages read-only. */
#define XEN_ZCOPY_TO_REFS_READ_ONLY	(1u << 0)
/** @XEN_ZCOPY_TO_REFS_PGDIR: also build a displif page directory. */
#define XEN_ZCOPY_TO_REFS_PGDIR		(1u << 1)
#define XEN_ZCOPY_TO_REFS_FLAGS		(XEN_ZCOPY_TO_REFS_READ_ONLY | \
					 XEN_ZCOPY_TO_REFS_PGDIR)

/**
 * struct drm_xen_zcopy_to_refs - grant an imported buffer to another domain
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_TO_REFS. @handle must name a buffer
 * imported with DRM_IOCTL_PRIME_FD_TO_HANDLE on this device, and may be
 * granted once. The buffer must start and end on a 4 KiB frame (-EINVAL
 * otherwise: granting a whole frame would share memory outside it), and
 * must be this domain's own memory. The grants are ended when the GEM
 * object is freed; a page the other domain still maps is not returned to
 * its exporter until that domain unmaps it.
 *
 * A dma-buf whose file is not open for writing is granted read-only, and
 * %XEN_ZCOPY_TO_REFS_READ_ONLY is then set in @flags on return. A KMS or
 * GPU driver's buffer exported with DRM_IOCTL_PRIME_HANDLE_TO_FD without
 * DRM_RDWR has such a file: export with DRM_CLOEXEC | DRM_RDWR to grant it
 * read-write.
 */
struct drm_xen_zcopy_to_refs {
	/**
	 * @flags: in, XEN_ZCOPY_TO_REFS_* bits; out, with
	 * %XEN_ZCOPY_TO_REFS_READ_ONLY set if the grants are read-only.
	 */
	__u32 flags;
	/** @domid: in, the domain the pages are granted to. */
	__u32 domid;
	/**
	 * @refs: in, user pointer to an array of @num_refs __u32 that
	 * receives the grant references in page order. May be 0 with
	 * %XEN_ZCOPY_TO_REFS_PGDIR.
	 */
	__u64 refs;
	/** @num_refs: in, the number of 4 KiB pages of the buffer, size / 4096. */
	__u32 num_refs;
	/** @handle: in, GEM handle of the imported buffer. */
	__u32 handle;
	/**
	 * @gref_dir: out, with %XEN_ZCOPY_TO_REFS_PGDIR the grant reference
	 * of the first page of a displif page directory listing the refs,
	 * granted read-only to @domid. 0 otherwise.
	 */
	__u32 gref_dir;
	/**
	 * @data_ofs: out, offset of the buffer's data in its first page:
	 * always 0, since buffers that do not start on a frame are refused.
	 */
	__u32 data_ofs;
	/** @size: out, size of the buffer in bytes. */
	__u64 size;
	/** @reserved: in, must be 0. */
	__u64 reserved[2];
};

/**
 * struct drm_xen_zcopy_wait_free - wait until a FROM_REFS buffer is freed
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_WAIT_FREE. Returns 0 once the buffer and
 * every mapping of it are gone and its grants are unmapped, -ETIMEDOUT if
 * that did not happen within @timeout_ms, -EINTR if a signal arrived, and
 * -ENOENT if this file has no such token, which includes a buffer already
 * freed: a backend treats -ENOENT as success. -EIO means the buffer is gone
 * but Xen refused to unmap some of its grants (the kernel log says so, and
 * their pages are never reused): the other domain's pages may still be
 * mapped here. Closing the last reference to a buffer never waits: a page
 * still held elsewhere (say, pinned through an importer) delays the unmap,
 * and WAIT_FREE, not the close.
 */
struct drm_xen_zcopy_wait_free {
	/** @wait_token: in, &drm_xen_zcopy_from_refs.wait_token. */
	__u64 wait_token;
	/** @timeout_ms: in, at most &drm_xen_zcopy_query.max_wait_ms. */
	__u32 timeout_ms;
	/** @flags: in, must be 0. */
	__u32 flags;
	/** @reserved: in, must be 0. */
	__u64 reserved;
};

/*
 * The 2018 xen-zcopy ioctls. Their 64-bit layouts and numbers are those of
 * the original driver; the implicit holes are named so that the layout is
 * the same for 32-bit user space, and are ignored by the kernel.
 */

/**
 * struct drm_xen_zcopy_dumb_from_refs - legacy FROM_REFS with dumb geometry
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS: maps @num_grefs grants of
 * @otherend_id read-write; @dumb.width, @dumb.height and @dumb.bpp are in,
 * @dumb.pitch, @dumb.size (pitch * height) and @dumb.handle are out.
 */
struct drm_xen_zcopy_dumb_from_refs {
	/** @num_grefs: in, number of grant references. */
	__u32 num_grefs;
	/** @__pad0: ignored. */
	__u32 __pad0;
	union {
		/** @grefs: in, user pointer to the grant references. */
		__u32 *grefs;
		/** @grefs_ptr: the same pointer as a 64-bit value. */
		__u64 grefs_ptr;
	};
	/** @otherend_id: in, the granting domain. */
	__u64 otherend_id;
	/** @dumb: in/out, dumb buffer geometry and the GEM handle. */
	struct drm_mode_create_dumb dumb;
	/** @wait_handle: out, handle for DUMB_WAIT_FREE. */
	__u32 wait_handle;
	/** @__pad1: ignored. */
	__u32 __pad1;
};

/**
 * struct drm_xen_zcopy_dumb_to_refs - legacy TO_REFS
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS: grants the imported buffer
 * @handle read-write to @otherend_id and writes @num_grefs references, which
 * must be the buffer's page count, to @grefs. Read-write whatever the mode
 * of the dma-buf's file, as in 2018: the 2018 backend exports its KMS
 * buffers with DRM_CLOEXEC alone, which makes that file read-only.
 */
struct drm_xen_zcopy_dumb_to_refs {
	/** @num_grefs: in, number of grant references. */
	__u32 num_grefs;
	/** @__pad0: ignored. */
	__u32 __pad0;
	union {
		/** @grefs: in, user pointer that receives the references. */
		__u32 *grefs;
		/** @grefs_ptr: the same pointer as a 64-bit value. */
		__u64 grefs_ptr;
	};
	/** @otherend_id: in, the domain to grant to. */
	__u64 otherend_id;
	/** @handle: in, GEM handle of the imported buffer. */
	__u32 handle;
	/** @__pad1: ignored. */
	__u32 __pad1;
};

/**
 * struct drm_xen_zcopy_dumb_wait_free - legacy WAIT_FREE
 *
 * Argument of &DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE; same results as
 * &DRM_IOCTL_XEN_ZCOPY_WAIT_FREE.
 */
struct drm_xen_zcopy_dumb_wait_free {
	/** @wait_handle: in, &drm_xen_zcopy_dumb_from_refs.wait_handle. */
	__u32 wait_handle;
	/** @wait_to_ms: in, timeout in milliseconds. */
	__u32 wait_to_ms;
};

/**
 * DOC: ioctls
 *
 * DRM_IOCTL_XEN_ZCOPY_QUERY - &struct drm_xen_zcopy_query
 * DRM_IOCTL_XEN_ZCOPY_FROM_REFS - &struct drm_xen_zcopy_from_refs
 * DRM_IOCTL_XEN_ZCOPY_TO_REFS - &struct drm_xen_zcopy_to_refs
 * DRM_IOCTL_XEN_ZCOPY_WAIT_FREE - &struct drm_xen_zcopy_wait_free
 * DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS - legacy, 0xC0406440
 * DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS - legacy, 0xC0206441
 * DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE - legacy, 0xC0086442
 */
#define DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_DUMB_FROM_REFS, \
		 struct drm_xen_zcopy_dumb_from_refs)
#define DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_DUMB_TO_REFS, \
		 struct drm_xen_zcopy_dumb_to_refs)
#define DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_DUMB_WAIT_FREE, \
		 struct drm_xen_zcopy_dumb_wait_free)
#define DRM_IOCTL_XEN_ZCOPY_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_QUERY, \
		 struct drm_xen_zcopy_query)
#define DRM_IOCTL_XEN_ZCOPY_FROM_REFS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_FROM_REFS, \
		 struct drm_xen_zcopy_from_refs)
#define DRM_IOCTL_XEN_ZCOPY_TO_REFS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_TO_REFS, \
		 struct drm_xen_zcopy_to_refs)
#define DRM_IOCTL_XEN_ZCOPY_WAIT_FREE \
	DRM_IOW(DRM_COMMAND_BASE + DRM_XEN_ZCOPY_WAIT_FREE, \
		struct drm_xen_zcopy_wait_free)

#if defined(__cplusplus)
}
#endif

#endif /* __XEN_ZCOPY_DRM_H__ */
