// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Be-alloc through libxengnttab, in displ_be's order (DumbZCopyBack,
 * libxenbe's XenGnttabDmaBufferImporter):
 *   MODE_CREATE_DUMB on the KMS driver (vgem), PRIME_HANDLE_TO_FD(DRM_CLOEXEC)
 *   refs.assign(ceil(size / 4096)); xengnttab_dmabuf_imp_to_refs(h, dom, fd, n, refs)
 *   ... the frontend maps the refs, read-write ...
 *   xengnttab_dmabuf_imp_release(h, fd), GEM_CLOSE, close(fd)
 * The dma-buf is O_RDONLY (no DRM_RDWR), and the frontend still writes:
 * gntdev grants read-write whatever the fd's mode.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "zg_test.h"

ZC_TEST(gnttab_be_alloc)
{
	struct zg_vbuf b = { .fd = -1 };
	xengnttab_handle *h = NULL;
	struct zg_fds fds0, fds1;
	uint32_t *refs = NULL;
	int vgem = -1, mid = 0, r, e, rc = ZC_PASS, fl;
	unsigned int n = 0, i, j;

	NEED_DOMU(ctx);
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	/* 1024 x 16 x 32 bpp: 64 KiB, 16 grants (4 pages of a 16K kernel) */
	CK(!zg_vbuf_new(&b, vgem, 1024, 16), "vgem buffer");
	fl = fcntl(b.fd, F_GETFL);
	CK(fl >= 0 && (fl & O_ACCMODE) == O_RDONLY, "dma-buf flags %#x: want O_RDONLY, as displ_be's", fl);
	n = (unsigned int)((b.size + ZG_GRANT - 1) / ZG_GRANT);
	refs = calloc(n, sizeof(*refs));
	CK(refs, "oom");
	zc_fill(b.map, b.size, 911);
	CK(!zg_fds_take(&fds0), "fds");

	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)b.fd, n, refs));
	CK(r == 0 && e == EXDEV, "imp_to_refs: %d %s (errno must be untouched)", r, zc_errname(e));
	for (i = 0; i < n; i++) {
		CK(refs[i], "ref %u is 0", i);
		for (j = 0; j < i; j++)
			CK(refs[i] != refs[j], "refs %u and %u are both %u", j, i, refs[i]);
	}
	CK(zc_counter("grants_issued") == n, "grants_issued %ld, want %u",
	   zc_counter("grants_issued"), n);

	/* the frontend maps every page read-write: both ways, page order */
	CK(!zc_agent_map(ctx, 0, refs, n, 0, &mid), "domU cannot map the refs read-write");
	CK(!zc_agent_map_check(ctx, mid, 911), "domU does not see dom0's data");
	CK(!zc_agent_map_write(ctx, mid, 912), "domU write");
	CK(!zc_verify(b.map, b.size, 912), "dom0 does not see the domU's write at %zu",
	   zc_verify(b.map, b.size, 912));
	CK(!zc_agent_release(ctx, mid), "domU unmap");
	mid = 0;

	/* release: the grants end at once (nobody maps them) */
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)b.fd));
	CK(r == 0, "imp_release: %d %s", r, zc_errname(e));
	CK(zc_counter("grants_issued") == 0, "grants_issued %ld after release",
	   zc_counter("grants_issued"));
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)b.fd));
	CK(r == -1 && e == ENOENT, "second release: %d %s, want -1 ENOENT", r, zc_errname(e));

	/*
	 * Released while the frontend still maps the pages: the grants stay
	 * until it unmaps (XSA-396), and the pages stay away from vgem.
	 */
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)b.fd, n, refs));
	CK(r == 0, "imp_to_refs again: %d %s", r, zc_errname(e));
	CK(!zc_agent_map(ctx, 0, refs, n, 0, &mid), "domU map");
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)b.fd));
	CK(r == 0, "imp_release while mapped: %d %s", r, zc_errname(e));
	CK(zc_counter("deferred") == 1 && zc_counter("grants_issued") == n,
	   "deferred %ld grants_issued %ld while the domU maps", zc_counter("deferred"),
	   zc_counter("grants_issued"));
	CK(!zc_agent_map_write(ctx, mid, 913), "domU write after release");
	CK(!zc_verify(b.map, b.size, 913), "the pages were handed back while mapped");
	CK(!zc_agent_release(ctx, mid), "domU unmap");
	mid = 0;
	CK(zc_counters_idle(3000) == ZC_PASS, "deferred release did not finish");

	CK(!xengnttab_close(h), "xengnttab_close: %s", zc_errname(errno));
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak");
out:
	if (mid)
		zc_agent_release(ctx, mid);
	if (h)
		xengnttab_close(h);
	zg_vbuf_free(&b);
	if (vgem >= 0)
		close(vgem);
	free(refs);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
