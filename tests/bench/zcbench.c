// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench: what a display backend pays to get a guest's frame into a
 * buffer its display driver can scan out, with and without xen_drm_zcopy,
 * measured side by side in one boot.
 *
 * The domU (tests/agent) grants a framebuffer to dom0, as a displif
 * frontend does. Then, for the same frame:
 *
 *  copy       what a backend does without zero-copy: map the guest's grants
 *             with gntdev, allocate its own scan-out buffer (a vgem dumb
 *             buffer stands in for the KMS driver's), and copy every frame
 *             into it;
 *  zero-copy  FROM_REFS, PRIME export, import into vgem: the scan-out buffer
 *             *is* the guest's memory. Per frame, the only work left is the
 *             cache maintenance a CPU consumer brackets its access with
 *             (DMA_BUF_IOCTL_SYNC); a DMA scan-out needs not even that.
 *
 * Both paths check that the scan-out buffer holds the guest's pixels.
 * Times are medians of wall-clock samples in dom0 (QEMU TCG: absolute
 * numbers are slow, the ratios are what to read).
 *
 *   zcbench --domu ID [--frames N] [--size WxH] ...
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/dma-buf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "zctest.h"

#define BPP		32
#define GRANT		4096u
#define MAX_FRAMES	1000
#define SEED		0x5eed

struct result {
	double setup_ms;	/* buffer set-up, once per buffer */
	double frame_ms;	/* median per-frame work */
	double teardown_ms;	/* release, including WAIT_FREE for zero-copy */
	size_t copied;		/* bytes copied per frame */
	size_t ram;		/* dom0 RAM allocated per buffer */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A vgem dumb buffer, exported and mapped: the backend's scan-out buffer. */
static int vgem_dumb(int vg, unsigned int w, unsigned int h, uint32_t *handle,
		     int *pfd, void **map, size_t *size)
{
	struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = BPP };
	struct drm_prime_handle ph = { 0 };

	if (zc_ioctl(vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -1;
	ph.handle = cd.handle;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	if (zc_ioctl(vg, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		return -1;
	*map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, ph.fd, 0);
	if (*map == MAP_FAILED) {
		close(ph.fd);
		return -1;
	}
	*handle = cd.handle;
	*pfd = ph.fd;
	*size = cd.size;
	return 0;
}

static void gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	zc_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
}

static int bench_copy(int domu, const uint32_t *refs, unsigned int n,
		      unsigned int w, unsigned int h, int frames,
		      struct result *r)
{
	size_t len = (size_t)w * h * BPP / 8, dsize;
	double t0, *t = calloc(frames, sizeof(*t));
	struct zc_local *gh;
	uint32_t vh;
	void *dst;
	int vg, vfd, i;
	const void *src;

	/* render nodes refuse MODE_CREATE_DUMB: the backend uses the card */
	vg = drmOpen("vgem", NULL);
	if (!t || vg < 0)
		return -1;
	t0 = now_ms();
	src = zc_self_map(domu, refs, n, 1, &gh);
	if (!src || vgem_dumb(vg, w, h, &vh, &vfd, &dst, &dsize)) {
		fprintf(stderr, "zcbench: copy set-up: %s\n", strerror(errno));
		return -1;
	}
	r->setup_ms = now_ms() - t0;
	for (i = 0; i < frames; i++) {
		t0 = now_ms();
		memcpy(dst, src, len);
		t[i] = now_ms() - t0;
	}
	r->frame_ms = median(t, frames);
	r->copied = len;
	r->ram = dsize;
	if (zc_verify(dst, len, SEED)) {
		fprintf(stderr, "zcbench: copy: scan-out buffer does not hold the frame\n");
		return -1;
	}
	t0 = now_ms();
	munmap(dst, dsize);
	close(vfd);
	gem_close(vg, vh);
	zc_local_free(gh);
	r->teardown_ms = now_ms() - t0;
	close(vg);
	free(t);
	return 0;
}

static int bench_zcopy(int domu, const uint32_t *refs, unsigned int n,
		       unsigned int w, unsigned int h, int frames,
		       struct result *r)
{
	struct drm_xen_zcopy_from_refs fr = {
		.flags = XEN_ZCOPY_FROM_REFS_DUMB,
		.domid = domu,
		.refs = (uintptr_t)refs,
		.num_refs = n,
		.width = w,
		.height = h,
		.bpp = BPP,
	};
	struct drm_xen_zcopy_wait_free wf = { .timeout_ms = 5000 };
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct dma_buf_sync sync;
	size_t len = (size_t)w * h * BPP / 8;
	double t0, *t = calloc(frames, sizeof(*t));
	int fd, vg, i, ret;
	void *m;

	fd = zc_open_render();
	vg = zc_open_vgem();
	if (!t || fd < 0 || vg < 0)
		return -1;
	t0 = now_ms();
	if (zc_ioctl(fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr))
		goto fail;
	ph.handle = fr.handle;
	if (zc_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		goto fail;
	/* the display driver imports it: attach + DMA map for its device */
	{
		struct drm_prime_handle imp = { .fd = ph.fd };

		if (zc_ioctl(vg, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp))
			goto fail;
		r->setup_ms = now_ms() - t0;
		for (i = 0; i < frames; i++) {
			t0 = now_ms();
			sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
			ret = ioctl(ph.fd, DMA_BUF_IOCTL_SYNC, &sync);
			sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
			ret |= ioctl(ph.fd, DMA_BUF_IOCTL_SYNC, &sync);
			t[i] = now_ms() - t0;
			if (ret)
				goto fail;
		}
		r->frame_ms = median(t, frames);
		r->copied = 0;
		r->ram = 0;
		/* the consumer sees the guest's pixels: same frames, no copy */
		m = mmap(NULL, fr.size, PROT_READ, MAP_SHARED, ph.fd, 0);
		if (m == MAP_FAILED)
			goto fail;
		if (zc_verify(m, len, SEED)) {
			fprintf(stderr, "zcbench: zero-copy: import does not hold the frame\n");
			return -1;
		}
		munmap(m, fr.size);
		t0 = now_ms();
		gem_close(vg, imp.handle);
	}
	close(ph.fd);
	gem_close(fd, fr.handle);
	wf.wait_token = fr.wait_token;
	ret = zc_ioctl(fd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &wf);
	if (ret && errno != ENOENT)
		goto fail;
	r->teardown_ms = now_ms() - t0;
	close(vg);
	close(fd);
	free(t);
	return 0;
fail:
	fprintf(stderr, "zcbench: zero-copy: %s\n", strerror(errno));
	return -1;
}

static void row(const char *name, const struct result *r)
{
	printf("  %-10s %10.2f %12.3f %12.2f %14zu %14zu\n", name, r->setup_ms,
	       r->frame_ms, r->teardown_ms, r->copied, r->ram);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static int bench_one(struct zc_ctx *ctx, unsigned int w, unsigned int h,
		     int frames)
{
	size_t len = (size_t)w * h * BPP / 8;
	unsigned int n = (len + GRANT - 1) / GRANT;
	struct result c = { 0 }, z = { 0 };
	uint32_t *refs = calloc(n, sizeof(*refs));
	int id;

	if (!refs || zc_agent_grant(ctx, n, SEED, 0, 0, refs, &id)) {
		fprintf(stderr, "zcbench: the domU could not grant %u pages\n", n);
		return -1;
	}
	/* interleave: both paths see the same machine state */
	if (bench_copy(ctx->domu, refs, n, w, h, frames, &c) ||
	    bench_zcopy(ctx->domu, refs, n, w, h, frames, &z))
		return -1;
	zc_agent_release(ctx, id);
	free(refs);

	printf("frame %ux%u XRGB8888: %zu bytes in %u grants, %d frames, domU %d -> dom0\n",
	       w, h, len, n, frames, ctx->domu);
	printf("  %-10s %10s %12s %12s %14s %14s\n", "path", "setup ms",
	       "ms/frame", "release ms", "copied/frame", "dom0 RAM/buf");
	row("copy", &c);
	row("zero-copy", &z);
	printf("  ratio copy/zero-copy: per-frame %.1fx, set-up %.2fx, release %.2fx; "
	       "%zu fewer bytes copied per frame, %zu fewer bytes of dom0 RAM per buffer\n",
	       ratio(c.frame_ms, z.frame_ms), ratio(c.setup_ms, z.setup_ms),
	       ratio(c.teardown_ms, z.teardown_ms), c.copied - z.copied,
	       c.ram - z.ram);
	return zc_counters_idle(5000) == ZC_PASS ? 0 : -1;
}

static int parse_size(const char *s, unsigned int *w, unsigned int *h)
{
	return sscanf(s, "%ux%u", w, h) == 2 && *w && *h ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domu", required_argument, NULL, 'd' },
		{ "frames", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct zc_ctx ctx = { .domu = -1, .name = "bench" };
	unsigned int w[8], h[8];
	int frames = 30, nsizes = 0, i, c, ret = 0;

	while ((c = getopt_long(argc, argv, "d:f:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ctx.domu = atoi(optarg);
			break;
		case 'f':
			frames = atoi(optarg);
			break;
		case 's':
			if (nsizes < 8 && !parse_size(optarg, &w[nsizes], &h[nsizes])) {
				nsizes++;
				break;
			}
			/* fall through */
		default:
			fprintf(stderr, "usage: zcbench --domu ID [--frames N] [--size WxH]...\n");
			return 2;
		}
	}
	if (ctx.domu < 0 || frames < 1 || frames > MAX_FRAMES) {
		fprintf(stderr, "zcbench: need --domu and 1..%d frames\n", MAX_FRAMES);
		return 2;
	}
	if (!nsizes) {
		w[0] = 1920;
		h[0] = 1080;
		nsizes = 1;
	}
	for (i = 0; i < nsizes; i++)
		if (bench_one(&ctx, w[i], h[i], frames))
			ret = 1;
	return ret;
}
