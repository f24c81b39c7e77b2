// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kill -9 of clients (issue 11, requirement 3): a client blocked in
 * WAIT_FREE; a client in the middle of a FROM_REFS of max_refs grants and
 * of a large TO_REFS; a client holding mmaps, dma-buf fds, a vgem import,
 * an importer attachment and a TO_REFS grant the domU maps; a forked child
 * sharing a buffer with its parent. After each kill: the killed process is
 * reaped at once (nothing hangs), the driver's counters return to 0
 * (nothing leaks; the harness checks Xen's grant table after the case) and
 * the next client's FROM_REFS, mmap and WAIT_FREE work.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "zc_importer.h"

/* SIGKILL pid, reap it: 0 if it died of the signal within 10 s */
static int kill_reap(pid_t pid, double *ms)
{
	double t0 = zcc_now();
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, WNOHANG) != pid) {
		if (zcc_now() - t0 > 10) {
			zc_diag("pid %d not gone 10 s after SIGKILL", (int)pid);
			return -1;
		}
		usleep(2000);
	}
	if (ms)
		*ms = (zcc_now() - t0) * 1e3;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		zc_diag("pid %d ended with status %#x before the SIGKILL", (int)pid, st);
		return -1;
	}
	return 0;
}

/* the child says it is ready by writing one byte */
static int wait_ready(int rfd, int timeout_s)
{
	double t0 = zcc_now();
	char c;

	for (;;) {
		ssize_t n = read(rfd, &c, 1);

		if (n == 1)
			return c == 'r' ? 0 : -1;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (zcc_now() - t0 > timeout_s)
			return -1;
		usleep(2000);
	}
}

/*
 * The next client: FROM_REFS of fresh domU grants, mmap, data, close,
 * WAIT_FREE; then the counters are 0.
 */
static int next_client_ok(struct zc_ctx *ctx)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[4];
	unsigned char *m;
	int zc, id, pfd, e;

	if (zc_counters_idle(10000) != ZC_PASS) {
		zc_diag("the driver still holds something after the kill");
		return -1;
	}
	zc = zc_open_render();
	if (zc < 0 || zc_agent_grant(ctx, 4, 969, 0, 0, refs, &id)) {
		zc_diag("next client: open or grant");
		return -1;
	}
	e = zcc_from_refs(zc, &fr, ctx->domu, refs, 4, 0);
	if (e) {
		zc_diag("next client: FROM_REFS: %s", zc_errname(e));
		return -1;
	}
	pfd = zcc_prime_fd(zc, fr.handle);
	m = pfd < 0 ? MAP_FAILED : mmap(NULL, fr.size, PROT_READ, MAP_SHARED, pfd, 0);
	if (m == MAP_FAILED || zc_verify(m, fr.size, 969)) {
		zc_diag("next client: mmap or data wrong");
		return -1;
	}
	munmap(m, fr.size);
	close(pfd);
	zcc_close_handle(zc, fr.handle);
	e = zcc_wait(zc, fr.wait_token, 5000);
	if (e && e != ENOENT) {
		zc_diag("next client: WAIT_FREE: %s", zc_errname(e));
		return -1;
	}
	close(zc);
	zc_agent_release(ctx, id);
	return zc_counters_idle(5000) == ZC_PASS ? 0 : -1;
}

/* a client blocked in WAIT_FREE on a buffer its own dma-buf fd keeps */
ZC_TEST(kill9_wait_free)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[2];
	int id = 0, p[2], rc = ZC_PASS;
	double ms = 0;
	pid_t pid = -1;

	ZCC_NEED_DOMU(ctx);
	CK(!pipe2(p, O_NONBLOCK), "pipe");
	CK(!zc_agent_grant(ctx, 2, 961, 0, 0, refs, &id), "agent grant");
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid) {
		int zc = zc_open_render(), pfd;

		if (zc < 0 || zcc_from_refs(zc, &fr, ctx->domu, refs, 2, 0))
			_exit(2);
		pfd = zcc_prime_fd(zc, fr.handle);
		if (pfd < 0 || zcc_close_handle(zc, fr.handle))
			_exit(3);
		if (write(p[1], "r", 1) != 1)
			_exit(4);
		zcc_wait(zc, fr.wait_token, 60000);
		_exit(5);
	}
	CK(!wait_ready(p[0], 20), "the client did not get ready");
	{
		double t0 = zcc_now();

		while (zc_counter("waiters") != 1) {
			CK(zcc_now() - t0 < 10, "no waiter (waiters %ld)", zc_counter("waiters"));
			usleep(5000);
		}
	}
	usleep(100 * 1000);
	CK(!kill_reap(pid, &ms), "kill -9 of the waiting client");
	pid = -1;
	zc_diag("kill -9 in WAIT_FREE: reaped in %.1f ms", ms);
	CK(!next_client_ok(ctx), "after the kill");
out:
	if (pid > 0)
		kill_reap(pid, NULL);
	if (id)
		zc_agent_release(ctx, id);
	close(p[0]);
	close(p[1]);
	return rc;
}

/*
 * FROM_REFS of max_refs grants: 1024 domU pages, each given 64 times (Xen
 * counts at most 127 mappings of one grant per kind), killed at several
 * points of the call, after one uninterrupted call measured how long it
 * takes.
 */
#define BIG_DISTINCT	1024u

ZC_TEST(kill9_from_refs_max)
{
	static const double at[] = { 0.05, 0.3, 0.6, 0.9, 1.2 };
	struct drm_xen_zcopy_query q;
	struct drm_xen_zcopy_from_refs fr;
	uint32_t *refs = NULL, base[BIG_DISTINCT];
	unsigned int n, i, k;
	int id = 0, zc = -1, rc = ZC_PASS, e;
	double t0, full = 0, ms;
	pid_t pid = -1;

	ZCC_NEED_DOMU(ctx);
	zc = zc_open_render();
	CK(zc >= 0 && !zcc_query(zc, &q), "open/QUERY");
	n = q.max_refs;
	CK(n >= BIG_DISTINCT && n <= 1048576, "max_refs %u", n);
	refs = malloc((size_t)n * sizeof(*refs));
	CK(refs, "oom");
	CK(!zc_agent_grant(ctx, BIG_DISTINCT, 962, 0, 0, base, &id), "agent grant %u", BIG_DISTINCT);
	for (i = 0; i < n; i++)
		refs[i] = base[i % BIG_DISTINCT];
	/* once, whole: how long the call takes here */
	t0 = zcc_now();
	e = zcc_from_refs(zc, &fr, ctx->domu, refs, n, 0);
	full = zcc_now() - t0;
	CK(!e, "FROM_REFS of %u refs: %s", n, zc_errname(e));
	CK(zc_counter("grants_mapped") == n, "grants_mapped %ld, want %u", zc_counter("grants_mapped"), n);
	CK(!zcc_close_handle(zc, fr.handle), "GEM close");
	CK(zc_counters_idle(20000) == ZC_PASS, "not released after the close");
	zc_diag("FROM_REFS of %u refs (max_refs) takes %.0f ms here, its release %.0f ms more",
		n, full * 1e3, (zcc_now() - t0 - full) * 1e3);
	close(zc);
	zc = -1;
	/* clients of their own file, killed in the call: the file goes with them */
	for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		int p[2];
		char c;

		CK(!pipe(p), "pipe");
		pid = fork();
		CK(pid >= 0, "fork");
		if (!pid) {
			int z = zc_open_render();

			close(p[0]);
			if (z < 0 || write(p[1], "r", 1) != 1)
				_exit(2);
			zcc_from_refs(z, &fr, ctx->domu, refs, n, 0);
			pause();
			_exit(3);
		}
		close(p[1]);
		e = (int)read(p[0], &c, 1);
		close(p[0]);
		CK(e == 1, "child not ready");
		usleep((useconds_t)(at[k] * full * 1e6));
		CK(!kill_reap(pid, &ms), "kill -9 %.0f%% into FROM_REFS", at[k] * 100);
		pid = -1;
		t0 = zcc_now();
		CK(zc_counters_idle(30000) == ZC_PASS, "the killed client's buffer was not released");
		zc_diag("kill -9 at %.0f%% of FROM_REFS: reaped in %.1f ms, released %.0f ms later",
			at[k] * 100, ms, (zcc_now() - t0) * 1e3);
	}
	CK(!next_client_ok(ctx), "after the kills");
out:
	if (pid > 0)
		kill_reap(pid, NULL);
	if (zc >= 0)
		close(zc);
	zc_counters_idle(30000);
	if (id)
		zc_agent_release(ctx, id);
	free(refs);
	return rc;
}

/* A vgem dumb buffer of 'pages' 4 KiB pages, imported: vgem and our handle */
static int vgem_import(int vg, int zc, unsigned int pages, uint32_t *vh, uint32_t *zh)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = pages, .bpp = 32 };
	int pfd;

	if (zcc_err(vg, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -1;
	*vh = cd.handle;
	pfd = zcc_prime_fd(vg, cd.handle);
	if (pfd < 0)
		return -1;
	*zh = zcc_import(zc, pfd);
	close(pfd);
	return *zh ? 0 : -1;
}

/* TO_REFS of a large buffer, the client killed during the call */
ZC_TEST(kill9_to_refs)
{
	static const double at[] = { 0.1, 0.5, 0.9, 1.5 };
	const unsigned int pages = 16384;	/* 64 MiB, half of dom0's grant table */
	struct drm_xen_zcopy_to_refs tr;
	uint32_t *refs = NULL, vh, zh;
	int vg = -1, zc = -1, rc = ZC_PASS, e;
	double t0, full, ms;
	unsigned int k;
	pid_t pid = -1;

	ZCC_NEED_DOMU(ctx);
	refs = calloc(pages, sizeof(*refs));
	vg = zcc_open_vgem_card();
	zc = zc_open_render();
	CK(refs && vg >= 0 && zc >= 0, "open");
	CK(!vgem_import(vg, zc, pages, &vh, &zh), "vgem buffer of %u pages", pages);
	memset(&tr, 0, sizeof(tr));
	tr.domid = (uint32_t)ctx->domu;
	tr.refs = (uintptr_t)refs;
	tr.num_refs = pages;
	tr.handle = zh;
	t0 = zcc_now();
	e = zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr);
	full = zcc_now() - t0;
	CK(!e, "TO_REFS of %u pages: %s", pages, zc_errname(e));
	CK(!zcc_close_handle(zc, zh) && !zcc_close_handle(vg, vh), "close");
	CK(zc_counters_idle(10000) == ZC_PASS, "not released after the close");
	close(zc);
	close(vg);
	zc = vg = -1;
	zc_diag("TO_REFS of %u pages takes %.0f ms here", pages, full * 1e3);
	for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		int p[2];
		char c;

		CK(!pipe(p), "pipe");
		pid = fork();
		CK(pid >= 0, "fork");
		if (!pid) {
			int v = zcc_open_vgem_card(), z = zc_open_render();

			close(p[0]);
			if (v < 0 || z < 0 || vgem_import(v, z, pages, &vh, &zh))
				_exit(2);
			tr.handle = zh;
			if (write(p[1], "r", 1) != 1)
				_exit(3);
			zcc_err(z, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr);
			pause();
			_exit(4);
		}
		close(p[1]);
		e = (int)read(p[0], &c, 1);
		close(p[0]);
		CK(e == 1, "child not ready");
		usleep((useconds_t)(at[k] * full * 1e6));
		CK(!kill_reap(pid, &ms), "kill -9 %.0f%% into TO_REFS", at[k] * 100);
		pid = -1;
		zc_diag("kill -9 at %.0f%% of TO_REFS: reaped in %.1f ms, grants_issued %ld",
			at[k] * 100, ms, zc_counter("grants_issued"));
		CK(zc_counters_idle(10000) == ZC_PASS, "the killed client's grants were not released");
	}
	CK(!next_client_ok(ctx), "after the kills");
out:
	if (pid > 0)
		kill_reap(pid, NULL);
	if (zc >= 0)
		close(zc);
	if (vg >= 0)
		close(vg);
	free(refs);
	return rc;
}

/*
 * A client holding everything at once: a FROM_REFS buffer by handle, one
 * mmap()ed, one exported and imported into vgem, one attached and mapped
 * by the test importer, and a TO_REFS grant the domU maps. kill -9: all of
 * it is released, the TO_REFS one once the domU unmaps.
 */
ZC_TEST(kill9_holder)
{
	uint32_t refs[3][4], trefs[4];
	int id[3] = { 0 }, tmap = 0, p[2], rc = ZC_PASS, i;
	double ms;
	pid_t pid = -1;

	ZCC_NEED_DOMU(ctx);
	for (i = 0; i < 3; i++)
		CK(!zc_agent_grant(ctx, 4, 963 + (uint32_t)i, 0, 0, refs[i], &id[i]), "agent grant");
	CK(!pipe(p), "pipe");
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid) {
		struct drm_xen_zcopy_from_refs fr[3];
		struct drm_xen_zcopy_to_refs tr = { 0 };
		int zc = zc_open_render(), vg = zcc_open_vgem_card(), ifd = zc_imp_open();
		int pf1, pf2;
		uint32_t vh, zh;
		unsigned char *m;

		close(p[0]);
		if (zc < 0 || vg < 0 || ifd < 0)
			_exit(2);
		for (i = 0; i < 3; i++)
			if (zcc_from_refs(zc, &fr[i], ctx->domu, refs[i], 4, 0))
				_exit(3);
		pf1 = zcc_prime_fd(zc, fr[1].handle);
		m = pf1 < 0 ? MAP_FAILED :
			mmap(NULL, fr[1].size, PROT_READ | PROT_WRITE, MAP_SHARED, pf1, 0);
		if (m == MAP_FAILED || zc_verify(m, fr[1].size, 964))
			_exit(4);
		pf2 = zcc_prime_fd(zc, fr[2].handle);
		if (pf2 < 0 || !zcc_import(vg, pf2) || zc_imp_attach(ifd, pf2, NULL) ||
		    zc_imp_map(ifd, ZCI_DMA_BIDIRECTIONAL, NULL) || zc_imp_pin(ifd, 0))
			_exit(5);
		if (vgem_import(vg, zc, 4, &vh, &zh))
			_exit(6);
		tr.domid = (uint32_t)ctx->domu;
		tr.refs = (uintptr_t)trefs;
		tr.num_refs = 4;
		tr.handle = zh;
		if (zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr))
			_exit(7);
		if (write(p[1], trefs, sizeof(trefs)) != sizeof(trefs))
			_exit(8);
		pause();
		_exit(9);
	}
	close(p[1]);
	CK(read(p[0], trefs, sizeof(trefs)) == sizeof(trefs), "the holder did not get ready");
	CK(!zc_agent_map(ctx, 0, trefs, 4, 0, &tmap), "domU maps the TO_REFS grants");
	CK(zc_counter("grants_mapped") == 12 && zc_counter("grants_issued") == 4,
	   "grants_mapped %ld, grants_issued %ld", zc_counter("grants_mapped"),
	   zc_counter("grants_issued"));
	CK(!kill_reap(pid, &ms), "kill -9 of the holder");
	pid = -1;
	zc_diag("kill -9 of the holder: reaped in %.1f ms", ms);
	/* everything but the grants the domU still maps */
	{
		double t0 = zcc_now();

		while (zc_counter("grants_mapped") || zc_counter("deferred") != 1) {
			CK(zcc_now() - t0 < 10, "grants_mapped %ld, deferred %ld after the kill",
			   zc_counter("grants_mapped"), zc_counter("deferred"));
			usleep(20000);
		}
	}
	CK(!zc_agent_release(ctx, tmap), "domU unmap");
	tmap = 0;
	CK(!next_client_ok(ctx), "after the kill");
out:
	if (pid > 0)
		kill_reap(pid, NULL);
	if (tmap)
		zc_agent_release(ctx, tmap);
	for (i = 0; i < 3; i++)
		if (id[i])
			zc_agent_release(ctx, id[i]);
	close(p[0]);
	return rc;
}

/*
 * A forked child shares the parent's files (device, dma-buf, vgem) and maps
 * the buffer itself. kill -9 of the child: the parent's buffer and mapping
 * are intact. Then the parent drops everything while a second child holds
 * the shared files and a mapping: kill -9 of that child ends the parent's
 * WAIT_FREE.
 */
ZC_TEST(kill9_fork_child)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[4], vh = 0;
	int id = 0, zc = -1, vg = -1, pfd = -1, p[2] = { -1, -1 }, rc = ZC_PASS, k;
	unsigned char *m = MAP_FAILED;
	double ms, t0;
	pid_t pid = -1, killer = -1;

	ZCC_NEED_DOMU(ctx);
	zc = zc_open_render();
	vg = zc_open_vgem();
	CK(zc >= 0 && vg >= 0, "open");
	CK(!zc_agent_grant(ctx, 4, 966, 0, 0, refs, &id), "agent grant");
	CK(!zcc_from_refs(zc, &fr, ctx->domu, refs, 4, 0), "FROM_REFS");
	pfd = zcc_prime_fd(zc, fr.handle);
	CK(pfd >= 0, "PRIME export");
	vh = zcc_import(vg, pfd);
	CK(vh, "vgem import");
	m = mmap(NULL, fr.size, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	CK(m != MAP_FAILED, "mmap: %s", zc_errname(errno));
	for (k = 0; k < 2; k++) {
		char c;

		CK(!pipe(p), "pipe");
		pid = fork();
		CK(pid >= 0, "fork");
		if (!pid) {
			/* the mapping is not inherited (VM_DONTCOPY): map again */
			unsigned char *cm = mmap(NULL, fr.size, PROT_READ | PROT_WRITE,
						 MAP_SHARED, pfd, 0);

			if (cm == MAP_FAILED)
				_exit(2);
			zc_fill(cm, fr.size, 967 + (uint32_t)k);
			if (write(p[1], "r", 1) != 1)
				_exit(3);
			pause();
			_exit(4);
		}
		close(p[1]);
		p[1] = -1;
		CK(read(p[0], &c, 1) == 1, "child %d not ready", k);
		close(p[0]);
		p[0] = -1;
		if (k == 0) {
			CK(!kill_reap(pid, &ms), "kill -9 of the child");
			pid = -1;
			CK(!zc_verify(m, fr.size, 967), "the parent's mapping does not show the child's data");
			CK(!zc_agent_check(ctx, id, 967, 0, fr.size), "the domU does not see the child's data");
			CK(zcc_wait(zc, fr.wait_token, 100) == ETIMEDOUT, "the buffer went with the child");
			CK(zc_counter("grants_mapped") == 4, "grants_mapped %ld", zc_counter("grants_mapped"));
			zc_diag("kill -9 of a child sharing the buffer: reaped in %.1f ms, the parent's buffer intact", ms);
		}
	}
	/* the parent drops all its references: only the child's remain */
	CK(!munmap(m, fr.size), "munmap");
	m = MAP_FAILED;
	CK(!zcc_close_handle(zc, fr.handle) && !zcc_close_handle(vg, vh), "close handles");
	vh = 0;
	close(pfd);
	pfd = -1;
	CK(zcc_wait(zc, fr.wait_token, 200) == ETIMEDOUT, "freed while the child still maps it");
	/* we are blocked in WAIT_FREE when the last holder is killed */
	killer = fork();
	CK(killer >= 0, "fork");
	if (!killer) {
		usleep(300 * 1000);
		kill(pid, SIGKILL);
		_exit(0);
	}
	t0 = zcc_now();
	k = zcc_wait(zc, fr.wait_token, 10000);
	t0 += 0.3;
	CK(!kill_reap(pid, &ms), "kill -9 of the second child");
	pid = -1;
	CK(k == 0 || k == ENOENT, "WAIT_FREE after the last holder was killed: %s", zc_errname(k));
	/* the release of the killed child's mapping ends the wait at once */
	CK(zcc_now() - t0 < 3, "WAIT_FREE returned %.1f s after the last holder was killed",
	   zcc_now() - t0);
	CK(!next_client_ok(ctx), "after the kills");
out:
	if (killer > 0)
		waitpid(killer, NULL, 0);
	if (pid > 0)
		kill_reap(pid, NULL);
	if (m != MAP_FAILED)
		munmap(m, fr.size);
	if (pfd >= 0)
		close(pfd);
	if (vg >= 0)
		close(vg);
	if (zc >= 0)
		close(zc);
	for (k = 0; k < 2; k++)
		if (p[k] >= 0)
			close(p[k]);
	if (id)
		zc_agent_release(ctx, id);
	return rc;
}
