// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libxenzcopy-gnttab: find and open the xen_drm_zcopy render node, and say
 * on stderr whether zero-copy is active.
 *
 * Every /dev/dri/renderD* node is opened and asked for its driver name
 * (DRM_IOCTL_VERSION, what drmGetVersion() does; no libdrm needed), then
 * xen_drm_zcopy is asked DRM_IOCTL_XEN_ZCOPY_QUERY. Two ways the driver
 * refuses an unprivileged process (no CAP_SYS_ADMIN, not in the module's
 * allow_gid group): the open itself fails with EPERM, or (older modules) the
 * open succeeds and every ioctl, QUERY first, fails with EPERM. In the
 * first case the node cannot be asked its name, so sysfs tells whether the
 * refusing node is ours: the parent device of our DRM minor is the platform
 * device named "xen_drm_zcopy".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xen_zcopy_drm.h>

#include "zg.h"

pthread_mutex_t zg_announce_lock = PTHREAD_MUTEX_INITIALIZER;

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

/* is the DRM node at fd served by xen_drm_zcopy? */
static bool node_is_zcopy(int fd)
{
	char name[sizeof(XENDRM_ZCOPY_DRIVER_NAME) + 1] = "";
	struct drm_version v = { 0 };

	v.name_len = sizeof(name) - 1;
	v.name = name;
	if (zg_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	if (v.name_len >= sizeof(name))
		return false;	/* longer than ours: another driver */
	name[v.name_len] = 0;
	return !strcmp(name, XENDRM_ZCOPY_DRIVER_NAME);
}

/* the node we could not open: is its parent device ours? (sysfs) */
static bool sysfs_is_zcopy(const char *minor)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/drm/%s/device", minor);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	base = strrchr(link, '/');
	return !strcmp(base ? base + 1 : link, XENDRM_ZCOPY_DRIVER_NAME);
}

/* QUERY: what the library relies on (legacy DUMB_TO_REFS, WAIT_FREE bound) */
static int check_query(struct zg_probe *p, int fd)
{
	struct drm_xen_zcopy_query q = { 0 };

	if (zg_ioctl(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q)) {
		int err = errno;

		snprintf(p->why, sizeof(p->why), "%s (xen_drm_zcopy) refused this process: %s (QUERY%s)",
			 p->node, strerror(err), err == EPERM ?
			 "; needs CAP_SYS_ADMIN or the module's allow_gid group" : "");
		return -1;
	}
	if (q.api_version < 1 || !(q.caps & XEN_ZCOPY_CAP_LEGACY) || !q.max_wait_ms) {
		snprintf(p->why, sizeof(p->why),
			 "%s (xen_drm_zcopy) API %u caps %#x max_wait_ms %u: not what this library needs",
			 p->node, q.api_version, q.caps, q.max_wait_ms);
		return -1;
	}
	p->max_wait_ms = q.max_wait_ms;
	return 0;
}

/**
 * zg_device_open - open xen_drm_zcopy for one xengnttab handle
 * @p: out: the fd (or -1), the node, and why zero-copy is off
 *
 * XEN_ZCOPY_DISABLE=1 forces the real library (a comparison run).
 */
void zg_device_open(struct zg_probe *p)
{
	struct dirent *e;
	DIR *d;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (env_set("XEN_ZCOPY_DISABLE")) {
		snprintf(p->why, sizeof(p->why), "XEN_ZCOPY_DISABLE is set");
		return;
	}
	d = opendir("/dev/dri");
	if (!d) {
		snprintf(p->why, sizeof(p->why),
			 "no /dev/dri (is xen_drm_zcopy loaded? modprobe xen_drm_zcopy)");
		return;
	}
	snprintf(p->why, sizeof(p->why),
		 "no xen_drm_zcopy render node in /dev/dri (modprobe xen_drm_zcopy)");
	while ((e = readdir(d))) {
		int fd;

		if (strncmp(e->d_name, "renderD", 7))
			continue;
		snprintf(p->node, sizeof(p->node), "/dev/dri/%.50s", e->d_name);
		fd = open(p->node, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			int err = errno;

			if (sysfs_is_zcopy(e->d_name)) {
				snprintf(p->why, sizeof(p->why),
					 "%s (xen_drm_zcopy) refused this process: %s (open%s)",
					 p->node, strerror(err), err == EPERM ?
					 "; needs CAP_SYS_ADMIN or the module's allow_gid group" : "");
				break;
			}
			continue;
		}
		if (!node_is_zcopy(fd)) {
			close(fd);
			continue;
		}
		if (check_query(p, fd)) {
			close(fd);
			break;
		}
		p->fd = fd;
		break;
	}
	closedir(d);
}

/**
 * zg_announce - the one stderr line: is zero-copy active?
 * @active: the dma-buf calls of this handle go to xen_drm_zcopy
 * @detail: which node, or why not
 *
 * Printed when a process first decides (its first xengnttab_open) and again
 * only if a later decision differs (a later handle refused, say), so a
 * backend prints one line. XEN_ZCOPY_QUIET=1 silences it.
 */
void zg_announce(bool active, const char *detail)
{
	static char last[320];
	char line[320];
	int n;

	if (env_set("XEN_ZCOPY_QUIET"))
		return;
	n = snprintf(line, sizeof(line), "xen-zcopy: zero-copy %s: %s\n",
		     active ? "active" : "inactive", detail);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&zg_announce_lock);
	if (strcmp(line, last)) {
		memcpy(last, line, (size_t)n + 1);
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* nowhere else to say it */
		}
	}
	pthread_mutex_unlock(&zg_announce_lock);
}
