/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libxenzcopy-gnttab: internal interfaces.
 *
 * The library is preloaded into an unmodified libxengnttab program. It
 * defines xengnttab_open/close and the four xengnttab_dmabuf_* calls (with
 * libxengnttab's symbol versions, see zcopy-gnttab.map) and serves the
 * dma-buf calls with xen_drm_zcopy instead of gntdev. Files:
 *   shim.c    the interposed entry points, the real library, the handle registry
 *   device.c  finding and opening the xen_drm_zcopy render node; the one
 *             "zero-copy active/inactive" line on stderr
 *   export.c  exp_from_refs, exp_wait_released (grant refs -> dma-buf)
 *   import.c  imp_to_refs, imp_release (dma-buf -> grant refs)
 */
#ifndef ZG_H
#define ZG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xentoollog.h>
#include <xengnttab.h>

/* returned by the zg_* operations: "let libxengnttab do this call" */
#define ZG_DELEGATE	(-2)

/*
 * An exported buffer (exp_from_refs): gntdev finds it again by the number of
 * the dma-buf fd it returned, also after the caller closed that fd, so we
 * keep that number with the driver's wait token. Newest first, as gntdev's
 * exp_list (list_add), so that a reused fd number finds the newest buffer.
 */
struct zg_export {
	struct zg_export *next;
	uint64_t id;		/* unique per handle: names the entry across unlocks */
	uint64_t token;		/* drm_xen_zcopy_from_refs.wait_token */
	uint32_t fd;
};

/* An imported dma-buf (imp_to_refs), by the fd number given, newest first. */
struct zg_import {
	struct zg_import *next;
	uint32_t fd;
	uint32_t handle;	/* GEM handle on our xen_drm_zcopy file */
};

/* Our state of one xengnttab_handle */
struct zg_handle {
	struct zg_handle *next;		/* registry list (shim.c) */
	xengnttab_handle *xgt;
	xentoollog_logger *logger;	/* the caller's, or logger_tofree */
	xentoollog_logger *logger_tofree;
	int zfd;			/* xen_drm_zcopy render node, -1: not ours */
	bool restricted;		/* xentoolcore_restrict_all() ran */
	uint32_t max_wait_ms;		/* drm_xen_zcopy_query.max_wait_ms */

	pthread_mutex_t exp_lock;	/* exports, nr_exports, prune_at, next_id */
	struct zg_export *exports;
	unsigned int nr_exports, prune_at;
	uint64_t next_id;
	bool real_exports;		/* an export was delegated and succeeded */

	/* imports and every PRIME import/TO_REFS/GEM_CLOSE of them */
	pthread_mutex_t imp_lock;
	struct zg_import *imports;
	bool real_imports;		/* an import was delegated and succeeded */
};

/* device.c */
struct zg_probe {
	int fd;				/* the open render node, or -1 */
	uint32_t max_wait_ms;
	char node[64];			/* its path */
	char why[200];			/* fd < 0: why zero-copy is inactive */
};
void zg_device_open(struct zg_probe *p);
void zg_announce(bool active, const char *detail);
extern pthread_mutex_t zg_announce_lock;

/* shim.c */
int zg_ioctl(int fd, unsigned long req, void *arg);
void zg_gem_close(int fd, uint32_t handle);
/* log as libxengnttab does (its handle's logger), set errno = err */
void zg_fail(struct zg_handle *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the driver refused the call itself (no privilege, or no such ioctl) */
bool zg_refused(int err);

/* export.c */
int zg_exp_from_refs(struct zg_handle *h, uint32_t domid, uint32_t flags,
		     uint32_t count, const uint32_t *refs, uint32_t *fd);
int zg_exp_wait_released(struct zg_handle *h, uint32_t fd, uint32_t wait_to_ms);
void zg_exports_free(struct zg_handle *h);

/* import.c */
int zg_imp_to_refs(struct zg_handle *h, uint32_t domid, uint32_t fd,
		   uint32_t count, uint32_t *refs);
int zg_imp_release(struct zg_handle *h, uint32_t fd);
void zg_imports_free(struct zg_handle *h);

#endif /* ZG_H */
