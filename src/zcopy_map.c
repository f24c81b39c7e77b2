// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: mapping foreign grants (the backing of FROM_REFS buffers)
 *
 * The grants are mapped onto unpopulated pages (gnttab_alloc_pages()) at
 * the pages' kernel addresses, in one batched gnttab_map_refs() call, the
 * way gntdev maps grants for a dma-buf export. Unlike the 2018 driver, a
 * single failing entry fails the whole call, and exactly the entries that
 * did map are unmapped again.
 *
 * With 16K or 64K kernel pages a buffer of N grants ends in a kernel page
 * that N grants may not fill. Importers see whole kernel pages (the GEM and
 * dma-buf size is a multiple of PAGE_SIZE, as DRM's DMA helpers require:
 * drm_gem_private_object_init() BUG()s otherwise), so every 4 KiB slot of
 * that tail is backed too: by the buffer's last grant once more, mapped
 * like the rest of the buffer. A vmap or mmap of the whole buffer then never
 * touches a frame with nothing behind it (an abort on Arm). The tail is
 * writable when the buffer is: a read-only tail under a writable page would
 * make a store there fault at stage 2 while the PTE allows it, and arm64
 * Linux retries such a fault forever; a store past the data instead changes
 * the guest's last page, which the guest granted writable anyway.
 *
 * The free path unmaps asynchronously (gnttab_unmap_refs_async()): it never
 * sleeps waiting for somebody else's reference to a page to go; the owner
 * learns from a callback when the grants are unmapped and the pages freed.
 */

#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_print.h>

#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "zcopy_drv.h"

/**
 * zcopy_gntst_to_errno - the errno for a failed grant operation
 * @status: GNTST_* from Xen
 *
 * Return: 0 for GNTST_okay, else the errno docs/design.md promises.
 */
int zcopy_gntst_to_errno(s16 status)
{
	switch (status) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_domain:
		return -ESRCH;
	case GNTST_permission_denied:
		return -EACCES;
	case GNTST_no_device_space:
	case GNTST_no_space:
		/* maptrack (or IOMMU) space of this domain exhausted */
		return -ENOSPC;
	case GNTST_eagain:
		/* gnttab_map_refs() already retried with back-off */
		return -EAGAIN;
	case GNTST_general_error:
	case GNTST_bad_gntref:
	case GNTST_bad_handle:
	default:
		return -EINVAL;
	}
}

static void zcopy_map_free_arrays(struct zcopy_map *map)
{
	kvfree(map->unmap_ops);
	kvfree(map->op_pages);
	kvfree(map->pages);
	kvfree(map->handles);
	kvfree(map->bus_addrs);
	map->unmap_ops = NULL;
	map->op_pages = NULL;
	map->pages = NULL;
	map->handles = NULL;
	map->bus_addrs = NULL;
}

/* GNTMAP_* flags of the kernel mappings of @map. */
static u32 zcopy_map_flags(const struct zcopy_map *map)
{
	u32 flags = GNTMAP_host_map;

	/*
	 * A PV domain has no p2m translation of its own for foreign frames:
	 * gnttab_map_refs() records the machine frame Xen returns in
	 * dev_bus_addr, which it only fills with GNTMAP_device_map.
	 */
	if (!xen_feature(XENFEAT_auto_translated_physmap))
		flags |= GNTMAP_device_map;
	if (map->readonly)
		flags |= GNTMAP_readonly;
	return flags;
}

/* Kernel address grant @i is mapped at: 4 KiB slot i % N of its page. */
static unsigned long zcopy_grant_kaddr(const struct zcopy_map *map,
				       unsigned int i)
{
	struct page *page = map->pages[i / ZCOPY_GRANTS_PER_PAGE];

	/*
	 * pfn_to_kaddr() wants a kernel pfn: page_to_xen_pfn() would be in
	 * 4 KiB units and wrong with 16K/64K pages.
	 */
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page)) +
	       (i % ZCOPY_GRANTS_PER_PAGE) * XEN_PAGE_SIZE;
}

/* Grant ref of map op @i: a tail slot maps the last grant once more. */
static grant_ref_t zcopy_op_ref(const struct zcopy_map *map, unsigned int i)
{
	return map->refs[min(i, map->nr_grants - 1)];
}

/*
 * After an unmap of the first map->nr_mapped entries of map->unmap_ops
 * (gnttab_unmap_refs() returned @ret): were all of them unmapped? If so,
 * the counters drop; if not, say so: the caller must leak the pages.
 */
static bool zcopy_unmap_result(struct zcopy_device *zdev, struct zcopy_map *map,
			       int ret)
{
	unsigned int i, bad = 0;

	for (i = 0; i < map->nr_mapped; i++)
		if (map->unmap_ops[i].status != GNTST_okay)
			bad++;
	if (ret || bad) {
		/*
		 * The frames may still be mapped here: never hand the pages
		 * back to the allocator. Leak them (and say so) instead.
		 */
		drm_err(&zdev->drm, "unmapping %u grants of domain %u failed (%d, %u bad): leaking %u pages\n",
			map->nr_mapped, map->domid, ret, bad, map->nr_pages);
		return false;
	}
	atomic_long_sub(map->nr_counted, &zdev->grants_mapped);
	map->nr_counted = 0;
	map->nr_mapped = 0;
	return true;
}

/*
 * Unmap the first map->nr_mapped entries of map->unmap_ops now. Only for
 * pages nobody else can hold yet (a failed or just undone map): it would
 * wait for their references otherwise (gnttab_unmap_refs_sync()).
 *
 * Return: true if every grant was unmapped and the pages can be reused.
 */
static bool zcopy_unmap_mapped(struct zcopy_device *zdev, struct zcopy_map *map)
{
	struct gntab_unmap_queue_data unmap_data = {
		.unmap_ops = map->unmap_ops,
		.kunmap_ops = NULL,
		.pages = map->op_pages,
		.count = map->nr_mapped,
	};

	if (!map->nr_mapped)
		return true;
	return zcopy_unmap_result(zdev, map, gnttab_unmap_refs_sync(&unmap_data));
}

/*
 * Xen answers GNTST_general_error, like for many other faults, when a
 * read-write mapping meets a grant its domain made read-only. User space
 * is promised -EACCES for that case: find out by mapping grant @i (which
 * failed, so its slot is free) read-only once, and unmapping it again.
 */
static int zcopy_probe_readonly(const struct zcopy_map *map, unsigned int i,
				u32 flags)
{
	struct gnttab_unmap_grant_ref unmap;
	struct gnttab_map_grant_ref op;
	struct page *page = map->pages[i / ZCOPY_GRANTS_PER_PAGE];
	unsigned long kaddr = zcopy_grant_kaddr(map, i);
	struct gntab_unmap_queue_data unmap_data = {
		.unmap_ops = &unmap,
		.pages = &page,
		.count = 1,
	};

	flags |= GNTMAP_readonly;
	gnttab_set_map_op(&op, kaddr, flags, map->refs[i], map->domid);
	if (gnttab_map_refs(&op, NULL, &page, 1) || op.status != GNTST_okay)
		return -EINVAL;
	gnttab_set_unmap_op(&unmap, kaddr, flags, op.handle);
	if (flags & GNTMAP_device_map)
		unmap.dev_bus_addr = op.dev_bus_addr;
	if (gnttab_unmap_refs_sync(&unmap_data) || unmap.status != GNTST_okay)
		return -EIO;	/* cannot reuse the page: caller leaks it */
	return -EACCES;
}

/**
 * zcopy_map_grants - map the foreign grants of @map
 * @zdev: the device (counters)
 * @map: domid, readonly, nr_grants and refs filled in
 *
 * Allocates the pages and the bookkeeping arrays and maps every grant.
 * On error nothing stays mapped or allocated (except @map->refs, which
 * belongs to the caller) and the counters are unchanged.
 *
 * Return: 0, -ENOMEM, or the errno of the first failing grant (see
 * zcopy_gntst_to_errno()).
 */
int zcopy_map_grants(struct zcopy_device *zdev, struct zcopy_map *map)
{
	struct gnttab_map_grant_ref *map_ops;
	u32 flags = zcopy_map_flags(map);
	unsigned int i, n, mapped = 0;
	int ret, first_err = 0, first_bad = -1;

	map->zdev = zdev;
	map->nr_pages = DIV_ROUND_UP(map->nr_grants, ZCOPY_GRANTS_PER_PAGE);
	/* every 4 KiB slot of every page: the grants, then the tail */
	n = map->nr_pages * ZCOPY_GRANTS_PER_PAGE;
	map->nr_ops = n;
	map->nr_mapped = 0;
	map->nr_counted = 0;
	map->pages = kvcalloc(map->nr_pages, sizeof(*map->pages), GFP_KERNEL);
	map->op_pages = kvcalloc(n, sizeof(*map->op_pages), GFP_KERNEL);
	map->handles = kvcalloc(n, sizeof(*map->handles), GFP_KERNEL);
	map->bus_addrs = kvcalloc(n, sizeof(*map->bus_addrs), GFP_KERNEL);
	map->unmap_ops = kvcalloc(n, sizeof(*map->unmap_ops), GFP_KERNEL);
	map_ops = kvcalloc(n, sizeof(*map_ops), GFP_KERNEL);
	if (!map->pages || !map->op_pages || !map->handles ||
	    !map->bus_addrs || !map->unmap_ops || !map_ops) {
		ret = -ENOMEM;
		goto out_free;
	}

	ret = gnttab_alloc_pages(map->nr_pages, map->pages);
	if (ret)
		goto out_free;
	atomic_long_add(map->nr_pages, &zdev->pages_held);

	for (i = 0; i < n; i++) {
		map->op_pages[i] = map->pages[i / ZCOPY_GRANTS_PER_PAGE];
		map->handles[i] = INVALID_GRANT_HANDLE;
		gnttab_set_map_op(&map_ops[i], zcopy_grant_kaddr(map, i), flags,
				  zcopy_op_ref(map, i), map->domid);
		/* an entry Xen never reached must not look mapped */
		map_ops[i].status = GNTST_general_error;
		map_ops[i].handle = INVALID_GRANT_HANDLE;
	}

	ret = gnttab_map_refs(map_ops, NULL, map->op_pages, n);

	/*
	 * Keep exactly the entries that mapped (status okay after
	 * gnttab_map_refs(), which also unmaps and fails an entry whose p2m
	 * update failed), packed at the front of unmap_ops/op_pages so that
	 * an error unmaps just them.
	 */
	for (i = 0; i < n; i++) {
		struct gnttab_map_grant_ref *op = &map_ops[i];

		if (op->status != GNTST_okay) {
			if (!first_err) {
				first_err = zcopy_gntst_to_errno(op->status);
				first_bad = i;
			}
			continue;
		}
		map->handles[i] = op->handle;
		map->bus_addrs[i] = op->dev_bus_addr;
		gnttab_set_unmap_op(&map->unmap_ops[mapped],
				    zcopy_grant_kaddr(map, i), flags, op->handle);
		if (flags & GNTMAP_device_map)
			map->unmap_ops[mapped].dev_bus_addr = op->dev_bus_addr;
		map->op_pages[mapped] = map->op_pages[i];
		mapped++;
		/* the counter is of grants: a tail slot maps one again */
		if (i < map->nr_grants)
			map->nr_counted++;
	}
	map->nr_mapped = mapped;
	atomic_long_add(map->nr_counted, &zdev->grants_mapped);

	if (!ret && mapped != n)
		ret = first_err ?: -EINVAL;
	/* grant first_bad did not map, so its slot is free for a probe */
	if (ret == -EINVAL && first_bad >= 0 && !map->readonly &&
	    (unsigned int)first_bad < map->nr_grants &&
	    map_ops[first_bad].status == GNTST_general_error)
		ret = zcopy_probe_readonly(map, first_bad, flags);
	if (ret == -EIO) {
		/* the probe mapping is stuck: never reuse the pages */
		drm_err(&zdev->drm, "unmapping a probe grant of domain %u failed: leaking %u pages\n",
			map->domid, map->nr_pages);
		zcopy_unmap_mapped(zdev, map);
		ret = -EINVAL;
		goto out_free;
	}
	if (ret) {
		drm_dbg_driver(&zdev->drm, "mapping %u grants of domain %u: %u mapped, error %d\n",
			       n, map->domid, mapped, ret);
		/* a failed unmap leaks the pages on purpose (see there) */
		if (zcopy_unmap_mapped(zdev, map)) {
			gnttab_free_pages(map->nr_pages, map->pages);
			atomic_long_sub(map->nr_pages, &zdev->pages_held);
		}
		goto out_free;
	}

	/* op_pages was compacted in place; with all mapped it is unchanged */
	kvfree(map_ops);
	return 0;

out_free:
	kvfree(map_ops);
	zcopy_map_free_arrays(map);
	return ret;
}

/**
 * zcopy_unmap_grants - unmap the grants of @map and free its pages, now
 * @zdev: the device (counters)
 * @map: a map zcopy_map_grants() succeeded on, whose pages nobody else
 *	 can hold yet (the undo of a FROM_REFS that failed later)
 *
 * Frees the bookkeeping arrays but not @map->refs.
 */
void zcopy_unmap_grants(struct zcopy_device *zdev, struct zcopy_map *map)
{
	if (!map->pages)
		return;
	if (zcopy_unmap_mapped(zdev, map)) {
		gnttab_free_pages(map->nr_pages, map->pages);
		atomic_long_sub(map->nr_pages, &zdev->pages_held);
	}
	zcopy_map_free_arrays(map);
}

static void zcopy_unmap_async_done(int result, struct gntab_unmap_queue_data *data)
{
	struct zcopy_map *map = container_of(data, struct zcopy_map, unmap_data);
	struct zcopy_device *zdev = map->zdev;
	bool ok = zcopy_unmap_result(zdev, map, result);

	/* a failed unmap leaks the pages on purpose (see there) */
	if (ok) {
		gnttab_free_pages(map->nr_pages, map->pages);
		atomic_long_sub(map->nr_pages, &zdev->pages_held);
	}
	zcopy_map_free_arrays(map);
	map->unmapped(map, ok);
}

/**
 * zcopy_unmap_grants_async - unmap the grants of @map once nobody holds them
 * @map: a map zcopy_map_grants() succeeded on
 * @done: called when the grants are unmapped and the pages freed, with
 *	  true, or with false when unmapping failed and the pages were leaked
 *	  (logged); from this context or from a workqueue
 *
 * A page somebody else still holds a reference to (a pinned user mapping,
 * an importer) is not unmapped under them: the grant-table code retries
 * until the references are gone, without blocking the caller. Frees the
 * bookkeeping arrays but not @map->refs.
 */
void zcopy_unmap_grants_async(struct zcopy_map *map,
			      void (*done)(struct zcopy_map *map, bool ok))
{
	map->unmapped = done;
	map->unmap_data.unmap_ops = map->unmap_ops;
	map->unmap_data.kunmap_ops = NULL;
	map->unmap_data.pages = map->op_pages;
	map->unmap_data.count = map->nr_mapped;
	map->unmap_data.done = zcopy_unmap_async_done;
	if (!map->nr_mapped) {
		zcopy_unmap_async_done(0, &map->unmap_data);
		return;
	}
	gnttab_unmap_refs_async(&map->unmap_data);
}
