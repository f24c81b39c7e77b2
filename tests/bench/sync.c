// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench, sync part: the cost of one DMA_BUF_IOCTL_SYNC (the bracket a
 * CPU consumer puts around its access) on a FROM_REFS buffer that vgem has
 * imported (attached and DMA-mapped for its device), against the buffer's
 * size. Where no mapping needs a sync (a coherent device, nothing bounced:
 * x86 PV) the driver skips the walk over the pages and the cost must not
 * grow with the size; where one does (arm64: vgem's platform device is not
 * DMA-coherent) every page is synced and the cost grows, legitimately.
 *
 * All sizes are set up at once; each run times o->calls calls (START and
 * END alternating) on every size, sizes in ascending order on even runs
 * and descending on odd ones. Each run also checks the data: the domU
 * stamps a new marker on every page, and the sum of every byte read
 * between a START and an END through vgem's import must be that frame's.
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

#define CHUNK 10	/* calls timed in one go */

struct sync_buf {
	unsigned int n;
	uint32_t handle, vh;
	int pfd;
	uint64_t size, token;
	void *view;
	struct zb_expect expect;
	double *t;		/* per-call us, per run */
};

static int sync_call(int fd, int k)
{
	struct dma_buf_sync s = {
		.flags = (k & 1 ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START) | DMA_BUF_SYNC_READ,
	};

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

static int buf_setup(struct zb_opts *o, int zc, int vg, const uint32_t *refs, struct sync_buf *b)
{
	struct drm_xen_zcopy_from_refs fr = {
		.domid = (uint32_t)o->ctx.domu,
		.refs = (uintptr_t)refs,
		.num_refs = b->n,
	};
	int vfd;

	if (zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr))
		return zb_fail("FROM_REFS of %u refs: %s", b->n, strerror(errno));
	b->handle = fr.handle;
	b->size = fr.size;
	b->token = fr.wait_token;
	if (drmPrimeHandleToFD(zc, fr.handle, DRM_CLOEXEC | DRM_RDWR, &b->pfd))
		return zb_fail("PRIME export: %s", strerror(errno));
	if (drmPrimeFDToHandle(vg, b->pfd, &b->vh))
		return zb_fail("vgem import: %s", strerror(errno));
	if (drmPrimeHandleToFD(vg, b->vh, DRM_CLOEXEC, &vfd))
		return zb_fail("vgem export of its import: %s", strerror(errno));
	if (!zb_same_file(vfd, b->pfd))
		return zb_fail("vgem's import is another dma-buf");
	b->view = mmap(NULL, b->size, PROT_READ, MAP_SHARED, vfd, 0);
	close(vfd);
	if (b->view == MAP_FAILED) {
		b->view = NULL;
		return zb_fail("mmap of vgem's import: %s", strerror(errno));
	}
	zb_expect_init(&b->expect, (size_t)b->n * ZB_GRANT, ZB_SEED);
	return 0;
}

static int buf_free(int zc, int vg, struct sync_buf *b)
{
	struct drm_xen_zcopy_wait_free wf = { .wait_token = b->token, .timeout_ms = 5000 };

	if (b->view)
		munmap(b->view, b->size);
	if (b->vh)
		zb_gem_close(vg, b->vh);
	if (b->pfd > 0)
		close(b->pfd);
	if (!b->handle)
		return 0;
	zb_gem_close(zc, b->handle);
	if (zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &wf) && errno != ENOENT)
		return zb_fail("WAIT_FREE: %s", strerror(errno));
	return 0;
}

/* the domU has stamped 'frame': read it between START and END */
static int check_frame(struct sync_buf *b, uint32_t frame)
{
	uint64_t sum;

	if (sync_call(b->pfd, 0))
		return zb_fail("SYNC START: %s", strerror(errno));
	sum = zb_sum64(b->view, (size_t)b->n * ZB_GRANT);
	if (sync_call(b->pfd, 1))
		return zb_fail("SYNC END: %s", strerror(errno));
	if (sum != zb_expect_sum(&b->expect, frame))
		return zb_fail("sync part: %u pages: the consumer read a wrong or stale frame %u",
			       b->n, frame);
	return 0;
}

static int time_calls(struct sync_buf *b, int calls, double *per_call)
{
	double t0 = zb_now_us();
	int k;

	for (k = 0; k < calls; k++)
		if (sync_call(b->pfd, k))
			return zb_fail("SYNC on %u pages: %s", b->n, strerror(errno));
	*per_call = (zb_now_us() - t0) / calls;
	return 0;
}

int zb_sync(struct zb_opts *o)
{
	struct sync_buf b[ZB_MAX_SIZES];
	unsigned int i, max = 0, ns = o->nsync;
	double lo = 0, hi = 0, warm;
	uint32_t *refs = NULL;
	int zc, vg, r, c, id = -1, ret = -1;
	int chunks = (o->calls + CHUNK - 1) / CHUNK;

	memset(b, 0, sizeof(b));
	for (i = 0; i < ns; i++)
		if (o->sync[i] > max)
			max = o->sync[i];
	if (!max)
		return 0;
	zc = zc_open_render();
	vg = zb_vgem_card();
	refs = calloc(max, sizeof(*refs));
	if (zc < 0 || vg < 0 || !refs)
		return zb_fail("open xen_drm_zcopy / vgem: %s", strerror(errno));
	if (zc_agent_grant(&o->ctx, max, ZB_SEED, 0, 0, refs, &id)) {
		zb_fail("the domU could not grant %u pages", max);
		goto out;
	}
	for (i = 0; i < ns; i++) {
		b[i].n = o->sync[i];
		b[i].t = calloc(o->reps, sizeof(double));
		if (!b[i].t) {
			zb_fail("out of memory");
			goto out;
		}
		if (buf_setup(o, zc, vg, refs, &b[i]))
			goto out;
		if (time_calls(&b[i], o->calls, &warm))
			goto out;
	}
	for (r = 0; r < o->reps; r++) {
		uint32_t frame = ++o->frame_no;

		if (zc_agent_mark(&o->ctx, id, frame)) {
			zb_fail("the domU could not stamp frame %u", frame);
			goto out;
		}
		for (i = 0; i < ns; i++)
			if (check_frame(&b[i], frame))
				goto out;
		/* chunks of CHUNK calls, the sizes in turn, orders alternated: a
		 * change of the host's load falls on every size alike */
		for (i = 0; i < ns; i++)
			b[i].t[r] = 0;
		for (c = 0; c < chunks; c++)
			for (i = 0; i < ns; i++) {
				struct sync_buf *s = &b[(c + r) & 1 ? ns - 1 - i : i];
				double per_call = 0;

				if (time_calls(s, CHUNK, &per_call))
					goto out;
				s->t[r] += per_call / chunks;
			}
	}
	printf("\n== DMA_BUF_IOCTL_SYNC on a buffer vgem imported: us per call, min / median / max of %d runs of %d calls ==\n",
	       o->reps, chunks * CHUNK);
	printf("   (START|READ and END|READ alternating, %d calls at a time, the sizes in turn; every run\n"
	       "   also reads a fresh frame between a START and an END through vgem's import and checks it)\n",
	       CHUNK);
	printf("   op     pages       min    median       max\n");
	for (i = 0; i < ns; i++) {
		struct zb_stat s;

		zb_stat(b[i].t, o->reps, &s);
		printf("   sync %6u %9.2f %9.2f %9.2f\n", b[i].n, s.min, s.med, s.max);
		if (!i || s.med < lo)
			lo = s.med;
		if (!i || s.med > hi)
			hi = s.med;
	}
	if (ns > 1) {
		/* least squares, median per call against pages: the cost of a
		 * walk over the pages, which must be ~0 where nothing is synced */
		double sx = 0, sy = 0, sxx = 0, sxy = 0;

		for (i = 0; i < ns; i++) {
			struct zb_stat st;

			zb_stat(b[i].t, o->reps, &st);
			sx += b[i].n;
			sy += st.med;
			sxx += (double)b[i].n * b[i].n;
			sxy += b[i].n * st.med;
		}
		printf("   least-squares slope: %.2f ns per page (per call)\n",
		       1e3 * (ns * sxy - sx * sy) / (ns * sxx - sx * sx));
		zb_res.sync_spread = hi / lo;
		zb_res.sync_lo = o->sync[0];
		zb_res.sync_hi = o->sync[ns - 1];
		printf("   largest / smallest median: %.2fx\n", hi / lo);
	}
	ret = 0;
out:
	for (i = 0; i < ns; i++) {
		if (buf_free(zc, vg, &b[i]))
			ret = -1;
		free(b[i].t);
	}
	if (id >= 0 && zc_agent_release(&o->ctx, id))
		ret = zb_fail("the domU could not release its pages");
	close(vg);
	close(zc);
	free(refs);
	if (!ret && zc_counters_idle(5000) != ZC_PASS)
		ret = zb_fail("sync part: the driver's counters are not back to 0");
	return ret;
}

/* 10 SYNC calls on n pages, traced (after 10 untraced), and a data check */
int zb_sync_profile(struct zb_opts *o, unsigned int n)
{
	struct sync_buf b = { .n = n };
	uint32_t *refs = calloc(n, sizeof(*refs));
	int zc = zc_open_render(), vg = zb_vgem_card(), id = -1, ret = -1;
	double per_call = 0;

	if (zc < 0 || vg < 0 || !refs)
		return zb_fail("open xen_drm_zcopy / vgem: %s", strerror(errno));
	if (zc_agent_grant(&o->ctx, n, ZB_SEED, 0, 0, refs, &id)) {
		zb_fail("the domU could not grant %u pages", n);
		goto out;
	}
	if (buf_setup(o, zc, vg, refs, &b) || time_calls(&b, 10, &per_call))
		goto out;
	zb_trace(1);
	ret = time_calls(&b, 10, &per_call);
	zb_trace(0);
	if (!ret && !zc_agent_mark(&o->ctx, id, ++o->frame_no))
		ret = check_frame(&b, o->frame_no);
	if (!ret)
		printf("profile sync %u pages: %.2f us per call (traced), data checked\n", n, per_call);
out:
	if (buf_free(zc, vg, &b))
		ret = -1;
	if (id >= 0 && zc_agent_release(&o->ctx, id))
		ret = zb_fail("the domU could not release its pages");
	close(vg);
	close(zc);
	free(refs);
	return ret;
}
