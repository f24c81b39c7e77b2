// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Handle lifetime, as gntdev and libxengnttab define it:
 * - xengnttab_close releases the handle's imports (closing gntdev releases
 *   them) while exported dma-bufs stay valid until their last fd goes;
 * - after fork the child's copy of the handle works on the same files, and
 *   what it does leaves the parent's buffers alone;
 * - xentoolcore_restrict_all() leaves no privileged fd behind.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xentoolcore.h>

#include "zg_test.h"

/* the forked child's part; its exit status is the number of the failed check */
static int child(xengnttab_handle *h, int domu, uint32_t a, const uint32_t *refs)
{
	uint32_t f;
	int r;

	/* the parent's buffer: alive (both processes hold the fd) */
	errno = 0;
	r = xengnttab_dmabuf_exp_wait_released(h, a, 100);
	if (r != -1 || errno != ETIMEDOUT)
		return 1;
	/* the child's own export on the inherited handle */
	if (xengnttab_dmabuf_exp_from_refs(h, domu, GNTDEV_DMA_FLAG_WC, 4, refs, &f))
		return 2;
	close((int)f);
	if (xengnttab_dmabuf_exp_wait_released(h, f, 2000))
		return 3;
	close((int)a);
	/* closing the child's copy of the handle releases nothing of the parent */
	if (xengnttab_close(h))
		return 4;
	return 0;
}

ZC_TEST(gnttab_close_fork)
{
	struct zg_vbuf vb = { .fd = -1 };
	xengnttab_handle *h = NULL;
	uint32_t refs[4], irefs[64], a = 0;
	struct zg_fds fds0, fds1;
	unsigned char *m = NULL;
	int vgem = -1, id = 0, r, e, rc = ZC_PASS, status, a_open = 0;
	unsigned int n;
	pid_t pid;

	NEED_DOMU(ctx);
	CK(!zc_agent_grant(ctx, 4, 951, 0, 0, refs, &id), "domU grant");
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	CK(!zg_vbuf_new(&vb, vgem, 1024, 16), "vgem buffer");
	n = (unsigned int)(vb.size / ZG_GRANT);
	CK(n <= 64, "vgem buffer of %u grants", n);
	CK(!zg_fds_take(&fds0), "fds");

	/* ---- close: imports released, exports live on */
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 4, refs, &a));
	CK(r == 0, "export: %s", zc_errname(e));
	a_open = 1;
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, n, irefs));
	CK(r == 0, "import: %s", zc_errname(e));
	CK(zc_counter("grants_issued") == n, "grants_issued %ld", zc_counter("grants_issued"));
	CK(!xengnttab_close(h), "xengnttab_close: %s", zc_errname(errno));
	h = NULL;
	CK(zc_counter("grants_issued") == 0, "xengnttab_close kept %ld grants",
	   zc_counter("grants_issued"));
	CK(zc_counter("grants_mapped") == 4, "the export lost its mapping at xengnttab_close");
	m = zg_dmabuf_map((int)a, 4 * ZG_GRANT, 0);
	CK(m, "mmap after xengnttab_close");
	CK(!zc_verify(m, 4 * ZG_GRANT, 951), "data wrong after xengnttab_close");
	zg_dmabuf_unmap((int)a, m, 4 * ZG_GRANT, 0);
	m = NULL;
	close((int)a);
	a_open = 0;
	CK(zc_counters_idle(2000) == ZC_PASS, "the export outlived its last fd");
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak after close");

	/* ---- fork */
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 4, refs, &a));
	CK(r == 0, "export: %s", zc_errname(e));
	a_open = 1;
	fflush(stdout);
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid)
		_exit(child(h, ctx->domu, a, refs));
	CK(waitpid(pid, &status, 0) == pid, "waitpid");
	CK(WIFEXITED(status) && !WEXITSTATUS(status), "child failed at check %d (status %#x)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
	/* the parent's buffer and table are as they were */
	CK(zc_counter("grants_mapped") == 4 && zc_counter("buffers") == 1,
	   "grants_mapped %ld buffers %ld after the child", zc_counter("grants_mapped"),
	   zc_counter("buffers"));
	m = zg_dmabuf_map((int)a, 4 * ZG_GRANT, 0);
	CK(m, "mmap after the child");
	CK(!zc_verify(m, 4 * ZG_GRANT, 951), "data wrong after the child");
	zg_dmabuf_unmap((int)a, m, 4 * ZG_GRANT, 0);
	m = NULL;
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 100));
	CK(r == -1 && e == ETIMEDOUT, "wait while held: %d %s", r, zc_errname(e));
	close((int)a);
	a_open = 0;
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 2000));
	CK(r == 0, "wait after close: %d %s", r, zc_errname(e));
	CK(!xengnttab_close(h), "xengnttab_close");
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak after fork");
out:
	if (m)
		munmap(m, 4 * ZG_GRANT);
	if (a_open)
		close((int)a);
	if (h)
		xengnttab_close(h);
	zg_vbuf_free(&vb);
	if (vgem >= 0)
		close(vgem);
	if (id)
		zc_agent_release(ctx, id);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}

ZC_TEST(gnttab_restrict)
{
	xengnttab_handle *h = NULL;
	uint32_t refs[4], fd;
	struct zg_fds fds0, fds1;
	int id = 0, r, e, rc = ZC_PASS;

	NEED_DOMU(ctx);
	CK(!zc_agent_grant(ctx, 4, 961, 0, 0, refs, &id), "domU grant");
	CK(!zg_fds_take(&fds0), "fds");
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 4, refs, &fd));
	CK(r == 0, "export before restricting: %s", zc_errname(e));
	close((int)fd);
	CK(!xengnttab_dmabuf_exp_wait_released(h, fd, 2000), "wait");
	CK(zg_fds_have("/dev/dri/renderD") == 1, "no /dev/dri/renderD* fd while zero-copy is active");

	/* a deprivileged process: no fd of gntdev or of the driver is left */
	CALL(xentoolcore_restrict_all((domid_t)ctx->domu));
	CK(r == 0, "xentoolcore_restrict_all: %d %s", r, zc_errname(e));
	CK(zg_fds_have("/dev/dri/renderD") == 0,
	   "a /dev/dri/renderD* fd survived xentoolcore_restrict_all");
	CK(zg_fds_have("/dev/xen/gntdev") == 0, "gntdev survived xentoolcore_restrict_all");
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 4, refs, &fd));
	CK(r == -1, "export after xentoolcore_restrict_all worked (fd %u)", fd);
	CK(zc_counters_idle(0) == ZC_PASS, "restricted, but the driver mapped something");
	CK(!xengnttab_close(h), "xengnttab_close: %s", zc_errname(errno));
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak");
out:
	if (h)
		xengnttab_close(h);
	if (id)
		zc_agent_release(ctx, id);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
