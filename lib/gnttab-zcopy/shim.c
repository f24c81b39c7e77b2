// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libxenzcopy-gnttab: the interposed libxengnttab entry points.
 *
 * Preloaded (LD_PRELOAD, see tools/xen-zcopy-run) into a program linked
 * against libxengnttab.so.1. The program's references are versioned
 * (xengnttab_open@VERS_1.0, xengnttab_dmabuf_*@VERS_1.2): the version script
 * zcopy-gnttab.map gives our definitions the same versions, so the dynamic
 * linker binds those references here, and dlvsym(RTLD_NEXT) finds the real
 * ones. Every other libxengnttab call is not defined here and goes straight
 * to the real library.
 *
 * - xengnttab_open: the real open, then one xen_drm_zcopy fd for the new
 *   handle (device.c). If the driver is absent or refuses, the handle is
 *   "not ours": all its calls go to the real library.
 * - the four dma-buf calls: served by xen_drm_zcopy (export.c, import.c);
 *   a call the driver refuses (EPERM, no such ioctl) is handed to the real
 *   library, and so are wait/release of fd numbers that such a call made.
 * - xengnttab_close: closes our fd (which releases every import, as closing
 *   gntdev releases its imports; exported dma-bufs keep their buffers), then
 *   the real close.
 * - xentoolcore_restrict_all: our fds are as powerful as gntdev's, so they
 *   are replaced by /dev/null like the library's own, then the real call.
 *
 * Threads: the handle registry and each handle's tables have their own
 * mutexes, never held across a blocking ioctl (a wait may last seconds).
 * fork: as with libxengnttab, the child's handle uses the same open files
 * as the parent's (gntdev's and ours: same GEM handles and wait tokens);
 * the child gets a copy of the fd-number tables, consistent because every
 * lock is taken around fork (pthread_atfork). Wait for and release a buffer
 * in the process that exported or imported it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xentoolcore.h>
#include <xen_zcopy_drm.h>

#include "zg.h"

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------- the real library */

static struct {
	xengnttab_handle *(*open)(xentoollog_logger *, unsigned int);
	int (*close)(xengnttab_handle *);
	int (*exp_from_refs)(xengnttab_handle *, uint32_t, uint32_t, uint32_t,
			     const uint32_t *, uint32_t *);
	int (*exp_wait_released)(xengnttab_handle *, uint32_t, uint32_t);
	int (*imp_to_refs)(xengnttab_handle *, uint32_t, uint32_t, uint32_t, uint32_t *);
	int (*imp_release)(xengnttab_handle *, uint32_t);
	int (*restrict_all)(domid_t);
} real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* name@ver after us; or from the library itself if nothing after us has it */
static void *real_sym(const char *soname, const char *name, const char *ver)
{
	void *p = dlvsym(RTLD_NEXT, name, ver), *lib;

	if (p)
		return p;
	lib = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);	/* kept: used for good */
	return lib ? dlvsym(lib, name, ver) : NULL;
}

static void zg_atfork_prepare(void);
static void zg_atfork_done(void);

static void real_init(void)
{
	static const char gt[] = "libxengnttab.so.1";

	real.open = real_sym(gt, "xengnttab_open", "VERS_1.0");
	real.close = real_sym(gt, "xengnttab_close", "VERS_1.0");
	real.exp_from_refs = real_sym(gt, "xengnttab_dmabuf_exp_from_refs", "VERS_1.2");
	real.exp_wait_released = real_sym(gt, "xengnttab_dmabuf_exp_wait_released", "VERS_1.2");
	real.imp_to_refs = real_sym(gt, "xengnttab_dmabuf_imp_to_refs", "VERS_1.2");
	real.imp_release = real_sym(gt, "xengnttab_dmabuf_imp_release", "VERS_1.2");
	real.restrict_all = real_sym("libxentoolcore.so.1", "xentoolcore_restrict_all", "VERS_1.0");
	pthread_atfork(zg_atfork_prepare, zg_atfork_done, zg_atfork_done);
}

/* a real function is missing: the caller could not have linked without it */
static int no_real(const char *name)
{
	static const char msg[] = "xen-zcopy: the real libxengnttab lacks a function\n";

	(void)name;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nowhere else to say it */
	}
	errno = ENOSYS;
	return -1;
}

/* -------------------------------------------------------------- registry */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zg_handle *handles;

/* our state of @xgt if its dma-buf calls are ours, else NULL */
static struct zg_handle *lookup(xengnttab_handle *xgt)
{
	struct zg_handle *h;

	pthread_mutex_lock(&reg_lock);
	for (h = handles; h; h = h->next)
		if (h->xgt == xgt)
			break;
	if (h && (h->zfd < 0 || h->restricted))
		h = NULL;
	pthread_mutex_unlock(&reg_lock);
	return h;
}

/* every lock, in one order (announce, registry, then each handle's) */
static void zg_atfork_prepare(void)
{
	struct zg_handle *h;

	pthread_mutex_lock(&zg_announce_lock);
	pthread_mutex_lock(&reg_lock);
	for (h = handles; h; h = h->next) {
		pthread_mutex_lock(&h->imp_lock);
		pthread_mutex_lock(&h->exp_lock);
	}
}

static void zg_atfork_done(void)
{
	struct zg_handle *h;

	for (h = handles; h; h = h->next) {
		pthread_mutex_unlock(&h->exp_lock);
		pthread_mutex_unlock(&h->imp_lock);
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&zg_announce_lock);
}

static void handle_free(struct zg_handle *h)
{
	if (h->zfd >= 0)
		close(h->zfd);
	zg_exports_free(h);
	zg_imports_free(h);
	pthread_mutex_destroy(&h->exp_lock);
	pthread_mutex_destroy(&h->imp_lock);
	if (h->logger_tofree)
		xtl_logger_destroy(h->logger_tofree);
	free(h);
}

/* ------------------------------------------------------------- helpers */

int zg_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r && errno == EINTR);
	return r;
}

void zg_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close cl = { .handle = handle };
	int saved = errno;

	zg_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl);
	errno = saved;
}

bool zg_refused(int err)
{
	return err == EPERM || err == ENOTTY;
}

void zg_fail(struct zg_handle *h, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libxengnttab: xtl_log(logger, XTL_ERROR, errno, "gnttab", ...) */
	xtl_log(h->logger, XTL_ERROR, err, "gnttab", "%s", msg);
	errno = err;
}

/* a delegated call that the driver refused: say so once, with why */
static void refused(const char *what)
{
	char why[160];

	snprintf(why, sizeof(why), "xen_drm_zcopy refused %s (%s); "
		 "libxengnttab's own dma-buf calls are used for it", what, strerror(errno));
	zg_announce(false, why);
}

/* ------------------------------------------------------ the entry points */

EXPORT xengnttab_handle *xengnttab_open(xentoollog_logger *logger, unsigned int open_flags)
{
	struct zg_probe probe;
	xengnttab_handle *xgt;
	struct zg_handle *h;
	char msg[300];
	int saved;

	pthread_once(&real_once, real_init);
	if (!real.open) {
		no_real("xengnttab_open");
		return NULL;
	}
	xgt = real.open(logger, open_flags);
	if (!xgt)
		return NULL;
	saved = errno;

	h = calloc(1, sizeof(*h));
	if (!h) {
		zg_announce(false, "out of memory; libxengnttab's own dma-buf calls are used");
		errno = saved;
		return xgt;
	}
	h->xgt = xgt;
	h->logger = logger;
	if (!h->logger) {
		/* what libxengnttab makes for itself when given none */
		h->logger = h->logger_tofree = (xentoollog_logger *)
			xtl_createlogger_stdiostream(stderr, XTL_PROGRESS, 0);
	}
	pthread_mutex_init(&h->exp_lock, NULL);
	pthread_mutex_init(&h->imp_lock, NULL);
	h->prune_at = 64;

	zg_device_open(&probe);
	h->zfd = probe.fd;
	h->max_wait_ms = probe.max_wait_ms;
	if (h->zfd >= 0 && !h->logger) {
		close(h->zfd);
		h->zfd = -1;
		snprintf(probe.why, sizeof(probe.why), "cannot create a logger");
	}
	if (h->zfd >= 0) {
		snprintf(msg, sizeof(msg), "libxengnttab dma-buf calls are served by xen_drm_zcopy (%s)",
			 probe.node);
		zg_announce(true, msg);
	} else {
		snprintf(msg, sizeof(msg), "%s; libxengnttab's own dma-buf calls are used",
			 probe.why);
		zg_announce(false, msg);
	}

	pthread_mutex_lock(&reg_lock);
	h->next = handles;
	handles = h;
	pthread_mutex_unlock(&reg_lock);
	errno = saved;
	return xgt;
}

EXPORT int xengnttab_close(xengnttab_handle *xgt)
{
	struct zg_handle **pp, *h;

	pthread_once(&real_once, real_init);
	if (!real.close)
		return no_real("xengnttab_close");
	pthread_mutex_lock(&reg_lock);
	for (pp = &handles; (h = *pp); pp = &h->next)
		if (h->xgt == xgt) {
			*pp = h->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	if (h)
		handle_free(h);
	return real.close(xgt);
}

EXPORT int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *xgt, uint32_t domid,
					  uint32_t flags, uint32_t count,
					  const uint32_t *refs, uint32_t *fd)
{
	struct zg_handle *h = lookup(xgt);
	int r = ZG_DELEGATE;

	if (h)
		r = zg_exp_from_refs(h, domid, flags, count, refs, fd);
	if (r != ZG_DELEGATE)
		return r;
	if (h)
		refused("FROM_REFS");
	if (!real.exp_from_refs)
		return no_real("xengnttab_dmabuf_exp_from_refs");
	r = real.exp_from_refs(xgt, domid, flags, count, refs, fd);
	if (!r && h) {
		pthread_mutex_lock(&h->exp_lock);
		h->real_exports = true;
		pthread_mutex_unlock(&h->exp_lock);
	}
	return r;
}

EXPORT int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *xgt, uint32_t fd,
					      uint32_t wait_to_ms)
{
	struct zg_handle *h = lookup(xgt);
	int r = ZG_DELEGATE;

	if (h)
		r = zg_exp_wait_released(h, fd, wait_to_ms);
	if (r != ZG_DELEGATE)
		return r;
	if (!real.exp_wait_released)
		return no_real("xengnttab_dmabuf_exp_wait_released");
	return real.exp_wait_released(xgt, fd, wait_to_ms);
}

EXPORT int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *xgt, uint32_t domid,
					uint32_t fd, uint32_t count, uint32_t *refs)
{
	struct zg_handle *h = lookup(xgt);
	int r = ZG_DELEGATE;

	if (h)
		r = zg_imp_to_refs(h, domid, fd, count, refs);
	if (r != ZG_DELEGATE)
		return r;
	if (h)
		refused("DUMB_TO_REFS");
	if (!real.imp_to_refs)
		return no_real("xengnttab_dmabuf_imp_to_refs");
	r = real.imp_to_refs(xgt, domid, fd, count, refs);
	if (!r && h) {
		pthread_mutex_lock(&h->imp_lock);
		h->real_imports = true;
		pthread_mutex_unlock(&h->imp_lock);
	}
	return r;
}

EXPORT int xengnttab_dmabuf_imp_release(xengnttab_handle *xgt, uint32_t fd)
{
	struct zg_handle *h = lookup(xgt);
	int r = ZG_DELEGATE;

	if (h)
		r = zg_imp_release(h, fd);
	if (r != ZG_DELEGATE)
		return r;
	if (!real.imp_release)
		return no_real("xengnttab_dmabuf_imp_release");
	return real.imp_release(xgt, fd);
}

/*
 * xentoolcore_restrict_all(): the process gives up its Xen privileges; the
 * library dup2()s /dev/null over its gntdev fd, and we do the same with ours
 * (the number stays taken until xengnttab_close). The handle's calls then go
 * to the real library, which fails them as restricted.
 */
EXPORT int xentoolcore_restrict_all(domid_t domid)
{
	struct zg_handle *h;
	int null, ret = 0;

	pthread_once(&real_once, real_init);
	if (!real.restrict_all)
		return no_real("xentoolcore_restrict_all");
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		return -1;
	pthread_mutex_lock(&reg_lock);
	for (h = handles; h; h = h->next) {
		if (h->zfd < 0 || h->restricted)
			continue;
		if (dup3(null, h->zfd, O_CLOEXEC) < 0) {
			ret = -1;
			break;
		}
		h->restricted = true;
	}
	pthread_mutex_unlock(&reg_lock);
	close(null);
	if (ret)
		return ret;
	return real.restrict_all(domid);
}
