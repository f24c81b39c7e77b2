// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench, frame part: a CPU consumer in dom0 (a VNC server, an encoder)
 * reads every byte of each new guest frame. Both paths do that same work
 * on the consumer's own view of the frame:
 *
 *  zero-copy  FROM_REFS + PRIME export + import into vgem, once; per frame
 *             DMA_BUF_IOCTL_SYNC(START|READ), read every byte through the
 *             mapping of vgem's import (vgem's export of it, which is the
 *             same dma-buf: checked), DMA_BUF_IOCTL_SYNC(END|READ);
 *  copy       gntdev map of the guest's grants and a vgem dumb buffer,
 *             once; per frame memcpy into the dumb buffer, then read every
 *             byte of it through vgem's mapping.
 *
 * Before each frame the domU stamps a new marker on every 4 KiB page
 * (untimed), so each frame differs from the last on every page; the sum the
 * consumer computes must be that frame's, and the first frame of each run
 * is also compared byte by byte. A copy path that skipped the memcpy, or
 * an import that showed anything but the guest's pages, fails the run.
 *
 * One warm-up run of each path, then o->reps runs of each, interleaved
 * with the order alternated (zc,copy / copy,zc / ...); each run is
 * o->frames frames and yields its median frame time; the table gives
 * min / median / max over the runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "bench.h"

enum { ZC, COPY };

struct frame_paths {
	size_t len;
	unsigned int n;
	int domu_id;
	int vg;			/* vgem's card: the consumer's driver */
	/* zero-copy */
	int zc;
	uint32_t handle, vh;
	int pfd, vfd;
	uint64_t size, token;
	const void *view;
	/* copy */
	struct zc_local *gh;
	const unsigned char *src;
	struct zb_dumb dst;
	/* checks */
	struct zb_expect expect;
	void *ref;
};

/* per-run medians: total, first part (sync / memcpy), read */
struct run_times {
	double tot, part, read;
};

static void copy_frame(void *dst, const unsigned char *src, size_t len)
{
	size_t st = zc_grant_stride(), off;

	if (st == ZB_GRANT) {
		memcpy(dst, src, len);
		return;
	}
	/* 16K/64K pages: gntdev puts each 4 KiB grant in a page of its own */
	for (off = 0; off < len; off += ZB_GRANT)
		memcpy((char *)dst + off, src + off / ZB_GRANT * st,
		       len - off < ZB_GRANT ? len - off : ZB_GRANT);
}

static int dma_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

static int setup(struct zb_opts *o, unsigned int w, unsigned int h, const uint32_t *refs,
		 struct frame_paths *p)
{
	struct drm_xen_zcopy_from_refs fr = {
		.flags = XEN_ZCOPY_FROM_REFS_DUMB,
		.domid = (uint32_t)o->ctx.domu,
		.refs = (uintptr_t)refs,
		.num_refs = p->n,
		.width = w,
		.height = h,
		.bpp = 32,
	};
	void *m;

	p->zc = zc_open_render();
	p->vg = zb_vgem_card();
	if (p->zc < 0 || p->vg < 0)
		return zb_fail("open xen_drm_zcopy / vgem: %s", strerror(errno));
	if (zc_ioctl(p->zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr))
		return zb_fail("FROM_REFS of %u refs: %s", p->n, strerror(errno));
	p->handle = fr.handle;
	p->size = fr.size;
	p->token = fr.wait_token;
	if (drmPrimeHandleToFD(p->zc, fr.handle, DRM_CLOEXEC | DRM_RDWR, &p->pfd))
		return zb_fail("PRIME export: %s", strerror(errno));
	if (drmPrimeFDToHandle(p->vg, p->pfd, &p->vh))
		return zb_fail("vgem import: %s", strerror(errno));
	if (drmPrimeHandleToFD(p->vg, p->vh, DRM_CLOEXEC | DRM_RDWR, &p->vfd))
		return zb_fail("vgem export of its import: %s", strerror(errno));
	if (!zb_same_file(p->pfd, p->vfd))
		return zb_fail("vgem's import is another dma-buf (a copy?)");
	m = mmap(NULL, p->size, PROT_READ, MAP_SHARED, p->vfd, 0);
	if (m == MAP_FAILED)
		return zb_fail("mmap of vgem's import: %s", strerror(errno));
	p->view = m;

	p->src = zc_self_map(o->ctx.domu, refs, p->n, 1, &p->gh);
	if (!p->src)
		return zb_fail("gntdev map of %u refs: %s", p->n, strerror(errno));
	if (zb_dumb_create(p->vg, w, h, 1, &p->dst) || p->dst.size < p->len)
		return zb_fail("vgem dumb buffer %ux%u: %s", w, h, strerror(errno));

	zb_expect_init(&p->expect, p->len, ZB_SEED);
	p->ref = malloc(p->len);
	if (!p->ref)
		return zb_fail("out of memory");
	return 0;
}

static int teardown(struct frame_paths *p)
{
	struct drm_xen_zcopy_wait_free wf = { .wait_token = p->token, .timeout_ms = 5000 };
	int ret = 0;

	free(p->ref);
	if (p->view)
		munmap((void *)p->view, p->size);
	if (p->vfd > 0)
		close(p->vfd);
	if (p->vh)
		zb_gem_close(p->vg, p->vh);
	if (p->pfd > 0)
		close(p->pfd);
	if (p->handle) {
		zb_gem_close(p->zc, p->handle);
		if (zc_ioctl(p->zc, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &wf) && errno != ENOENT)
			ret = zb_fail("WAIT_FREE: %s", strerror(errno));
	}
	zb_dumb_destroy(p->vg, &p->dst);
	if (p->gh)
		zc_local_free(p->gh);
	if (p->vg >= 0)
		close(p->vg);
	if (p->zc >= 0)
		close(p->zc);
	return ret;
}

/* o->frames frames of one path; medians into *t */
static int run(struct zb_opts *o, struct frame_paths *p, int path, struct run_times *t)
{
	double *tot = calloc(o->frames, sizeof(double)), *part = calloc(o->frames, sizeof(double));
	double *rd = calloc(o->frames, sizeof(double));
	const char *name = path == ZC ? "zero-copy" : "copy";
	struct zb_stat s;
	int f, ret = -1;

	if (!tot || !part || !rd) {
		zb_fail("out of memory");
		goto out;
	}
	for (f = 0; f < o->frames; f++) {
		uint32_t frame = ++o->frame_no;
		const void *seen;
		double t0, t1, t2, t3;
		uint64_t sum, want;

		if (zc_agent_mark(&o->ctx, p->domu_id, frame)) {
			zb_fail("the domU could not stamp frame %u", frame);
			goto out;
		}
		if (path == ZC) {
			seen = p->view;
			t0 = zb_now_us();
			if (dma_sync(p->vfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)) {
				zb_fail("SYNC START: %s", strerror(errno));
				goto out;
			}
			t1 = zb_now_us();
			sum = zb_sum64(seen, p->len);
			t2 = zb_now_us();
			if (dma_sync(p->vfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)) {
				zb_fail("SYNC END: %s", strerror(errno));
				goto out;
			}
			t3 = zb_now_us();
			part[f] = (t1 - t0) + (t3 - t2);
		} else {
			seen = p->dst.map;
			t0 = zb_now_us();
			copy_frame(p->dst.map, p->src, p->len);
			t1 = zb_now_us();
			sum = zb_sum64(seen, p->len);
			t2 = t3 = zb_now_us();
			part[f] = t1 - t0;
		}
		tot[f] = t3 - t0;
		rd[f] = t2 - t1;
		want = zb_expect_sum(&p->expect, frame);
		if (sum != want) {
			zb_fail("%s: the consumer read a wrong or stale frame %u (sum %016llx, want %016llx)",
				name, frame, (unsigned long long)sum, (unsigned long long)want);
			goto out;
		}
		if (f == 0) {
			zb_expect_frame(p->ref, p->len, ZB_SEED, frame);
			if (memcmp(seen, p->ref, p->len)) {
				zb_fail("%s: frame %u differs from the guest's", name, frame);
				goto out;
			}
		}
	}
	zb_stat(tot, o->frames, &s);
	t->tot = s.med;
	zb_stat(part, o->frames, &s);
	t->part = s.med;
	zb_stat(rd, o->frames, &s);
	t->read = s.med;
	ret = 0;
out:
	free(tot);
	free(part);
	free(rd);
	return ret;
}

static double med_of(const struct run_times *t, int n, int field)
{
	double *v = calloc(n, sizeof(double));
	struct zb_stat s;
	int i;

	for (i = 0; i < n; i++)
		v[i] = field == 0 ? t[i].tot : field == 1 ? t[i].part : t[i].read;
	zb_stat(v, n, &s);
	free(v);
	return s.med;
}

static void row(const char *name, const struct run_times *t, int n, const char *part)
{
	double *v = calloc(n, sizeof(double));
	struct zb_stat s;
	int i;

	for (i = 0; i < n; i++)
		v[i] = t[i].tot;
	zb_stat(v, n, &s);
	free(v);
	printf("   %-10s %9.3f %9.3f %9.3f    %s %.3f + read %.3f\n", name,
	       s.min / 1e3, s.med / 1e3, s.max / 1e3, part,
	       med_of(t, n, 1) / 1e3, med_of(t, n, 2) / 1e3);
}

static int frame_size(struct zb_opts *o, unsigned int i)
{
	unsigned int w = o->w[i], h = o->h[i];
	struct frame_paths p = { .zc = -1, .vg = -1, .pfd = -1, .vfd = -1 };
	struct run_times *t[2], warm;
	uint32_t *refs;
	double *ratio;
	struct zb_stat rs;
	int r, k, ret = -1;

	p.len = (size_t)w * h * 4;
	p.n = (unsigned int)((p.len + ZB_GRANT - 1) / ZB_GRANT);
	if (p.len % ZB_GRANT)
		return zb_fail("frame %ux%u is not whole 4 KiB pages", w, h);
	refs = calloc(p.n, sizeof(*refs));
	t[ZC] = calloc(o->reps, sizeof(struct run_times));
	t[COPY] = calloc(o->reps, sizeof(struct run_times));
	ratio = calloc(o->reps, sizeof(double));
	if (!refs || !t[ZC] || !t[COPY] || !ratio)
		return zb_fail("out of memory");
	if (zc_agent_grant(&o->ctx, p.n, ZB_SEED, 0, 0, refs, &p.domu_id)) {
		ret = zb_fail("the domU could not grant %u pages", p.n);
		goto out;
	}
	if (setup(o, w, h, refs, &p))
		goto out_release;

	printf("\n== CPU consumer, per frame: %ux%u XRGB8888, %zu bytes = %u grants of domU %d ==\n",
	       w, h, p.len, p.n, o->ctx.domu);
	printf("   %d frames per run; warm-up, then %d runs of each path, interleaved, order alternated\n",
	       o->frames, o->reps);
	printf("   (each frame re-stamped by the domU on every page; the consumer's sum of every byte\n"
	       "   checked on every frame, the first frame of each run byte by byte)\n");
	if (run(o, &p, ZC, &warm) || run(o, &p, COPY, &warm))
		goto out_teardown;
	for (r = 0; r < o->reps; r++)
		for (k = 0; k < 2; k++) {
			int path = k ^ zb_b_first(r);

			if (run(o, &p, path, &t[path][r]))
				goto out_teardown;
		}
	for (r = 0; r < o->reps; r++)
		ratio[r] = t[COPY][r].tot / t[ZC][r].tot;
	zb_stat(ratio, o->reps, &rs);
	printf("   path       ms/frame:  min    median       max    parts, median ms\n");
	row("zero-copy", t[ZC], o->reps, "sync");
	row("copy", t[COPY], o->reps, "memcpy");
	zb_res.frame_ratio[i] = med_of(t[COPY], o->reps, 0) / med_of(t[ZC], o->reps, 0);
	printf("   copy / zero-copy: %.2fx (median of medians; per run pair %.2fx .. %.2fx)\n",
	       zb_res.frame_ratio[i], rs.min, rs.max);
	ret = 0;
out_teardown:
	if (teardown(&p))
		ret = -1;
out_release:
	if (zc_agent_release(&o->ctx, p.domu_id))
		ret = zb_fail("the domU could not release its frame");
out:
	free(refs);
	free(t[ZC]);
	free(t[COPY]);
	free(ratio);
	return ret;
}

int zb_frame(struct zb_opts *o)
{
	unsigned int i;

	for (i = 0; i < o->nsizes; i++)
		if (frame_size(o, i))
			return -1;
	if (zc_counters_idle(5000) != ZC_PASS)
		return zb_fail("frame part: the driver's counters are not back to 0");
	return 0;
}
