// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Buffers counted in 4 KiB grants whatever the kernel page size (issue #5):
 * N = 1, 3, 5 grants and a 1080p XRGB8888 frame (2025 grants), in both
 * directions, data checked both ways across domains.
 *
 * On a 16K kernel a FROM_REFS buffer of N grants uses DIV_ROUND_UP(N, 4)
 * pages; its GEM and dma-buf size is that many whole pages (DRM importers
 * require it), and the 4 KiB slots past the last grant map the last grant
 * again: the whole dma-buf can be mapped, and the tail shows (and is) the
 * guest's last page. TO_REFS of a
 * buffer returns every 4 KiB frame in order: a vgem dumb buffer is
 * page-rounded, so on 16K it has a multiple of 4.
 */
#include <stdlib.h>

#include "cases.h"

#define P_1080P_W 1920u
#define P_1080P_H 1080u

static size_t pg(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* domU grants n pages; dom0 maps them with FROM_REFS; both sides check. */
static int from_refs_n(struct zc_ctx *ctx, unsigned int n, uint32_t seed)
{
	struct drm_xen_zcopy_from_refs fr;
	size_t size = (size_t)n * ZCC_PAGE, page = pg();
	size_t rounded = (size + page - 1) / page * page, t;
	uint32_t *refs = calloc(n, sizeof(*refs)), vh;
	uint32_t cur = seed;	/* the pattern the domU's pages hold */
	unsigned char *m;
	int fd, vg, pfd, id;

	ZCC_NEED_DOMU(ctx);
	ZC_CHECK(refs, "out of memory");
	fd = zc_open_render();
	vg = zc_open_vgem();
	ZC_CHECK(fd >= 0 && vg >= 0, "open zcopy %d vgem %d", fd, vg);
	ZC_CHECK(!zc_agent_grant(ctx, n, seed, 0, 0, refs, &id), "agent grant %u", n);

	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, ctx->domu, refs, n, 0), 0);
	ZC_CHECK(fr.size == size, "size %llu, want %zu", (unsigned long long)fr.size, size);
	ZC_CHECK(zc_counter("grants_mapped") == n, "grants_mapped %ld, want %u",
		 zc_counter("grants_mapped"), n);
	ZC_CHECK(zc_counter("pages_held") == (long)(rounded / page), "pages_held %ld, want %zu",
		 zc_counter("pages_held"), rounded / page);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME_HANDLE_TO_FD: %s", strerror(errno));
	/* whole kernel pages: DRM's DMA helpers BUG() on anything else */
	ZC_CHECK(lseek(pfd, 0, SEEK_END) == (off_t)rounded, "dma-buf size %lld, want %zu",
		 (long long)lseek(pfd, 0, SEEK_END), rounded);

	/* an importer attaches and maps it (vgem's DMA device) */
	vh = zcc_import(vg, pfd);
	ZC_CHECK(vh, "vgem PRIME_FD_TO_HANDLE: %s", strerror(errno));

	/* the whole dma-buf maps: every grant, and the tail behind them */
	m = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ZC_CHECK(m != MAP_FAILED, "mmap %zu bytes: %s", rounded, strerror(errno));
	ZC_CHECK(!zc_verify(m, size, seed), "dom0 sees wrong domU data at %zu",
		 zc_verify(m, size, seed));
	/* the tail shows the last grant again */
	for (t = size; t < rounded; t += ZCC_PAGE)
		ZC_CHECK(!memcmp(m + t, m + size - ZCC_PAGE, ZCC_PAGE),
			 "tail slot at %zu is not the last grant", t);
	zc_fill(m, size, seed + 1);
	ZC_CHECK(!zc_agent_check(ctx, id, seed + 1, 0, size),
		 "the domU does not see dom0's write");
	/* and the domU's rewrite is seen at once: same frames, no copy */
	ZC_CHECK(!zc_agent_fill(ctx, id, seed + 2), "agent fill");
	ZC_CHECK(!zc_verify(m, size, seed + 2), "dom0 does not see the domU's rewrite at %zu",
		 zc_verify(m, size, seed + 2));
	/* same frame: the tail follows the guest's last page */
	for (t = size; t < rounded; t += ZCC_PAGE)
		ZC_CHECK(!memcmp(m + t, m + size - ZCC_PAGE, ZCC_PAGE),
			 "tail slot at %zu does not follow the last grant", t);
	cur = seed + 2;
	munmap(m, rounded);
	/* what a DMA importer sees: its sg pages, vmap, the whole dma-buf */
	ZC_CHECK(zc_importer_check_seed(pfd, ctx->domu, refs, n, 0, cur) == ZC_PASS,
		 "the importer's view (see above)");

	ZC_EXPECT_ERRNO(zcc_close_handle(vg, vh), 0);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	close(pfd);
	/* the last reference went: WAIT_FREE sees it freed (or already gone) */
	t = (size_t)zcc_wait(fd, fr.wait_token, 2000);
	ZC_CHECK(t == 0 || t == ENOENT, "WAIT_FREE after the last close: %s",
		 zc_errname((int)t));
	ZC_CHECK(!zc_agent_check(ctx, id, cur, 0, size),
		 "the domU's pages changed after the unmap");
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	close(vg);
	close(fd);
	free(refs);
	return zc_counters_idle(2000);
}

/*
 * dom0 grants a vgem buffer of width x height at 32 bpp (imported into our
 * device) with TO_REFS; the domU maps every frame; both sides check.
 */
static int to_refs_wh(struct zc_ctx *ctx, unsigned int width, unsigned int height,
		      uint32_t seed)
{
	struct drm_mode_create_dumb cd = { .width = width, .height = height, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_xen_zcopy_to_refs r;
	size_t want = (size_t)width * 4 * height, page = pg();
	uint32_t *refs = NULL, handle = 0;
	unsigned char *m = MAP_FAILED;
	unsigned int n, i;
	int vg, fd, pfd = -1, id = -1, rc = ZC_FAIL;

	ZCC_NEED_DOMU(ctx);
	vg = zcc_open_vgem_card();
	fd = zc_open_render();
	ZC_CHECK(vg >= 0 && fd >= 0, "open vgem %d zcopy %d", vg, fd);
	ZC_EXPECT_ERRNO(zc_ioctl(vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd), 0);
	ZC_CHECK(cd.size == (want + page - 1) / page * page, "vgem size %llu for %zu bytes",
		 (unsigned long long)cd.size, want);
	md.handle = cd.handle;
	ZC_EXPECT_ERRNO(zc_ioctl(vg, DRM_IOCTL_MODE_MAP_DUMB, &md), 0);
	m = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, vg, md.offset);
	ZC_CHECK(m != MAP_FAILED, "vgem mmap: %s", strerror(errno));
	zc_fill(m, cd.size, seed);
	pfd = zcc_prime_fd(vg, cd.handle);
	ZC_CHECK(pfd >= 0, "vgem export: %s", strerror(errno));
	handle = zcc_import(fd, pfd);
	ZC_CHECK(handle, "import into xen_drm_zcopy: %s", strerror(errno));

	n = (unsigned int)(cd.size / ZCC_PAGE);
	refs = calloc(n, sizeof(*refs));
	ZC_CHECK(refs, "out of memory");
	memset(&r, 0, sizeof(r));
	r.domid = (uint32_t)ctx->domu;
	r.refs = (uintptr_t)refs;
	r.num_refs = n;
	r.handle = handle;
	ZC_EXPECT_ERRNO(zc_ioctl(fd, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), 0);
	ZC_CHECK(r.size == cd.size, "TO_REFS size %llu, want %llu",
		 (unsigned long long)r.size, (unsigned long long)cd.size);
	for (i = 0; i < n; i++)
		ZC_CHECK(refs[i] && (!i || refs[i] != refs[i - 1]), "ref %u is %u", i, refs[i]);
	ZC_CHECK(zc_counter("grants_issued") == n, "grants_issued %ld, want %u",
		 zc_counter("grants_issued"), n);

	/* every 4 KiB frame in order: the domU sees the whole pattern */
	ZC_CHECK(!zc_agent_map(ctx, 0, refs, n, 0, &id), "the domU cannot map %u refs", n);
	ZC_CHECK(!zc_agent_map_check(ctx, id, seed), "the domU sees wrong data");
	ZC_CHECK(!zc_agent_map_write(ctx, id, seed + 1), "agent write");
	ZC_CHECK(!zc_verify(m, cd.size, seed + 1), "dom0 does not see the domU's write at %zu",
		 zc_verify(m, cd.size, seed + 1));
	zc_fill(m, cd.size, seed + 2);
	ZC_CHECK(!zc_agent_map_check(ctx, id, seed + 2), "the domU does not see dom0's rewrite");
	ZC_CHECK(!zc_agent_release(ctx, id), "agent unmap");
	id = -1;
	rc = ZC_PASS;
	free(refs);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, handle), 0);
	close(pfd);
	munmap(m, cd.size);
	ZC_EXPECT_ERRNO(zcc_close_handle(vg, cd.handle), 0);
	close(fd);
	close(vg);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}

ZC_TEST(pages_from_refs_1)
{
	return from_refs_n(ctx, 1, 701);
}

ZC_TEST(pages_from_refs_3)
{
	return from_refs_n(ctx, 3, 711);
}

ZC_TEST(pages_from_refs_5)
{
	return from_refs_n(ctx, 5, 721);
}

ZC_TEST(pages_from_refs_1080p)
{
	return from_refs_n(ctx, P_1080P_W * 4 * P_1080P_H / ZCC_PAGE, 731);
}

ZC_TEST(pages_to_refs_1)
{
	return to_refs_wh(ctx, 1024, 1, 741);
}

ZC_TEST(pages_to_refs_3)
{
	return to_refs_wh(ctx, 1024, 3, 751);
}

ZC_TEST(pages_to_refs_5)
{
	return to_refs_wh(ctx, 1024, 5, 761);
}

ZC_TEST(pages_to_refs_1080p)
{
	return to_refs_wh(ctx, P_1080P_W, P_1080P_H, 771);
}
