// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: displif page directories
 *
 * A page directory (struct xendispl_page_directory) is a chain of 4 KiB
 * pages, each holding the ref of the next page (0 on the last) and up to
 * XEN_ZCOPY_PGDIR_REFS_PER_PAGE buffer refs. FROM_REFS may read one a
 * frontend granted; TO_REFS may build one for the refs it issued.
 */

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/io/displif.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

#define ZCOPY_PGDIR_REFS	XEN_ZCOPY_PGDIR_REFS_PER_PAGE

static_assert(offsetof(struct xendispl_page_directory, gref) == 4);
static_assert(4 + ZCOPY_PGDIR_REFS * sizeof(grant_ref_t) == XEN_PAGE_SIZE);

/*
 * Read the directory with grant copies rather than mappings: the pages are
 * only read, and a copy leaves nothing mapped to undo on any path. A chain
 * that comes back to one of its own pages is a loop (-EINVAL); the refs
 * seen are kept in an xarray, so that even the longest directory (1026
 * pages at the max_refs limit) is checked in linear time.
 */
int zcopy_pgdir_read(struct zcopy_device *zdev, domid_t domid,
		     grant_ref_t gref_dir, unsigned int nr_refs,
		     grant_ref_t *refs)
{
	unsigned int nr_dir = DIV_ROUND_UP(nr_refs, ZCOPY_PGDIR_REFS);
	struct xendispl_page_directory *dir;
	struct gnttab_copy op;
	unsigned int d, done = 0;
	struct xarray seen;
	struct page *page;
	int ret = 0;

	if (!nr_refs)
		return -EINVAL;

	xa_init(&seen);
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	dir = page_address(page);

	for (d = 0; d < nr_dir; d++) {
		unsigned int i, n = min(nr_refs - done, ZCOPY_PGDIR_REFS);

		ret = xa_insert(&seen, gref_dir, xa_mk_value(d), GFP_KERNEL);
		if (ret) {
			/* -EBUSY: seen before, a loop */
			if (ret == -EBUSY)
				ret = -EINVAL;
			goto out;
		}

		memset(&op, 0, sizeof(op));
		op.source.u.ref = gref_dir;
		op.source.domid = domid;
		op.dest.u.gmfn = xen_page_to_gfn(page);
		op.dest.domid = DOMID_SELF;
		op.len = XEN_PAGE_SIZE;
		op.flags = GNTCOPY_source_gref;
		gnttab_batch_copy(&op, 1);
		if (op.status != GNTST_okay) {
			ret = zcopy_gntst_to_errno(op.status);
			goto out;
		}

		for (i = 0; i < n; i++)
			refs[done + i] = READ_ONCE(dir->gref[i]);
		done += n;
		gref_dir = READ_ONCE(dir->gref_dir_next_page);
		/* More refs to read but the chain ends: short directory. */
		if (done < nr_refs && !gref_dir) {
			ret = -EINVAL;
			goto out;
		}
		cond_resched();
	}

out:
	xa_destroy(&seen);
	__free_page(page);
	return ret;
}

/* The directory frame @d: XEN_PFN_PER_PAGE frames in each kernel page. */
static struct xendispl_page_directory *zcopy_pgdir_frame(struct zcopy_import *imp,
							 unsigned int d)
{
	return page_address(imp->dir_pages[d / XEN_PFN_PER_PAGE]) +
		(d % XEN_PFN_PER_PAGE) * XEN_PAGE_SIZE;
}

static unsigned long zcopy_pgdir_gfn(struct zcopy_import *imp, unsigned int d)
{
	struct page *page = imp->dir_pages[d / XEN_PFN_PER_PAGE];

	return pfn_to_gfn(page_to_xen_pfn(page) + d % XEN_PFN_PER_PAGE);
}

static void zcopy_pgdir_free_pages(struct zcopy_import *imp)
{
	unsigned int p, nr_pages = DIV_ROUND_UP(imp->nr_dir, XEN_PFN_PER_PAGE);

	for (p = 0; p < nr_pages && imp->dir_pages; p++)
		if (imp->dir_pages[p])
			__free_page(imp->dir_pages[p]);
	kfree(imp->dir_pages);
	kfree(imp->dir_refs);
	imp->dir_pages = NULL;
	imp->dir_refs = NULL;
	imp->nr_dir = 0;
}

/*
 * Build a directory of imp->refs and grant its pages read-only to @domid;
 * imp->dir_refs[0] is the first page. On failure nothing is left granted.
 */
int zcopy_pgdir_build(struct zcopy_device *zdev, struct zcopy_import *imp,
		      domid_t domid)
{
	unsigned int nr_dir = DIV_ROUND_UP(imp->nr_refs, ZCOPY_PGDIR_REFS);
	unsigned int nr_pages = DIV_ROUND_UP(nr_dir, XEN_PFN_PER_PAGE);
	unsigned int d, p, done = 0;
	grant_ref_t head;
	int ret;

	if (!nr_dir || nr_dir > U16_MAX)
		return -EINVAL;

	imp->nr_dir = nr_dir;
	imp->dir_pages = kcalloc(nr_pages, sizeof(*imp->dir_pages), GFP_KERNEL);
	imp->dir_refs = kcalloc(nr_dir, sizeof(*imp->dir_refs), GFP_KERNEL);
	if (!imp->dir_pages || !imp->dir_refs) {
		ret = -ENOMEM;
		goto err;
	}
	for (p = 0; p < nr_pages; p++) {
		imp->dir_pages[p] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!imp->dir_pages[p]) {
			ret = -ENOMEM;
			goto err;
		}
	}

	/* Every page names the next, so take all the refs first. */
	ret = gnttab_alloc_grant_references(nr_dir, &head);
	if (ret)
		goto err;
	for (d = 0; d < nr_dir; d++)
		imp->dir_refs[d] = gnttab_claim_grant_reference(&head);
	gnttab_free_grant_references(head);

	for (d = 0; d < nr_dir; d++) {
		struct xendispl_page_directory *dir = zcopy_pgdir_frame(imp, d);
		unsigned int n = min(imp->nr_refs - done, ZCOPY_PGDIR_REFS);

		dir->gref_dir_next_page = d + 1 < nr_dir ? imp->dir_refs[d + 1] : 0;
		memcpy(dir->gref, imp->refs + done, n * sizeof(grant_ref_t));
		done += n;
	}

	/* Contents first: the grant helper orders them before the flags. */
	for (d = 0; d < nr_dir; d++) {
		gnttab_grant_foreign_access_ref(imp->dir_refs[d], domid,
						zcopy_pgdir_gfn(imp, d), 1);
		atomic_long_inc(&zdev->grants_issued);
	}
	return 0;

err:
	/* Nothing was granted yet: refs claimed so far go straight back. */
	for (d = 0; imp->dir_refs && d < nr_dir; d++)
		if (imp->dir_refs[d])
			gnttab_free_grant_reference(imp->dir_refs[d]);
	zcopy_pgdir_free_pages(imp);
	return ret;
}

/*
 * Free the directory pages. Only called once every directory ref has been
 * ended (zcopy_grant.c), so no other domain can still map them.
 */
void zcopy_pgdir_free(struct zcopy_device *zdev, struct zcopy_import *imp)
{
	if (!imp->dir_pages && !imp->dir_refs)
		return;
	zcopy_pgdir_free_pages(imp);
}
