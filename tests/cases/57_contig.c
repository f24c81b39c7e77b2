// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TO_REFS of an exporter that hands out one large segment (issue #9, items
 * 4 and 12): the test exporter zc_contig (tests/kmod/) exports a block
 * of contiguous pages as a single sg segment. In a PV domain it picks a
 * block whose machine frames are not contiguous, which swiotlb-xen would
 * bounce: TO_REFS must grant the block's own frames anyway (our device's
 * DMA ops never bounce), and a bounce must not leave TO_REFS failing for
 * every later buffer either.
 */
#include <stdlib.h>

#include "cases.h"
#include "../kmod/zc_contig.h"

#define CONTIG_PAGES 16
#define CONTIG_PAGES_BIG 512

static int is_pv(void)
{
	char t[16] = "";
	FILE *f = fopen("/sys/hypervisor/guest_type", "r");

	if (f) {
		if (!fgets(t, sizeof(t), f))
			t[0] = 0;
		fclose(f);
	}
	return !strncmp(t, "PV", 2);
}

ZC_TEST(to_refs_contiguous_segment)
{
	struct zc_contig_create c = { .pages = CONTIG_PAGES };
	struct drm_xen_zcopy_to_refs t = { 0 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size = 0;
	unsigned int n;
	uint32_t *refs = NULL, imp = 0, refs2[4], imp2 = 0;
	struct drm_mode_create_dumb cd = { .width = 1024, .height = 4, .bpp = 32 };
	int dev = -1, zc = zc_open_render(), vgem = zcc_open_vgem_card();
	int vfd = -1, id = 0, id2 = 0, rc = ZC_PASS;
	unsigned char *m = MAP_FAILED;

	ZCC_NEED_DOMU(ctx);
	CK(zc >= 0 && vgem >= 0, "open: %s", zc_errname(errno));
	CK(!system("modprobe zc_contig"), "modprobe zc_contig (tests/kmod)");
	dev = open("/dev/zc_contig", O_RDWR | O_CLOEXEC);
	CK(dev >= 0, "open /dev/zc_contig: %s", zc_errname(errno));
	/*
	 * In PV, a block swiotlb-xen would bounce, if this dom0 has one: Xen
	 * gives a PV dom0 its memory in large machine-contiguous chunks, so
	 * a small block rarely crosses a chunk boundary; a 2 MiB one may.
	 */
	if (is_pv()) {
		c.flags = ZC_CONTIG_MACHINE_DISCONTIG;
		if (ioctl(dev, ZC_CONTIG_CREATE, &c) && errno == EAGAIN) {
			c.pages = CONTIG_PAGES_BIG;
			if (ioctl(dev, ZC_CONTIG_CREATE, &c) && errno == EAGAIN) {
				zc_diag("no machine-discontiguous block in this dom0: a contiguous one");
				c.pages = CONTIG_PAGES;
				c.flags = 0;
			}
		}
	}
	if (!c.fd)
		CK(!ioctl(dev, ZC_CONTIG_CREATE, &c), "ZC_CONTIG_CREATE %u pages: %s", c.pages,
		   zc_errname(errno));
	size = c.pages * page;
	n = (unsigned int)(size / ZCC_PAGE);
	refs = calloc(n, sizeof(*refs));
	CK(refs, "out of memory");
	zc_diag("a %zu-byte segment, machine frames %scontiguous", size,
		c.machine_discontig ? "not " : "");
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
	CK(m != MAP_FAILED, "mmap the exporter's buffer: %s", zc_errname(errno));
	zc_fill(m, size, 651);
	imp = zcc_import(zc, c.fd);
	CK(imp, "import: %s", zc_errname(errno));
	t.domid = (uint32_t)ctx->domu;
	t.refs = (uintptr_t)refs;
	t.num_refs = n;
	t.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS of one %zu-byte segment: %s",
	   size, zc_errname(errno));
	CK(!(t.flags & XEN_ZCOPY_TO_REFS_READ_ONLY), "granted read-only");
	/* the domU sees the exporter's pages, both ways: no bounce slot */
	CK(!zc_agent_map(ctx, 0, refs, n, 0, &id), "domU map %u refs", n);
	CK(!zc_agent_map_check(ctx, id, 651), "the domU sees other memory than the buffer");
	CK(!zc_agent_map_write(ctx, id, 652), "domU write");
	CK(!zc_verify(m, size, 652), "the domU's write is not in the buffer at %zu",
	   zc_verify(m, size, 652));

	/* and an ordinary buffer can still be granted after it */
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb");
	CK(!drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC | DRM_RDWR, &vfd), "vgem export");
	imp2 = zcc_import(zc, vfd);
	CK(imp2, "import: %s", zc_errname(errno));
	memset(&t, 0, sizeof(t));
	t.domid = (uint32_t)ctx->domu;
	t.refs = (uintptr_t)refs2;
	t.num_refs = 4;
	t.handle = imp2;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS of a vgem buffer after it: %s",
	   zc_errname(errno));
	CK(!zc_agent_map(ctx, 0, refs2, 4, 0, &id2), "domU map of the vgem buffer");
out:
	if (id)
		zc_agent_release(ctx, id);
	if (id2)
		zc_agent_release(ctx, id2);
	if (imp)
		zcc_close_handle(zc, imp);
	if (imp2)
		zcc_close_handle(zc, imp2);
	if (m != MAP_FAILED)
		munmap(m, size);
	if (c.fd > 0)
		close(c.fd);
	if (vfd >= 0)
		close(vfd);
	if (cd.handle)
		zcc_close_handle(vgem, cd.handle);
	if (dev >= 0)
		close(dev);
	if (vgem >= 0)
		close(vgem);
	if (zc >= 0)
		close(zc);
	free(refs);
	return rc == ZC_PASS ? zc_counters_idle(8000) : rc;
}

/*
 * A buffer that does not start on a 4 KiB frame is refused by TO_REFS, new
 * and legacy: granting the whole frame would share the bytes before it.
 */
ZC_TEST(to_refs_unaligned_refused)
{
	struct zc_contig_create c = { .pages = 2, .flags = ZC_CONTIG_OFFSET_512 };
	struct drm_xen_zcopy_to_refs t = { 0 };
	struct drm_xen_zcopy_dumb_to_refs lt = { 0 };
	size_t size = 2 * (size_t)sysconf(_SC_PAGESIZE);
	unsigned int n = (unsigned int)(size / ZCC_PAGE);
	uint32_t *refs = calloc(n + 1, sizeof(*refs)), imp = 0;
	int dev = -1, zc = zc_open_render(), rc = ZC_PASS;

	CK(refs && zc >= 0, "open: %s", zc_errname(errno));
	CK(!system("modprobe zc_contig"), "modprobe zc_contig (tests/kmod)");
	dev = open("/dev/zc_contig", O_RDWR | O_CLOEXEC);
	CK(dev >= 0, "open /dev/zc_contig: %s", zc_errname(errno));
	CK(!ioctl(dev, ZC_CONTIG_CREATE, &c), "ZC_CONTIG_CREATE: %s", zc_errname(errno));
	imp = zcc_import(zc, c.fd);
	CK(imp, "import: %s", zc_errname(errno));
	t.refs = (uintptr_t)refs;
	t.handle = imp;
	for (t.num_refs = n; t.num_refs <= n + 1; t.num_refs++) {
		int r = zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t);

		CK(r == EINVAL, "TO_REFS (%u refs) of a buffer at offset 512: %s, want EINVAL",
		   t.num_refs, zc_errname(r));
	}
	lt.num_grefs = n;
	lt.grefs_ptr = (uintptr_t)refs;
	lt.handle = imp;
	{
		int r = zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &lt);

		CK(r == EINVAL, "DUMB_TO_REFS of a buffer at offset 512: %s, want EINVAL",
		   zc_errname(r));
	}
	CK(zc_counter("grants_issued") == 0, "grants_issued %ld after refusals",
	   zc_counter("grants_issued"));
out:
	if (imp)
		zcc_close_handle(zc, imp);
	if (c.fd > 0)
		close(c.fd);
	if (dev >= 0)
		close(dev);
	if (zc >= 0)
		close(zc);
	free(refs);
	return rc == ZC_PASS ? zc_counters_idle(2000) : rc;
}
