// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * XSA-396 at module unload: an import whose pages the domU still maps is
 * deferred; unloading the driver then must not hand those pages back to
 * their exporter. The driver leaks that import with exactly one warning
 * line and unloads cleanly; the domU keeps a valid mapping although nothing
 * in dom0 but the leaked import holds the vgem buffer any more (dom0 runs
 * with init_on_free=1: pages handed back would read as zeros); the driver
 * loads again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <xen_zcopy_drm.h>

#include "cases.h"

#define LEAK_LINE "xen_drm_zcopy: 1 imported buffer(s) still mapped by another domain at unload: leaked"

ZC_TEST(to_refs_unload_while_mapped)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = 4, .bpp = 32 };
	struct drm_xen_zcopy_to_refs t = { 0 };
	struct drm_xen_zcopy_query q;
	struct drm_mode_map_dumb md = { 0 };
	struct drm_gem_close cl = { 0 };
	unsigned char *vmap = MAP_FAILED;
	uint32_t refs[4], imp = 0;
	int vgem = -1, zc = -1, vfd = -1, kfd = -1, id = 0, rc = ZC_PASS, reloaded = 0, n;

	if (ctx->domu < 0) {
		zc_diag("needs the test domU (--domu ID)");
		return ZC_SKIP;
	}
	vgem = drmOpen("vgem", NULL);
	zc = zc_open_render();
	CK(vgem >= 0 && zc >= 0, "open");
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb");
	md.handle = cd.handle;
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md), "map dumb");
	vmap = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
	CK(vmap != MAP_FAILED, "vgem mmap");
	zc_fill(vmap, cd.size, 561);
	CK(!drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC | DRM_RDWR, &vfd), "vgem export");
	CK(!drmPrimeFDToHandle(zc, vfd, &imp), "import: %s", zc_errname(errno));
	t.domid = (uint32_t)ctx->domu;
	t.refs = (uintptr_t)refs;
	t.num_refs = 4;
	t.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS: %s", zc_errname(errno));
	CK(!zc_agent_map(ctx, 0, refs, 4, 0, &id), "domU map");

	/*
	 * dom0 user space lets go of everything, vgem's handle, mapping and
	 * dma-buf included: only the deferred import holds the vgem buffer
	 */
	munmap(vmap, cd.size);
	vmap = MAP_FAILED;
	close(vfd);
	vfd = -1;
	cl.handle = cd.handle;
	CK(!zc_ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &cl), "vgem GEM_CLOSE");
	cd.handle = 0;
	close(vgem);
	vgem = -1;
	cl.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_GEM_CLOSE, &cl), "GEM_CLOSE of the import");
	imp = 0;
	close(zc);
	zc = -1;
	CK(zc_counter("deferred") == 1 && zc_counter("grants_issued") == 4,
	   "deferred %ld grants_issued %ld, want 1 and 4", zc_counter("deferred"),
	   zc_counter("grants_issued"));
	CK(!zc_agent_map_check(ctx, id, 561), "domU data lost while deferred");

	/* unload: the import is leaked, not handed back, with one line */
	kfd = zc_kmsg_open();
	CK(kfd >= 0, "kmsg");
	CK(!zc_expect_log(LEAK_LINE), "declare the expected warning");
	CK(!system("rmmod xen_drm_zcopy"), "rmmod with a deferred import failed");
	reloaded = -1;
	n = zc_kmsg_count(kfd, LEAK_LINE);
	CK(n == 1, "%d lines '%s', want 1", n, LEAK_LINE);
	/* the domU's mapping still shows the vgem buffer and takes writes */
	CK(!zc_agent_map_check(ctx, id, 561), "domU data after unload");
	CK(!zc_agent_map_write(ctx, id, 562), "domU write after unload");
	CK(!zc_agent_map_check(ctx, id, 562), "domU's write lost after unload");
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
	/* the driver loads again, a new instance that works */
	CK(!system("modprobe xen_drm_zcopy"), "reload failed");
	reloaded = 1;
	zc = zc_open_render();
	CK(zc >= 0, "render node after reload");
	CK(!zcc_query(zc, &q), "QUERY after reload: %s", zc_errname(errno));
out:
	if (kfd >= 0)
		close(kfd);
	if (id)
		zc_agent_release(ctx, id);
	if (reloaded < 0 && system("modprobe xen_drm_zcopy"))
		zc_diag("reload failed");
	if (zc >= 0) {
		if (imp) {
			cl.handle = imp;
			zc_ioctl(zc, DRM_IOCTL_GEM_CLOSE, &cl);
		}
		close(zc);
	}
	if (vfd >= 0)
		close(vfd);
	if (vmap != MAP_FAILED)
		munmap(vmap, cd.size);
	if (vgem >= 0) {
		cl.handle = cd.handle;
		if (cd.handle)
			zc_ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &cl);
		close(vgem);
	}
	/*
	 * No idle check of the counters here: they belong to the new
	 * instance. The harness compares Xen's own view of the grants after
	 * every case: the domU no longer maps the leaked import's grants.
	 */
	return rc;
}
