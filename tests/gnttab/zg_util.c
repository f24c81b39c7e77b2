// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zc-gnttab helpers: fd leak checks, vgem buffers, dma-buf CPU mappings.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>

#include "zg_test.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int zg_fds_take(struct zg_fds *s)
{
	int fds[1024], n = 0, i;
	struct dirent *e;
	size_t len = 0;
	DIR *d;

	s->text[0] = 0;
	d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while ((e = readdir(d)) && n < 1024) {
		if (e->d_name[0] == '.')
			continue;
		if (atoi(e->d_name) == dirfd(d))
			continue;
		fds[n++] = atoi(e->d_name);
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof(fds[0]), cmp_int);
	for (i = 0; i < n; i++) {
		char path[64], target[PATH_MAX];
		ssize_t t;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		t = readlink(path, target, sizeof(target) - 1);
		if (t < 0)
			continue;	/* closed meanwhile: the opendir fd */
		target[t] = 0;
		/* the agent's xenstore connection opens on first use: not ours */
		if (!strncmp(target, "socket:", 7))
			continue;
		len += (size_t)snprintf(s->text + len, sizeof(s->text) - len, "%d -> %s; ",
					fds[i], target);
		if (len >= sizeof(s->text))
			return -1;
	}
	return 0;
}

int zg_fds_same(const struct zg_fds *before, const struct zg_fds *after)
{
	if (!strcmp(before->text, after->text))
		return 1;
	zc_diag("fds before: %s", before->text);
	zc_diag("fds after:  %s", after->text);
	return 0;
}

int zg_fds_have(const char *prefix)
{
	struct zg_fds s;

	if (zg_fds_take(&s))
		return -1;
	for (const char *p = s.text; (p = strstr(p, "-> ")); p += 3)
		if (!strncmp(p + 3, prefix, strlen(prefix)))
			return 1;
	return 0;
}

int zg_vgem_open(void)
{
	int fd = drmOpen("vgem", NULL);

	if (fd < 0) {
		zc_diag("drmOpen(vgem): %d (is vgem loaded?)", fd);
		return -1;
	}
	return fd;
}

int zg_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close cl = { .handle = handle };

	return drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) ? errno : 0;
}

int zg_prime_import(int fd, int dmabuf, uint32_t *handle)
{
	*handle = 0;
	return drmPrimeFDToHandle(fd, dmabuf, handle) ? errno : 0;
}

void zg_vbuf_free(struct zg_vbuf *b)
{
	if (b->map)
		munmap(b->map, b->size);
	b->map = NULL;
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->handle)
		zg_gem_close(b->vgem, b->handle);
	b->handle = 0;
}

int zg_vbuf_new(struct zg_vbuf *b, int vgem, unsigned int width, unsigned int height)
{
	struct drm_mode_create_dumb cd = { .width = width, .height = height, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	void *m;

	memset(b, 0, sizeof(*b));
	b->vgem = vgem;
	b->fd = -1;
	if (drmIoctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd)) {
		zc_diag("vgem CREATE_DUMB: %s", zc_errname(errno));
		return -1;
	}
	b->handle = cd.handle;
	b->size = cd.size;
	/* displ_be's DumbZCopyBack: DRM_CLOEXEC only, so the dma-buf is O_RDONLY */
	if (drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC, &b->fd)) {
		zc_diag("vgem PRIME_HANDLE_TO_FD: %s", zc_errname(errno));
		b->fd = -1;
		goto err;
	}
	md.handle = cd.handle;
	if (drmIoctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
		zc_diag("vgem MAP_DUMB: %s", zc_errname(errno));
		goto err;
	}
	m = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
	if (m == MAP_FAILED) {
		zc_diag("vgem mmap: %s", zc_errname(errno));
		goto err;
	}
	b->map = m;
	return 0;
err:
	zg_vbuf_free(b);
	return -1;
}

unsigned char *zg_dmabuf_map(int fd, size_t len, int writable)
{
	struct dma_buf_sync s = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	void *m;

	m = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		zc_diag("mmap of the dma-buf: %s", zc_errname(errno));
		return NULL;
	}
	if (writable)
		s.flags |= DMA_BUF_SYNC_WRITE;
	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) {
		zc_diag("DMA_BUF_IOCTL_SYNC start: %s", zc_errname(errno));
		munmap(m, len);
		return NULL;
	}
	return m;
}

void zg_dmabuf_unmap(int fd, unsigned char *m, size_t len, int writable)
{
	struct dma_buf_sync s = { DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ };

	if (!m)
		return;
	if (writable)
		s.flags |= DMA_BUF_SYNC_WRITE;
	ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	munmap(m, len);
}

double zg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t zg_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}
