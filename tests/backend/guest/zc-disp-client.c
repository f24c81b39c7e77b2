// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zc-disp-client: the display guest's KMS client. On the upstream frontend
 * (drm_xen_front, driver "xendrm-du") it draws known, changing frames
 * (tests/backend/zcd_pattern.h, frame k has seed first + k) into two dumb
 * buffers and page-flips between them, waiting for each flip event before
 * the next flip (the frontend WARNs on a flip while one is pending).
 *
 *   zc-disp-client [--frames N] [--seed S] [--be-alloc] [--wait-card SEC]
 *                  [--progress XSPATH] [--cycles N]
 *
 * Front-alloc: the guest draws through the frontend's own mmap of its
 * dumb buffers (guest pages). Be-alloc: the pages are dom0's, granted to us
 * by the backend; the frontend maps them with vm_map_pages(), which a PV
 * guest cannot store through (SIGBUS), so the client draws through gntdev
 * mappings of the same grants instead, whose refs the test backend
 * publishes (zc-displ-be --publish-refs) at
 * /local/domain/0/backend/vdispl/<us>/0/zc-test/dbuf<N>.
 *
 * --frames 0 flips until killed (the xl destroy case). Progress (frames
 * flipped so far) goes to xenstore every 8 frames when --progress is given.
 * --cycles N is the soak (tests/cases/81_soak.c): nothing is drawn; with the
 * first buffer on screen, N times: a new dumb buffer (DBUF_CREATE), its FB
 * (FB_ATTACH), a flip to it and one back (each waiting for its event),
 * RmFB (FB_DETACH) and close (DBUF_DESTROY): the display cases' sequence of
 * one buffer's life, over and over. RESULT then also has cycles=N and
 * cycle_ms_avg=... .
 *
 * Last line: "RESULT frames=... first_seed=... last_seed=... flip_ms_avg=...
 * flip_ms_max=... destroy_ms_max=..."; exit status 0 when every step worked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "zc_priv.h"
#include "zcd_pattern.h"

#define BE_GRANT 4096u

struct buf {
	uint32_t handle, fb, pitch;
	uint64_t size;
	void *map;		/* where we draw */
	int gnt_fd;		/* be-alloc: gntdev */
	uint32_t nrefs;
};

static int fd = -1;
static struct zc_xs xs = { .fd = -1 };
static int nomap;	/* --cycles: the buffers are not drawn into */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define LOG(...) do { printf("zc-disp-client: " __VA_ARGS__); putchar('\n'); fflush(stdout); } while (0)

static int open_card(int wait_s)
{
	double end = now_ms() + wait_s * 1000.0;

	do {
		DIR *d = opendir("/dev/dri");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char path[300];
			drmVersionPtr v;
			int f;

			if (strncmp(e->d_name, "card", 4))
				continue;
			snprintf(path, sizeof(path), "/dev/dri/%s", e->d_name);
			f = open(path, O_RDWR | O_CLOEXEC);
			if (f < 0)
				continue;
			v = drmGetVersion(f);
			if (v && !strcmp(v->name, "xendrm-du")) {
				LOG("%s: %s", path, v->name);
				drmFreeVersion(v);
				closedir(d);
				return f;
			}
			drmFreeVersion(v);
			close(f);
		}
		if (d)
			closedir(d);
		usleep(100 * 1000);
	} while (now_ms() < end);
	LOG("no xendrm-du card within %d s", wait_s);
	return -1;
}

/* be-alloc: map the grants of dumb number idx through gntdev */
static int map_refs(struct buf *b, int idx)
{
	char path[128], val[4096], *s, *end;
	struct zc_gnt g;
	uint32_t *refs, i, pitch, n;
	char err[160];
	int me, tries;

	if (zc_xs_read(&xs, "domid", val, sizeof(val)) < 0)
		return -1;
	me = atoi(val);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vdispl/%d/0/zc-test/dbuf%d", me, idx);
	for (tries = 0; zc_xs_read(&xs, path, val, sizeof(val)) < 0; tries++) {
		if (tries > 50) {
			LOG("be-alloc: no refs at %s: %s", path, strerror(errno));
			return -1;
		}
		usleep(100 * 1000);
	}
	pitch = (uint32_t)strtoul(val, &end, 10);
	n = (uint32_t)strtoul(end, &s, 10);
	refs = calloc(n, sizeof(*refs));
	if (!refs || !n)
		return -1;
	for (i = 0; i < n; i++) {
		refs[i] = (uint32_t)strtoul(s, &end, 10);
		if (end == s) {
			LOG("be-alloc: %s: %u refs listed, %u given", path, n, i);
			free(refs);
			return -1;
		}
		s = end;
	}
	if (pitch != b->pitch)
		LOG("be-alloc: backend pitch %u, frontend pitch %u", pitch, b->pitch);
	if (zc_gnt_map(&g, 0, refs, n, 0, err, sizeof(err))) {
		LOG("be-alloc: gntdev map of %u refs of dom0: %s", n, err);
		free(refs);
		return -1;
	}
	free(g.refs);
	free(refs);
	b->map = g.map;
	b->gnt_fd = g.fd;
	b->nrefs = n;
	LOG("be-alloc: dumb %d: %u grants of dom0 mapped through gntdev", idx, n);
	return 0;
}

static int make_buf(struct buf *b, int idx, uint32_t w, uint32_t h, int be_alloc)
{
	struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };

	b->gnt_fd = -1;
	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd)) {
		LOG("CREATE_DUMB %ux%u: %s", w, h, strerror(errno));
		return -1;
	}
	b->handle = cd.handle;
	b->pitch = cd.pitch;
	b->size = cd.size;
	if (nomap) {
		/* the soak: nothing to draw */
	} else if (be_alloc) {
		if (map_refs(b, idx))
			return -1;
	} else {
		md.handle = cd.handle;
		if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
			LOG("MAP_DUMB: %s", strerror(errno));
			return -1;
		}
		b->map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			      (off_t)md.offset);
		if (b->map == MAP_FAILED) {
			b->map = NULL;
			LOG("mmap of the dumb buffer: %s", strerror(errno));
			return -1;
		}
	}
	handles[0] = cd.handle;
	pitches[0] = cd.pitch;
	if (drmModeAddFB2(fd, w, h, DRM_FORMAT_XRGB8888, handles, pitches, offsets, &b->fb, 0)) {
		LOG("AddFB2: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* unmap, remove the FB (FB_DETACH), close (DBUF_DESTROY): ms it took */
static double free_buf(struct buf *b)
{
	struct drm_gem_close c = { .handle = b->handle };
	double t0;

	if (b->map) {
		if (b->gnt_fd >= 0)
			munmap(b->map, (size_t)b->nrefs * BE_GRANT);
		else
			munmap(b->map, b->size);
	}
	if (b->gnt_fd >= 0)
		close(b->gnt_fd);
	if (b->fb)
		drmModeRmFB(fd, b->fb);
	t0 = now_ms();
	if (b->handle)
		drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
	return now_ms() - t0;
}

static int flipped;

static void on_flip(int f, unsigned int a, unsigned int b, unsigned int c, void *d)
{
	(void)f; (void)a; (void)b; (void)c; (void)d;
	flipped = 1;
}

/* page-flip to fb and wait for its event: ms taken, or -1 */
static double flip_to(uint32_t crtc, uint32_t fb)
{
	drmEventContext ev = { .version = 2, .page_flip_handler = on_flip };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double t0 = now_ms();

	flipped = 0;
	if (drmModePageFlip(fd, crtc, fb, DRM_MODE_PAGE_FLIP_EVENT, NULL)) {
		LOG("PageFlip to FB %u: %s", fb, strerror(errno));
		return -1;
	}
	while (!flipped) {
		if (poll(&p, 1, 5000) != 1) {
			LOG("no flip event for FB %u within 5 s", fb);
			return -1;
		}
		drmHandleEvent(fd, &ev);
	}
	return now_ms() - t0;
}

/* --cycles: one buffer's whole life, n times, while shown is on screen */
static int soak(uint32_t crtc, const struct buf *shown, long n, uint32_t w, uint32_t h,
		int be_alloc, double *dmax)
{
	double t0 = now_ms(), d;
	long k;

	for (k = 1; k <= n; k++) {
		struct buf b;

		memset(&b, 0, sizeof(b));
		if (make_buf(&b, 2, w, h, be_alloc) || flip_to(crtc, b.fb) < 0 ||
		    flip_to(crtc, shown->fb) < 0) {
			LOG("soak: cycle %ld of %ld failed", k, n);
			free_buf(&b);
			return -1;
		}
		d = free_buf(&b);
		if (d > *dmax)
			*dmax = d;
		if (!(k % 1000))
			LOG("soak: %ld cycles, %.1f ms each", k, (now_ms() - t0) / (double)k);
	}
	printf("RESULT cycles=%ld cycle_ms_avg=%.2f destroy_ms_max=%.2f\n", n,
	       n ? (now_ms() - t0) / (double)n : 0.0, *dmax);
	return 0;
}

int main(int argc, char **argv)
{
	long frames = 30, cycles = -1, k = 0;
	uint32_t seed = 1, crtc = 0, conn_id = 0, w, h;
	const char *progress = NULL;
	int be_alloc = 0, wait_s = 30, i, rc = 1;
	double fsum = 0, fmax = 0, dmax = 0, d;
	drmEventContext ev = { .version = 2, .page_flip_handler = on_flip };
	drmModeResPtr res = NULL;
	drmModeConnectorPtr conn = NULL;
	drmModeModeInfo mode;
	struct buf bufs[2];

	memset(bufs, 0, sizeof(bufs));
	bufs[0].gnt_fd = bufs[1].gnt_fd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			frames = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--be-alloc"))
			be_alloc = 1;
		else if (!strcmp(argv[i], "--wait-card") && i + 1 < argc)
			wait_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--progress") && i + 1 < argc)
			progress = argv[++i];
		else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
			cycles = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: zc-disp-client [--frames N] [--seed S] [--be-alloc] [--wait-card SEC] [--progress XSPATH] [--cycles N]\n");
			return 2;
		}
	}
	nomap = cycles >= 0;
	if (zc_xs_open(&xs)) {
		LOG("xenstore: %s", strerror(errno));
		return 1;
	}
	fd = open_card(wait_s);
	if (fd < 0)
		return 1;
	res = drmModeGetResources(fd);
	for (i = 0; res && i < res->count_connectors && !conn_id; i++) {
		conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn && conn->connection == DRM_MODE_CONNECTED && conn->count_modes) {
			drmModeEncoderPtr e = drmModeGetEncoder(fd, conn->encoders[0]);
			int j;

			conn_id = conn->connector_id;
			mode = conn->modes[0];
			for (j = 0; e && j < res->count_crtcs; j++)
				if (e->possible_crtcs & (1u << j)) {
					crtc = res->crtcs[j];
					break;
				}
			drmModeFreeEncoder(e);
		} else {
			drmModeFreeConnector(conn);
			conn = NULL;
		}
	}
	if (!conn_id || !crtc) {
		LOG("no connected connector with a CRTC");
		goto out;
	}
	w = mode.hdisplay;
	h = mode.vdisplay;
	LOG("connector %u, CRTC %u, mode %ux%u, %s buffers, %ld frames from seed %u", conn_id,
	    crtc, w, h, be_alloc ? "backend-allocated" : "frontend-allocated", frames, seed);
	for (i = 0; i < 2; i++)
		if (make_buf(&bufs[i], i, w, h, be_alloc))
			goto out;
	if (!nomap)
		zcd_draw(bufs[0].map, bufs[0].pitch, seed, w, h);
	if (drmModeSetCrtc(fd, crtc, bufs[0].fb, 0, 0, &conn_id, 1, &mode)) {
		LOG("SetCrtc: %s", strerror(errno));
		goto out;
	}
	if (nomap) {
		if (soak(crtc, &bufs[0], cycles, w, h, be_alloc, &dmax))
			goto out;
		if (drmModeSetCrtc(fd, crtc, 0, 0, 0, NULL, 0, NULL))
			LOG("SetCrtc off: %s", strerror(errno));
		rc = 0;
		goto out;
	}
	for (k = 1; !frames || k <= frames; k++) {
		struct buf *b = &bufs[k & 1];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t0;

		zcd_draw(b->map, b->pitch, seed + (uint32_t)k, w, h);
		t0 = now_ms();
		flipped = 0;
		if (drmModePageFlip(fd, crtc, b->fb, DRM_MODE_PAGE_FLIP_EVENT, NULL)) {
			LOG("PageFlip %ld: %s", k, strerror(errno));
			goto out;
		}
		while (!flipped) {
			if (poll(&p, 1, 5000) != 1) {
				LOG("no flip event for frame %ld within 5 s", k);
				goto out;
			}
			drmHandleEvent(fd, &ev);
		}
		d = now_ms() - t0;
		fsum += d;
		if (d > fmax)
			fmax = d;
		if (progress && !(k % 8)) {
			char v[32];

			snprintf(v, sizeof(v), "%ld", k);
			zc_xs_write(&xs, progress, v);
		}
	}
	k--;
	if (drmModeSetCrtc(fd, crtc, 0, 0, 0, NULL, 0, NULL))
		LOG("SetCrtc off: %s", strerror(errno));
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		d = free_buf(&bufs[i]);
		if (d > dmax)
			dmax = d;
	}
	if (!rc && !nomap)
		printf("RESULT frames=%ld first_seed=%u last_seed=%u flip_ms_avg=%.2f flip_ms_max=%.2f destroy_ms_max=%.2f\n",
		       k, seed, seed + (uint32_t)k, k ? fsum / (double)k : 0.0, fmax, dmax);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
	close(fd);
	return rc;
}
