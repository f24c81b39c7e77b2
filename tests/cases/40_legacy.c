// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The 2018 ioctls, called exactly as the ces2018 displ_be does
 * (src/displayBackend/drm/Dumb.cpp, Display.cpp): the primary node opened
 * with drmOpen("xen_drm_zcopy", NULL), drmIoctl() with the 2018 structs.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

/* The 2018 struct layout, spelled as the 2018 header did (LP64). */
struct zc2018_from_refs {
	uint32_t num_grefs;
	uint32_t *grefs;
	uint64_t otherend_id;
	struct drm_mode_create_dumb dumb;
	uint32_t wait_handle;
};

_Static_assert(sizeof(struct zc2018_from_refs) == sizeof(struct drm_xen_zcopy_dumb_from_refs),
	       "2018 layout");
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS == 0xC0406440, "2018 number");
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS == 0xC0206441, "2018 number");
_Static_assert(DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE == 0xC0086442, "2018 number");

/*
 * DumbZCopyFront: front-alloc, the guest's framebuffer shown by dom0: the
 * KMS driver's view (the test importer stands in for its scan-out engine)
 * and the CPU's are the guest's pixels. Then displ_be's teardown: the KMS
 * import goes, DUMB_WAIT_FREE times out while our handle and fd still hold
 * the buffer (left whole), they go, and DUMB_WAIT_FREE finds it freed.
 */
ZC_TEST(legacy_front_alloc)
{
	struct drm_xen_zcopy_dumb_wait_free wf;
	struct zc2018_from_refs req;
	uint32_t refs[8], kms_handle, px, want;
	unsigned char *m, *expect;
	struct zcc_dbuf d;
	int zfd, kms, pfd, id;

	ZCC_NEED_DOMU(ctx);
	zfd = zc_open_primary();
	kms = zc_open_vgem();	/* stands in for the KMS driver */
	ZC_CHECK(zfd >= 0 && kms >= 0, "open zcopy %d kms %d", zfd, kms);
	/* 64 x 32 x 32 bpp = 8192 bytes, granted as 8 pages: more is fine */
	ZC_CHECK(!zc_agent_grant(ctx, 8, 401, 0, 0, refs, &id), "agent grant");

	memset(&req, 0, sizeof(req));
	req.otherend_id = ctx->domu;
	req.grefs = refs;
	req.num_grefs = 8;
	req.dumb.width = 64;
	req.dumb.height = 32;
	req.dumb.bpp = 32;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &req), 0);
	ZC_CHECK(req.dumb.pitch == 256 && req.dumb.size == 8192 && req.dumb.handle,
		 "pitch %u size %llu handle %u", req.dumb.pitch,
		 (unsigned long long)req.dumb.size, req.dumb.handle);
	ZC_CHECK(req.wait_handle, "no wait_handle");
	ZC_CHECK(zc_counter("grants_mapped") == 8, "grants_mapped %ld", zc_counter("grants_mapped"));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", ctx->domu, refs, 8) == 1 &&
		 !strcmp(d.flags, "dumb,legacy"), "debugfs flags %s", d.flags);

	pfd = zcc_prime_fd(zfd, req.dumb.handle);
	ZC_CHECK(pfd >= 0, "PRIME_HANDLE_TO_FD: %s", strerror(errno));
	kms_handle = zcc_import(kms, pfd);
	ZC_CHECK(kms_handle, "KMS PRIME_FD_TO_HANDLE: %s", strerror(errno));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", ctx->domu, refs, 8) == 1 && d.importers == 1,
		 "the KMS import is not attached (importers %u)", d.importers);
	/* what the scan-out engine reads: the guest's pages, in order */
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, 8, 0, 401) == ZC_PASS,
		 "the importer does not see the guest's framebuffer");
	/* and the CPU: pixel (x, y) at y * pitch + 4 x is the guest's */
	expect = malloc(8 * ZCC_PAGE);
	ZC_CHECK(expect, "oom");
	zc_fill(expect, 8 * ZCC_PAGE, 401);
	m = mmap(NULL, 8 * ZCC_PAGE, PROT_READ, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
	memcpy(&px, m + 31 * 256 + 63 * 4, 4);
	memcpy(&want, expect + 31 * 256 + 63 * 4, 4);
	ZC_CHECK(px == want, "pixel (63, 31) is %#x, the guest's is %#x", px, want);
	ZC_CHECK(!memcmp(m, expect, 8 * ZCC_PAGE), "the framebuffer differs from the guest's");
	munmap(m, 8 * ZCC_PAGE);
	free(expect);

	/* ~DumbZCopyFrontDrm: the KMS import goes first */
	ZC_EXPECT_ERRNO(zcc_close_handle(kms, kms_handle), 0);
	/*
	 * our handle and PRIME fd still hold it: DUMB_WAIT_FREE must wait,
	 * time out, and leave the buffer whole (mapped, the guest's pixels)
	 */
	wf.wait_handle = req.wait_handle;
	wf.wait_to_ms = 100;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ETIMEDOUT);
	ZC_CHECK(zc_counter("grants_mapped") == 8, "grants_mapped %ld after a timed-out wait",
		 zc_counter("grants_mapped"));
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, 8, 0, 401) == ZC_PASS,
		 "the framebuffer changed under a timed-out DUMB_WAIT_FREE");
	/* ~DumbZCopyFront: then our handle and fd */
	ZC_EXPECT_ERRNO(zcc_close_handle(zfd, req.dumb.handle), 0);
	close(pfd);
	wf.wait_handle = req.wait_handle;
	wf.wait_to_ms = 2000;
	/* the last reference went synchronously: freed, so unknown */
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ENOENT);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "not freed when WAIT_FREE said so");
	ZC_CHECK(!zc_agent_check(ctx, id, 401, 0, 8 * ZCC_PAGE), "domU data changed");
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(kms);
	close(zfd);
	return zc_counters_idle(2000);
}

/*
 * The KMS import outlives the zcopy handle: DUMB_WAIT_FREE times out while
 * it is held, and a pending DUMB_WAIT_FREE returns 0 as soon as another task
 * drops it.
 */
ZC_TEST(legacy_wait_for_kms)
{
	struct drm_xen_zcopy_dumb_wait_free wf = { .wait_to_ms = 100 };
	struct drm_xen_zcopy_dumb_from_refs req;
	struct zc_local *h;
	uint32_t refs[2], kh;
	int zfd, kms, pfd, st;
	double t;
	pid_t pid;

	zfd = zc_open_primary();
	kms = zc_open_vgem();
	ZC_CHECK(zfd >= 0 && kms >= 0, "open");
	ZC_CHECK(zc_self_grant(2, 402, 0, 0, refs, &h), "self grant");
	memset(&req, 0, sizeof(req));
	req.grefs_ptr = (uintptr_t)refs;
	req.num_grefs = 2;
	req.dumb.width = 10;
	req.dumb.height = 10;
	req.dumb.bpp = 8;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &req), 0);
	ZC_CHECK(req.dumb.pitch == 10 && req.dumb.size == 100, "pitch %u size %llu",
		 req.dumb.pitch, (unsigned long long)req.dumb.size);
	pfd = zcc_prime_fd(zfd, req.dumb.handle);
	kh = zcc_import(kms, pfd);
	ZC_CHECK(pfd >= 0 && kh, "export/import");
	ZC_EXPECT_ERRNO(zcc_close_handle(zfd, req.dumb.handle), 0);
	close(pfd);
	wf.wait_handle = req.wait_handle;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ETIMEDOUT);
	/* the KMS side lets go from another task while we wait */
	pid = fork();
	ZC_CHECK(pid >= 0, "fork");
	if (!pid) {
		usleep(300 * 1000);
		_exit(zcc_close_handle(kms, kh) ? 1 : 0);
	}
	wf.wait_to_ms = 3000;
	t = zcc_now();
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), 0);
	t = zcc_now() - t;
	ZC_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
		 "the child could not close the KMS handle");
	ZC_CHECK(t >= 0.25 && t < 2.9, "DUMB_WAIT_FREE returned after %.3f s", t);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "not freed when DUMB_WAIT_FREE returned");
	wf.wait_to_ms = 10;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ENOENT);
	zc_local_free(h);
	close(kms);
	close(zfd);
	return zc_counters_idle(2000);
}

/* Wait handles are per file and the 64-bit token's id part. */
ZC_TEST(legacy_wait_handles)
{
	struct drm_xen_zcopy_dumb_wait_free wf = { .wait_to_ms = 10 };
	struct drm_xen_zcopy_dumb_from_refs a, b;
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	uint32_t refs[1];
	int zfd = zc_open_primary(), other = zc_open_render();

	ZC_CHECK(zfd >= 0 && other >= 0, "open");
	ZC_CHECK(zc_self_grant(1, 403, 0, 0, refs, &h), "self grant");
	memset(&a, 0, sizeof(a));
	a.grefs_ptr = (uintptr_t)refs;
	a.num_grefs = 1;
	a.dumb.width = a.dumb.height = 8;
	a.dumb.bpp = 32;
	b = a;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &a), 0);
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &b), 0);
	ZC_CHECK(a.wait_handle && b.wait_handle && a.wait_handle != b.wait_handle,
		 "wait handles %u %u", a.wait_handle, b.wait_handle);
	ZC_EXPECT_ERRNO(zcc_from_refs(zfd, &fr, 0, refs, 1, 0), 0);
	ZC_CHECK((uint32_t)fr.wait_token != a.wait_handle && (uint32_t)fr.wait_token != b.wait_handle,
		 "token id reused");
	/* the new token's id works as a legacy handle on the same file */
	wf.wait_handle = (uint32_t)fr.wait_token;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ETIMEDOUT);
	/* another file does not know them */
	wf.wait_handle = a.wait_handle;
	ZC_EXPECT_ERRNO(zcc_err(other, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ENOENT);
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ETIMEDOUT);
	ZC_EXPECT_ERRNO(zcc_close_handle(zfd, a.dumb.handle), 0);
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ENOENT);
	wf.wait_handle = b.wait_handle;
	ZC_EXPECT_ERRNO(zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &wf), ETIMEDOUT);
	/* closing the file frees the rest */
	close(zfd);
	zc_local_free(h);
	close(other);
	return zc_counters_idle(2000);
}

/*
 * DumbZCopyBack: be-alloc, a dom0 (KMS) dumb buffer granted to the guest.
 * DUMB_TO_REFS is translated onto TO_REFS (zcopy_grant.c).
 */
ZC_TEST(legacy_back_alloc)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = 48, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_xen_zcopy_dumb_to_refs tr;
	uint32_t refs[16], zh;
	unsigned char *m;
	unsigned int n;
	int zfd, kms, pfd, id, r;

	ZCC_NEED_DOMU(ctx);
	zfd = zc_open_primary();
	/* dumb buffers are not render-node ioctls: the primary node */
	kms = drmOpen("vgem", NULL);
	ZC_CHECK(zfd >= 0 && kms >= 0, "open");
	ZC_EXPECT_ERRNO(zcc_err(kms, DRM_IOCTL_MODE_CREATE_DUMB, &cd), 0);
	n = (cd.size + ZCC_PAGE - 1) / ZCC_PAGE;
	ZC_CHECK(n <= 16, "dumb of %llu bytes", (unsigned long long)cd.size);
	md.handle = cd.handle;
	ZC_EXPECT_ERRNO(zcc_err(kms, DRM_IOCTL_MODE_MAP_DUMB, &md), 0);
	m = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, kms, md.offset);
	ZC_CHECK(m != MAP_FAILED, "vgem mmap: %s", strerror(errno));
	zc_fill(m, n * ZCC_PAGE, 404);

	pfd = zcc_prime_fd(kms, cd.handle);
	ZC_CHECK(pfd >= 0, "KMS PRIME_HANDLE_TO_FD");
	zh = zcc_import(zfd, pfd);
	ZC_CHECK(zh, "zcopy PRIME_FD_TO_HANDLE: %s", strerror(errno));
	memset(&tr, 0, sizeof(tr));
	tr.otherend_id = ctx->domu;
	tr.handle = zh;
	tr.grefs_ptr = (uintptr_t)refs;
	tr.num_grefs = n;
	r = zcc_err(zfd, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &tr);
	ZC_CHECK(!r, "DUMB_TO_REFS: %s", zc_errname(r));
	ZC_CHECK(zc_counter("grants_issued") == n, "grants_issued %ld", zc_counter("grants_issued"));
	ZC_CHECK(!zc_agent_map(ctx, 0, refs, n, 0, &id), "domU maps the refs");
	ZC_CHECK(!zc_agent_map_check(ctx, id, 404), "domU sees other data");
	ZC_CHECK(!zc_agent_map_write(ctx, id, 405), "domU write");
	ZC_CHECK(!zc_verify(m, n * ZCC_PAGE, 405), "domU's write not in the KMS buffer");
	/* the frontend unmaps first (DBUF_DESTROY), then displ_be releases */
	ZC_CHECK(!zc_agent_release(ctx, id), "domU unmap");
	ZC_EXPECT_ERRNO(zcc_close_handle(zfd, zh), 0);
	ZC_EXPECT_ERRNO(zcc_close_handle(kms, cd.handle), 0);
	close(pfd);
	munmap(m, cd.size);
	close(kms);
	close(zfd);
	return zc_counters_idle(3000);
}
