// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * FROM_REFS: the domU grants pages, dom0 turns them into a PRIME buffer,
 * and the data is the domU's own memory (no copy) whichever way it is
 * reached: what a DMA importer maps (the test importer, tests/kmod), our
 * mmap, a vgem import re-exported, a write seen by the domU. Plus
 * read-only, data offset, dumb geometry and the exact unwind of a partly
 * failing map. Every platform promises CPU mappings (query_fields checks
 * the capability), so the data checks run everywhere.
 */
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "zc_importer.h"

/*
 * The end of a case: free the buffer (our last handle, so WAIT_FREE finds
 * it gone), give the domU its pages back, and every counter must be idle.
 */
static int free_and_release(struct zc_ctx *ctx, int fd,
			    struct drm_xen_zcopy_from_refs *fr, int id)
{
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr->handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr->wait_token, 2000), ENOENT);	/* freed already */
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(from_refs_cross_domain)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[4], vh;
	long page = sysconf(_SC_PAGESIZE);
	struct zcc_dbuf d;
	unsigned char *m;
	int fd, vg, pfd, id;

	ZCC_NEED_DOMU(ctx);
	fd = zc_open_render();
	vg = zc_open_vgem();
	ZC_CHECK(fd >= 0 && vg >= 0, "open zcopy %d vgem %d", fd, vg);
	ZC_CHECK(!zc_agent_grant(ctx, 4, 101, 0, 0, refs, &id), "agent grant");

	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, 4, 0), 0);
	ZC_CHECK(fr.handle && fr.size == 4 * ZCC_PAGE && fr.pitch == 0,
		 "handle %u size %llu pitch %u", fr.handle, (unsigned long long)fr.size, fr.pitch);
	ZC_CHECK(fr.wait_token >> 32 && (uint32_t)fr.wait_token,
		 "token %#llx lacks salt or id", (unsigned long long)fr.wait_token);
	ZC_CHECK(zc_counter("grants_mapped") == 4, "grants_mapped %ld", zc_counter("grants_mapped"));
	ZC_CHECK(zc_counter("pages_held") == (4 * ZCC_PAGE + page - 1) / page,
		 "pages_held %ld", zc_counter("pages_held"));
	ZC_CHECK(zc_counter("buffers") == 1, "buffers %ld", zc_counter("buffers"));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", ctx->domu, refs, 4) == 1,
		 "no debugfs line for the buffer of the 4 refs of domain %d", ctx->domu);
	ZC_CHECK(d.importers == 0 && d.waiters == 0 && !strcmp(d.flags, "-"),
		 "debugfs: importers %u waiters %d flags %s", d.importers, d.waiters, d.flags);

	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME_HANDLE_TO_FD: %s", strerror(errno));
	ZC_CHECK(lseek(pfd, 0, SEEK_END) == 4 * ZCC_PAGE, "dma-buf size %lld",
		 (long long)lseek(pfd, 0, SEEK_END));
	/* what a DMA importer sees, page by page: the domU's own pages */
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, 4, 0, 101) == ZC_PASS,
		 "the importer's view is not the domU's data");
	/* dom0 writes through its CPU mapping: the domU sees it */
	m = mmap(NULL, 4 * ZCC_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
	ZC_CHECK(!zc_verify(m, 4 * ZCC_PAGE, 101), "dom0 reads other data at %zu",
		 zc_verify(m, 4 * ZCC_PAGE, 101));
	zc_fill(m + 100, 4 * ZCC_PAGE - 100, 113);
	munmap(m, 4 * ZCC_PAGE);
	ZC_CHECK(!zc_agent_check(ctx, id, 113, 100, 4 * ZCC_PAGE - 100),
		 "dom0's write not seen by the domU");
	/* and the domU's rewrite is what the importer sees: no copy */
	ZC_CHECK(!zc_agent_fill(ctx, id, 112), "agent fill");
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, 4, 0, 112) == ZC_PASS,
		 "the importer does not see the domU's rewrite");
	/* a real importer: attach + map through vgem's DMA device */
	vh = zcc_import(vg, pfd);
	ZC_CHECK(vh, "vgem PRIME_FD_TO_HANDLE: %s", strerror(errno));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", ctx->domu, refs, 4) == 1 && d.importers == 1,
		 "debugfs does not show vgem's attachment (importers %u)", d.importers);

	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	close(pfd);
	ZC_CHECK(zc_counter("grants_mapped") == 4, "vgem's import lost its mapping");
	ZC_EXPECT_ERRNO(zcc_close_handle(vg, vh), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "counters not zero right after WAIT_FREE");
	/* the domU's pages are its own again, as it left them */
	ZC_CHECK(!zc_agent_check(ctx, id, 112, 0, 4 * ZCC_PAGE), "domU data changed");
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(vg);
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(from_refs_mmap_read)
{
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	struct drm_xen_zcopy_from_refs fr;
	unsigned int n = 16;
	uint32_t refs[16];
	unsigned char *m;
	int fd, pfd, id;

	ZCC_NEED_DOMU(ctx);
	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	ZC_CHECK(!zc_agent_grant(ctx, n, 102, 0, 0, refs, &id), "agent grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, n, 0), 0);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	m = mmap(NULL, n * ZCC_PAGE, PROT_READ, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap of the dma-buf: %s", strerror(errno));
	ZC_EXPECT_ERRNO(ioctl(pfd, DMA_BUF_IOCTL_SYNC, &sync), 0);
	ZC_CHECK(!zc_verify(m, n * ZCC_PAGE, 102), "pattern wrong at %zu", zc_verify(m, n * ZCC_PAGE, 102));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ZC_EXPECT_ERRNO(ioctl(pfd, DMA_BUF_IOCTL_SYNC, &sync), 0);
	/* the domU rewrites its pages: we see it at once, same frames */
	ZC_CHECK(!zc_agent_fill(ctx, id, 103), "agent fill");
	ZC_CHECK(!zc_verify(m, n * ZCC_PAGE, 103), "domU rewrite not seen");
	/* the mapping alone keeps the buffer */
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	close(pfd);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 100), ETIMEDOUT);
	ZC_CHECK(!zc_verify(m, n * ZCC_PAGE, 103), "data gone while mapped");
	munmap(m, n * ZCC_PAGE);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(from_refs_write_seen_by_domu)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[4];
	unsigned char *m;
	int fd, pfd, id;

	ZCC_NEED_DOMU(ctx);
	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	ZC_CHECK(!zc_agent_grant(ctx, 4, 104, 0, 0, refs, &id), "agent grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, 4, 0), 0);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	m = mmap(NULL, 4 * ZCC_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap rw: %s", strerror(errno));
	zc_fill(m + 10, 4 * ZCC_PAGE - 10, 105);
	ZC_CHECK(!zc_agent_check(ctx, id, 105, 10, 4 * ZCC_PAGE - 10), "dom0's write not seen by the domU");
	munmap(m, 4 * ZCC_PAGE);
	close(pfd);
	return free_and_release(ctx, fd, &fr, id);
}

/*
 * vgem imports our dma-buf and exports it again: the same dma-buf comes
 * back (no copy anywhere), and reading it shows the domU's pages.
 */
ZC_TEST(from_refs_vgem_reexport)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[8], vh;
	int fd, vg, pfd, vfd, id;
	unsigned char *m;

	ZCC_NEED_DOMU(ctx);
	fd = zc_open_render();
	vg = zc_open_vgem();
	ZC_CHECK(fd >= 0 && vg >= 0, "open");
	ZC_CHECK(!zc_agent_grant(ctx, 8, 106, 0, 0, refs, &id), "agent grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, 8, 0), 0);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	vh = zcc_import(vg, pfd);
	ZC_CHECK(vh, "vgem import: %s", strerror(errno));
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	vfd = zcc_prime_fd(vg, vh);
	ZC_CHECK(vfd >= 0, "vgem re-export: %s", strerror(errno));
	ZC_CHECK(zcc_same_file(pfd, vfd), "vgem exported another dma-buf (a copy?)");
	close(pfd);
	ZC_CHECK(zc_counter("buffers") == 1, "buffers %ld", zc_counter("buffers"));
	m = mmap(NULL, 8 * ZCC_PAGE, PROT_READ, MAP_SHARED, vfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap of vgem's export: %s", strerror(errno));
	ZC_CHECK(!zc_verify(m, 8 * ZCC_PAGE, 106), "pattern through vgem wrong");
	munmap(m, 8 * ZCC_PAGE);
	close(vfd);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 100), ETIMEDOUT);
	ZC_EXPECT_ERRNO(zcc_close_handle(vg, vh), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(vg);
	close(fd);
	return zc_counters_idle(2000);
}

/* Importing our own dma-buf gives back the same GEM object. */
ZC_TEST(from_refs_self_import)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zcc_dbuf d;
	struct zc_local *h;
	uint32_t refs[2], h2;
	int fd, fd2, pfd;

	fd = zc_open_render();
	fd2 = zc_open_render();
	ZC_CHECK(fd >= 0 && fd2 >= 0, "open");
	ZC_CHECK(zc_self_grant(2, 107, 0, 0, refs, &h), "self grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, refs, 2, 0), 0);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	ZC_CHECK(zcc_import(fd, pfd) == fr.handle, "self import gave another handle");
	h2 = zcc_import(fd2, pfd);
	ZC_CHECK(h2, "import in a second file: %s", strerror(errno));
	ZC_CHECK(zc_counter("buffers") == 1 && zc_counter("grants_mapped") == 2,
		 "self import created a new buffer (buffers %ld)", zc_counter("buffers"));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", 0, refs, 2) == 1, "no debugfs line of the buffer");
	ZC_CHECK(d.importers == 0 && d.waiters == 0, "self import attached to itself (importers %u)",
		 d.importers);
	close(pfd);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 100), ETIMEDOUT);
	close(fd2);	/* drops h2, the last reference */
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(from_refs_readonly)
{
	struct drm_xen_zcopy_from_refs fr;
	/* 8 grants: whole pages up to 32K pages, so the mmap checks apply */
	uint32_t refs[8];
	struct zcc_dbuf d;
	unsigned char *m;
	int fd, pfd, ifd, id;

	ZCC_NEED_DOMU(ctx);
	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	ZC_CHECK(!zc_agent_grant(ctx, 8, 108, 0, 1, refs, &id), "agent grant ro");
	/* the domU granted read-only: a read-write mapping is refused */
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, 8, 0), EACCES);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "failed map left something behind");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, 8,
				      XEN_ZCOPY_FROM_REFS_READ_ONLY), 0);
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", ctx->domu, refs, 8) == 1 && !strcmp(d.flags, "ro"),
		 "debugfs does not flag the buffer ro (flags %s)", d.flags);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	ZC_CHECK((fcntl(pfd, F_GETFL) & O_ACCMODE) == O_RDONLY, "read-only buffer exported writable");
	/* an importer reads it by DMA; a device that would write is refused */
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, 8, 1, 108) == ZC_PASS,
		 "the importer's view of the read-only buffer");
	ifd = zc_imp_open();
	ZC_CHECK(ifd >= 0, "test importer");
	ZC_EXPECT_ERRNO(zc_imp_attach(ifd, pfd, NULL), 0);
	ZC_EXPECT_ERRNO(zc_imp_map(ifd, ZCI_DMA_FROM_DEVICE, NULL), EACCES);
	close(ifd);
	m = mmap(NULL, 8 * ZCC_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ZC_CHECK(m == MAP_FAILED && errno == EACCES, "writable mmap: %s",
		 m == MAP_FAILED ? strerror(errno) : "allowed");
	m = mmap(NULL, 8 * ZCC_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd, 0);
	ZC_CHECK(m == MAP_FAILED && errno == EACCES, "writable private mmap: %s",
		 m == MAP_FAILED ? strerror(errno) : "allowed");
	m = mmap(NULL, 8 * ZCC_PAGE, PROT_READ, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "read-only mmap: %s", strerror(errno));
	ZC_CHECK(!zc_verify(m, 8 * ZCC_PAGE, 108), "pattern wrong");
	ZC_CHECK(mprotect(m, 8 * ZCC_PAGE, PROT_READ | PROT_WRITE) && errno == EACCES,
		 "mprotect to writable allowed");
	munmap(m, 8 * ZCC_PAGE);
	close(pfd);
	return free_and_release(ctx, fd, &fr, id);
}

/*
 * data_ofs says where the frontend's frame starts in the first grant
 * (displif). The buffer is still the whole grants from byte 0, for an
 * importer and for the CPU: pixel (0, 0) is at byte data_ofs, and the bytes
 * before it are the frontend's own (nothing shifted, nothing clipped).
 * Then the bounds: data_ofs + pitch * height must fit.
 */
ZC_TEST(from_refs_data_offset)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	uint32_t refs[3], want[3];
	unsigned char *g, *m, *expect;
	int fd, pfd;

	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	g = zc_self_grant(3, 109, 0, 0, refs, &h);
	ZC_CHECK(g, "self grant");
	/* the frontend's frame at byte 96; bytes 0..95 still pattern 109 */
	zc_grants_fill(g, 96, 3 * ZCC_PAGE - 96, 114);
	expect = malloc(3 * ZCC_PAGE);
	ZC_CHECK(expect, "oom");
	zc_fill(expect, 3 * ZCC_PAGE, 109);
	zc_fill(expect + 96, 3 * ZCC_PAGE - 96, 114);
	zc_crc_units(expect, 3, want);

	/* 100 x 30 x 32 bpp at offset 96: 96 + 400 * 30 = 12096 <= 12288 */
	memset(&fr, 0, sizeof(fr));
	fr.flags = XEN_ZCOPY_FROM_REFS_DUMB;
	fr.refs = (uintptr_t)refs;
	fr.num_refs = 3;
	fr.data_ofs = 96;
	fr.width = 100;
	fr.height = 30;
	fr.bpp = 32;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), 0);
	ZC_CHECK(fr.pitch == 400 && fr.size == 3 * ZCC_PAGE, "pitch %u size %llu",
		 fr.pitch, (unsigned long long)fr.size);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	ZC_CHECK(zc_importer_check(pfd, 0, refs, 3, 0, want) == ZC_PASS,
		 "the importer does not see the grants from byte 0");
	/* dma-buf mmap maps whole pages inside the buffer: not 3 grants on 16K */
	if (sysconf(_SC_PAGESIZE) <= (long)(3 * ZCC_PAGE)) {
		m = mmap(NULL, 3 * ZCC_PAGE, PROT_READ, MAP_SHARED, pfd, 0);
		ZC_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));
		ZC_CHECK(!memcmp(m, expect, 3 * ZCC_PAGE), "the CPU mapping is not the grants from byte 0");
		ZC_CHECK(!zc_verify(m + 96, 3 * ZCC_PAGE - 96, 114), "pixel (0, 0) is not at data_ofs");
		munmap(m, 3 * ZCC_PAGE);
	}
	close(pfd);
	free(expect);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */

	/* 96 + 400 * 31 = 12496 > 12288: one more line does not fit */
	fr.height = 31;
	fr.data_ofs = 96;
	fr.pitch = fr.handle = 0;
	fr.size = fr.wait_token = 0;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), EINVAL);
	/* the largest offset that still fits 30 lines: 288 + 12000 = 12288 */
	fr.height = 30;
	fr.data_ofs = 288;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), 0);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	fr.data_ofs = 289;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), EINVAL);
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(from_refs_dumb_geometry)
{
	static const struct { uint32_t w, h, bpp, pitch; } g[] = {
		{ 1, 1, 1, 1 }, { 3, 2, 1, 1 }, { 9, 1, 1, 2 }, { 100, 40, 24, 300 },
		{ 1024, 1, 32, 4096 }, { 7, 3, 15, 14 }, { 64, 64, 16, 128 },
	};
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	uint32_t refs[4];
	unsigned int i;
	int fd;

	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	ZC_CHECK(zc_self_grant(4, 110, 0, 0, refs, &h), "self grant");
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		memset(&fr, 0, sizeof(fr));
		fr.flags = XEN_ZCOPY_FROM_REFS_DUMB;
		fr.refs = (uintptr_t)refs;
		fr.num_refs = 4;
		fr.width = g[i].w;
		fr.height = g[i].h;
		fr.bpp = g[i].bpp;
		ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), 0);
		ZC_CHECK(fr.pitch == g[i].pitch && fr.size == 4 * ZCC_PAGE,
			 "%ux%ux%u: pitch %u (want %u) size %llu", g[i].w, g[i].h,
			 g[i].bpp, fr.pitch, g[i].pitch, (unsigned long long)fr.size);
		ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	}
	/* exactly the buffer: 1024 x 4 x 32 bpp = 16384; one line more fails */
	fr.width = 1024;
	fr.height = 4;
	fr.bpp = 32;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), 0);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	fr.height = 5;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), EINVAL);
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

/* One bad ref among good ones: nothing stays mapped, precise errnos. */
ZC_TEST(from_refs_partial_failure_unwinds)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	uint32_t refs[6], bad[6];
	int fd;

	fd = zc_open_render();
	ZC_CHECK(fd >= 0, "open");
	ZC_CHECK(zc_self_grant(6, 111, 0, 0, refs, &h), "self grant");
	memcpy(bad, refs, sizeof(bad));
	bad[3] = 0x7ffffff;	/* beyond any grant table */
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, bad, 6, 0), EINVAL);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "a failed map left grants mapped");
	bad[3] = refs[3];
	bad[0] = 0x7ffffff;
	bad[5] = 0x7fffffe;
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, bad, 6, 0), EINVAL);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "a failed map left grants mapped");
	/* a domain that does not exist */
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0x7000, refs, 6, 0), ESRCH);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "a failed map left grants mapped");
	/* and the good refs still map afterwards */
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, refs, 6, 0), 0);
	ZC_CHECK(zc_counter("grants_mapped") == 6, "grants_mapped %ld", zc_counter("grants_mapped"));
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 2000), ENOENT);	/* freed already */
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}
