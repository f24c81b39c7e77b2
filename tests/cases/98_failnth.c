// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Allocation-failure injection (issue 11, requirement 4): every ioctl of
 * the driver, new and legacy, PRIME export and import both ways and mmap
 * of the dma-buf, each swept with /proc/thread-self/fail-nth: the 1st, 2nd,
 * ... fault point the call reaches (slab, page allocator, user copy) fails
 * in turn, until the call completes without reaching the armed point. Each
 * failed call must return ENOMEM or EFAULT (or succeed, where the kernel
 * has a fallback), and leave the driver's counters at 0 once undone: no
 * buffer, grant mapping, grant or page left behind. One exception, DRM's
 * and not the driver's: when the last fault point, drm_ioctl()'s copy of
 * the answer to user space, fails, the call did succeed in the driver and
 * its handle (or fd) is only released with the client's file; the sweep
 * then checks that closing the client's fds releases everything, and that
 * after the first such point nothing but that copy-out fails the call.
 * The harness checks
 * Xen's grant table after the case, and kmemleak after the run (make
 * check-debug).
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION (FAILSLAB, FAIL_PAGE_ALLOC,
 * FAULT_INJECTION_USERCOPY): the debug kernel of make check-debug. On a
 * stock kernel the cases SKIP (the manifests say so).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cases.h"

#define FN_REFS		16
#define FN_MAX_POINTS	2000	/* a call with more fault points is a bug */
#define FN_NTH		"/proc/thread-self/fail-nth"

struct fn_env {
	struct zc_ctx *ctx;
	int zc, zp, vg;			/* render node, primary node, vgem card */
	uint32_t refs[FN_REFS];		/* the domU's grants (FROM_REFS) */
	uint32_t out_refs[FN_REFS];	/* TO_REFS' answer */
	int nth;			/* FN_NTH, open */
	/* the state of one attempt */
	uint32_t h, vh, vimp;		/* our handle, vgem handle, vgem import */
	uint64_t size, token;
	int pfd, vfd;			/* our dma-buf, vgem's dma-buf */
	void *m;
};

struct fn_op {
	const char *name;
	int (*prep)(struct fn_env *e);	/* what the call needs, not injected */
	int (*call)(struct fn_env *e);	/* the injected call: 0 or errno */
};

static int fn_from_refs(struct fn_env *e)
{
	struct drm_xen_zcopy_from_refs fr;
	int err = zcc_from_refs(e->zc, &fr, e->ctx->domu, e->refs, FN_REFS, 0);

	if (!err) {
		e->h = fr.handle;
		e->size = fr.size;
		e->token = fr.wait_token;
	}
	return err;
}

static int fn_export(struct fn_env *e)
{
	return drmPrimeHandleToFD(e->zc, e->h, DRM_CLOEXEC | DRM_RDWR, &e->pfd) ? errno : 0;
}

static int fn_prep_export(struct fn_env *e)
{
	return fn_from_refs(e) ?: fn_export(e);
}

/* vgem imports our dma-buf: attach and map in our exporter */
static int fn_vgem_import(struct fn_env *e)
{
	return drmPrimeFDToHandle(e->vg, e->pfd, &e->vimp) ? errno : 0;
}

static int fn_mmap(struct fn_env *e)
{
	void *m = mmap(NULL, e->size, PROT_READ, MAP_SHARED, e->pfd, 0);

	if (m == MAP_FAILED)
		return errno;
	e->m = m;
	return 0;
}

static int fn_query(struct fn_env *e)
{
	struct drm_xen_zcopy_query q;

	return zcc_query(e->zc, &q);
}

/* a buffer whose last reference is gone: WAIT_FREE answers at once */
static int fn_prep_freed(struct fn_env *e)
{
	int err = fn_from_refs(e);

	if (!err) {
		zcc_close_handle(e->zc, e->h);
		e->h = 0;
	}
	return err;
}

static int fn_wait_free(struct fn_env *e)
{
	int err = zcc_wait(e->zc, e->token, 1000);

	return err == ENOENT ? 0 : err;
}

/* a vgem dumb buffer and its dma-buf, for the importing direction */
static int fn_prep_vgem(struct fn_env *e)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = FN_REFS * 16, .bpp = 32 };

	if (zc_ioctl(e->vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return errno;
	e->vh = cd.handle;
	return drmPrimeHandleToFD(e->vg, cd.handle, DRM_CLOEXEC | DRM_RDWR, &e->vfd) ? errno : 0;
}

static int fn_prime_import(struct fn_env *e)
{
	return drmPrimeFDToHandle(e->zc, e->vfd, &e->h) ? errno : 0;
}

static int fn_prep_imported(struct fn_env *e)
{
	return fn_prep_vgem(e) ?: fn_prime_import(e);
}

static int fn_to_refs(struct fn_env *e)
{
	struct drm_xen_zcopy_to_refs r = {
		.domid = (uint32_t)e->ctx->domu, .refs = (uintptr_t)e->out_refs,
		.num_refs = FN_REFS, .handle = e->h,
	};

	return zcc_err(e->zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &r);
}

static int fn_dumb_from_refs(struct fn_env *e)
{
	struct drm_xen_zcopy_dumb_from_refs r = {
		.num_grefs = FN_REFS, .grefs_ptr = (uintptr_t)e->refs,
		.otherend_id = (uint64_t)e->ctx->domu,
		.dumb = { .width = 64, .height = FN_REFS * 16, .bpp = 32 },
	};
	int err = zcc_err(e->zp, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &r);

	if (!err) {
		e->h = r.dumb.handle;
		e->token = r.wait_handle;
	}
	return err;
}

static int fn_prep_dumb_imported(struct fn_env *e)
{
	int err = fn_prep_vgem(e);

	return err ?: (drmPrimeFDToHandle(e->zp, e->vfd, &e->h) ? errno : 0);
}

static int fn_dumb_to_refs(struct fn_env *e)
{
	struct drm_xen_zcopy_dumb_to_refs r = {
		.num_grefs = FN_REFS, .grefs_ptr = (uintptr_t)e->out_refs,
		.otherend_id = (uint64_t)e->ctx->domu, .handle = e->h,
	};

	return zcc_err(e->zp, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &r);
}

static int fn_prep_dumb_freed(struct fn_env *e)
{
	int err = fn_dumb_from_refs(e);

	if (!err) {
		zcc_close_handle(e->zp, e->h);
		e->h = 0;
	}
	return err;
}

static int fn_dumb_wait_free(struct fn_env *e)
{
	struct drm_xen_zcopy_dumb_wait_free w = {
		.wait_handle = (uint32_t)e->token, .wait_to_ms = 1000,
	};
	int err = zcc_err(e->zp, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &w);

	return err == ENOENT ? 0 : err;
}

/* undo whatever an attempt (its preparation and its call) set up */
static void fn_undo(struct fn_env *e, int fd)
{
	if (e->m)
		munmap(e->m, e->size);
	if (e->vimp)
		zcc_close_handle(e->vg, e->vimp);
	if (e->pfd >= 0)
		close(e->pfd);
	if (e->h)
		zcc_close_handle(fd, e->h);
	if (e->vfd >= 0)
		close(e->vfd);
	if (e->vh)
		zcc_close_handle(e->vg, e->vh);
	e->m = NULL;
	e->vimp = e->h = e->vh = 0;
	e->pfd = e->vfd = -1;
}

/* arm the n-th fault point, call, disarm: was the point reached? */
static int fn_inject(struct fn_env *e, const struct fn_op *op, unsigned int n,
		     int *hit)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n), err;
	ssize_t r;

	if (pwrite(e->nth, b, len, 0) != len) {
		zc_diag("write %s: %s", FN_NTH, zc_errname(errno));
		return -1;
	}
	err = op->call(e);
	/* what is left of the count: 0 once the armed point failed */
	r = pread(e->nth, b, sizeof(b) - 1, 0);
	/* (an EFAULT here: the read's own copy was the armed point) */
	*hit = r > 0 && (b[r] = 0, strtoul(b, NULL, 10) == 0);
	if (pwrite(e->nth, "0", 1, 0) != 1 && errno != EFAULT)
		zc_diag("disarm %s: %s", FN_NTH, zc_errname(errno));
	return err;
}

/* the fds open now (0 .. FN_FDS - 1) */
#define FN_FDS 1024
static void fn_fds(unsigned char *open_now)
{
	int fd;

	for (fd = 0; fd < FN_FDS; fd++)
		open_now[fd] = fcntl(fd, F_GETFD) != -1;
}

static int fn_open_devices(struct fn_env *e)
{
	e->zc = zc_open_render();
	e->zp = zc_open_primary();
	e->vg = zcc_open_vgem_card();
	if (e->zc >= 0 && e->zp >= 0 && e->vg >= 0)
		return 0;
	zc_diag("open: render %d, primary %d, vgem %d", e->zc, e->zp, e->vg);
	return -1;
}

static void fn_close_devices(struct fn_env *e)
{
	if (e->vg >= 0)
		close(e->vg);
	if (e->zp >= 0)
		close(e->zp);
	if (e->zc >= 0)
		close(e->zc);
	e->zc = e->zp = e->vg = -1;
}

/*
 * The client's last resort after a call failed: close every fd it has
 * (the devices, and any fd the failed call installed without saying so)
 * and open the devices again. Used only where the undo of the call's
 * visible results left the driver busy.
 */
static int fn_close_all(struct fn_env *e, const unsigned char *before)
{
	unsigned char now[FN_FDS];
	int fd, n = 0;

	fn_close_devices(e);
	fn_fds(now);
	for (fd = 3; fd < FN_FDS; fd++)
		if (now[fd] && !before[fd] && fd != e->nth) {
			close(fd);
			n++;
		}
	if (n)
		zc_diag("  (closed %d fd%s the failed call left open)", n, n == 1 ? "" : "s");
	return fn_open_devices(e);
}

static int fn_sweep(struct fn_env *e, const struct fn_op *op, int legacy)
{
	unsigned int n, enomem = 0, efault = 0, tolerated = 0, held = 0, held_at = 0;
	int late_fail = 0;
	unsigned char before[FN_FDS];
	char trace[512] = "";
	size_t tl = 0;
	int err, hit;

	for (n = 1; n <= FN_MAX_POINTS; n++) {
		fn_fds(before);
		if (op->prep && (err = op->prep(e))) {
			zc_diag("%s: preparing attempt %u: %s", op->name, n, zc_errname(err));
			fn_undo(e, legacy ? e->zp : e->zc);
			return ZC_FAIL;
		}
		err = fn_inject(e, op, n, &hit);
		fn_undo(e, legacy ? e->zp : e->zc);
		if (err < 0)
			return ZC_FAIL;
		if (!hit) {
			if (err) {
				zc_diag("%s: failed with nothing injected: %s", op->name,
					zc_errname(err));
				return ZC_FAIL;
			}
			/*
			 * Only DRM's copy of the answer back to user space may
			 * leave the call's result to the file's release (the
			 * call succeeded in the driver; the client was never
			 * told of the handle or fd): an EFAULT, after which no
			 * point may fail the call but that copy-out again. (The
			 * number of points varies a little from attempt to
			 * attempt: the debug kernel's own bookkeeping allocates
			 * too, and survives its failures; so the copy-out can be
			 * met at two successive attempts.)
			 */
			if (late_fail) {
				zc_diag("%s: %u fault points; %u kept something until the client closed its fds (the last at %u), and a later one failed the call in the driver",
					op->name, n - 1, held, held_at);
				zc_diag("  the last points:%s", trace);
				return ZC_FAIL;
			}
			zc_diag("%s: %u fault points, each failed once: ENOMEM %u, EFAULT %u, survived %u%s",
				op->name, n - 1, enomem, efault, tolerated,
				held ? "; at DRM's copy-out released at close" : "");
			return zc_counters_idle(5000);
		}
		/* the last points' results, for the diagnostics */
		if (tl > sizeof(trace) - 32)
			tl = 0;
		tl += snprintf(trace + tl, sizeof(trace) - tl, " %u:%s", n, err ? zc_errname(err) : "ok");
		if (err == ENOMEM)
			enomem++;
		else if (err == EFAULT)
			efault++;
		else if (!err)
			tolerated++;
		else {
			zc_diag("%s: fault point %u failed: %s, want ENOMEM or EFAULT",
				op->name, n, zc_errname(err));
			return ZC_FAIL;
		}
		if (zc_counters_idle(err == EFAULT ? 2000 : 5000) == ZC_PASS) {
			/* past the copy-out, nothing may fail the call */
			if (held && err)
				late_fail = 1;
			continue;
		}
		if (err != EFAULT) {
			zc_diag("%s: the driver keeps something after fault point %u (%s)",
				op->name, n, zc_errname(err));
			return ZC_FAIL;
		}
		if (fn_close_all(e, before) || zc_counters_idle(5000) != ZC_PASS) {
			zc_diag("%s: the driver keeps something after fault point %u (EFAULT), even once the client closed its fds",
				op->name, n);
			return ZC_FAIL;
		}
		held++;
		held_at = n;
	}
	zc_diag("%s: still reaching fault point %u", op->name, n);
	return ZC_FAIL;
}

/* the fault knobs (debugfs) a sweep needs, and their old values */
static const struct { const char *file, *val; } fn_knobs[] = {
	/* GFP_KERNEL allocations too, and single pages */
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	/* no stack dump per injected fault: the log scan would take it for trouble */
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	{ "/sys/kernel/debug/fail_usercopy/verbose", "0" },
};
#define FN_NKNOBS (sizeof(fn_knobs) / sizeof(fn_knobs[0]))

static int fn_knob(const char *file, const char *val, char *old, size_t len)
{
	int fd = open(file, O_RDWR), ok;
	ssize_t r;

	if (fd < 0)
		return -1;
	if (old) {
		r = read(fd, old, len - 1);
		old[r > 0 ? r : 0] = 0;
		old[strcspn(old, "\n")] = 0;
	}
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static int fn_run(struct zc_ctx *ctx, const struct fn_op *ops, unsigned int nops, int legacy)
{
	struct fn_env e = { .ctx = ctx, .zc = -1, .zp = -1, .vg = -1, .pfd = -1, .vfd = -1 };
	char old[FN_NKNOBS][16];
	unsigned int i, set = 0;
	int rc = ZC_PASS, gid = -1;

	ZCC_NEED_DOMU(ctx);
	e.nth = open(FN_NTH, O_RDWR);
	if (e.nth < 0) {
		zc_diag("no %s: this kernel has no fault injection (CONFIG_FAULT_INJECTION); make check-debug runs this case",
			FN_NTH);
		return ZC_SKIP;
	}
	for (; set < FN_NKNOBS; set++)
		CK(!fn_knob(fn_knobs[set].file, fn_knobs[set].val, old[set], sizeof(old[set])),
		   "cannot set %s", fn_knobs[set].file);
	CK(!fn_open_devices(&e), "the devices");
	CK(!zc_agent_grant(ctx, FN_REFS, 9801, 0, 0, e.refs, &gid), "the domU's grants");
	for (i = 0; i < nops && rc == ZC_PASS; i++)
		rc = fn_sweep(&e, &ops[i], legacy);
out:
	while (set--)
		fn_knob(fn_knobs[set].file, old[set], NULL, 0);
	if (gid >= 0)
		zc_agent_release(ctx, gid);
	fn_close_devices(&e);
	close(e.nth);
	return rc == ZC_PASS ? zc_counters_idle(5000) : rc;
}

/* the new UAPI, PRIME both ways, mmap */
ZC_TEST(failnth_ioctls)
{
	static const struct fn_op ops[] = {
		{ "QUERY", NULL, fn_query },
		{ "FROM_REFS", NULL, fn_from_refs },
		{ "PRIME export (HANDLE_TO_FD)", fn_from_refs, fn_export },
		{ "PRIME import of our dma-buf into vgem", fn_prep_export, fn_vgem_import },
		{ "mmap of our dma-buf", fn_prep_export, fn_mmap },
		{ "WAIT_FREE", fn_prep_freed, fn_wait_free },
		{ "PRIME import of vgem's dma-buf (FD_TO_HANDLE)", fn_prep_vgem, fn_prime_import },
		{ "TO_REFS", fn_prep_imported, fn_to_refs },
	};

	return fn_run(ctx, ops, sizeof(ops) / sizeof(ops[0]), 0);
}

/* the 2018 ioctls, on the primary node as the 2018 backend used them */
ZC_TEST(failnth_legacy)
{
	static const struct fn_op ops[] = {
		{ "DUMB_FROM_REFS", NULL, fn_dumb_from_refs },
		{ "DUMB_TO_REFS", fn_prep_dumb_imported, fn_dumb_to_refs },
		{ "DUMB_WAIT_FREE", fn_prep_dumb_freed, fn_dumb_wait_free },
	};

	return fn_run(ctx, ops, sizeof(ops) / sizeof(ops[0]), 1);
}
