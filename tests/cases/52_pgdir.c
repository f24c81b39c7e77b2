// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * displif page directories (struct xendispl_page_directory: the ref of the
 * next directory page, then 1023 refs; 0 ends the chain), both ways:
 * - out: TO_REFS with XEN_ZCOPY_TO_REFS_PGDIR builds one, granted read-only;
 *   FROM_REFS with XEN_ZCOPY_FROM_REFS_PGDIR on dom0's own grants reads it
 *   back, and the data matches;
 * - in: the domU grants directory pages, dom0 writes the chain through a
 *   gntdev mapping of them, FROM_REFS walks it; a chain that ends early or
 *   loops is refused.
 * Buffers are over 1023 pages, so directories have more than one page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <xen_zcopy_drm.h>

#include "cases.h"

#define PER_DIR XEN_ZCOPY_PGDIR_REFS_PER_PAGE

static void gem_close(int fd, uint32_t *handle)
{
	struct drm_gem_close cl = { .handle = *handle };

	if (*handle)
		zc_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
	*handle = 0;
}

/*
 * The end of a TO_REFS case: drop the import and the vgem buffer, close both
 * devices; then, if nothing failed, every counter must drop back to idle.
 */
static int vgem_import_finish(int vgem, uint32_t *vhandle, int vfd, int zc,
			      uint32_t *imp, int rc)
{
	if (zc >= 0)
		gem_close(zc, imp);
	if (vfd >= 0)
		close(vfd);
	if (vgem >= 0)
		gem_close(vgem, vhandle);
	if (zc >= 0)
		close(zc);
	if (vgem >= 0)
		close(vgem);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}

/* FROM_REFS with a directory, exported and mmap()ed read-only. */
static int from_pgdir(int zc, int domid, uint32_t gref_dir, uint32_t n,
		      uint32_t *handle, int *fd, unsigned char **map, int *err)
{
	struct drm_xen_zcopy_from_refs f = { 0 };

	*err = 0;
	f.flags = XEN_ZCOPY_FROM_REFS_PGDIR | XEN_ZCOPY_FROM_REFS_READ_ONLY;
	f.domid = (uint32_t)domid;
	f.num_refs = n;
	f.gref_dir = gref_dir;
	if (zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &f)) {
		*err = errno;
		return -1;
	}
	*handle = f.handle;
	if (!map)
		return 0;
	if (drmPrimeHandleToFD(zc, f.handle, DRM_CLOEXEC, fd)) {
		*err = errno;
		return -1;
	}
	*map = mmap(NULL, (size_t)n * ZCC_PAGE, PROT_READ, MAP_SHARED, *fd, 0);
	if (*map == MAP_FAILED) {
		*err = errno;
		*map = NULL;
		return -1;
	}
	return 0;
}

/* TO_REFS builds a directory; reading it back gives the same pages. */
ZC_TEST(pgdir_out_self)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = 1100, .bpp = 32 };
	struct drm_xen_zcopy_to_refs t = { 0 };
	struct drm_mode_map_dumb md = { 0 };
	unsigned char *vmap = MAP_FAILED, *fmap = NULL;
	uint32_t *refs = NULL, imp = 0, fh = 0;
	int vgem, zc, vfd = -1, ffd = -1, err, rc = ZC_PASS;
	size_t size = 0;
	unsigned int n = 1100;

	vgem = zcc_open_vgem_card();
	zc = zc_open_render();
	CK(vgem >= 0 && zc >= 0, "open: %s", zc_errname(errno));
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb: %s",
	   zc_errname(errno));
	size = cd.size;
	CK(size == (size_t)n * ZCC_PAGE, "size %zu", size);
	md.handle = cd.handle;
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md), "map dumb");
	vmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
	CK(vmap != MAP_FAILED, "vgem mmap: %s", zc_errname(errno));
	zc_fill(vmap, size, 701);
	CK(!drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC | DRM_RDWR, &vfd), "vgem export");
	CK(!drmPrimeFDToHandle(zc, vfd, &imp), "import: %s", zc_errname(errno));
	refs = calloc(n, sizeof(*refs));
	CK(refs, "oom");

	t.flags = XEN_ZCOPY_TO_REFS_PGDIR;
	t.domid = 0;
	t.refs = (uintptr_t)refs;
	t.num_refs = n;
	t.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS PGDIR: %s",
	   zc_errname(errno));
	CK(t.gref_dir != 0, "no gref_dir");
	/* n data refs + 2 directory pages */
	CK(zc_counter("grants_issued") == n + 2, "grants_issued %ld, want %u",
	   zc_counter("grants_issued"), n + 2);

	CK(!from_pgdir(zc, 0, t.gref_dir, n, &fh, &ffd, &fmap, &err),
	   "FROM_REFS of our own directory: %s", zc_errname(err));
	CK(!zc_verify(fmap, size, 701), "directory names the wrong pages: at %zu",
	   zc_verify(fmap, size, 701));
	/* the data flows: the buffer is the vgem buffer */
	zc_fill(vmap, size, 702);
	CK(!zc_verify(fmap, size, 702), "rewrite not seen");
out:
	if (fmap)
		munmap(fmap, size);
	if (ffd >= 0)
		close(ffd);
	if (zc >= 0)
		gem_close(zc, &fh);
	if (vmap != MAP_FAILED)
		munmap(vmap, size);
	free(refs);
	return vgem_import_finish(vgem, &cd.handle, vfd, zc, &imp, rc);
}

/* The directory given to the domU is read-only to it. */
ZC_TEST(pgdir_out_domu_readonly)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = 8, .bpp = 32 };
	struct drm_xen_zcopy_to_refs t = { 0 };
	uint32_t imp = 0;
	int vgem, zc, vfd = -1, id = 0, rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	vgem = zcc_open_vgem_card();
	zc = zc_open_render();
	CK(vgem >= 0 && zc >= 0, "open: %s", zc_errname(errno));
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb");
	CK(!drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC | DRM_RDWR, &vfd), "vgem export");
	CK(!drmPrimeFDToHandle(zc, vfd, &imp), "import: %s", zc_errname(errno));
	t.flags = XEN_ZCOPY_TO_REFS_PGDIR;	/* refs only through the directory */
	t.domid = (uint32_t)ctx->domu;
	t.num_refs = 8;
	t.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS PGDIR without refs: %s",
	   zc_errname(errno));
	CK(t.gref_dir && zc_counter("grants_issued") == 9, "gref_dir %u grants_issued %ld",
	   t.gref_dir, zc_counter("grants_issued"));
	CK(zc_agent_map(ctx, 0, &t.gref_dir, 1, 0, &id), "domU mapped the directory writable");
	id = 0;
	CK(!zc_agent_map(ctx, 0, &t.gref_dir, 1, 1, &id), "domU cannot map the directory");
	CK(zc_agent_try_write(ctx, id) == 1, "domU could write the directory");
	/*
	 * Freed while the domU maps the directory: the data grants end, the
	 * directory's stays and the import is deferred.
	 */
	gem_close(zc, &imp);
	CK(zc_counter("deferred") == 1 && zc_counter("grants_issued") == 1,
	   "deferred %ld grants_issued %ld, want 1 and 1", zc_counter("deferred"),
	   zc_counter("grants_issued"));
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
	CK(zc_counters_idle(8000) == ZC_PASS, "not released after the domU unmapped");
out:
	if (id)
		zc_agent_release(ctx, id);
	return vgem_import_finish(vgem, &cd.handle, vfd, zc, &imp, rc);
}

/*
 * A directory in the domU's memory: 2 pages for 1100 refs. gntalloc allows
 * 1024 pages per domU file, so the 1100 refs name 100 data pages over and
 * over (a grant may be mapped more than once).
 */
ZC_TEST(pgdir_in_domu)
{
	enum { NDATA = 100, N = 1100, NDIR = 2 };
	uint32_t data_refs[NDATA], dir_refs[NDIR], fh = 0;
	struct zc_local *dirmap = NULL;
	unsigned char *expect = NULL, *fmap = NULL;
	uint32_t *dir;
	int zc, data_id = 0, dir_id = 0, ffd = -1, err, rc = ZC_PASS;
	unsigned int i;

	ZCC_NEED_DOMU(ctx);
	zc = zc_open_render();
	CK(zc >= 0, "open: %s", zc_errname(errno));
	CK(!zc_agent_grant(ctx, NDATA, 711, 0, 1, data_refs, &data_id), "domU data grant");
	CK(!zc_agent_grant(ctx, NDIR, 0, 0, 0, dir_refs, &dir_id), "domU dir grant");
	dir = zc_self_map(ctx->domu, dir_refs, NDIR, 0, &dirmap);
	CK(dir, "dom0 cannot map the directory pages");

	/* write the chain into the domU's pages */
	for (i = 0; i < N; i++)
		dir[(i / PER_DIR) * (zc_grant_stride() / 4) + 1 + i % PER_DIR] = data_refs[i % NDATA];
	dir[0] = dir_refs[1];
	dir[zc_grant_stride() / 4] = 0;

	expect = malloc((size_t)NDATA * ZCC_PAGE);
	CK(expect, "oom");
	zc_fill(expect, (size_t)NDATA * ZCC_PAGE, 711);

	CK(!from_pgdir(zc, ctx->domu, dir_refs[0], N, &fh, &ffd, &fmap, &err),
	   "FROM_REFS with the domU's directory: %s", zc_errname(err));
	for (i = 0; i < N; i++)
		CK(!memcmp(fmap + (size_t)i * ZCC_PAGE, expect + (size_t)(i % NDATA) * ZCC_PAGE, ZCC_PAGE),
		   "page %u is not data page %u", i, i % NDATA);
	munmap(fmap, (size_t)N * ZCC_PAGE);
	fmap = NULL;
	close(ffd);
	ffd = -1;
	gem_close(zc, &fh);

	/* one page of refs is enough for <= 1023 refs, whatever next says */
	CK(!from_pgdir(zc, ctx->domu, dir_refs[1], 5, &fh, NULL, NULL, &err),
	   "one-page directory: %s", zc_errname(err));
	gem_close(zc, &fh);

	/* ends early */
	dir[0] = 0;
	CK(from_pgdir(zc, ctx->domu, dir_refs[0], N, &fh, NULL, NULL, &err) && err == EINVAL,
	   "short directory: %s", zc_errname(err));
	/* loops */
	dir[0] = dir_refs[0];
	CK(from_pgdir(zc, ctx->domu, dir_refs[0], N, &fh, NULL, NULL, &err) && err == EINVAL,
	   "looping directory: %s", zc_errname(err));
	dir[0] = dir_refs[1];
	dir[zc_grant_stride() / 4] = dir_refs[0];
	CK(from_pgdir(zc, ctx->domu, dir_refs[0], 3 * PER_DIR, &fh, NULL, NULL, &err) &&
	   err == EINVAL, "two-page loop: %s", zc_errname(err));
	/* a directory ref the domU never granted */
	CK(from_pgdir(zc, ctx->domu, 4000, N, &fh, NULL, NULL, &err), "bad gref_dir accepted");
	CK(zc_counter("grants_mapped") == 0, "grants_mapped %ld after failures",
	   zc_counter("grants_mapped"));
out:
	if (fmap)
		munmap(fmap, (size_t)N * ZCC_PAGE);
	if (ffd >= 0)
		close(ffd);
	if (zc >= 0) {
		gem_close(zc, &fh);
		close(zc);
	}
	if (dirmap)
		zc_local_free(dirmap);
	free(expect);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	if (dir_id)
		zc_agent_release(ctx, dir_id);
	if (data_id)
		zc_agent_release(ctx, data_id);
	return rc;
}
