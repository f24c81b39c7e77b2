// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * displif page directories (struct xendispl_page_directory): a chain of
 * granted pages, each holding the ref of the next page (0 on the last one)
 * and (4096 - 4) / 4 buffer refs. The frontend grants the chain in both
 * modes: with its buffer's refs (front-alloc), or empty for us to fill with
 * ours (be-alloc). Used here by the legacy front-alloc path (the 2018
 * DUMB_FROM_REFS takes a plain ref array, as displ_be walks the chain
 * itself) and by be-alloc; the new UAPI walks the chain in the kernel
 * (XEN_ZCOPY_FROM_REFS_PGDIR).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "be.h"

static int walk(int domid, uint32_t gref_dir, uint32_t *refs, const uint32_t *in,
		uint32_t n)
{
	uint32_t per = pgdir_refs_per_page(), done = 0, page = 0, ref = gref_dir;

	while (done < n) {
		struct xendispl_page_directory *dir;
		uint32_t k, cnt = n - done < per ? n - done : per;

		if (!ref) {
			ERR("page directory of %u refs ends after %u pages", n, page);
			errno = EINVAL;
			return -1;
		}
		dir = xengnttab_map_grant_ref(be_xgt, (uint32_t)domid, ref,
					      PROT_READ | (in ? PROT_WRITE : 0));
		if (!dir) {
			ERR("page directory page %u (ref %u) of domain %d: map failed: %s",
			    page, ref, domid, strerror(errno));
			return -1;
		}
		for (k = 0; k < cnt; k++) {
			if (in)
				dir->gref[k] = in[done + k];
			else
				refs[done + k] = dir->gref[k];
		}
		ref = dir->gref_dir_next_page;
		xengnttab_unmap(be_xgt, dir, 1);
		done += cnt;
		page++;
	}
	return 0;
}

int pgdir_read(int domid, uint32_t gref_dir, uint32_t *refs, uint32_t n)
{
	return walk(domid, gref_dir, refs, NULL, n);
}

int pgdir_fill(int domid, uint32_t gref_dir, const uint32_t *refs, uint32_t n)
{
	/* the frontend reads the refs after our response: make them visible */
	int r = walk(domid, gref_dir, NULL, refs, n);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return r;
}
