// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Front-alloc through libxengnttab, in libxenbe's order (XenGnttab.cpp,
 * XenGnttabDmaBufferExporter; displ_be's DumbZCopyFrontDrm):
 *   xengnttab_open(NULL, 0)
 *   xengnttab_dmabuf_exp_from_refs(h, dom, GNTDEV_DMA_FLAG_WC, n, refs, &fd)
 *   PRIME_FD_TO_HANDLE(fd) on the KMS driver (vgem here), scan-out ...
 *   GEM_CLOSE of the KMS handle, close(fd),
 *   xengnttab_dmabuf_exp_wait_released(h, fd, 2000)
 * with the guest's data checked both ways through the dma-buf.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zg_test.h"

ZC_TEST(gnttab_front_alloc)
{
	const unsigned int n = 16;	/* 64 KiB: whole pages at 4K and 16K */
	uint32_t refs[16], fd = 0;
	xengnttab_handle *h = NULL;
	struct zg_fds fds0, fds1;
	unsigned char *m = NULL;
	int vgem = -1, id = 0, r, e, rc = ZC_PASS, fl;
	uint32_t vh = 0;
	off_t size = 0;
	void *p;
	double t;

	NEED_DOMU(ctx);
	CK(!zc_agent_grant(ctx, n, 901, 0, 0, refs, &id), "domU grant");
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	CK(!zg_fds_take(&fds0), "fds");

	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));

	/* displ_be reads a frontend page through libxengnttab: the real library */
	p = xengnttab_map_grant_ref(h, ctx->domu, refs[0], PROT_READ);
	CK(p, "xengnttab_map_grant_ref: %s", zc_errname(errno));
	CK(!zc_grants_verify(p, 0, ZG_GRANT, 901), "gntdev view of grant 0 wrong");
	CK(!xengnttab_unmap(h, p, 1), "xengnttab_unmap: %s", zc_errname(errno));

	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, n, refs, &fd));
	CK(r == 0 && e == EXDEV, "exp_from_refs: %d %s (errno must be untouched)", r, zc_errname(e));
	CK(zc_counter("grants_mapped") == n && zc_counter("buffers") == 1,
	   "grants_mapped %ld buffers %ld", zc_counter("grants_mapped"), zc_counter("buffers"));
	size = lseek((int)fd, 0, SEEK_END);
	CK(size == (off_t)n * ZG_GRANT, "dma-buf size %lld, want %u", (long long)size, n * ZG_GRANT);
	/* gntdev's dma-buf file: O_RDWR, close-on-exec */
	fl = fcntl((int)fd, F_GETFL);
	CK(fl >= 0 && (fl & O_ACCMODE) == O_RDWR, "dma-buf file flags %#x, want O_RDWR", fl);
	CK(fcntl((int)fd, F_GETFD) & FD_CLOEXEC, "dma-buf fd without FD_CLOEXEC");

	/* the KMS driver's import */
	CK(!zg_prime_import(vgem, (int)fd, &vh), "vgem PRIME import: %s", zc_errname(errno));

	/* the guest's pages, no copy: read, write, and see a guest rewrite */
	m = zg_dmabuf_map((int)fd, (size_t)size, 1);
	CK(m, "dma-buf mmap");
	CK(!zc_verify(m, (size_t)size, 901), "guest data wrong at %zu", zc_verify(m, (size_t)size, 901));
	zc_fill(m, (size_t)size, 902);
	zg_dmabuf_unmap((int)fd, m, (size_t)size, 1);
	m = NULL;
	CK(!zc_agent_check(ctx, id, 902, 0, (size_t)size), "the domU does not see dom0's write");
	CK(!zc_agent_fill(ctx, id, 903), "domU fill");
	m = zg_dmabuf_map((int)fd, (size_t)size, 0);
	CK(m, "dma-buf mmap");
	CK(!zc_verify(m, (size_t)size, 903), "guest rewrite not seen at %zu",
	   zc_verify(m, (size_t)size, 903));
	zg_dmabuf_unmap((int)fd, m, (size_t)size, 0);
	m = NULL;

	/* still in use (our fd, the KMS import): not released */
	t = zg_now();
	CALL(xengnttab_dmabuf_exp_wait_released(h, fd, 100));
	CK(r == -1 && e == ETIMEDOUT, "wait while held: %d %s, want -1 ETIMEDOUT", r, zc_errname(e));
	CK(zg_now() - t >= 0.09, "ETIMEDOUT after %.3f s of 0.1", zg_now() - t);

	/* ~DumbZCopyFrontDrm: the KMS handle goes, then waitForReleased() */
	CK(!zg_gem_close(vgem, vh), "vgem GEM_CLOSE");
	vh = 0;
	close((int)fd);
	CALL(xengnttab_dmabuf_exp_wait_released(h, fd, 2000));
	/* freed at close (errno 0, as gntdev's -ENOENT) or while we waited (untouched) */
	CK(r == 0 && (e == 0 || e == EXDEV), "wait after close: %d %s", r, zc_errname(e));
	CK(zc_counters_idle(0) == ZC_PASS, "released, but the driver still holds it");
	/* released already: gntdev -ENOENT, which libxengnttab returns as 0, errno 0 */
	CALL(xengnttab_dmabuf_exp_wait_released(h, fd, 2000));
	CK(r == 0 && e == 0, "second wait: %d %s, want 0 with errno 0", r, zc_errname(e));
	fd = 0;

	CK(!xengnttab_close(h), "xengnttab_close: %s", zc_errname(errno));
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak");
	CK(!zc_agent_check(ctx, id, 903, 0, n * ZG_GRANT), "domU data changed after release");
out:
	if (m)
		munmap(m, (size_t)size);
	if (vh)
		zg_gem_close(vgem, vh);
	if (fd)
		close((int)fd);
	if (h)
		xengnttab_close(h);
	if (vgem >= 0)
		close(vgem);
	if (id)
		zc_agent_release(ctx, id);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
