/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zc-displ-be: a reference displif (para-virtual display) backend for dom0
 * that shows a guest's frames on a KMS device through xen_drm_zcopy.
 *
 * Shared types of its parts:
 *   main.c     command line, logging, the poll loop, statistics
 *   xenbus.c   devices under /local/domain/0/backend/vdispl: the XenBus
 *              state machine (InitWait -> Connected, reconnect)
 *   ring.c     the per-connector control ring and event page
 *   pgdir.c    displif page directories (read and fill) through gntdev
 *   dbuf.c     DBUF_CREATE/DESTROY, FB_ATTACH/DETACH: xen_drm_zcopy
 *              (new UAPI or the 2018 ioctls) + PRIME into the KMS device
 *   copy.c     the copy path (gntdev map + memcpy into a KMS dumb), for
 *              the benchmark only
 *   kms.c      the KMS device: outputs, atomic modeset and page flips
 *   capture.c  writeback capture of what is scanned out: pixel check, PNG
 *   png.c      a minimal PNG writer
 */
#ifndef ZC_BE_H
#define ZC_BE_H

#include <stdint.h>
#include <stdio.h>

#include <xenstore.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "displif_user.h"

#define BE_GRANT	4096u
#define BE_MAX_CONN	4
#define BE_MAX_DEV	8
/* well under the frontend's XEN_DRM_FRONT_WAIT_BACK_MS (3000) */
#define BE_WAIT_FREE_MS	2000

/* ------------------------------------------------------------ logging */
void be_log(const char *lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG(...)	be_log("info", __VA_ARGS__)
#define WARNL(...)	be_log("warn", __VA_ARGS__)
#define ERR(...)	be_log("ERROR", __VA_ARGS__)
double be_now_ms(void);

/* ------------------------------------------------------------ options */
/* new UAPI ioctls, the 2018 DUMB_* ioctls, or libxengnttab's dma-buf calls
 * (xengnttab_dmabuf_*: zero-copy when run under xen-zcopy-run) */
enum be_zc_api { BE_API_NEW, BE_API_LEGACY, BE_API_GNTTAB };

struct be_opts {
	enum be_zc_api api;
	int copy;		/* copy path instead of zero-copy (bench) */
	int capture;		/* writeback capture + pixel check per frame */
	int verify_zc;		/* prove each FB's dma-buf is ours */
	int publish_refs;	/* be-alloc: refs into xenstore for the guest */
	const char *png;	/* write the last captured frame here */
	const char *kms;	/* KMS driver name (default vkms) */
};
extern struct be_opts be_opt;

/* counters printed as the STATS line (main.c) */
struct be_stats {
	long dev_connects, dev_disconnects;
	long reqs, req_errors;
	long dbuf_create, dbuf_destroy, fb_attach, fb_detach;
	long set_config, flips, flip_events, events_dropped;
	long zc_fb_ok, zc_fb_bad;
	long captured, capture_errors, mismatches, seq_errors, last_seed;
	long wait_free_timeouts;
	double destroy_ms_max, destroy_ms_sum, wait_free_ms_max;
	/* per-frame present cost: PG_FLIP request -> commit queued */
	double present_ms_sum, present_ms_min, present_ms_max;
	long present_n;
};
extern struct be_stats be_st;
void be_stats_print(FILE *f);

/* ------------------------------------------------------------ types */
struct be_dev;

struct be_dbuf {
	struct be_dbuf *next;
	uint64_t cookie;
	uint32_t width, height, bpp, size, data_ofs, gref_dir;
	int be_alloc;
	uint32_t nrefs;		/* the frontend's grant count */
	uint32_t *refs;		/* legacy fe-alloc / be-alloc */
	/* xen_drm_zcopy side */
	int zc_created;
	uint32_t zc_handle;
	uint64_t wait_token;	/* new UAPI token, or legacy wait_handle */
	int prime_fd;
	int gnttab_imported;	/* --gnttab be-alloc: imp_to_refs done */
	uint32_t pitch;
	/* KMS side */
	uint32_t kms_handle;
	uint64_t kms_size;
	/* copy path (be_opt.copy when the buffer was created) */
	int copy;
	void *copy_map;		/* gntdev mapping of the guest's pages */
	xengnttab_handle *copy_gt;
	uint32_t copy_dumb;	/* KMS dumb we copy into */
	void *copy_dst;
	uint32_t copy_pitch;
};

struct be_fb {
	struct be_fb *next;
	uint64_t cookie;
	struct be_dbuf *dbuf;
	uint32_t fb_id;
	uint32_t width, height, format;
};

struct be_out;			/* a KMS output (kms.c) */

struct be_conn {
	struct be_dev *dev;
	int index;
	char unique_id[64];
	uint32_t width, height;
	/* rings */
	uint32_t req_ref, evt_ref;
	uint32_t req_port, evt_port;	/* remote */
	int req_lport, evt_lport;	/* local, -1 when unbound */
	void *req_page, *evt_page;
	struct xen_displif_back_ring ring;
	uint16_t evt_id;
	/* display */
	struct be_out *out;
	uint64_t shown_fb;		/* fb cookie on screen, 0 = off */
	int flip_pending;
	uint64_t flip_cookie;
	double flip_t0;
};

struct be_dev {
	int used;
	int domid, devid;
	char bepath[128], fepath[128];
	int be_alloc;
	int state;			/* our XenBus state */
	int fe_state;			/* the frontend's, as last seen */
	int connected;
	int nconn;
	struct be_conn conn[BE_MAX_CONN];
	struct be_dbuf *dbufs;
	struct be_fb *fbs;
	unsigned int published;		/* be-alloc refs published so far */
};

/* ------------------------------------------------------------ globals */
extern struct xs_handle *be_xs;
extern xenevtchn_handle *be_xce;
extern xengnttab_handle *be_xgt;
extern int be_zc_fd;		/* xen_drm_zcopy primary node */

/* ------------------------------------------------------------ xenbus.c */
int xb_init(void);
void xb_watch_event(void);
void xb_shutdown(void);
struct be_dev *xb_devices(int *n);
int xb_set_state(struct be_dev *d, int state);

/* ------------------------------------------------------------ ring.c */
int ring_connect(struct be_conn *c);
void ring_disconnect(struct be_conn *c);
void ring_port_event(int lport);
int ring_send_flip_event(struct be_conn *c, uint64_t fb_cookie);

/* ------------------------------------------------------------ pgdir.c */
/* read the grant refs listed by a displif directory chain */
int pgdir_read(int domid, uint32_t gref_dir, uint32_t *refs, uint32_t n);
/* write refs into the frontend's directory chain (be-alloc) */
int pgdir_fill(int domid, uint32_t gref_dir, const uint32_t *refs, uint32_t n);
static inline uint32_t pgdir_refs_per_page(void)
{
	return (BE_GRANT - 4) / 4;
}

/* ------------------------------------------------------------ dbuf.c */
int dbuf_create(struct be_dev *d, uint64_t cookie, uint32_t w, uint32_t h,
		uint32_t bpp, uint32_t size, uint32_t flags, uint32_t gref_dir,
		uint32_t data_ofs);
int dbuf_destroy(struct be_dev *d, uint64_t cookie);
int fb_attach(struct be_dev *d, uint64_t dbuf_cookie, uint64_t fb_cookie,
	      uint32_t w, uint32_t h, uint32_t format);
int fb_detach(struct be_dev *d, uint64_t fb_cookie);
struct be_fb *fb_find(struct be_dev *d, uint64_t cookie);
void dbuf_release_all(struct be_dev *d);	/* the frontend is gone */
int dbuf_open_zcopy(void);

/* ------------------------------------------------------------ copy.c */
int copy_dbuf_create(struct be_dev *d, struct be_dbuf *b);
void copy_dbuf_destroy(struct be_dbuf *b);
int copy_present(struct be_dbuf *b);

/* ------------------------------------------------------------ kms.c */
int kms_open(const char *driver);
int kms_fd(void);
struct be_out *kms_output(const char *name);
int kms_add_fb(uint32_t handle, uint32_t w, uint32_t h, uint32_t format,
	       uint32_t pitch, uint32_t offset, uint32_t *fb_id);
void kms_rm_fb(uint32_t fb_id);
int kms_set_config(struct be_conn *c, uint32_t fb_id, uint32_t w, uint32_t h);
int kms_flip(struct be_conn *c, uint32_t fb_id);
void kms_event(void);
void kms_release_output(struct be_conn *c);
int kms_create_dumb(uint32_t w, uint32_t h, uint32_t bpp, uint32_t *handle,
		    uint32_t *pitch, uint64_t *size);
void *kms_map_dumb(uint32_t handle, uint64_t size);
void kms_close_handle(uint32_t handle);
/* the writeback connector of an output, for capture.c; 0 = none */
uint32_t kms_writeback_conn(struct be_out *o);
uint32_t kms_crtc(struct be_out *o);
int kms_check_zero_copy(uint32_t fb_id, int prime_fd, const char *want_exp);

/* ------------------------------------------------------------ capture.c */
/* adds a writeback job to the atomic request of a commit that shows a
 * w x h frame on c (modeset: the first frame after SET_CONFIG) */
struct _drmModeAtomicReq;
int capture_arm(struct be_conn *c, struct _drmModeAtomicReq *req, uint32_t w,
		uint32_t h, int modeset, int *fence_fd);
void capture_done(struct be_conn *c, int fence_fd);
void capture_shutdown(void);

/* ------------------------------------------------------------ png.c */
int png_write_xrgb(const char *path, const void *pix, uint32_t w, uint32_t h,
		   uint32_t pitch);

#endif /* ZC_BE_H */
