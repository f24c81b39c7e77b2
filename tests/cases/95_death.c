// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Domain death (issue 11, requirement 2): `xl destroy` of a domain while
 * dom0 holds every kind of FROM_REFS buffer of its grants and while the
 * domain maps dom0's TO_REFS grants.
 *
 * The victim is a throwaway domU ("zcdie": the test domU's kernel and
 * initramfs, so the same agent), created by the case and destroyed by it:
 * the suite's own domU stays up for the other cases. What the case holds
 * when the domain dies:
 *   A  a FROM_REFS buffer by its GEM handle only
 *   B  one exported and imported into vgem, our handle and fd closed
 *   C  one mmap()ed (our handle closed, the dma-buf fd and the mapping kept)
 *   D  one attached, DMA-mapped and with a page pinned by the test importer
 *   E  one whose last reference is a dma-buf fd, a forked task blocked in
 *      WAIT_FREE on it
 *   T  a vgem buffer granted to the domain with TO_REFS, mapped there by
 *      the agent, and freed by us (deferred: the domain still maps it)
 *   F  refs granted to dom0 and never mapped
 * Then: dom0 answers, C still reads, FROM_REFS of F (the domain is dying)
 * fails cleanly with nothing mapped, T's deferred release completes once
 * Xen has dropped the domain's mappings, every buffer is released (E's
 * waiter wakes with 0), the counters go to 0, the domain leaves `xl list`
 * (no zombie), and FROM_REFS of F (the domain is dead) fails cleanly again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "zc_importer.h"
#include "zc_priv.h"

#define DIE_NAME	"zcdie"
#define DIE_LOG		"/var/log/xen/console/guest-" DIE_NAME ".log"
#define NB		4	/* grants of buffers A-D and T */

/*
 * Create the throwaway domain from the test domU's config (memory and name
 * overridden) and wait until its agent serves. Returns its domid or -1.
 */
static int die_create(void)
{
	struct zc_xs xs = { .fd = -1 };
	char out[64], path[96], v[16];
	double t0 = zcc_now();
	int domid;

	if (!zc_sh_out(out, sizeof(out), "xl domid " DIE_NAME " 2>/dev/null") && out[0]) {
		zc_diag("a domain " DIE_NAME " is left over (%s): destroyed first", out);
		zc_sh("xl destroy " DIE_NAME);
	}
	if (zc_sh("xl create /etc/xen/domU.cfg 'name=\"" DIE_NAME "\"' memory=128 > /run/zc/" DIE_NAME
		"-create.log 2>&1")) {
		zc_diag("xl create " DIE_NAME " failed:");
		zc_sh("sed 's/^/# /' /run/zc/" DIE_NAME "-create.log");
		return -1;
	}
	if (zc_sh_out(out, sizeof(out), "xl domid " DIE_NAME) || !out[0])
		return -1;
	domid = atoi(out);
	if (zc_xs_open(&xs)) {
		zc_diag("xenstore: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/local/domain/%d/" ZC_XS_DIR "/ready", domid);
	while (zc_xs_read(&xs, path, v, sizeof(v)) < 0) {
		if (zcc_now() - t0 > 150) {
			zc_diag("domain %s (%d): agent not ready within 150 s", DIE_NAME, domid);
			zc_xs_close(&xs);
			return -1;
		}
		usleep(200 * 1000);
	}
	zc_xs_close(&xs);
	zc_diag("throwaway domU %s is domain %d (xl create + boot: %.1f s)", DIE_NAME, domid,
		zcc_now() - t0);
	return domid;
}

/* the domain (dying or not) is still known to Xen */
static int die_listed(int domid)
{
	char out[128], cmd[96];

	snprintf(cmd, sizeof(cmd), "xl list %d 2>/dev/null | tail -n +2", domid);
	return zc_sh_out(out, sizeof(out), cmd) == 0 && out[0];
}

/* no domain of that id and no "(null)" dying domain: ms it took, or -1 */
static double die_wait_gone(int domid, double t0, int timeout_s)
{
	char out[64];

	for (;;) {
		if (!die_listed(domid) &&
		    (zc_sh_out(out, sizeof(out), "xl list | grep -c '(null)'") != 0 || atoi(out) == 0))
			return (zcc_now() - t0) * 1e3;
		if (zcc_now() - t0 > timeout_s) {
			zc_diag("domain %d still listed %d s after xl destroy:", domid, timeout_s);
			zc_sh("xl list | sed 's/^/# /'");
			return -1;
		}
		usleep(100 * 1000);
	}
}

/* FROM_REFS of domid's n refs; the errno (0: it mapped) */
static int try_from_refs(int zc, int domid, const uint32_t *refs, unsigned int n,
			 uint32_t *handle)
{
	struct drm_xen_zcopy_from_refs fr;
	int e = zcc_from_refs(zc, &fr, domid, refs, n, 0);

	*handle = e ? 0 : fr.handle;
	return e;
}

/* a FROM_REFS buffer of the throwaway domain's fresh grants */
static int die_buf(struct zc_ctx *dctx, int zc, unsigned int n, uint32_t seed,
		   struct drm_xen_zcopy_from_refs *fr, int *id)
{
	uint32_t refs[NB];
	int e;

	if (zc_agent_grant(dctx, n, seed, 0, 0, refs, id))
		return -1;
	e = zcc_from_refs(zc, fr, dctx->domu, refs, n, 0);
	if (e)
		zc_diag("FROM_REFS of domain %d: %s", dctx->domu, zc_errname(e));
	return e ? -1 : 0;
}

ZC_TEST(death_domu_destroy)
{
	struct drm_xen_zcopy_from_refs fa, fb, fc, fd_, fe;
	struct drm_mode_create_dumb cd = { .width = 1024, .height = NB, .bpp = 32 };
	struct drm_xen_zcopy_to_refs tr = { 0 };
	struct drm_xen_zcopy_query q;
	struct zc_ctx dctx = { .domu = -1, .name = ctx->name };
	uint32_t frefs[2], trefs[NB], vh_b = 0, vh_t = 0, zh_t = 0, h;
	int zc = -1, vg = -1, ifd = -1, pb = -1, pc = -1, pd = -1, pe = -1, pt = -1;
	int id, fid = 0, tmap = 0, st, e1, e2, rc = ZC_PASS, destroyed = 0;
	unsigned char *mc = MAP_FAILED;
	struct zci_map zm;
	pid_t waiter = -1;
	double t0, td, gone;
	long mapped;

	zc = zc_open_render();
	vg = zcc_open_vgem_card();
	CK(zc >= 0 && vg >= 0, "open: xen_drm_zcopy %d, vgem %d: %s", zc, vg, zc_errname(errno));
	dctx.domu = die_create();
	CK(dctx.domu >= 0, "no throwaway domU");

	/* A: a GEM handle only */
	CK(!die_buf(&dctx, zc, NB, 951, &fa, &id), "buffer A");
	/* B: only vgem's import holds it */
	CK(!die_buf(&dctx, zc, NB, 952, &fb, &id), "buffer B");
	pb = zcc_prime_fd(zc, fb.handle);
	CK(pb >= 0, "B: PRIME export: %s", zc_errname(errno));
	vh_b = zcc_import(vg, pb);
	CK(vh_b, "B: vgem import: %s", zc_errname(errno));
	CK(!zcc_close_handle(zc, fb.handle), "B: GEM close");
	close(pb);
	pb = -1;
	/* C: mmap()ed, our handle closed */
	CK(!die_buf(&dctx, zc, NB, 953, &fc, &id), "buffer C");
	pc = zcc_prime_fd(zc, fc.handle);
	CK(pc >= 0, "C: PRIME export: %s", zc_errname(errno));
	mc = mmap(NULL, fc.size, PROT_READ | PROT_WRITE, MAP_SHARED, pc, 0);
	CK(mc != MAP_FAILED, "C: mmap: %s", zc_errname(errno));
	CK(!zc_verify(mc, fc.size, 953), "C: pattern wrong through the mapping");
	zc_fill(mc, fc.size, 954);
	CK(!zcc_close_handle(zc, fc.handle), "C: GEM close");
	/* D: the importer's attachment, DMA mapping and a pinned page */
	CK(!die_buf(&dctx, zc, NB, 955, &fd_, &id), "buffer D");
	pd = zcc_prime_fd(zc, fd_.handle);
	CK(pd >= 0, "D: PRIME export: %s", zc_errname(errno));
	ifd = zc_imp_open();
	CK(ifd >= 0, "D: importer");
	CK(!zc_imp_attach(ifd, pd, NULL), "D: attach: %s", zc_errname(errno));
	CK(!zc_imp_map(ifd, ZCI_DMA_BIDIRECTIONAL, &zm), "D: map: %s", zc_errname(errno));
	CK(!zc_imp_pin(ifd, 0), "D: pin: %s", zc_errname(errno));
	CK(!zcc_close_handle(zc, fd_.handle), "D: GEM close");
	close(pd);
	pd = -1;
	/* E: a dma-buf fd only, and a task waiting for the buffer to go */
	CK(!die_buf(&dctx, zc, 2, 956, &fe, &id), "buffer E");
	pe = zcc_prime_fd(zc, fe.handle);
	CK(pe >= 0, "E: PRIME export: %s", zc_errname(errno));
	CK(!zcc_close_handle(zc, fe.handle), "E: GEM close");
	waiter = fork();
	CK(waiter >= 0, "fork");
	if (!waiter) {
		/* the parent's copies are the last references */
		close(pe);
		close(pc);
		close(ifd);
		close(vg);
		_exit(zcc_wait(zc, fe.wait_token, 60000));
	}
	for (t0 = zcc_now(); zc_counter("waiters") != 1; usleep(20 * 1000)) {
		if (waitpid(waiter, &st, WNOHANG) == waiter) {
			waiter = -1;
			CK(0, "the waiter ended at once: status %#x (errno %d)", st,
			   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
		CK(zcc_now() - t0 < 10, "the waiter did not start waiting (waiters %ld)",
		   zc_counter("waiters"));
	}
	/* T: a TO_REFS grant the domain maps; freed by us, so deferred */
	CK(!zcc_err(vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb: %s", zc_errname(errno));
	vh_t = cd.handle;
	pt = zcc_prime_fd(vg, vh_t);
	CK(pt >= 0, "T: vgem export: %s", zc_errname(errno));
	zh_t = zcc_import(zc, pt);
	CK(zh_t, "T: import: %s", zc_errname(errno));
	tr.domid = (uint32_t)dctx.domu;
	tr.refs = (uintptr_t)trefs;
	tr.num_refs = NB;
	tr.handle = zh_t;
	CK(!zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr), "TO_REFS: %s", zc_errname(errno));
	CK(!zc_agent_map(&dctx, 0, trefs, NB, 0, &tmap), "T: domain maps the grants");
	CK(!zcc_close_handle(zc, zh_t), "T: GEM close");
	zh_t = 0;
	close(pt);
	pt = -1;
	CK(!zcc_close_handle(vg, vh_t), "T: vgem close");
	vh_t = 0;
	CK(zc_counter("deferred") == 1, "deferred %ld, want 1 (T still mapped)",
	   zc_counter("deferred"));
	/* F: granted, not mapped */
	CK(!zc_agent_grant(&dctx, 2, 957, 0, 0, frefs, &fid), "F: grant");
	mapped = zc_counter("grants_mapped");
	CK(mapped == 4 * NB + 2, "grants_mapped %ld, want %d", mapped, 4 * NB + 2);

	/* the domain dies */
	t0 = td = zcc_now();
	CK(!zc_sh("xl destroy %d", dctx.domu), "xl destroy %d failed", dctx.domu);
	destroyed = 1;
	zc_diag("xl destroy %d: %.0f ms; the dying domain %s listed while we hold its pages",
		dctx.domu, (zcc_now() - t0) * 1e3, die_listed(dctx.domu) ? "is still" : "is no longer");

	/* dom0 and the driver still work */
	CK(!zcc_query(zc, &q), "QUERY after the domain died: %s", zc_errname(errno));
	/* the mapping of C is still backed: no fault, the data is there */
	CK(!zc_verify(mc, fc.size, 954), "C: data changed after the domain died");
	/* FROM_REFS of a dying domain's refs: a clean error, nothing mapped */
	e1 = try_from_refs(zc, dctx.domu, frefs, 2, &h);
	CK(e1, "FROM_REFS of the dying domain's refs succeeded (handle %u)", h);
	CK(zc_counter("grants_mapped") == mapped, "grants_mapped %ld after the failed FROM_REFS, want %ld",
	   zc_counter("grants_mapped"), mapped);
	/* T: Xen dropped the domain's mappings: the deferred release completes */
	for (t0 = zcc_now(); zc_counter("deferred") || zc_counter("grants_issued");
	     usleep(50 * 1000))
		CK(zcc_now() - t0 < 20, "TO_REFS release still deferred 20 s after xl destroy (deferred %ld, grants_issued %ld)",
		   zc_counter("deferred"), zc_counter("grants_issued"));
	zc_diag("TO_REFS deferred release done %.0f ms after xl destroy began",
		(zcc_now() - td) * 1e3);
	tmap = 0;

	/* release everything: A, C, D, B, then E wakes its waiter */
	CK(!zcc_close_handle(zc, fa.handle), "A: GEM close: %s", zc_errname(errno));
	CK(!munmap(mc, fc.size), "C: munmap: %s", zc_errname(errno));
	mc = MAP_FAILED;
	close(pc);
	pc = -1;
	CK(!zc_imp_unpin(ifd), "D: unpin");
	CK(!zc_imp_unmap(ifd), "D: unmap");
	CK(!zc_imp_detach(ifd), "D: detach");
	close(ifd);
	ifd = -1;
	CK(!zcc_close_handle(vg, vh_b), "B: vgem close");
	vh_b = 0;
	CK(zc_counter("waiters") == 1, "waiters %ld before E's release", zc_counter("waiters"));
	close(pe);
	pe = -1;
	CK(waitpid(waiter, &st, 0) == waiter, "waitpid");
	waiter = -1;
	CK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "WAIT_FREE on E ended with status %#x (errno %d)",
	   st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CK(zc_counters_idle(10000) == ZC_PASS, "the driver still holds something");
	gone = die_wait_gone(dctx.domu, zcc_now(), 30);
	CK(gone >= 0, "the destroyed domain did not go away (a zombie)");
	zc_diag("the destroyed domain left xl list %.0f ms after the driver went idle", gone);
	/* FROM_REFS of a dead domain's refs: a clean error, nothing mapped */
	e2 = try_from_refs(zc, dctx.domu, frefs, 2, &h);
	CK(e2, "FROM_REFS of the dead domain's refs succeeded (handle %u)", h);
	CK(zc_counter("grants_mapped") == 0 && zc_counter("buffers") == 0,
	   "after FROM_REFS of a dead domain: grants_mapped %ld, buffers %ld",
	   zc_counter("grants_mapped"), zc_counter("buffers"));
	zc_diag("FROM_REFS of the refs of the dying domain: %s; of the dead one: %s",
		zc_errname(e1), zc_errname(e2));
	CK(e2 == ESRCH, "FROM_REFS of a dead domain: %s, want ESRCH", zc_errname(e2));
out:
	if (waiter > 0) {
		kill(waiter, SIGKILL);
		waitpid(waiter, NULL, 0);
	}
	if (mc != MAP_FAILED)
		munmap(mc, fc.size);
	if (ifd >= 0)
		close(ifd);
	for (st = 0; st < 5; st++) {
		int f = (int[]){ pb, pc, pd, pe, pt }[st];

		if (f >= 0)
			close(f);
	}
	if (vg >= 0)
		close(vg);
	if (zc >= 0)
		close(zc);
	if (dctx.domu >= 0 && !destroyed) {
		zc_sh("xl destroy %d", dctx.domu);
		die_wait_gone(dctx.domu, zcc_now(), 30);
	}
	if (rc != ZC_PASS)
		zc_sh("tail -n 40 " DIE_LOG " 2>/dev/null | sed 's/^/  " DIE_NAME ": /'");
	(void)fid;
	return rc;
}
