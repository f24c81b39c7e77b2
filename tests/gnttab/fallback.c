// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Zero-copy inactive: the driver refuses the process (no CAP_SYS_ADMIN, not
 * in the allow_gid group), or XEN_ZCOPY_DISABLE=1. Then every call must
 * reach the real libxengnttab. That is visible: the Debian kernels have no
 * CONFIG_XEN_GNTDEV_DMABUF, so gntdev answers each dma-buf ioctl ENOTTY,
 * and libxengnttab returns -1 with that errno (where the preload library
 * would have succeeded, or answered wait 0 and release ENOENT). The
 * launcher's line says "zero-copy inactive" (tests/cases/90_gnttab.c).
 */
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zg_test.h"

/* drop CAP_SYS_ADMIN from every set (uid 0 keeps its file access) */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	unsigned int w = CAP_SYS_ADMIN / 32, bit = 1u << (CAP_SYS_ADMIN % 32);

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[w].effective &= ~bit;
	data[w].permitted &= ~bit;
	data[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	if (syscall(SYS_capget, &hdr, data) || (data[w].effective & bit))
		return -1;
	return 0;
}

/* every call goes to libxengnttab, which gets ENOTTY from gntdev */
static int real_library_calls(struct zc_ctx *ctx)
{
	struct zg_vbuf vb = { .fd = -1 };
	xengnttab_handle *h = NULL;
	uint32_t refs[1], irefs[64], fd = 0;
	struct zg_fds fds0, fds1;
	int vgem = -1, id = 0, r, e, rc = ZC_PASS;
	void *p;

	CK(!zc_agent_grant(ctx, 1, 971, 0, 0, refs, &id), "domU grant");
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	CK(!zg_vbuf_new(&vb, vgem, 1024, 4), "vgem buffer");
	CK(!zg_fds_take(&fds0), "fds");
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));
	CK(zg_fds_have("/dev/dri/renderD") == 0, "a /dev/dri/renderD* fd is open: zero-copy is not off");

	/* the rest of libxengnttab works as ever under the preload */
	p = xengnttab_map_grant_ref(h, ctx->domu, refs[0], PROT_READ);
	CK(p, "xengnttab_map_grant_ref: %s", zc_errname(errno));
	CK(!zc_grants_verify(p, 0, ZG_GRANT, 971), "gntdev view of the grant wrong");
	CK(!xengnttab_unmap(h, p, 1), "xengnttab_unmap: %s", zc_errname(errno));

	CALL(xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, 1, refs, &fd));
	CK(r == -1 && e == ENOTTY, "exp_from_refs: %d %s, want gntdev's -1 ENOTTY", r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_to_refs(h, ctx->domu, (uint32_t)vb.fd,
					  (uint32_t)(vb.size / ZG_GRANT), irefs));
	CK(r == -1 && e == ENOTTY, "imp_to_refs: %d %s, want -1 ENOTTY", r, zc_errname(e));
	CALL(xengnttab_dmabuf_exp_wait_released(h, 7, 0));
	CK(r == -1 && e == ENOTTY, "exp_wait_released: %d %s, want -1 ENOTTY", r, zc_errname(e));
	CALL(xengnttab_dmabuf_imp_release(h, (uint32_t)vb.fd));
	CK(r == -1 && e == ENOTTY, "imp_release: %d %s, want -1 ENOTTY", r, zc_errname(e));
	CK(zc_counter("buffers") == 0 && zc_counter("grants_issued") == 0,
	   "the driver was used: buffers %ld grants_issued %ld", zc_counter("buffers"),
	   zc_counter("grants_issued"));

	CK(!xengnttab_close(h), "xengnttab_close");
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak");
out:
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

ZC_TEST(gnttab_fallback_noadmin)
{
	NEED_DOMU(ctx);
	ZC_CHECK(!drop_sys_admin(), "cannot drop CAP_SYS_ADMIN: %s", zc_errname(errno));
	return real_library_calls(ctx);
}

ZC_TEST(gnttab_fallback_disabled)
{
	const char *v = getenv("XEN_ZCOPY_DISABLE");

	NEED_DOMU(ctx);
	ZC_CHECK(v && !strcmp(v, "1"), "run with XEN_ZCOPY_DISABLE=1 (90_gnttab.c does)");
	return real_library_calls(ctx);
}
