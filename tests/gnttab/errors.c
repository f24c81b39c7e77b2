// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Every error of the four dma-buf calls, with the errno gntdev and
 * libxengnttab give, and nothing left behind by a failing call: no fd, no
 * mapping, no grant, and the buffers involved still work afterwards.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "zg_test.h"

/* one export that must work: exported, closed, waited for */
static int export_ok(xengnttab_handle *h, int domid, uint32_t flags, const uint32_t *refs,
		     unsigned int n)
{
	uint32_t fd;

	if (xengnttab_dmabuf_exp_from_refs(h, domid, flags, n, refs, &fd)) {
		zc_diag("exp_from_refs flags %#x: %s", flags, zc_errname(errno));
		return -1;
	}
	close((int)fd);
	if (xengnttab_dmabuf_exp_wait_released(h, fd, 2000)) {
		zc_diag("wait: %s", zc_errname(errno));
		return -1;
	}
	return 0;
}

ZC_TEST(gnttab_errors)
{
	const unsigned int big = 65537;	/* above gntdev's and our default limit */
	struct zg_vbuf vb = { .fd = -1 };
	xengnttab_handle *h = NULL;
	uint32_t refs[4], bad[4], *many = NULL, *irefs = NULL, fd = 0, i;
	struct zg_fds fds0, fds1, fds2;
	int vgem = -1, id = 0, r, e, rc = ZC_PASS, dupfd = -1, null = -1, closed;
	unsigned int n = 0;

	NEED_DOMU(ctx);
	CK(!zc_agent_grant(ctx, 4, 931, 0, 0, refs, &id), "domU grant");
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	CK(!zg_vbuf_new(&vb, vgem, 1024, 16), "vgem buffer");
	n = (unsigned int)(vb.size / ZG_GRANT);
	irefs = calloc(n + 1, sizeof(*irefs));
	many = calloc(big, sizeof(*many));
	CK(irefs && many, "oom");
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CK(null >= 0, "/dev/null");
	CK(!zg_fds_take(&fds0), "fds");
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	closed = dup(null);
	close(closed);	/* a number that is no fd (nothing opens one meanwhile) */
	CK(!zg_fds_take(&fds1), "fds");

	/* ---- exp_from_refs */
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, 0, 0, refs, &fd));
	CK(r == -1 && e == EINVAL, "count 0: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu,
					    GNTDEV_DMA_FLAG_WC | GNTDEV_DMA_FLAG_COHERENT,
					    4, refs, &fd));
	CK(r == -1 && e == EINVAL, "WC|COHERENT: %d %s", r, zc_errname(e));
	/* one flag, or bits gntdev does not know: accepted (gntdev does not check) */
	CK(!export_ok(h, ctx->domu, GNTDEV_DMA_FLAG_COHERENT, refs, 4), "COHERENT");
	CK(!export_ok(h, ctx->domu, 0, refs, 4), "no flags");
	CK(!export_ok(h, ctx->domu, 1u << 7, refs, 4), "unknown flag bit");
	/* a ref the domU never granted, after good ones: gntdev -EINVAL */
	memcpy(bad, refs, sizeof(bad));
	bad[3] = 0xffff0;
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 4, bad, &fd));
	CK(r == -1 && e == EINVAL, "bad ref: %d %s", r, zc_errname(e));
	CK(zc_counters_idle(0) == ZC_PASS, "a failed export left something mapped");
	/* refs of another domain (none has id 0x7000): -EINVAL */
	CALL(xengnttab_dmabuf_exp_from_refs(h, 0x7000, GNTDEV_DMA_FLAG_WC, 4, refs, &fd));
	CK(r == -1 && e == EINVAL, "no such domain: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_exp_from_refs(h, 0x7ff0, GNTDEV_DMA_FLAG_WC, 4, refs, &fd));
	CK(r == -1 && e == EINVAL, "reserved domid: %d %s", r, zc_errname(e));
	/* more refs than one call may map: -EINVAL before anything is mapped */
	for (i = 0; i < big; i++)
		many[i] = refs[i % 4];
	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, big, many, &fd));
	CK(r == -1 && e == EINVAL, "%u refs: %d %s", big, r, zc_errname(e));
	CK(!zg_fds_take(&fds2) && zg_fds_same(&fds1, &fds2), "a failed export left an fd");
	CK(zc_counters_idle(0) == ZC_PASS, "failed exports left something");

	/* ---- imp_to_refs */
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, 0, irefs));
	CK(r == -1 && e == EINVAL, "count 0: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)closed, n, irefs));
	CK(r == -1 && e == EBADF, "closed fd: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)null, n, irefs));
	CK(r == -1 && e == EINVAL, "not a dma-buf: %d %s", r, zc_errname(e));
	/* count must be the buffer's size in 4 KiB grants */
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, n - 1, irefs));
	CK(r == -1 && e == EINVAL, "count %u of %u: %d %s", n - 1, n, r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, n + 1, irefs));
	CK(r == -1 && e == EINVAL, "count %u of %u: %d %s", n + 1, n, r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_to_refs(h, 0x7ff0, (uint32_t)vb.fd, n, irefs));
	CK(r == -1 && e == EINVAL, "reserved domid: %d %s", r, zc_errname(e));
	CK(zc_counters_idle(0) == ZC_PASS, "failed imports left something");
	/* the failures did not spoil the buffer */
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, n, irefs));
	CK(r == 0, "good import after the failures: %d %s", r, zc_errname(e));
	CK(zc_counter("grants_issued") == n, "grants_issued %ld", zc_counter("grants_issued"));
	/*
	 * The same dma-buf again (same fd, or a dup): gntdev would grant it a
	 * second time; xen_drm_zcopy grants a buffer once: -EBUSY, and the
	 * first import is untouched.
	 */
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd, n, irefs + 1));
	CK(r == -1 && e == EBUSY, "second import: %d %s", r, zc_errname(e));
	dupfd = dup(vb.fd);
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)dupfd, n, irefs + 1));
	CK(r == -1 && e == EBUSY, "import of a dup: %d %s", r, zc_errname(e));
	CK(zc_counter("grants_issued") == n, "grants_issued %ld after the refused imports",
	   zc_counter("grants_issued"));

	/* ---- imp_release */
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)dupfd));
	CK(r == -1 && e == ENOENT, "release of a never imported fd: %d %s", r, zc_errname(e));
	close(dupfd);
	dupfd = -1;
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)vb.fd));
	CK(r == 0, "release: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)vb.fd));
	CK(r == -1 && e == ENOENT, "second release: %d %s", r, zc_errname(e));
	CK(zc_counters_idle(0) == ZC_PASS, "release left grants");

	/* ---- exp_wait_released of numbers never exported: 0, errno 0 */
	CALL(xengnttab_dmabuf_exp_wait_released(h, (uint32_t)closed, 1000));
	CK(r == 0 && e == 0, "wait on no fd: %d %s", r, zc_errname(e));
	CALL(xengnttab_dmabuf_exp_wait_released(h, (uint32_t)vb.fd, 1000));
	CK(r == 0 && e == 0, "wait on an fd that is no export: %d %s", r, zc_errname(e));

	CK(!zg_fds_take(&fds2) && zg_fds_same(&fds1, &fds2), "fd leak in the error paths");
	CK(!xengnttab_close(h), "xengnttab_close");
	h = NULL;
	CK(!zg_fds_take(&fds2) && zg_fds_same(&fds0, &fds2), "fd leak");
out:
	if (h)
		xengnttab_close(h);
	if (dupfd >= 0)
		close(dupfd);
	if (null >= 0)
		close(null);
	zg_vbuf_free(&vb);
	if (vgem >= 0)
		close(vgem);
	free(irefs);
	free(many);
	if (id)
		zc_agent_release(ctx, id);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
