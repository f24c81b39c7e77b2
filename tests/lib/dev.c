// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device helpers (libdrm), debugfs counters and dom0-local grants.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>

#include "zctest.h"
#include "zc_priv.h"

#define ZC_DRIVER_NAME "xen_drm_zcopy"

/* first /dev/dri node of the given prefix whose driver is 'name' */
static int open_by_driver(const char *prefix, const char *name)
{
	DIR *d = opendir("/dev/dri");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		char path[300];
		drmVersionPtr v;
		int fd;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && v->name && !strcmp(v->name, name))
			found = fd;
		else
			close(fd);
		if (v)
			drmFreeVersion(v);
	}
	closedir(d);
	if (found < 0)
		errno = ENODEV;
	return found;
}

int zc_open_render(void)
{
	return open_by_driver("renderD", ZC_DRIVER_NAME);
}

int zc_open_primary(void)
{
	int fd = drmOpen(ZC_DRIVER_NAME, NULL);

	if (fd < 0) {
		errno = fd < -1 ? -fd : ENODEV;
		return -1;
	}
	return fd;
}

int zc_open_vgem(void)
{
	int fd = open_by_driver("renderD", "vgem");

	if (fd >= 0)
		return fd;
	fd = drmOpen("vgem", NULL);
	if (fd < 0) {
		errno = ENODEV;
		return -1;
	}
	return fd;
}

int zc_ioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg);
}

/* ------------------------------------------------------------ counters */

static const char *counters_path(void)
{
	const char *p = getenv("ZC_COUNTERS");

	return p ? p : "/sys/kernel/debug/xen_zcopy/counters";
}

long zc_counter(const char *name)
{
	FILE *f = fopen(counters_path(), "r");
	char key[64];
	long val, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name)) {
			ret = val;
			break;
		}
	fclose(f);
	return ret;
}

int zc_counters_idle(int timeout_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char busy[512];
	int waited = 0;

	for (;;) {
		FILE *f = fopen(counters_path(), "r");
		char key[64];
		long val;
		int n = 0;

		if (!f) {
			zc_diag("counters: cannot open %s: %s", counters_path(),
				strerror(errno));
			return ZC_FAIL;
		}
		busy[0] = 0;
		while (fscanf(f, "%63s %ld", key, &val) == 2) {
			n++;
			if (val)
				snprintf(busy + strlen(busy), sizeof(busy) - strlen(busy),
					 " %s=%ld", key, val);
		}
		fclose(f);
		if (!n) {
			zc_diag("counters: %s holds no counters", counters_path());
			return ZC_FAIL;
		}
		if (!busy[0])
			return ZC_PASS;
		if (waited >= timeout_ms) {
			zc_diag("counters not idle after %d ms:%s", timeout_ms, busy);
			return ZC_FAIL;
		}
		nanosleep(&ts, NULL);
		waited += 10;
	}
}

/* ------------------------------------------------------------ local grants */

struct zc_local {
	struct zc_gnt g;
};

void *zc_self_grant(unsigned int npages, uint32_t seed, int to, int ro,
		    uint32_t *refs, struct zc_local **h)
{
	struct zc_local *l = calloc(1, sizeof(*l));
	char err[160];

	*h = NULL;
	if (!l)
		return NULL;
	if (zc_gnt_alloc(&l->g, npages, to, ro, err, sizeof(err))) {
		zc_diag("self_grant: %s", err);
		free(l);
		return NULL;
	}
	zc_grants_fill(l->g.map, 0, (size_t)npages * ZC_PAGE, seed);
	memcpy(refs, l->g.refs, npages * sizeof(uint32_t));
	*h = l;
	return l->g.map;
}

void *zc_self_map(int from, const uint32_t *refs, unsigned int n, int ro,
		  struct zc_local **h)
{
	struct zc_local *l = calloc(1, sizeof(*l));
	char err[160];

	*h = NULL;
	if (!l)
		return NULL;
	if (zc_gnt_map(&l->g, from, refs, n, ro, err, sizeof(err))) {
		zc_diag("self_map: %s", err);
		free(l);
		return NULL;
	}
	*h = l;
	return l->g.map;
}

void zc_local_free(struct zc_local *h)
{
	if (!h)
		return;
	zc_gnt_free(&h->g);
	free(h);
}
