// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench: clocks, statistics, the consumer's read, expected frames, vgem
 * dumb buffers and the ftrace switch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "bench.h"

struct zb_results zb_res;

double zb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void zb_stat(double *v, int n, struct zb_stat *s)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int zb_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("zcbench: FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return -1;
}

/*
 * Not vectorised by hand, not volatile: the compiler may use SSE, as any
 * consumer would, but must load every word since the sum is checked.
 */
uint64_t zb_sum64(const void *p, size_t len)
{
	const uint64_t *w = p;
	uint64_t s0 = 0, s1 = 0;
	size_t i, n = len / 8;

	for (i = 0; i + 1 < n; i += 2) {
		s0 += w[i];
		s1 += w[i + 1];
	}
	if (i < n)
		s0 += w[i];
	return s0 + s1;
}

void zb_expect_init(struct zb_expect *e, size_t len, uint32_t seed)
{
	uint64_t *buf = malloc(len);
	unsigned int k;

	if (!buf) {
		fprintf(stderr, "zcbench: out of memory\n");
		exit(1);
	}
	zc_fill(buf, len, seed);
	e->grants = (unsigned int)(len / ZB_GRANT);
	e->rest = zb_sum64(buf, len);
	for (k = 0; k < e->grants; k++)
		e->rest -= buf[(size_t)k * ZB_GRANT / 8];
	free(buf);
}

uint64_t zb_expect_sum(const struct zb_expect *e, uint32_t frame)
{
	uint64_t s = e->rest;
	unsigned int k;

	for (k = 0; k < e->grants; k++)
		s += zc_mark_word(frame, k);
	return s;
}

void zb_expect_frame(void *buf, size_t len, uint32_t seed, uint32_t frame)
{
	unsigned int k;

	zc_fill(buf, len, seed);
	for (k = 0; k < len / ZB_GRANT; k++) {
		uint64_t w = zc_mark_word(frame, k);

		memcpy((char *)buf + (size_t)k * ZB_GRANT, &w, sizeof(w));
	}
}

int zb_vgem_card(void)
{
	int fd = drmOpen("vgem", NULL);

	if (fd < 0)
		errno = fd < -1 ? -fd : ENODEV;
	return fd;
}

int zb_dumb_create(int vg, unsigned int w, unsigned int h, int map, struct zb_dumb *d)
{
	struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };

	memset(d, 0, sizeof(*d));
	if (zc_ioctl(vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -1;
	d->handle = cd.handle;
	d->size = cd.size;
	if (!map)
		return 0;
	md.handle = cd.handle;
	if (zc_ioctl(vg, DRM_IOCTL_MODE_MAP_DUMB, &md))
		goto fail;
	d->map = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, vg, (off_t)md.offset);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		goto fail;
	}
	return 0;
fail:
	zb_gem_close(vg, d->handle);
	return -1;
}

void zb_dumb_destroy(int vg, struct zb_dumb *d)
{
	if (d->map)
		munmap(d->map, d->size);
	if (d->handle)
		zb_gem_close(vg, d->handle);
	memset(d, 0, sizeof(*d));
}

void zb_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	zc_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
}

int zb_same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

void zb_trace(int on)
{
	static int fd = -2;
	const char *e;

	if (fd == -2) {
		e = getenv("ZC_BENCH_TRACE");
		fd = e && !strcmp(e, "1") ?
		     open("/sys/kernel/debug/tracing/tracing_on", O_WRONLY | O_CLOEXEC) : -1;
	}
	if (fd >= 0 && write(fd, on ? "1" : "0", 1) != 1)
		perror("zcbench: tracing_on");
}
