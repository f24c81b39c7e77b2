// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * TO_REFS: grant the pages of an imported PRIME buffer (a vgem dumb buffer)
 * to the test domU, which maps them with gntdev; data checked both ways,
 * read-only grants, page directories, every bad input, and the XSA-396
 * release: a buffer freed while the domU still maps it is kept (counter
 * "deferred") until the domU unmaps.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <xen_zcopy_drm.h>

#include "cases.h"


/* A vgem dumb buffer, imported into our device. */
struct vbuf {
	int vgem, zc;		/* device fds (not owned) */
	uint32_t vhandle;	/* vgem handle */
	int fd;			/* its dma-buf */
	uint32_t handle;	/* handle on our device */
	uint64_t size;
	unsigned char *map;	/* vgem mmap of the whole buffer */
};

static void vbuf_free(struct vbuf *b)
{
	struct drm_gem_close cl = { 0 };

	if (b->map && b->map != MAP_FAILED)
		munmap(b->map, b->size);
	b->map = NULL;
	if (b->handle) {
		cl.handle = b->handle;
		zc_ioctl(b->zc, DRM_IOCTL_GEM_CLOSE, &cl);
		b->handle = 0;
	}
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->vhandle) {
		cl.handle = b->vhandle;
		zc_ioctl(b->vgem, DRM_IOCTL_GEM_CLOSE, &cl);
		b->vhandle = 0;
	}
}

/* width x height at 32 bpp: size = width * 4 * height */
static int vbuf_new(struct vbuf *b, int vgem, int zc, unsigned int width,
		    unsigned int height)
{
	struct drm_mode_create_dumb cd = { .width = width, .height = height, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };

	memset(b, 0, sizeof(*b));
	b->vgem = vgem;
	b->zc = zc;
	b->fd = -1;
	if (zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd)) {
		zc_diag("vgem CREATE_DUMB: %s", zc_errname(errno));
		return -1;
	}
	b->vhandle = cd.handle;
	b->size = cd.size;
	if (drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC | DRM_RDWR, &b->fd)) {
		zc_diag("vgem PRIME_HANDLE_TO_FD: %s", zc_errname(errno));
		goto err;
	}
	if (drmPrimeFDToHandle(zc, b->fd, &b->handle)) {
		zc_diag("PRIME_FD_TO_HANDLE on xen_drm_zcopy: %s", zc_errname(errno));
		b->handle = 0;
		goto err;
	}
	md.handle = cd.handle;
	if (zc_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
		zc_diag("vgem MAP_DUMB: %s", zc_errname(errno));
		goto err;
	}
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem,
		      md.offset);
	if (b->map == MAP_FAILED) {
		zc_diag("vgem mmap: %s", zc_errname(errno));
		b->map = NULL;
		goto err;
	}
	return 0;
err:
	vbuf_free(b);
	return -1;
}

static int open_both(int *vgem, int *zc)
{
	*vgem = zcc_open_vgem_card();
	*zc = zc_open_render();
	if (*vgem < 0 || *zc < 0) {
		zc_diag("open: vgem %d, xen_drm_zcopy %d: %s", *vgem, *zc,
			zc_errname(errno));
		if (*vgem >= 0)
			close(*vgem);
		if (*zc >= 0)
			close(*zc);
		return -1;
	}
	return 0;
}

static void close_both(int vgem, int zc)
{
	close(zc);
	close(vgem);
}

/*
 * The end of a case: the domU's mapping (if id), the buffer, the devices;
 * then, if nothing failed, every counter must drop back to idle.
 */
static int vbuf_finish(struct zc_ctx *ctx, int id, struct vbuf *b, int vgem,
		       int zc, int rc, int idle_ms)
{
	if (id)
		zc_agent_release(ctx, id);
	vbuf_free(b);
	close_both(vgem, zc);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(idle_ms);
	return rc;
}

static void to_refs_req(struct drm_xen_zcopy_to_refs *r, uint32_t handle,
			int domid, uint32_t *refs, uint32_t n, uint32_t flags)
{
	memset(r, 0, sizeof(*r));
	r->flags = flags;
	r->domid = (uint32_t)domid;
	r->refs = (uintptr_t)refs;
	r->num_refs = n;
	r->handle = handle;
}

/* TO_REFS to the domU, data checked by the domU, then written back. */
ZC_TEST(to_refs_vgem_both_ways)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t *refs = NULL;
	int vgem, zc, id = 0, rc = ZC_PASS;
	unsigned int n, i;

	ZCC_NEED_DOMU(ctx);
	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	/* 640x100x4 = 62.5 pages -> 63 pages in vgem's rounding */
	CK(!vbuf_new(&b, vgem, zc, 640, 100), "vgem buffer");
	n = (unsigned int)(b.size / ZCC_PAGE);
	refs = calloc(n, sizeof(*refs));
	CK(refs, "oom");
	zc_fill(b.map, b.size, 501);

	to_refs_req(&r, b.handle, ctx->domu, refs, n, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS: %s",
	   zc_errname(errno));
	CK(r.size == b.size && r.data_ofs == 0 && r.gref_dir == 0,
	   "size %llu (want %llu) data_ofs %u gref_dir %u",
	   (unsigned long long)r.size, (unsigned long long)b.size, r.data_ofs,
	   r.gref_dir);
	for (i = 0; i < n; i++)
		CK(refs[i] != 0, "ref %u is 0", i);
	CK(zc_counter("grants_issued") == n, "grants_issued %ld, want %u",
	   zc_counter("grants_issued"), n);

	CK(!zc_agent_map(ctx, 0, refs, n, 0, &id), "domU cannot map the refs");
	CK(!zc_agent_map_check(ctx, id, 501), "domU does not see dom0's data");
	CK(!zc_agent_map_write(ctx, id, 502), "domU write");
	CK(!zc_verify(b.map, b.size, 502), "dom0 does not see the domU's write at %zu",
	   zc_verify(b.map, b.size, 502));
	zc_fill(b.map, b.size, 503);
	CK(!zc_agent_map_check(ctx, id, 503), "domU does not see dom0's rewrite");
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
	vbuf_free(&b);
	CK(zc_counters_idle(3000) == ZC_PASS, "counters not idle after release");
out:
	free(refs);
	return vbuf_finish(ctx, id, &b, vgem, zc, rc, 3000);
}

/* A read-only grant: the domU reads, and cannot write. */
ZC_TEST(to_refs_readonly)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t refs[16];
	int vgem, zc, id = 0, rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 16), "vgem buffer");	/* 16 pages */
	CK(b.size == 16 * ZCC_PAGE, "size %llu", (unsigned long long)b.size);
	zc_fill(b.map, b.size, 511);
	to_refs_req(&r, b.handle, ctx->domu, refs, 16, XEN_ZCOPY_TO_REFS_READ_ONLY);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS ro: %s",
	   zc_errname(errno));
	/* a writable map of read-only grants is refused */
	CK(zc_agent_map(ctx, 0, refs, 16, 0, &id), "domU mapped read-only grants writable");
	id = 0;
	CK(!zc_agent_map(ctx, 0, refs, 16, 1, &id), "domU cannot map read-only");
	CK(!zc_agent_map_check(ctx, id, 511), "domU does not see the data");
	CK(zc_agent_try_write(ctx, id) == 1, "domU could write a read-only grant");
	CK(!zc_verify(b.map, b.size, 511), "data changed");
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
out:
	return vbuf_finish(ctx, id, &b, vgem, zc, rc, 3000);
}

/*
 * Second TO_REFS -> EBUSY, and it changes nothing: its refs array is left
 * as it was, and the first grants stay valid (dom0 maps them, both ways).
 */
ZC_TEST(to_refs_twice_ebusy)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t refs[4], refs2[4];
	struct zc_local *h = NULL;
	unsigned char *m;
	int vgem, zc, rc = ZC_PASS, i;

	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 4), "vgem buffer");
	zc_fill(b.map, b.size, 522);
	to_refs_req(&r, b.handle, 0, refs, 4, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS: %s", zc_errname(errno));
	for (i = 0; i < 4; i++)
		refs2[i] = 0xdeadbeef;
	to_refs_req(&r, b.handle, 0, refs2, 4, 0);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == EBUSY, "second TO_REFS: %s",
	   zc_errname(errno));
	to_refs_req(&r, b.handle, 0, refs2, 4, XEN_ZCOPY_TO_REFS_READ_ONLY);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == EBUSY, "third TO_REFS: %s",
	   zc_errname(errno));
	for (i = 0; i < 4; i++)
		CK(refs2[i] == 0xdeadbeef, "the refused TO_REFS wrote ref %u = %u", i, refs2[i]);
	CK(zc_counter("grants_issued") == 4, "grants_issued %ld",
	   zc_counter("grants_issued"));
	/* the first refs still grant the buffer's pages, writable */
	m = zc_self_map(0, refs, 4, 0, &h);
	CK(m, "the first refs no longer map");
	CK(!zc_grants_verify(m, 0, 4 * ZCC_PAGE, 522), "the first refs show other data");
	zc_grants_fill(m, 0, 4 * ZCC_PAGE, 523);
	CK(!zc_verify(b.map, b.size, 523), "a write through the first refs is not in the buffer");
out:
	zc_local_free(h);
	return vbuf_finish(ctx, 0, &b, vgem, zc, rc, 3000);
}

/* TO_REFS on a FROM_REFS buffer (and its self-import) -> EINVAL. */
ZC_TEST(to_refs_on_from_refs_einval)
{
	struct drm_xen_zcopy_from_refs f = { 0 };
	struct drm_xen_zcopy_to_refs r;
	struct zc_local *h = NULL;
	uint32_t refs[2], out_refs[2], h2 = 0;
	int zc, fd = -1, rc = ZC_PASS;

	zc = zc_open_render();
	if (zc < 0)
		return ZC_FAIL;
	CK(zc_self_grant(2, 521, 0, 0, refs, &h), "dom0 self grant");
	f.domid = 0;
	f.refs = (uintptr_t)refs;
	f.num_refs = 2;
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &f), "FROM_REFS: %s",
	   zc_errname(errno));
	to_refs_req(&r, f.handle, 0, out_refs, 2, 0);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == EINVAL,
	   "TO_REFS on FROM_REFS: %s", zc_errname(errno));
	CK(!drmPrimeHandleToFD(zc, f.handle, DRM_CLOEXEC, &fd), "export: %s",
	   zc_errname(errno));
	CK(!drmPrimeFDToHandle(zc, fd, &h2), "self-import: %s", zc_errname(errno));
	to_refs_req(&r, h2, 0, out_refs, 2, 0);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == EINVAL,
	   "TO_REFS on a self-import: %s", zc_errname(errno));
	CK(zc_counter("grants_issued") == 0, "grants issued");
out:
	if (fd >= 0)
		close(fd);
	close(zc);
	if (h)
		zc_local_free(h);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}

/* Every field of TO_REFS, one bad value at a time. */
ZC_TEST(to_refs_bad_input)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t refs[8];
	int vgem, zc, rc = ZC_PASS;
	unsigned int i;
	struct {
		const char *what;
		int want;
	} cases[] = {
		{ "unknown flag", EINVAL },
		{ "flags bit 31", EINVAL },
		{ "reserved[0]", EINVAL },
		{ "reserved[1]", EINVAL },
		{ "domid DOMID_FIRST_RESERVED", EINVAL },
		{ "domid DOMID_SELF", EINVAL },
		{ "domid 2^32-1", EINVAL },
		{ "refs 0 without PGDIR", EINVAL },
		{ "num_refs 0", EINVAL },
		{ "num_refs one short", EINVAL },
		{ "num_refs one more", EINVAL },
		{ "num_refs huge", EINVAL },
		{ "handle 0", ENOENT },
		{ "handle unknown", ENOENT },
		{ "refs pointer bad", EFAULT },
		{ "refs pointer read-only memory", EFAULT },
	};

	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 8), "vgem buffer");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int e;

		to_refs_req(&r, b.handle, 0, refs, 8, 0);
		switch (i) {
		case 0: r.flags = 1u << 2; break;
		case 1: r.flags = 1u << 31; break;
		case 2: r.reserved[0] = 1; break;
		case 3: r.reserved[1] = 1ull << 63; break;
		case 4: r.domid = 0x7FF0; break;
		case 5: r.domid = 0x7FF0 + 5; break;
		case 6: r.domid = ~0u; break;
		case 7: r.refs = 0; break;
		case 8: r.num_refs = 0; break;
		case 9: r.num_refs = 7; break;
		case 10: r.num_refs = 9; break;
		case 11: r.num_refs = ~0u; break;
		case 12: r.handle = 0; break;
		case 13: r.handle = b.handle + 1000; break;
		case 14: r.refs = 8; break;
		case 15: r.refs = (uintptr_t)zc_errname; break;
		}
		e = zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r);
		CK(e == cases[i].want, "%s: got %s, want %s", cases[i].what,
		   zc_errname(e), zc_errname(cases[i].want));
		/* nothing may stay granted after a failure */
		CK(zc_counter("grants_issued") == 0, "%s: grants_issued %ld",
		   cases[i].what, zc_counter("grants_issued"));
	}
	/* and the buffer is still grantable afterwards */
	to_refs_req(&r, b.handle, 0, refs, 8, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "valid TO_REFS after errors: %s",
	   zc_errname(errno));
out:
	return vbuf_finish(ctx, 0, &b, vgem, zc, rc, 3000);
}

/*
 * XSA-396: the buffer is freed while the domU still maps it. The grants
 * stay, the import is deferred and its pages are not returned to vgem: dom0
 * runs with init_on_free=1, so a page given back would read as zeros in the
 * domU at once. Once the domU unmaps, everything is released.
 */
ZC_TEST(to_refs_release_deferred)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t refs[8];
	int vgem, zc, id = 0, rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 8), "vgem buffer");
	zc_fill(b.map, b.size, 531);
	to_refs_req(&r, b.handle, ctx->domu, refs, 8, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS: %s", zc_errname(errno));
	CK(!zc_agent_map(ctx, 0, refs, 8, 0, &id), "domU map");

	/* drop our import and all of vgem's: our reference is the last */
	vbuf_free(&b);
	CK(zc_counter("deferred") == 1, "deferred %ld, want 1", zc_counter("deferred"));
	CK(zc_counter("grants_issued") == 8, "grants_issued %ld, want 8",
	   zc_counter("grants_issued"));
	/* the retries keep it while mapped */
	usleep(400 * 1000);
	CK(zc_counter("deferred") == 1, "released while still mapped");
	/* the domU still sees the data (not the zeros of a freed page) */
	CK(!zc_agent_map_check(ctx, id, 531), "domU data changed while deferred");
	CK(!zc_agent_map_write(ctx, id, 532), "domU write while deferred");

	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
	CK(zc_counters_idle(8000) == ZC_PASS, "not released after the domU unmapped");
out:
	return vbuf_finish(ctx, id, &b, vgem, zc, rc, 8000);
}

/* EFAULT on the refs copy-out ends the grants; a retry then succeeds. */
ZC_TEST(to_refs_efault_undo)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b = { .fd = -1 };
	uint32_t *ro = MAP_FAILED;
	uint32_t refs[4];
	int vgem, zc, rc = ZC_PASS;

	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 4), "vgem buffer");
	ro = mmap(NULL, ZCC_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CK(ro != MAP_FAILED, "mmap");
	to_refs_req(&r, b.handle, 0, ro, 4, 0);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == EFAULT, "TO_REFS to a read-only page: %s",
	   zc_errname(errno));
	CK(zc_counter("grants_issued") == 0, "grants left after EFAULT: %ld",
	   zc_counter("grants_issued"));
	to_refs_req(&r, b.handle, 0, refs, 4, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "retry: %s", zc_errname(errno));
	CK(zc_counter("grants_issued") == 4, "grants_issued %ld", zc_counter("grants_issued"));
out:
	if (ro != MAP_FAILED)
		munmap(ro, ZCC_PAGE);
	return vbuf_finish(ctx, 0, &b, vgem, zc, rc, 3000);
}

/* Legacy DUMB_TO_REFS grants read-write, same rules. */
ZC_TEST(to_refs_legacy_dumb)
{
	struct drm_xen_zcopy_dumb_to_refs l = { 0 };
	struct vbuf b = { .fd = -1 };
	uint32_t refs[4];
	int vgem, zc, id = 0, rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!vbuf_new(&b, vgem, zc, 1024, 4), "vgem buffer");
	zc_fill(b.map, b.size, 541);
	l.num_grefs = 4;
	l.grefs_ptr = (uintptr_t)refs;
	l.otherend_id = (uint64_t)ctx->domu;
	l.handle = b.handle;
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &l), "DUMB_TO_REFS: %s",
	   zc_errname(errno));
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &l) == EBUSY, "second: %s",
	   zc_errname(errno));
	CK(!zc_agent_map(ctx, 0, refs, 4, 0, &id), "domU map");
	CK(!zc_agent_map_check(ctx, id, 541), "domU data");
	CK(!zc_agent_map_write(ctx, id, 542), "domU write");
	CK(!zc_verify(b.map, b.size, 542), "dom0 does not see the write");
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;
out:
	return vbuf_finish(ctx, id, &b, vgem, zc, rc, 3000);
}

/*
 * More pages than dom0's grant table can hold (Xen's default is 64 frames,
 * 32768 refs): -ENOSPC at once, nothing left granted, and the table still
 * serves the next TO_REFS.
 */
ZC_TEST(to_refs_enospc)
{
	struct drm_xen_zcopy_to_refs r;
	struct vbuf big = { .fd = -1 }, small = { .fd = -1 };
	struct drm_xen_zcopy_query q = { 0 };
	uint32_t *refs = NULL, few[4];
	unsigned int n;
	int vgem, zc, rc = ZC_PASS;

	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), "QUERY");
	/* the default max_refs (65536, query_fields) is above the table */
	n = 40000;
	CK(q.max_refs >= n, "max_refs %u", q.max_refs);
	/* the kernel says so when it cannot grow the table any more */
	zc_expect_log("max_grant_frames reached");
	CK(!vbuf_new(&big, vgem, zc, 1024, n), "vgem buffer of %u pages", n);
	refs = calloc(n, sizeof(*refs));
	CK(refs, "oom");
	to_refs_req(&r, big.handle, 0, refs, n, 0);
	CK(zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r) == ENOSPC, "TO_REFS of %u pages: %s",
	   n, zc_errname(errno));
	CK(zc_counter("grants_issued") == 0, "grants left: %ld", zc_counter("grants_issued"));
	vbuf_free(&big);

	CK(!vbuf_new(&small, vgem, zc, 1024, 4), "small buffer");
	to_refs_req(&r, small.handle, 0, few, 4, 0);
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS after exhaustion: %s",
	   zc_errname(errno));
out:
	vbuf_free(&big);
	free(refs);
	return vbuf_finish(ctx, 0, &small, vgem, zc, rc, 3000);
}

/*
 * Several imports deferred at once, released by the domU one at a time in
 * another order: each one goes as soon as its own pages are unmapped.
 */
ZC_TEST(to_refs_deferred_many)
{
	enum { NB = 5 };
	struct drm_xen_zcopy_to_refs r;
	struct vbuf b[NB];
	uint32_t refs[NB][4];
	int vgem, zc, id[NB] = { 0 }, rc = ZC_PASS, i, k;

	ZCC_NEED_DOMU(ctx);
	for (i = 0; i < NB; i++)
		b[i].fd = -1, b[i].map = NULL, b[i].handle = 0, b[i].vhandle = 0;
	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	for (i = 0; i < NB; i++) {
		CK(!vbuf_new(&b[i], vgem, zc, 1024, 4), "vgem buffer %d", i);
		zc_fill(b[i].map, b[i].size, 551 + i);
		to_refs_req(&r, b[i].handle, ctx->domu, refs[i], 4, 0);
		CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r), "TO_REFS %d: %s", i,
		   zc_errname(errno));
		CK(!zc_agent_map(ctx, 0, refs[i], 4, 0, &id[i]), "domU map %d", i);
	}
	for (i = 0; i < NB; i++)
		vbuf_free(&b[i]);
	CK(zc_counter("deferred") == NB, "deferred %ld, want %d", zc_counter("deferred"), NB);
	/* 2, 4, 1, 3, 0 */
	for (k = 0; k < NB; k++) {
		long left;

		i = (2 + 2 * k) % NB;
		CK(!zc_agent_map_check(ctx, id[i], 551 + i), "domU data of %d while deferred", i);
		CK(!zc_agent_release(ctx, id[i]), "domU unmap %d", i);
		id[i] = 0;
		for (left = 0; left < 100 && zc_counter("deferred") != NB - 1 - k; left++)
			usleep(100 * 1000);
		CK(zc_counter("deferred") == NB - 1 - k, "deferred %ld after %d unmaps",
		   zc_counter("deferred"), k + 1);
		CK(zc_counter("grants_issued") == 4 * (NB - 1 - k), "grants_issued %ld",
		   zc_counter("grants_issued"));
	}
out:
	for (i = 0; i < NB; i++) {
		if (id[i])
			zc_agent_release(ctx, id[i]);
		vbuf_free(&b[i]);
	}
	close_both(vgem, zc);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(8000);
	return rc;
}

struct race {
	int zc;
	uint32_t handle;
	uint32_t refs[8];
	int err;
	double t0, t1;		/* the ioctl's start and end */
	pthread_barrier_t *go;	/* all threads call at once */
};

static void *to_refs_thread(void *arg)
{
	struct race *t = arg;
	struct drm_xen_zcopy_to_refs r;

	to_refs_req(&r, t->handle, 0, t->refs, 8, 0);
	pthread_barrier_wait(t->go);
	t->t0 = zcc_now();
	t->err = zcc_err(t->zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r);
	t->t1 = zcc_now();
	return NULL;
}

/*
 * TO_REFS from several threads at once (2 vCPUs on every platform), released
 * together by a barrier: exactly one wins, the rest get EBUSY and leave their
 * refs untouched, and the winner's refs grant the buffer's pages. The calls
 * must really have raced: at least one pair of ioctls overlapped in time.
 */
ZC_TEST(to_refs_concurrent)
{
	enum { NT = 4, ROUNDS = 20 };
	pthread_barrier_t go;
	struct race t[NT];
	pthread_t th[NT];
	struct vbuf b = { .fd = -1 };
	struct zc_local *h = NULL;
	int vgem, zc, rc = ZC_PASS, i, k, round, overlaps = 0, started = 0;

	if (open_both(&vgem, &zc))
		return ZC_FAIL;
	CK(!pthread_barrier_init(&go, NULL, NT), "barrier");
	started = 1;
	for (round = 0; round < ROUNDS; round++) {
		int ok = 0, busy = 0, win = -1, e;
		unsigned char *m;

		CK(!vbuf_new(&b, vgem, zc, 1024, 8), "vgem buffer");
		zc_fill(b.map, b.size, 580 + round);
		for (i = 0; i < NT; i++) {
			t[i].zc = zc;
			t[i].handle = b.handle;
			t[i].go = &go;
			t[i].err = -1;
			for (k = 0; k < 8; k++)
				t[i].refs[k] = 0xdeadbeef;
			e = pthread_create(&th[i], NULL, to_refs_thread, &t[i]);
			if (e) {
				/* the others wait at the barrier for ever: a hard stop */
				zc_diag("pthread_create: %s", zc_errname(e));
				abort();
			}
		}
		for (i = 0; i < NT; i++) {
			e = pthread_join(th[i], NULL);
			CK(!e, "pthread_join %d: %s", i, zc_errname(e));
		}
		for (i = 0; i < NT; i++) {
			if (!t[i].err) {
				ok++;
				win = i;
			} else {
				busy += t[i].err == EBUSY;
				for (k = 0; k < 8; k++)
					CK(t[i].refs[k] == 0xdeadbeef, "round %d: thread %d got %s and wrote ref %d",
					   round, i, zc_errname(t[i].err), k);
			}
			for (k = 0; k < NT; k++)
				if (k != i && t[k].t0 < t[i].t1 && t[i].t0 < t[k].t1)
					overlaps++;
		}
		CK(ok == 1 && busy == NT - 1, "round %d: %d succeeded, %d EBUSY", round, ok, busy);
		CK(zc_counter("grants_issued") == 8, "grants_issued %ld", zc_counter("grants_issued"));
		m = zc_self_map(0, t[win].refs, 8, 1, &h);
		CK(m, "round %d: the winner's refs do not map", round);
		CK(!zc_grants_verify(m, 0, 8 * ZCC_PAGE, 580 + round),
		   "round %d: the winner's refs show other data", round);
		zc_local_free(h);
		h = NULL;
		vbuf_free(&b);
	}
	zc_diag("%ld CPUs online; ioctls overlapping in time: %d pairs in %d rounds",
		sysconf(_SC_NPROCESSORS_ONLN), overlaps / 2, ROUNDS);
	CK(overlaps > 0, "no two TO_REFS calls overlapped in %d rounds: no race was tried",
	   ROUNDS);
out:
	if (started)
		pthread_barrier_destroy(&go);
	zc_local_free(h);
	return vbuf_finish(ctx, 0, &b, vgem, zc, rc, 3000);
}
