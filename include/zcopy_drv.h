/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xen_drm_zcopy: types shared by the files of the driver.
 *
 * See docs/design.md for the map of the driver and the lifetime rules.
 */
#ifndef ZCOPY_DRV_H
#define ZCOPY_DRV_H

#include <linux/atomic.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>

#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "zcopy_compat.h"

#define ZCOPY_DRIVER_NAME	"xen_drm_zcopy"
#define ZCOPY_DRIVER_DESC	"Xen zero-copy helper: grant refs <-> PRIME buffers"
#define ZCOPY_DRIVER_DATE	"20261121"
#define ZCOPY_DRIVER_MAJOR	2
#define ZCOPY_DRIVER_MINOR	0

/* Upper bound of the max_refs parameter (zcopy_drv.c). */
#define ZCOPY_MAX_REFS_LIMIT	BIT(20)

/* Largest WAIT_FREE timeout: a display backend waits well under 3 s. */
#define ZCOPY_MAX_WAIT_MS	60000

/* Grants (4 KiB Xen pages) per kernel page: 1 on x86, 4 with 16K pages. */
#define ZCOPY_GRANTS_PER_PAGE	XEN_PFN_PER_PAGE

/* Module parameters (zcopy_drv.c) */
extern unsigned int zcopy_max_refs;
extern unsigned int zcopy_max_buffers;

/**
 * struct zcopy_device - the one DRM device of the driver
 *
 * Everything mutable the driver has lives here: there are no other globals.
 */
struct zcopy_device {
	/** @drm: the DRM device, allocated with devm_drm_dev_alloc(). */
	struct drm_device drm;
	/** @pdev: parent platform device (64-bit DMA mask). */
	struct platform_device *pdev;
	/** @debugfs: our debugfs directory. */
	struct dentry *debugfs;

	/* Counters shown in debugfs (docs/design.md). */
	atomic_long_t grants_mapped;
	atomic_long_t grants_issued;
	atomic_long_t pages_held;
	atomic_long_t buffers;
	atomic_long_t deferred;
	atomic_long_t waiters;

	/** @bufs_lock: protects @bufs and @next_buf_id. */
	struct mutex bufs_lock;
	/** @bufs: every live &struct zcopy_buf, for debugfs. */
	struct list_head bufs;
	/** @next_buf_id: id given to the next buffer (debugfs only). */
	u32 next_buf_id;

	/** @deferred_lock: protects @deferred_list. */
	spinlock_t deferred_lock;
	/** @deferred_list: imports whose grants the other end still maps. */
	struct list_head deferred_list;
	/** @deferred_work: retries ending the grants of @deferred_list. */
	struct delayed_work deferred_work;
};

/*
 * A PV domain (no auto-translated physmap): foreign frames need grant PTE
 * operations for CPU mappings and GNTMAP_device_map for the p2m.
 */
static inline bool zcopy_is_pv(void)
{
	return !xen_feature(XENFEAT_auto_translated_physmap);
}

static inline struct zcopy_device *to_zcopy_device(struct drm_device *drm)
{
	return container_of(drm, struct zcopy_device, drm);
}

/**
 * struct zcopy_client - per-open-file state that may outlive the file
 *
 * Buffers created through a file keep a reference, because a buffer (held
 * by a dma-buf or an importer) can outlive the file that created it.
 */
struct zcopy_client {
	/** @ref: one for the file, one per live buffer created through it. */
	struct kref ref;
	/** @tokens: wait id -> &struct zcopy_waiter, ids from 1. */
	struct xarray tokens;
	/** @next_id: cyclic allocation hint for @tokens. */
	u32 next_id;
	/** @salt: random upper half of this file's wait tokens. */
	u32 salt;
	/** @live_buffers: buffers created through this file and not freed. */
	atomic_t live_buffers;
};

/**
 * struct zcopy_waiter - what WAIT_FREE waits on
 *
 * Shared by the buffer and the waiting tasks; freed on the last reference.
 */
struct zcopy_waiter {
	struct kref ref;
	wait_queue_head_t wq;
	/** @freed: set once the buffer and all its mappings are gone. */
	bool freed;
	/**
	 * @status: WAIT_FREE's answer once @freed: 0, or -EIO when some of
	 * the grants could not be unmapped (their pages were leaked).
	 */
	int status;
	/** @id: index in &zcopy_client.tokens. */
	u32 id;
	/** @waiting: tasks currently in WAIT_FREE on this token (debugfs). */
	atomic_t waiting;
};

/**
 * struct zcopy_map - foreign grants mapped for a FROM_REFS buffer
 */
struct zcopy_map {
	/** @zdev: the device (counters), for the asynchronous unmap. */
	struct zcopy_device *zdev;
	/** @domid: the granting domain. */
	domid_t domid;
	/** @readonly: mapped with GNTMAP_readonly. */
	bool readonly;
	/** @nr_grants: number of grants (4 KiB each). */
	unsigned int nr_grants;
	/** @nr_pages: kernel pages, DIV_ROUND_UP(nr_grants, GRANTS_PER_PAGE). */
	unsigned int nr_pages;
	/**
	 * @nr_ops: grant mappings, one per 4 KiB slot of @pages:
	 * @nr_grants, then the tail of the last page on 16K/64K kernels,
	 * which maps the last grant again (zcopy_map.c).
	 */
	unsigned int nr_ops;
	/** @pages: the unpopulated pages the grants are mapped onto. */
	struct page **pages;
	/** @refs: the grant references, @nr_grants of them. */
	grant_ref_t *refs;
	/** @handles: map handles (@nr_ops), INVALID_GRANT_HANDLE where not mapped. */
	grant_handle_t *handles;
	/** @bus_addrs: dev_bus_addr of each mapping (@nr_ops). */
	u64 *bus_addrs;
	/**
	 * @op_pages: per mapping, the kernel page it is mapped into (each page
	 * repeats %ZCOPY_GRANTS_PER_PAGE times): gnttab_map_refs() and
	 * gnttab_unmap_refs() index their pages[] per operation.
	 */
	struct page **op_pages;
	/**
	 * @unmap_ops: prepared at map time for the mappings that succeeded,
	 * so that the free path cannot fail on an allocation.
	 */
	struct gnttab_unmap_grant_ref *unmap_ops;
	/** @nr_mapped: mappings currently in place (@nr_ops once created). */
	unsigned int nr_mapped;
	/** @nr_counted: of those, grants counted in "grants_mapped". */
	unsigned int nr_counted;
	/** @unmap_data: the asynchronous unmap of the free path. */
	struct gntab_unmap_queue_data unmap_data;
	/** @unmapped: called when the asynchronous unmap is done. */
	void (*unmapped)(struct zcopy_map *map, bool ok);
	/** @owner: the buffer this map backs (for @unmapped). */
	struct zcopy_buf *owner;
};

/**
 * struct zcopy_import - a PRIME buffer of another driver, imported here
 */
struct zcopy_import {
	/**
	 * @lock: protects @granted, @refs and @nr_refs against debugfs while
	 * the buffer is listed (TO_REFS publishes and undoes them).
	 */
	struct mutex lock;
	/** @attach: our attachment to the exporter's dma-buf. */
	struct dma_buf_attachment *attach;
	/** @sgt: the mapping of @attach (DMA addresses for our device). */
	struct sg_table *sgt;
	/** @granted: TO_REFS was done (a second one gets -EBUSY). */
	bool granted;
	/** @domid: the domain the pages are granted to. */
	domid_t domid;
	/** @nr_refs: grant references issued for the data pages. */
	unsigned int nr_refs;
	/** @refs: the issued references, in page order. */
	grant_ref_t *refs;
	/** @nr_dir: page-directory pages (XEN_ZCOPY_TO_REFS_PGDIR), or 0. */
	unsigned int nr_dir;
	/** @dir_pages: the page-directory pages we allocated. */
	struct page **dir_pages;
	/** @dir_refs: grant references of @dir_pages. */
	grant_ref_t *dir_refs;
	/** @readonly: the grants are read-only. */
	bool readonly;
	/**
	 * @busy: bit 0 set while TO_REFS runs and once it succeeded (or left
	 * grants behind), so that a concurrent or second call gets -EBUSY.
	 */
	unsigned long busy;
	/** @buf: the GEM object, set when its release is deferred. */
	struct zcopy_buf *buf;
	/** @deferred_link: entry in &zcopy_device.deferred_list. */
	struct list_head deferred_link;
	/** @deferred_tries: release attempts made from the deferred work. */
	unsigned int deferred_tries;
};

enum zcopy_buf_kind {
	ZCOPY_BUF_FOREIGN,	/* FROM_REFS: foreign grants mapped here */
	ZCOPY_BUF_IMPORTED,	/* PRIME import of another driver's buffer */
};

/**
 * struct zcopy_buf - the GEM object of the driver
 */
struct zcopy_buf {
	/** @base: the GEM object; owns the lifetime of everything below. */
	struct drm_gem_object base;
	/** @kind: which of @map and @imp is valid. */
	enum zcopy_buf_kind kind;
	/** @id: debugfs id. */
	u32 id;
	/** @link: entry in &zcopy_device.bufs. */
	struct list_head link;
	/**
	 * @client: the file state that created the buffer (a reference);
	 * for an import, the file that imported it, set (once, cmpxchg)
	 * after the import (zcopy_prime_fd_to_handle()).
	 */
	struct zcopy_client *client;
	/** @waiter: what WAIT_FREE waits on (FROM_REFS), or NULL. */
	struct zcopy_waiter *waiter;
	/** @data_ofs: offset of the data in the first page. */
	u32 data_ofs;
	/** @map: the foreign mapping (%ZCOPY_BUF_FOREIGN). */
	struct zcopy_map *map;
	/** @imp: the import (%ZCOPY_BUF_IMPORTED). */
	struct zcopy_import *imp;

	/** @vmap_lock: protects @vaddr, @vmap_count and @pv_vmap. */
	struct mutex vmap_lock;
	/** @vaddr: kernel mapping while @vmap_count > 0. */
	void *vaddr;
	/** @vmap_count: number of vmap users. */
	unsigned int vmap_count;
	/** @pv_vmap: PV-only state of the kernel mapping (zcopy_cpu_pv.c). */
	void *pv_vmap;

	/** @flags: ZCOPY_BUF_F_* (debugfs, mmap policy). */
	u32 flags;
	/** @attach_lock: protects @attachments and @importers. */
	struct mutex attach_lock;
	/** @attachments: &struct zcopy_attach of our exported dma-buf. */
	struct list_head attachments;
	/** @importers: number of entries in @attachments. */
	unsigned int importers;
};

#define ZCOPY_BUF_F_READONLY	BIT(0)	/* mapped (FROM_REFS) read-only */
#define ZCOPY_BUF_F_PGDIR	BIT(1)	/* refs came from a page directory */
#define ZCOPY_BUF_F_DUMB	BIT(2)	/* created with dumb geometry */
#define ZCOPY_BUF_F_LEGACY	BIT(3)	/* created by a 2018 ioctl */

/* GEM size of a FROM_REFS buffer: the GEM core wants whole kernel pages. */
static inline size_t zcopy_gem_size(unsigned int nr_grants)
{
	return round_up((size_t)nr_grants * XEN_PAGE_SIZE, PAGE_SIZE);
}

static inline struct zcopy_buf *to_zcopy_buf(struct drm_gem_object *obj)
{
	return container_of(obj, struct zcopy_buf, base);
}

static inline struct zcopy_device *zcopy_buf_dev(struct zcopy_buf *buf)
{
	return to_zcopy_device(buf->base.dev);
}

/* zcopy_drv.c */
int zcopy_check_domid(u64 domid);

/* zcopy_dma.c */
int zcopy_dma_setup(struct device *dev);
int zcopy_dma_frame(dma_addr_t addr, unsigned long *gfn);

/* zcopy_ioctl.c: the new ioctls */
int zcopy_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file);
int zcopy_ioctl_from_refs(struct drm_device *drm, void *data, struct drm_file *file);
int zcopy_ioctl_wait_free(struct drm_device *drm, void *data, struct drm_file *file);
int zcopy_dumb_geometry(u32 width, u32 height, u32 bpp, u32 *pitch, u64 *size);

/* zcopy_legacy.c: the 2018 ioctls */
int zcopy_ioctl_dumb_from_refs(struct drm_device *drm, void *data, struct drm_file *file);
int zcopy_ioctl_dumb_to_refs(struct drm_device *drm, void *data, struct drm_file *file);
int zcopy_ioctl_dumb_wait_free(struct drm_device *drm, void *data, struct drm_file *file);

/**
 * struct zcopy_from_refs_args - validated FROM_REFS request
 */
struct zcopy_from_refs_args {
	domid_t domid;
	bool readonly;
	unsigned int nr_grants;
	/* user array of nr_grants refs, or NULL with a page directory */
	const u32 __user *urefs;
	/* first directory page ref, when urefs is NULL */
	grant_ref_t gref_dir;
	u32 data_ofs;
	/* ZCOPY_BUF_F_* to record on the buffer */
	u32 flags;
};

/*
 * zcopy_gem.c
 *
 * zcopy_buf_create() makes a GEM object of our driver (funcs set, on the
 * debugfs list, counted in "buffers"); zcopy_buf_destroy() is the last step
 * of its life: drm_gem_object_release() and kfree().
 *
 * Free path of a %ZCOPY_BUF_IMPORTED object: the GEM free callback takes the
 * buffer off the debugfs list (and out of "buffers"), then calls
 * zcopy_import_release(buf) (zcopy_grant.c), which owns the rest: end the
 * grants (deferring while the other end maps them), release the attachment
 * and the dma-buf (drm_prime_gem_destroy(&buf->base, buf->imp->sgt)), free
 * buf->imp and finally call zcopy_buf_destroy(buf), now or from the
 * deferred work.
 */
struct zcopy_buf *zcopy_buf_create(struct zcopy_device *zdev,
				   enum zcopy_buf_kind kind, size_t size);
void zcopy_buf_destroy(struct zcopy_buf *buf);
int zcopy_buf_vmap(struct zcopy_buf *buf, struct iosys_map *map);
void zcopy_buf_vunmap(struct zcopy_buf *buf, struct iosys_map *map);
int zcopy_from_refs(struct drm_device *drm, struct drm_file *file,
		    const struct zcopy_from_refs_args *args,
		    u32 *handle, u64 *wait_token);
struct drm_gem_object *zcopy_gem_prime_import(struct drm_device *drm,
					      struct dma_buf *dma_buf);
struct drm_gem_object *zcopy_gem_import_sg_table(struct drm_device *drm,
						 struct dma_buf_attachment *attach,
						 struct sg_table *sgt);
int zcopy_prime_fd_to_handle(struct drm_device *drm, struct drm_file *file,
			     int fd, u32 *handle);
void zcopy_buf_uncharge(struct zcopy_buf *buf);

/* zcopy_map.c */
int zcopy_map_grants(struct zcopy_device *zdev, struct zcopy_map *map);
void zcopy_unmap_grants(struct zcopy_device *zdev, struct zcopy_map *map);
void zcopy_unmap_grants_async(struct zcopy_map *map,
			      void (*done)(struct zcopy_map *map, bool ok));
int zcopy_gntst_to_errno(s16 status);

/* zcopy_export.c */
struct dma_buf *zcopy_gem_export(struct drm_gem_object *obj, int flags);
bool zcopy_is_our_dmabuf(struct dma_buf *dma_buf, struct drm_device *drm);
int zcopy_gem_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma);

/*
 * zcopy_cpu_pv.c: CPU mappings of foreign grants in a PV domain.
 * zcopy_pv_vmap()/zcopy_pv_vunmap() are called with buf->vmap_lock held.
 * zcopy_pv_cpu_supported() tells QUERY (XEN_ZCOPY_CAP_MMAP/VMAP) and the
 * mmap/vmap paths whether they are implemented.
 */
bool zcopy_pv_cpu_supported(void);
int zcopy_pv_mmap(struct zcopy_buf *buf, struct vm_area_struct *vma);
void *zcopy_pv_vmap(struct zcopy_buf *buf);
void zcopy_pv_vunmap(struct zcopy_buf *buf, void *vaddr);

/* zcopy_grant.c: TO_REFS and the release of imports */
int zcopy_ioctl_to_refs(struct drm_device *drm, void *data, struct drm_file *file);

/**
 * struct zcopy_to_refs_args - validated TO_REFS request
 */
struct zcopy_to_refs_args {
	u32 handle;
	domid_t domid;
	bool readonly;
	bool pgdir;
	unsigned int nr_refs;
	u32 __user *urefs;	/* may be NULL with pgdir */
	/* the 2018 DUMB_TO_REFS: read-write always, no data offset */
	bool legacy;
	/* out */
	grant_ref_t gref_dir;
	u32 data_ofs;
	u64 size;
};

int zcopy_to_refs(struct drm_device *drm, struct drm_file *file,
		  struct zcopy_to_refs_args *args);
void zcopy_import_release(struct zcopy_buf *buf);
void zcopy_deferred_init(struct zcopy_device *zdev);
void zcopy_deferred_fini(struct zcopy_device *zdev);

/* zcopy_pgdir.c: displif page directories */
int zcopy_pgdir_read(struct zcopy_device *zdev, domid_t domid,
		     grant_ref_t gref_dir, unsigned int nr_refs,
		     grant_ref_t *refs);
int zcopy_pgdir_build(struct zcopy_device *zdev, struct zcopy_import *imp,
		      domid_t domid);
void zcopy_pgdir_free(struct zcopy_device *zdev, struct zcopy_import *imp);

/* zcopy_wait.c */
struct zcopy_client *zcopy_client_new(void);
void zcopy_client_put(struct zcopy_client *client);
int zcopy_waiter_new(struct zcopy_client *client, struct zcopy_waiter **out);
void zcopy_waiter_signal(struct zcopy_client *client, struct zcopy_waiter *w,
			 int status);
u64 zcopy_wait_token(struct zcopy_client *client, struct zcopy_waiter *w);
int zcopy_wait_free(struct zcopy_device *zdev, struct zcopy_client *client,
		    u64 token, bool legacy, u32 timeout_ms);

/* zcopy_debugfs.c */
void zcopy_debugfs_init(struct zcopy_device *zdev);
void zcopy_debugfs_fini(struct zcopy_device *zdev);

#endif /* ZCOPY_DRV_H */
