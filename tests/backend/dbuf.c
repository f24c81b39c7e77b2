// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Display buffers and framebuffers: the zero-copy client of xen_drm_zcopy,
 * as a real backend uses it.
 *
 * Front-alloc (DBUF_CREATE without REQ_ALLOC): the guest's pages become a
 * GEM object of ours - new UAPI: FROM_REFS with XEN_ZCOPY_FROM_REFS_PGDIR
 * (the kernel walks the page directory), DUMB geometry and data_ofs;
 * legacy: the directory is read here and DUMB_FROM_REFS gets the ref array,
 * exactly displ_be's sequence - then PRIME export, PRIME import into the KMS
 * device, and drmModeAddFB2 with our pitch and data_ofs as the offset. A
 * buffer the guest imported through PRIME arrives with width 0: it is
 * mapped only at FB_ATTACH, which brings the geometry. On DBUF_DESTROY:
 * close the KMS handle, our handle and the fd, then WAIT_FREE
 * (BE_WAIT_FREE_MS, well under the frontend's 3000 ms) before answering.
 *
 * Be-alloc (REQ_ALLOC): a KMS dumb buffer, PRIME export (new UAPI:
 * DRM_CLOEXEC | DRM_RDWR, so that TO_REFS grants it writable; legacy:
 * DRM_CLOEXEC as displ_be), PRIME import into xen_drm_zcopy, TO_REFS (or
 * DUMB_TO_REFS), and the refs written into the frontend's page directory.
 * Closing our handle ends the grants (the frontend unmapped them before it
 * sent DBUF_DESTROY).
 *
 * --gnttab: no ioctl of ours at all, libxengnttab's dma-buf calls in the
 * order libxenbe makes them (the directory read here, as legacy):
 * front-alloc xengnttab_dmabuf_exp_from_refs() -> fd -> KMS, and on
 * destroy close the fd, then xengnttab_dmabuf_exp_wait_released(); be-alloc
 * KMS dumb -> fd (DRM_CLOEXEC) -> xengnttab_dmabuf_imp_to_refs(), and on
 * destroy xengnttab_dmabuf_imp_release(). Run under xen-zcopy-run these
 * reach xen_drm_zcopy (lib/gnttab-zcopy); else gntdev, which refuses them
 * in a PV dom0 and without CONFIG_XEN_GRANT_DMA_ALLOC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "be.h"

int be_zc_fd = -1;

int dbuf_open_zcopy(void)
{
	struct drm_xen_zcopy_query q;

	if (be_opt.api == BE_API_GNTTAB) {
		LOG("using libxengnttab's dma-buf calls (zero-copy under xen-zcopy-run)");
		return 0;
	}

	be_zc_fd = drmOpen(XENDRM_ZCOPY_DRIVER_NAME, NULL);
	if (be_zc_fd < 0) {
		ERR("drmOpen(\"%s\"): %s (modprobe xen_drm_zcopy; needs CAP_SYS_ADMIN)",
		    XENDRM_ZCOPY_DRIVER_NAME, strerror(be_zc_fd < -1 ? -be_zc_fd : ENODEV));
		be_zc_fd = -1;
		return -1;
	}
	memset(&q, 0, sizeof(q));
	if (drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q)) {
		ERR("XEN_ZCOPY_QUERY: %s", strerror(errno));
		return -1;
	}
	LOG("xen_drm_zcopy: API %u, page size %u, max_refs %u, max_wait_ms %u, caps %#x; using the %s ioctls",
	    q.api_version, q.page_size, q.max_refs, q.max_wait_ms, q.caps,
	    be_opt.api == BE_API_LEGACY ? "2018 DUMB_*" : "new");
	return 0;
}

static struct be_dbuf *dbuf_find(struct be_dev *d, uint64_t cookie)
{
	struct be_dbuf *b;

	for (b = d->dbufs; b; b = b->next)
		if (b->cookie == cookie)
			return b;
	return NULL;
}

struct be_fb *fb_find(struct be_dev *d, uint64_t cookie)
{
	struct be_fb *f;

	for (f = d->fbs; f; f = f->next)
		if (f->cookie == cookie)
			return f;
	return NULL;
}

static uint32_t prime_flags(void)
{
	return be_opt.api == BE_API_LEGACY ? DRM_CLOEXEC : DRM_CLOEXEC | DRM_RDWR;
}

static void close_gem(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	if (handle && drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c))
		ERR("GEM_CLOSE %u: %s", handle, strerror(errno));
}

/* the frontend's page directory, read here (legacy and --gnttab) */
static int read_dir_refs(struct be_dev *d, struct be_dbuf *b)
{
	b->refs = calloc(b->nrefs, sizeof(uint32_t));
	if (!b->refs)
		return -ENOMEM;
	if (pgdir_read(d->domid, b->gref_dir, b->refs, b->nrefs))
		return -errno ? -errno : -EINVAL;
	return 0;
}

/* front-alloc through libxengnttab: refs -> dma-buf fd */
static int gnttab_map_guest(struct be_dev *d, struct be_dbuf *b)
{
	uint32_t fd;
	int ret = read_dir_refs(d, b);

	if (ret)
		return ret;
	if (xengnttab_dmabuf_exp_from_refs(be_xgt, (uint32_t)d->domid, 0, b->nrefs,
					   b->refs, &fd)) {
		ret = -errno;
		ERR("xengnttab_dmabuf_exp_from_refs (%u refs of domain %d): %s", b->nrefs,
		    d->domid, strerror(errno));
		return ret;
	}
	b->prime_fd = (int)fd;
	b->wait_token = fd;	/* exp_wait_released is keyed by the fd number */
	b->pitch = (b->width * b->bpp + 7) / 8;
	LOG("xengnttab_dmabuf_exp_from_refs: %u refs -> dma-buf fd %u, pitch %u (ours), data_ofs %u",
	    b->nrefs, fd, b->pitch, b->data_ofs);
	return 0;
}

/* front-alloc: the guest's pages -> our GEM object -> dma-buf -> KMS */
static int zc_map_guest(struct be_dev *d, struct be_dbuf *b)
{
	int ret;

	if (be_opt.api == BE_API_GNTTAB) {
		ret = gnttab_map_guest(d, b);
		if (ret)
			return ret;
	} else if (be_opt.api == BE_API_LEGACY) {
		struct drm_xen_zcopy_dumb_from_refs fr;

		ret = read_dir_refs(d, b);
		if (ret)
			return ret;
		if (b->data_ofs)
			WARNL("dbuf %#llx: data_ofs %u: the 2018 ioctls have no data offset; only the KMS framebuffer offset applies it",
			      (unsigned long long)b->cookie, b->data_ofs);
		memset(&fr, 0, sizeof(fr));
		fr.num_grefs = b->nrefs;
		fr.grefs_ptr = (uintptr_t)b->refs;
		fr.otherend_id = (uint64_t)d->domid;
		fr.dumb.width = b->width;
		fr.dumb.height = b->height;
		fr.dumb.bpp = b->bpp;
		if (drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &fr)) {
			ret = -errno;
			ERR("DUMB_FROM_REFS (%u refs of domain %d, %ux%u@%u): %s", b->nrefs,
			    d->domid, b->width, b->height, b->bpp, strerror(errno));
			return ret;
		}
		b->zc_handle = fr.dumb.handle;
		b->pitch = fr.dumb.pitch;
		b->wait_token = fr.wait_handle;
		LOG("DUMB_FROM_REFS: %u refs -> handle %u, pitch %u, size %llu, wait_handle %u",
		    b->nrefs, fr.dumb.handle, fr.dumb.pitch,
		    (unsigned long long)fr.dumb.size, fr.wait_handle);
	} else {
		struct drm_xen_zcopy_from_refs fr;

		memset(&fr, 0, sizeof(fr));
		fr.flags = XEN_ZCOPY_FROM_REFS_PGDIR | XEN_ZCOPY_FROM_REFS_DUMB;
		fr.domid = (uint32_t)d->domid;
		fr.num_refs = b->nrefs;
		fr.gref_dir = b->gref_dir;
		fr.data_ofs = b->data_ofs;
		fr.width = b->width;
		fr.height = b->height;
		fr.bpp = b->bpp;
		if (drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr)) {
			ret = -errno;
			ERR("FROM_REFS (PGDIR dir ref %u, %u refs of domain %d, data_ofs %u, %ux%u@%u): %s",
			    b->gref_dir, b->nrefs, d->domid, b->data_ofs, b->width,
			    b->height, b->bpp, strerror(errno));
			return ret;
		}
		b->zc_handle = fr.handle;
		b->pitch = fr.pitch;
		b->wait_token = fr.wait_token;
		LOG("FROM_REFS: dir ref %u, %u refs, data_ofs %u -> handle %u, pitch %u, size %llu, token %#llx",
		    b->gref_dir, b->nrefs, b->data_ofs, fr.handle, fr.pitch,
		    (unsigned long long)fr.size, (unsigned long long)fr.wait_token);
	}
	b->zc_created = 1;
	if (be_opt.api != BE_API_GNTTAB &&
	    drmPrimeHandleToFD(be_zc_fd, b->zc_handle, prime_flags(), &b->prime_fd)) {
		ret = -errno;
		ERR("PRIME_HANDLE_TO_FD on xen_drm_zcopy: %s", strerror(errno));
		b->prime_fd = -1;
		return ret;
	}
	if (drmPrimeFDToHandle(kms_fd(), b->prime_fd, &b->kms_handle)) {
		ret = -errno;
		ERR("PRIME_FD_TO_HANDLE on the KMS device (import of our dma-buf): %s",
		    strerror(errno));
		b->kms_handle = 0;
		return ret;
	}
	LOG("dbuf %#llx: zero-copy: dma-buf fd %d imported into the KMS device as handle %u",
	    (unsigned long long)b->cookie, b->prime_fd, b->kms_handle);
	return 0;
}

/* be-alloc: a KMS dumb -> dma-buf -> xen_drm_zcopy -> grants -> directory */
static int zc_grant_kms(struct be_dev *d, struct be_dbuf *b)
{
	uint32_t n;
	off_t sz;
	int ret;

	if (!b->width || !b->height || !b->bpp) {
		ERR("be-alloc DBUF_CREATE without geometry (%ux%u@%u)", b->width,
		    b->height, b->bpp);
		return -EINVAL;
	}
	if (kms_create_dumb(b->width, b->height, b->bpp, &b->kms_handle, &b->pitch,
			    &b->kms_size))
		return -ENOMEM;
	if (drmPrimeHandleToFD(kms_fd(), b->kms_handle, prime_flags(), &b->prime_fd)) {
		ret = -errno;
		ERR("PRIME_HANDLE_TO_FD on the KMS device: %s", strerror(errno));
		b->prime_fd = -1;
		return ret;
	}
	if (be_opt.api != BE_API_GNTTAB &&
	    drmPrimeFDToHandle(be_zc_fd, b->prime_fd, &b->zc_handle)) {
		ret = -errno;
		ERR("PRIME_FD_TO_HANDLE on xen_drm_zcopy: %s", strerror(errno));
		b->zc_handle = 0;
		return ret;
	}
	b->zc_created = 1;
	/* the dma-buf's size (a multiple of the kernel page on 16K kernels) */
	sz = lseek(b->prime_fd, 0, SEEK_END);
	if (sz <= 0)
		sz = (off_t)b->kms_size;
	n = (uint32_t)(((uint64_t)sz + BE_GRANT - 1) / BE_GRANT);
	if (n < b->nrefs) {
		ERR("be-alloc: KMS buffer of %u pages, the frontend expects %u", n, b->nrefs);
		return -EINVAL;
	}
	b->refs = calloc(n, sizeof(uint32_t));
	if (!b->refs)
		return -ENOMEM;
	if (be_opt.api == BE_API_GNTTAB) {
		/* as libxenbe: the count is the buffer's size in 4 KiB pages */
		if (xengnttab_dmabuf_imp_to_refs(be_xgt, (uint32_t)d->domid,
						 (uint32_t)b->prime_fd, n, b->refs)) {
			ret = -errno;
			ERR("xengnttab_dmabuf_imp_to_refs (fd %d, %u pages to domain %d): %s",
			    b->prime_fd, n, d->domid, strerror(errno));
			return ret;
		}
		b->gnttab_imported = 1;
		LOG("xengnttab_dmabuf_imp_to_refs: fd %d, %u refs to domain %d (first %u)",
		    b->prime_fd, n, d->domid, b->refs[0]);
	} else if (be_opt.api == BE_API_LEGACY) {
		struct drm_xen_zcopy_dumb_to_refs tr;

		memset(&tr, 0, sizeof(tr));
		tr.num_grefs = n;
		tr.grefs_ptr = (uintptr_t)b->refs;
		tr.otherend_id = (uint64_t)d->domid;
		tr.handle = b->zc_handle;
		if (drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &tr)) {
			ret = -errno;
			ERR("DUMB_TO_REFS (%u pages to domain %d): %s", n, d->domid,
			    strerror(errno));
			return ret;
		}
		LOG("DUMB_TO_REFS: handle %u, %u refs to domain %d (first %u)",
		    b->zc_handle, n, d->domid, b->refs[0]);
	} else {
		struct drm_xen_zcopy_to_refs tr;

		memset(&tr, 0, sizeof(tr));
		tr.domid = (uint32_t)d->domid;
		tr.refs = (uintptr_t)b->refs;
		tr.num_refs = n;
		tr.handle = b->zc_handle;
		if (drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr)) {
			ret = -errno;
			ERR("TO_REFS (%u pages to domain %d): %s", n, d->domid, strerror(errno));
			return ret;
		}
		if (tr.data_ofs) {
			ERR("TO_REFS: data_ofs %u: a KMS dumb buffer starts a page", tr.data_ofs);
			return -EINVAL;
		}
		LOG("TO_REFS: handle %u, %u refs to domain %d (first %u), size %llu",
		    b->zc_handle, n, d->domid, b->refs[0], (unsigned long long)tr.size);
	}
	if (pgdir_fill(d->domid, b->gref_dir, b->refs, b->nrefs))
		return -EIO;
	if (be_opt.publish_refs) {
		/* numbered from 0 again whenever the guest starts afresh */
		if (d->dbufs == b && !b->next)
			d->published = 0;
		/* test hook: the guest draws through gntdev (a PV guest cannot
		 * store through the frontend's own mmap of these pages) */
		char path[200], *val;
		size_t len = 32 + (size_t)b->nrefs * 11, o;
		uint32_t i;

		val = malloc(len);
		if (val) {
			o = (size_t)snprintf(val, len, "%u %u", b->pitch, b->nrefs);
			for (i = 0; i < b->nrefs; i++)
				o += (size_t)snprintf(val + o, len - o, " %u", b->refs[i]);
			snprintf(path, sizeof(path), "%s/zc-test/dbuf%u", d->bepath,
				 d->published++);
			if (!xs_write(be_xs, XBT_NULL, path, val, (unsigned int)o))
				ERR("cannot publish refs at %s: %s", path, strerror(errno));
			else
				LOG("published %u refs at %s", b->nrefs, path);
			free(val);
		}
	}
	return 0;
}

int dbuf_create(struct be_dev *d, uint64_t cookie, uint32_t w, uint32_t h,
		uint32_t bpp, uint32_t size, uint32_t flags, uint32_t gref_dir,
		uint32_t data_ofs)
{
	struct be_dbuf *b;
	int ret;

	be_st.dbuf_create++;
	LOG("DBUF_CREATE cookie %#llx %ux%u@%u size %u flags %#x dir %u data_ofs %u",
	    (unsigned long long)cookie, w, h, bpp, size, flags, gref_dir, data_ofs);
	if (dbuf_find(d, cookie)) {
		ERR("DBUF_CREATE: cookie %#llx exists", (unsigned long long)cookie);
		return -EEXIST;
	}
	if (!!(flags & XENDISPL_DBUF_FLG_REQ_ALLOC) != !!d->be_alloc) {
		ERR("DBUF_CREATE: REQ_ALLOC %s on a %s device", flags & 1 ? "set" : "clear",
		    d->be_alloc ? "be-alloc" : "front-alloc");
		return -EINVAL;
	}
	if (!size || data_ofs >= BE_GRANT || !gref_dir) {
		ERR("DBUF_CREATE: size %u, data_ofs %u, directory %u", size, data_ofs, gref_dir);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cookie = cookie;
	b->width = w;
	b->height = h;
	b->bpp = bpp;
	b->size = size;
	b->data_ofs = data_ofs;
	b->gref_dir = gref_dir;
	b->be_alloc = d->be_alloc;
	b->nrefs = (size + BE_GRANT - 1) / BE_GRANT;
	b->prime_fd = -1;
	b->next = d->dbufs;
	d->dbufs = b;
	if (b->be_alloc)
		ret = zc_grant_kms(d, b);
	else if (be_opt.copy) {
		b->copy = 1;
		ret = copy_dbuf_create(d, b);
	}
	else if (!w) {
		LOG("dbuf %#llx: width 0 (a buffer the guest imported): mapped at FB_ATTACH",
		    (unsigned long long)cookie);
		ret = 0;
	} else
		ret = zc_map_guest(d, b);
	if (ret) {
		dbuf_destroy(d, cookie);
		be_st.dbuf_destroy--;
	}
	return ret;
}

static void fb_free(struct be_dev *d, struct be_fb *f)
{
	struct be_fb **p;

	for (p = &d->fbs; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	kms_rm_fb(f->fb_id);
	free(f);
}

/* xen_drm_zcopy's debugfs lists the buffer with an importer (fe-alloc) */
static int debugfs_shows(struct be_dev *d, struct be_dbuf *b)
{
	FILE *f = fopen("/sys/kernel/debug/xen_zcopy/buffers", "r");
	char line[512], kind[16], refs[256];
	unsigned int id, dom, grants, imp, wait;
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %15s %u %u %255s %u %u", &id, kind, &dom, &grants,
			   refs, &imp, &wait) != 7 || (int)dom != d->domid)
			continue;
		if (b->be_alloc)
			found = !strcmp(kind, "import") &&
				(unsigned int)strtoul(refs, NULL, 10) == b->refs[0];
		else
			found = !strcmp(kind, "foreign") && grants == b->nrefs && imp >= 1;
	}
	fclose(f);
	return found;
}

int fb_attach(struct be_dev *d, uint64_t dbuf_cookie, uint64_t fb_cookie,
	      uint32_t w, uint32_t h, uint32_t format)
{
	struct be_dbuf *b = dbuf_find(d, dbuf_cookie);
	uint32_t handle, pitch, offset;
	struct be_fb *f;
	int ret;

	be_st.fb_attach++;
	if (!b) {
		ERR("FB_ATTACH: unknown dbuf %#llx", (unsigned long long)dbuf_cookie);
		return -EINVAL;
	}
	if (fb_find(d, fb_cookie)) {
		ERR("FB_ATTACH: fb %#llx exists", (unsigned long long)fb_cookie);
		return -EEXIST;
	}
	if (format != DRM_FORMAT_XRGB8888 && format != DRM_FORMAT_ARGB8888) {
		ERR("FB_ATTACH: pixel format %.4s not supported (XRGB8888 only)",
		    (const char *)&format);
		return -EINVAL;
	}
	if (!b->be_alloc && !b->copy && !b->zc_created) {
		/* deferred: the geometry arrives now */
		b->width = w;
		b->height = h;
		b->bpp = 32;
		ret = zc_map_guest(d, b);
		if (ret)
			return ret;
	}
	if (w > b->width || h > b->height) {
		ERR("FB_ATTACH %ux%u on a %ux%u buffer", w, h, b->width, b->height);
		return -EINVAL;
	}
	handle = b->copy ? b->copy_dumb : b->kms_handle;
	pitch = b->copy ? b->copy_pitch : b->pitch;
	offset = b->be_alloc || b->copy ? 0 : b->data_ofs;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cookie = fb_cookie;
	f->dbuf = b;
	f->width = w;
	f->height = h;
	f->format = format;
	ret = kms_add_fb(handle, w, h, DRM_FORMAT_XRGB8888, pitch, offset, &f->fb_id);
	if (ret) {
		free(f);
		return ret;
	}
	f->next = d->fbs;
	d->fbs = f;
	if (be_opt.verify_zc && !b->copy) {
		int ok = !kms_check_zero_copy(f->fb_id, b->prime_fd,
					      b->be_alloc ? NULL : XENDRM_ZCOPY_DRIVER_NAME);

		if (ok && !debugfs_shows(d, b)) {
			ERR("fb %#llx: xen_drm_zcopy's debugfs does not list the buffer (%s of domain %d)",
			    (unsigned long long)fb_cookie, b->be_alloc ? "import" : "foreign, with an importer",
			    d->domid);
			ok = 0;
		}
		if (ok) {
			be_st.zc_fb_ok++;
			LOG("fb %#llx: zero-copy verified: the KMS framebuffer's dma-buf is the one %s, and xen_drm_zcopy lists it",
			    (unsigned long long)fb_cookie,
			    b->be_alloc ? "we granted with TO_REFS" : "xen_drm_zcopy exported");
		} else {
			be_st.zc_fb_bad++;
		}
	}
	return 0;
}

int fb_detach(struct be_dev *d, uint64_t fb_cookie)
{
	struct be_fb *f = fb_find(d, fb_cookie);
	int i;

	be_st.fb_detach++;
	if (!f) {
		ERR("FB_DETACH: unknown fb %#llx", (unsigned long long)fb_cookie);
		return -EINVAL;
	}
	for (i = 0; i < d->nconn; i++)
		if (d->conn[i].shown_fb == fb_cookie)
			LOG("FB_DETACH of fb %#llx shown on connector %d: the KMS device drops it",
			    (unsigned long long)fb_cookie, i);
	fb_free(d, f);
	return 0;
}

static int wait_free(struct be_dbuf *b, double *ms)
{
	double t0 = be_now_ms();
	int r;

	if (be_opt.api == BE_API_GNTTAB) {
		/* the fd number, after we closed it (as libxenbe does) */
		r = xengnttab_dmabuf_exp_wait_released(be_xgt, (uint32_t)b->wait_token,
						       BE_WAIT_FREE_MS) ? errno : 0;
	} else if (be_opt.api == BE_API_LEGACY) {
		struct drm_xen_zcopy_dumb_wait_free w = {
			.wait_handle = (uint32_t)b->wait_token, .wait_to_ms = BE_WAIT_FREE_MS };

		r = drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &w) ? errno : 0;
	} else {
		struct drm_xen_zcopy_wait_free w = {
			.wait_token = b->wait_token, .timeout_ms = BE_WAIT_FREE_MS };

		r = drmIoctl(be_zc_fd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w) ? errno : 0;
	}
	*ms = be_now_ms() - t0;
	if (*ms > be_st.wait_free_ms_max)
		be_st.wait_free_ms_max = *ms;
	if (r == ENOENT)
		r = 0;		/* already freed */
	return r;
}

int dbuf_destroy(struct be_dev *d, uint64_t cookie)
{
	struct be_dbuf *b = dbuf_find(d, cookie), **p;
	double t0 = be_now_ms(), wf = 0, dt;
	struct be_fb *f, *fn;
	int ret = 0, r;

	be_st.dbuf_destroy++;
	if (!b) {
		ERR("DBUF_DESTROY: unknown dbuf %#llx", (unsigned long long)cookie);
		return -EINVAL;
	}
	for (f = d->fbs; f; f = fn) {
		fn = f->next;
		if (f->dbuf == b) {
			WARNL("DBUF_DESTROY of dbuf %#llx with fb %#llx still attached: removing it",
			      (unsigned long long)cookie, (unsigned long long)f->cookie);
			fb_free(d, f);
		}
	}
	copy_dbuf_destroy(b);
	if (b->be_alloc) {
		/* our handle first: that ends the grants */
		if (b->gnttab_imported &&
		    xengnttab_dmabuf_imp_release(be_xgt, (uint32_t)b->prime_fd))
			ERR("xengnttab_dmabuf_imp_release (fd %d): %s", b->prime_fd,
			    strerror(errno));
		close_gem(be_zc_fd, b->zc_handle);
		kms_close_handle(b->kms_handle);
		if (b->prime_fd >= 0)
			close(b->prime_fd);
	} else {
		/* displ_be's order: KMS handle, our handle, the fd, WAIT_FREE */
		kms_close_handle(b->kms_handle);
		close_gem(be_zc_fd, b->zc_handle);
		if (b->prime_fd >= 0)
			close(b->prime_fd);
		if (b->zc_created) {
			r = wait_free(b, &wf);
			if (r) {
				be_st.wait_free_timeouts++;
				ERR("dbuf %#llx: WAIT_FREE (%u ms): %s: the guest's pages may still be in use",
				    (unsigned long long)cookie, BE_WAIT_FREE_MS, strerror(r));
				ret = -r;
			}
		}
	}
	for (p = &d->dbufs; *p; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			break;
		}
	free(b->refs);
	free(b);
	dt = be_now_ms() - t0;
	be_st.destroy_ms_sum += dt;
	if (dt > be_st.destroy_ms_max)
		be_st.destroy_ms_max = dt;
	LOG("DBUF_DESTROY cookie %#llx: released in %.1f ms (WAIT_FREE %.1f ms)",
	    (unsigned long long)cookie, dt, wf);
	return ret;
}

void dbuf_release_all(struct be_dev *d)
{
	while (d->fbs)
		fb_free(d, d->fbs);
	while (d->dbufs) {
		dbuf_destroy(d, d->dbufs->cookie);
		be_st.dbuf_destroy--;
	}
}
