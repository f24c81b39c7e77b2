// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: CPU mappings of foreign grants in a PV domain
 *
 * In a PV domain Xen refuses an ordinary PTE to a frame of another domain,
 * so the pages of a FROM_REFS buffer can be neither vm_insert_page()d nor
 * vmap()ed. Like gntdev, map each grant once more, this time straight into
 * the PTE (GNTMAP_contains_pte), and take it down through the grant
 * interface before the PTE is touched by anybody else: Xen kills the domain
 * on "Attempt to implicitly unmap a granted PTE".
 *
 * - User mappings: the PTEs are collected with apply_to_page_range() and
 *   the grants mapped into them; an mmu_interval_notifier unmaps them before
 *   any zap (munmap, exit, ...). The VMA is VM_IO | VM_PFNMAP (no GUP pins
 *   on foreign pages), VM_DONTCOPY (fork leaves it to the parent),
 *   VM_DONTEXPAND; protection changes are refused (Xen owns those PTEs);
 *   the PTEs are special and find_special_page() names our page.
 * - Kernel mappings: vmap() a page of ours N times to get a virtually
 *   contiguous area with real PTEs (get_vm_area() and init_mm are not
 *   exported), find the PTEs with lookup_address(), then let Xen replace
 *   each with a grant mapping; vunmap unmaps the grants first, then the
 *   area.
 *
 * Grant operations here go straight to the hypervisor: the p2m of the
 * pages was set up when the buffer was mapped (zcopy_map.c).
 */

#include <linux/err.h>
#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <drm/drm_gem.h>

#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/interface/grant_table.h>

#include "zcopy_drv.h"

#if IS_ENABLED(CONFIG_XEN_PV) && IS_ENABLED(CONFIG_MMU_NOTIFIER)

#include <asm/xen/hypercall.h>
#include <asm/pgtable_types.h>
#include <asm/xen/page.h>

/**
 * struct zcopy_pv_umap - grants mapped into one mmap() of a buffer
 *
 * Shared by the VMAs a split makes of the original one; freed with the last.
 */
struct zcopy_pv_umap {
	/** @users: VMAs using this mapping. */
	refcount_t users;
	/** @buf: the buffer (a GEM reference). */
	struct zcopy_buf *buf;
	/** @notifier: takes the grants out of the PTEs before a zap. */
	struct mmu_interval_notifier notifier;
	/** @lock: protects @handles. */
	struct mutex lock;
	/** @start: user address of the first page, as mapped. */
	unsigned long start;
	/** @first: buffer page of @start (vm_pgoff). */
	unsigned int first;
	/** @count: pages mapped. */
	unsigned int count;
	/** @flags: GNTMAP_* of the mappings. */
	u32 flags;
	/** @pte_maddr: machine address of each page's PTE. */
	u64 *pte_maddr;
	/** @handles: grant handles, INVALID_GRANT_HANDLE where not mapped. */
	grant_handle_t *handles;
	/** @uops: room for unmap operations (no allocation when unmapping). */
	struct gnttab_unmap_grant_ref *uops;
};

/*
 * Unmap the grants of pages [@a, @b) through the hypervisor, which clears
 * the PTEs. Called with @um->lock held, or on a kernel mapping nobody else
 * sees. A mapping Xen did not unmap keeps its handle: the PTE still holds
 * the grant, and forgetting it would let a later zap of that PTE make Xen
 * kill this domain ("Attempt to implicitly unmap a granted PTE").
 *
 * Return: the number of grants still mapped (0 normally).
 */
static unsigned int zcopy_pv_unmap_range(u64 *pte_maddr, grant_handle_t *handles,
					 struct gnttab_unmap_grant_ref *uops,
					 unsigned int a, unsigned int b, u32 flags)
{
	unsigned int i, n = 0, left = 0;
	int ret;

	for (i = a; i < b; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&uops[n], pte_maddr[i], flags, handles[i]);
		n++;
	}
	if (!n)
		return 0;
	ret = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, uops, n);
	for (i = a, n = 0; i < b; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		if (!ret && uops[n].status == GNTST_okay)
			handles[i] = INVALID_GRANT_HANDLE;
		else
			left++;
		n++;
	}
	if (left)
		pr_err_ratelimited(ZCOPY_DRIVER_NAME ": grant unmap failed (hypercall %d): %u grants stay mapped\n",
				   ret, left);
	return left;
}

/*
 * Map @n grants of @buf from page @first into the PTEs at @pte_maddr, with
 * @ops (room for @n operations, allocated by the caller: this may run
 * where allocating could recurse into reclaim and the mmu notifier).
 */
static int zcopy_pv_map_ptes(struct zcopy_buf *buf, unsigned int first,
			     unsigned int n, u32 flags, u64 *pte_maddr,
			     grant_handle_t *handles,
			     struct gnttab_unmap_grant_ref *uops,
			     struct gnttab_map_grant_ref *ops)
{
	struct zcopy_map *map = buf->map;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		gnttab_set_map_op(&ops[i], pte_maddr[i], flags,
				  map->refs[first + i], map->domid);
		handles[i] = INVALID_GRANT_HANDLE;
	}
	/* Retries GNTST_eagain itself. */
	gnttab_batch_map(ops, n);
	for (i = 0; i < n; i++) {
		if (ops[i].status == GNTST_okay)
			handles[i] = ops[i].handle;
		else if (!ret)
			ret = zcopy_gntst_to_errno(ops[i].status);
	}
	/* Any entry failed: the whole mapping fails, undo the others. */
	if (ret && zcopy_pv_unmap_range(pte_maddr, handles, uops, 0, n, flags))
		ret = -EIO;	/* some stay mapped: the caller must leak */
	return ret;
}

static int zcopy_pv_collect_pte(pte_t *pte, unsigned long addr, void *data)
{
	u64 **next = data;

	*(*next)++ = arbitrary_virt_to_machine(pte).maddr;
	return 0;
}

/* Without XENFEAT_gnttab_map_avail_bits Xen cannot mark them: do it here. */
static int zcopy_pv_mark_special(pte_t *pte, unsigned long addr, void *data)
{
	set_pte_at(data, addr, pte, pte_mkspecial(*pte));
	return 0;
}

static void zcopy_pv_umap_free(struct zcopy_pv_umap *um)
{
	kvfree(um->uops);
	kvfree(um->handles);
	kvfree(um->pte_maddr);
	mutex_destroy(&um->lock);
	kfree(um);
}

static bool zcopy_pv_invalidate(struct mmu_interval_notifier *mn,
				const struct mmu_notifier_range *range,
				unsigned long cur_seq)
{
	struct zcopy_pv_umap *um = container_of(mn, struct zcopy_pv_umap,
						notifier);
	unsigned long end = um->start + ((unsigned long)um->count << PAGE_SHIFT);
	unsigned long s, e;

	if (!mmu_notifier_range_blockable(range))
		return false;
	if (range->start >= end || range->end <= um->start)
		return true;

	s = max(range->start, um->start);
	e = min(range->end, end);
	mutex_lock(&um->lock);
	mmu_interval_set_seq(mn, cur_seq);
	zcopy_pv_unmap_range(um->pte_maddr, um->handles, um->uops,
			     (s - um->start) >> PAGE_SHIFT,
			     DIV_ROUND_UP(e - um->start, PAGE_SIZE), um->flags);
	mutex_unlock(&um->lock);
	return true;
}

static const struct mmu_interval_notifier_ops zcopy_pv_mn_ops = {
	.invalidate = zcopy_pv_invalidate,
};

static void zcopy_pv_vm_open(struct vm_area_struct *vma)
{
	struct zcopy_pv_umap *um = vma->vm_private_data;

	refcount_inc(&um->users);
}

static void zcopy_pv_vm_close(struct vm_area_struct *vma)
{
	struct zcopy_pv_umap *um = vma->vm_private_data;
	struct zcopy_buf *buf = um->buf;

	if (!refcount_dec_and_test(&um->users))
		return;
	/* Normally the notifier has unmapped everything already. */
	mutex_lock(&um->lock);
	zcopy_pv_unmap_range(um->pte_maddr, um->handles, um->uops, 0,
			     um->count, um->flags);
	mutex_unlock(&um->lock);
	mmu_interval_notifier_remove(&um->notifier);
	zcopy_pv_umap_free(um);
	drm_gem_object_put(&buf->base);
}

/* Xen owns these PTEs: a protection change would rewrite them. */
static int zcopy_pv_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
				unsigned long end, unsigned long newflags)
{
	if ((newflags ^ vma->vm_flags) & (VM_READ | VM_WRITE | VM_EXEC))
		return -EACCES;
	return 0;
}

static struct page * __maybe_unused
zcopy_pv_find_special_page(struct vm_area_struct *vma, unsigned long addr)
{
	struct zcopy_pv_umap *um = vma->vm_private_data;
	unsigned long i = (addr - um->start) >> PAGE_SHIFT;

	if (addr < um->start || i >= um->count)
		return NULL;
	return um->buf->map->pages[um->first + i];
}

static const struct vm_operations_struct zcopy_pv_vm_ops = {
	.open			= zcopy_pv_vm_open,
	.close			= zcopy_pv_vm_close,
	.mprotect		= zcopy_pv_vm_mprotect,
	ZCOPY_VM_OPS_FIND_PAGE(zcopy_pv_find_special_page)
};

bool zcopy_pv_cpu_supported(void)
{
	return true;
}

/**
 * zcopy_pv_mmap - map a FROM_REFS buffer into user space in a PV domain
 * @buf: the buffer
 * @vma: the new VMA (mmap_lock held for writing); vm_pgoff is the first page
 *
 * Return: 0 or a negative errno; on failure nothing is left mapped.
 */
int zcopy_pv_mmap(struct zcopy_buf *buf, struct vm_area_struct *vma)
{
	struct zcopy_map *map = buf->map;
	unsigned long size = vma->vm_end - vma->vm_start;
	unsigned long count = size >> PAGE_SHIFT;
	struct gnttab_map_grant_ref *ops = NULL;
	struct zcopy_pv_umap *um;
	u64 *next;
	int ret;

	if (!map || vma->vm_pgoff > map->nr_pages ||
	    count > map->nr_pages - vma->vm_pgoff)
		return -EINVAL;
	/* A COW fault would replace a grant PTE behind Xen's back. */
	if (zcopy_vma_is_cow(vma))
		return -EINVAL;

	um = kzalloc(sizeof(*um), GFP_KERNEL);
	if (!um)
		return -ENOMEM;
	refcount_set(&um->users, 1);
	mutex_init(&um->lock);
	um->buf = buf;
	um->start = vma->vm_start;
	um->first = vma->vm_pgoff;
	um->count = count;
	um->flags = GNTMAP_host_map | GNTMAP_application_map |
		    GNTMAP_contains_pte;
	if (map->readonly || !(vma->vm_flags & VM_WRITE))
		um->flags |= GNTMAP_readonly;
	/* Xen then sets the PTE's special bit (_PAGE_SOFTW1) itself. */
	if (xen_feature(XENFEAT_gnttab_map_avail_bits))
		um->flags |= 1u << _GNTMAP_guest_avail0;
	um->pte_maddr = kvcalloc(count, sizeof(*um->pte_maddr), GFP_KERNEL);
	um->handles = kvcalloc(count, sizeof(*um->handles), GFP_KERNEL);
	um->uops = kvcalloc(count, sizeof(*um->uops), GFP_KERNEL);
	ops = kvcalloc(count, sizeof(*ops), GFP_KERNEL);
	if (!um->pte_maddr || !um->handles || !um->uops || !ops) {
		ret = -ENOMEM;
		goto out_free;
	}

	zcopy_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY |
			   VM_DONTEXPAND | VM_DONTDUMP);

	/* Allocates the page tables; the PTEs stay empty for Xen to fill. */
	next = um->pte_maddr;
	ret = apply_to_page_range(vma->vm_mm, vma->vm_start, size,
				  zcopy_pv_collect_pte, &next);
	if (ret)
		goto out_free;

	/* Before the PTEs are filled, so that no zap can miss them. */
	ret = mmu_interval_notifier_insert_locked(&um->notifier, vma->vm_mm,
						  vma->vm_start, size,
						  &zcopy_pv_mn_ops);
	if (ret)
		goto out_free;

	/*
	 * No um->lock: mmap_lock is held for writing, so no invalidation of
	 * this new range can run, and allocating under um->lock (which the
	 * notifier takes) would close a reclaim -> notifier -> um->lock loop.
	 */
	ret = zcopy_pv_map_ptes(buf, um->first, count, um->flags,
				um->pte_maddr, um->handles, um->uops, ops);
	kvfree(ops);
	ops = NULL;
	if (ret)
		goto out_notifier;

	/*
	 * Racy as in gntdev (the PTEs are live already), but user space has
	 * no address to touch until mmap() returns.
	 */
	if (!xen_feature(XENFEAT_gnttab_map_avail_bits))
		apply_to_page_range(vma->vm_mm, vma->vm_start, size,
				    zcopy_pv_mark_special, vma->vm_mm);

	drm_gem_object_get(&buf->base);
	vma->vm_private_data = um;
	vma->vm_ops = &zcopy_pv_vm_ops;
	return 0;

out_notifier:
	mmu_interval_notifier_remove(&um->notifier);
out_free:
	kvfree(ops);
	zcopy_pv_umap_free(um);
	return ret;
}

/**
 * struct zcopy_pv_kmap - a kernel mapping of a buffer (buf->pv_vmap)
 */
struct zcopy_pv_kmap {
	/** @dummy: the page the area was first vmap()ed to. */
	struct page *dummy;
	/** @count: pages mapped. */
	unsigned int count;
	/** @flags: GNTMAP_* of the mappings. */
	u32 flags;
	/** @pte_maddr: machine address of each page's kernel PTE. */
	u64 *pte_maddr;
	/** @handles: grant handles. */
	grant_handle_t *handles;
	/** @uops: room for the unmap operations. */
	struct gnttab_unmap_grant_ref *uops;
};

static void zcopy_pv_kmap_free(struct zcopy_pv_kmap *km)
{
	kvfree(km->uops);
	kvfree(km->handles);
	kvfree(km->pte_maddr);
	if (km->dummy)
		__free_page(km->dummy);
	kfree(km);
}

/**
 * zcopy_pv_vmap - a virtually contiguous kernel mapping of a buffer
 * @buf: the buffer; buf->vmap_lock held, no mapping yet
 *
 * Return: the address, or an ERR_PTR: -ENOMEM, or the errno of the grant
 * that could not be mapped (zcopy_gntst_to_errno()).
 */
void *zcopy_pv_vmap(struct zcopy_buf *buf)
{
	struct zcopy_map *map = buf->map;
	struct mmuext_op flush = { .cmd = MMUEXT_TLB_FLUSH_ALL };
	struct gnttab_map_grant_ref *ops;
	struct zcopy_pv_kmap *km;
	struct page **pages;
	unsigned int i, n;
	void *vaddr = NULL;
	int ret = -ENOMEM;

	if (!map || buf->pv_vmap)
		return ERR_PTR(-EINVAL);
	n = map->nr_pages;

	km = kzalloc(sizeof(*km), GFP_KERNEL);
	if (!km)
		return ERR_PTR(-ENOMEM);
	km->count = n;
	km->flags = GNTMAP_host_map | GNTMAP_contains_pte;
	if (map->readonly)
		km->flags |= GNTMAP_readonly;
	km->dummy = alloc_page(GFP_KERNEL);
	km->pte_maddr = kvcalloc(n, sizeof(*km->pte_maddr), GFP_KERNEL);
	km->handles = kvcalloc(n, sizeof(*km->handles), GFP_KERNEL);
	km->uops = kvcalloc(n, sizeof(*km->uops), GFP_KERNEL);
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	ops = kvcalloc(n, sizeof(*ops), GFP_KERNEL);
	if (!km->dummy || !km->pte_maddr || !km->handles || !km->uops ||
	    !pages || !ops)
		goto out_free;

	/* Real PTEs to a page of ours, which Xen accepts, for Xen to replace. */
	for (i = 0; i < n; i++)
		pages[i] = km->dummy;
	vaddr = vmap(pages, n, VM_MAP, PAGE_KERNEL_RO);
	if (!vaddr)
		goto out_free;

	/* init_mm is not exported: walk the kernel tables with lookup_address(). */
	for (i = 0; i < n; i++) {
		unsigned int level;
		pte_t *pte = lookup_address((unsigned long)vaddr +
					    ((unsigned long)i << PAGE_SHIFT),
					    &level);

		if (!pte || level != PG_LEVEL_4K) {
			ret = -EFAULT;
			goto out_vunmap;
		}
		km->pte_maddr[i] = arbitrary_virt_to_machine(pte).maddr;
	}

	ret = zcopy_pv_map_ptes(buf, 0, n, km->flags, km->pte_maddr,
				km->handles, km->uops, ops);
	if (ret == -EIO) {
		/* grants stuck in the area's PTEs: never hand it back */
		pr_err(ZCOPY_DRIVER_NAME ": leaking a kernel mapping whose grants could not be unmapped\n");
		kmemleak_not_leak(km);
		kvfree(ops);
		kvfree(pages);
		return ERR_PTR(-EIO);
	}
	if (ret)
		goto out_vunmap;

	/* A TLB entry of the dummy page must not outlive its PTE. */
	if (HYPERVISOR_mmuext_op(&flush, 1, NULL, DOMID_SELF))
		pr_err(ZCOPY_DRIVER_NAME ": TLB flush hypercall failed\n");

	kvfree(ops);
	kvfree(pages);
	buf->pv_vmap = km;
	return vaddr;

out_vunmap:
	vunmap(vaddr);
out_free:
	kvfree(ops);
	kvfree(pages);
	zcopy_pv_kmap_free(km);
	return ERR_PTR(ret);
}

/**
 * zcopy_pv_vunmap - undo zcopy_pv_vmap()
 * @buf: the buffer; buf->vmap_lock held
 * @vaddr: what zcopy_pv_vmap() returned
 */
void zcopy_pv_vunmap(struct zcopy_buf *buf, void *vaddr)
{
	struct zcopy_pv_kmap *km = buf->pv_vmap;

	if (!km)
		return;
	buf->pv_vmap = NULL;
	/*
	 * Through the grant interface first: Xen clears the PTEs. If it did
	 * not, vunmap() would clear a granted PTE and Xen would kill this
	 * domain: leak the area (and what maps it) instead.
	 */
	if (zcopy_pv_unmap_range(km->pte_maddr, km->handles, km->uops, 0,
				 km->count, km->flags)) {
		pr_err(ZCOPY_DRIVER_NAME ": leaking a kernel mapping whose grants could not be unmapped\n");
		kmemleak_not_leak(km);
		return;
	}
	vunmap(vaddr);
	zcopy_pv_kmap_free(km);
}

#else /* !CONFIG_XEN_PV */

/* Auto-translated domains map foreign frames with ordinary PTEs. */
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
	return ERR_PTR(-EOPNOTSUPP);
}

void zcopy_pv_vunmap(struct zcopy_buf *buf, void *vaddr)
{
}

#endif /* CONFIG_XEN_PV */
