// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xengnttab_dmabuf_exp_wait_released: gntdev's answers as libxengnttab
 * returns them. gntdev keys the wait by the fd number the export returned,
 * looks for the newest not yet released buffer of that number, waits
 * uninterruptibly for any u32 ms, and answers -ETIMEDOUT, 0 or -ENOENT;
 * libxengnttab returns -1/ETIMEDOUT, 0 (errno untouched) and 0 (errno 0).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zg_test.h"

/* GEM_CLOSE a vgem handle after a delay, from another thread */
struct later_close {
	int vgem;
	uint32_t handle;
	unsigned int ms;
	pthread_t thread;
};

static void *later_close_fn(void *arg)
{
	struct later_close *l = arg;

	usleep(l->ms * 1000);
	zg_gem_close(l->vgem, l->handle);
	return NULL;
}

/* SIGUSR1 to a thread every 20 ms, until stopped */
struct pester {
	pthread_t target, thread;
	volatile int stop;
	volatile int sent;
};

static volatile sig_atomic_t zg_signals;

static void on_usr1(int sig)
{
	(void)sig;
	zg_signals++;
}

static void *pester_fn(void *arg)
{
	struct pester *p = arg;

	while (!p->stop) {
		usleep(20000);
		pthread_kill(p->target, SIGUSR1);
		p->sent++;
	}
	return NULL;
}

/* export the domU's refs; the fd, or 0 (and a diagnostic) */
static uint32_t export(xengnttab_handle *h, struct zc_ctx *ctx, const uint32_t *refs,
		       unsigned int n)
{
	uint32_t fd = 0;
	int r = xengnttab_dmabuf_exp_from_refs(h, ctx->domu, GNTDEV_DMA_FLAG_WC, n, refs, &fd);

	if (r) {
		zc_diag("exp_from_refs: %d %s", r, zc_errname(errno));
		return 0;
	}
	return fd;
}

ZC_TEST(gnttab_wait)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old_sa;
	struct later_close lc = { 0 };
	struct pester pe = { 0 };
	xengnttab_handle *h = NULL;
	uint32_t refs[4], a = 0, b = 0, vha = 0, vhc = 0;
	struct zg_fds fds0, fds1;
	int vgem = -1, id = 0, r, e, rc = ZC_PASS, lc_on = 0, pe_on = 0, sa_on = 0;
	int a_open = 0;	/* a names an open fd (else only a number to wait on) */
	double t;

	NEED_DOMU(ctx);
	CK(!zc_agent_grant(ctx, 4, 921, 0, 0, refs, &id), "domU grant");
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	CK(!zg_fds_take(&fds0), "fds");
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));

	/* held by our fd: -ETIMEDOUT after the timeout */
	a = export(h, ctx, refs, 4);
	CK(a, "export");
	a_open = 1;
	t = zg_now();
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 200));
	CK(r == -1 && e == ETIMEDOUT, "wait while the fd is open: %d %s", r, zc_errname(e));
	CK(zg_now() - t >= 0.19 && zg_now() - t < 5, "ETIMEDOUT after %.3f s of 0.2", zg_now() - t);
	/* a timeout of 0 only looks */
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 0));
	CK(r == -1 && e == ETIMEDOUT, "wait 0 ms: %d %s", r, zc_errname(e));

	/* the fd closed, an importer holds it: keyed by the number, still -ETIMEDOUT */
	CK(!zg_prime_import(vgem, (int)a, &vha), "vgem import: %s", zc_errname(errno));
	close((int)a);
	a_open = 0;
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 100));
	CK(r == -1 && e == ETIMEDOUT, "wait after close, still imported: %d %s", r, zc_errname(e));

	/*
	 * fd number reuse (gntdev's keying): the wait is for the newest
	 * buffer exported under the number that is not yet released.
	 * B gets A's number and is freed at once: the wait is for A again.
	 */
	b = export(h, ctx, refs, 4);
	CK(b, "export B");
	CK(b == a, "export B got fd %u, not the lowest free %u", b, a);
	CK(zc_counter("buffers") == 2, "buffers %ld", zc_counter("buffers"));
	close((int)b);	/* B freed: no importer */
	b = 0;
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 100));
	CK(r == -1 && e == ETIMEDOUT, "A (imported) after B went: %d %s", r, zc_errname(e));
	/* C gets the number too and stays (imported); A goes: the wait is for C */
	b = export(h, ctx, refs, 4);
	CK(b == a, "export C got fd %u, not %u", b, a);
	CK(!zg_prime_import(vgem, (int)b, &vhc), "vgem import of C: %s", zc_errname(errno));
	close((int)b);
	b = 0;
	CK(!zg_gem_close(vgem, vha), "vgem GEM_CLOSE of A");
	vha = 0;
	CK(zc_counter("buffers") == 1, "buffers %ld: A not freed", zc_counter("buffers"));
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 100));
	CK(r == -1 && e == ETIMEDOUT, "C (imported) after A went: %d %s", r, zc_errname(e));

	/*
	 * C released while we wait, 0.5 s in, with a timeout beyond the
	 * driver's largest WAIT_FREE (60 s): 0, errno untouched.
	 */
	lc.vgem = vgem;
	lc.handle = vhc;
	lc.ms = 500;
	CK(!pthread_create(&lc.thread, NULL, later_close_fn, &lc), "thread");
	lc_on = 1;
	t = zg_now();
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 65000));
	pthread_join(lc.thread, NULL);
	lc_on = 0;
	vhc = 0;
	CK(r == 0 && e == EXDEV, "wait for the release: %d %s (errno must be untouched)",
	   r, zc_errname(e));
	CK(zg_now() - t >= 0.4 && zg_now() - t < 10, "returned after %.3f s", zg_now() - t);
	CK(zc_counters_idle(0) == ZC_PASS, "waited, but the driver still holds the buffer");
	/* released already, and a number never exported: gntdev -ENOENT: 0, errno 0 */
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 2000));
	CK(r == 0 && e == 0, "after release: %d %s", r, zc_errname(e));
	t = zg_now();
	CALL(xengnttab_dmabuf_exp_wait_released(h, 987, 2000));
	CK(r == 0 && e == 0 && zg_now() - t < 1, "unknown fd: %d %s after %.3f s",
	   r, zc_errname(e), zg_now() - t);

	/* signals do not cut the wait short (gntdev's wait is uninterruptible) */
	a = export(h, ctx, refs, 4);
	CK(a, "export");
	a_open = 1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the ioctl sees EINTR */
	CK(!sigaction(SIGUSR1, &sa, &old_sa), "sigaction");
	sa_on = 1;
	zg_signals = 0;
	pe.target = pthread_self();
	CK(!pthread_create(&pe.thread, NULL, pester_fn, &pe), "thread");
	pe_on = 1;
	t = zg_now();
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 400));
	pe.stop = 1;
	pthread_join(pe.thread, NULL);
	pe_on = 0;
	CK(r == -1 && e == ETIMEDOUT, "wait under signals: %d %s", r, zc_errname(e));
	CK(zg_now() - t >= 0.39, "returned after %.3f s of 0.4 (%d signals)", zg_now() - t,
	   (int)zg_signals);
	CK(zg_signals >= 3, "only %d signals arrived", (int)zg_signals);
	close((int)a);
	a_open = 0;
	CALL(xengnttab_dmabuf_exp_wait_released(h, a, 2000));
	CK(r == 0, "final wait: %d %s", r, zc_errname(e));

	CK(!xengnttab_close(h), "xengnttab_close");
	h = NULL;
	CK(!zg_fds_take(&fds1) && zg_fds_same(&fds0, &fds1), "fd leak");
out:
	if (pe_on) {
		pe.stop = 1;
		pthread_join(pe.thread, NULL);
	}
	if (sa_on)
		sigaction(SIGUSR1, &old_sa, NULL);
	if (lc_on)
		pthread_join(lc.thread, NULL);
	else if (vhc)
		zg_gem_close(vgem, vhc);
	if (vha)
		zg_gem_close(vgem, vha);
	if (b)
		close((int)b);
	if (a_open)
		close((int)a);
	if (h)
		xengnttab_close(h);
	if (vgem >= 0)
		close(vgem);
	if (id)
		zc_agent_release(ctx, id);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
