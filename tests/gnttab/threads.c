// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One xengnttab handle shared by many threads, as libxenbe shares its one
 * handle (XenGnttab::getHandle()) between a backend's frontends: exports
 * (map, check, close, wait by fd number), imports and releases, and waits
 * on numbers that are no export, all at once. Nothing may fail, and at the
 * end nothing may be left: no fd, no mapping, no grant.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zg_test.h"

#define EXPORTERS	4
#define IMPORTERS	2
#define ROUNDS		25
#define PAGES		8

struct worker {
	xengnttab_handle *h;
	int domu;
	uint32_t refs[PAGES];	/* exporter: the domU's grants */
	uint32_t seed;
	int dmabuf;		/* importer: a vgem dma-buf */
	unsigned int n;
	const char *fail;	/* first failure, or NULL */
	int err, round;
	pthread_t thread;
};

static void *exporter(void *arg)
{
	struct worker *w = arg;
	size_t len = PAGES * ZG_GRANT;

	for (w->round = 0; w->round < ROUNDS; w->round++) {
		uint32_t fd;
		void *m;

		if (xengnttab_dmabuf_exp_from_refs(w->h, w->domu, GNTDEV_DMA_FLAG_WC, PAGES,
						   w->refs, &fd)) {
			w->fail = "exp_from_refs";
			break;
		}
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, (int)fd, 0);
		if (m == MAP_FAILED) {
			w->fail = "mmap";
			close((int)fd);
			break;
		}
		if (zc_verify(m, len, w->seed)) {
			errno = 0;
			w->fail = "data";
			munmap(m, len);
			close((int)fd);
			break;
		}
		munmap(m, len);
		close((int)fd);
		/*
		 * Another thread may be given this number before we wait: then
		 * we wait for its buffer (gntdev's keying), which it releases
		 * within its round.
		 */
		if (xengnttab_dmabuf_exp_wait_released(w->h, fd, 5000)) {
			w->fail = "exp_wait_released";
			break;
		}
	}
	w->err = errno;
	return NULL;
}

static void *importer(void *arg)
{
	struct worker *w = arg;
	uint32_t refs[64];

	for (w->round = 0; w->round < ROUNDS; w->round++) {
		unsigned int i;

		memset(refs, 0, sizeof(refs));
		if (xengnttab_dmabuf_imp_to_refs(w->h, w->domu, (uint32_t)w->dmabuf, w->n, refs)) {
			w->fail = "imp_to_refs";
			break;
		}
		for (i = 0; i < w->n && refs[i]; i++)
			;
		if (i < w->n) {
			errno = 0;
			w->fail = "a ref is 0";
			break;
		}
		if (xengnttab_dmabuf_imp_release(w->h, (uint32_t)w->dmabuf)) {
			w->fail = "imp_release";
			break;
		}
	}
	w->err = errno;
	return NULL;
}

/* waits on numbers that are no export: 0, errno 0, at once */
static void *waiter(void *arg)
{
	struct worker *w = arg;

	for (w->round = 0; w->round < ROUNDS * 4; w->round++) {
		errno = EXDEV;	/* must become 0: gntdev's -ENOENT as libxengnttab returns it */
		if (xengnttab_dmabuf_exp_wait_released(w->h, 900 + (uint32_t)w->round, 1000) ||
		    errno) {
			w->fail = "wait on an unknown number";
			break;
		}
	}
	w->err = errno;
	return NULL;
}

ZC_TEST(gnttab_threads)
{
	struct worker w[EXPORTERS + IMPORTERS + 1];
	struct zg_vbuf vb[IMPORTERS];
	int ids[EXPORTERS] = { 0 }, vgem = -1, rc = ZC_PASS, started = 0, i;
	xengnttab_handle *h = NULL;
	struct zg_fds fds0, fds1;

	NEED_DOMU(ctx);
	memset(w, 0, sizeof(w));
	for (i = 0; i < IMPORTERS; i++)
		vb[i].fd = -1, vb[i].map = NULL, vb[i].handle = 0;
	for (i = 0; i < EXPORTERS; i++)
		CK(!zc_agent_grant(ctx, PAGES, 941 + (uint32_t)i, 0, 0, w[i].refs, &ids[i]),
		   "domU grant %d", i);
	vgem = zg_vgem_open();
	CK(vgem >= 0, "vgem");
	for (i = 0; i < IMPORTERS; i++)
		CK(!zg_vbuf_new(&vb[i], vgem, 1024, PAGES), "vgem buffer");
	CK(!zg_fds_take(&fds0), "fds");
	h = xengnttab_open(NULL, 0);
	CK(h, "xengnttab_open: %s", zc_errname(errno));

	for (i = 0; i < EXPORTERS + IMPORTERS + 1; i++) {
		void *(*fn)(void *) = i < EXPORTERS ? exporter :
				      i < EXPORTERS + IMPORTERS ? importer : waiter;

		w[i].h = h;
		w[i].domu = ctx->domu;
		w[i].seed = 941 + (uint32_t)i;
		if (fn == importer) {
			w[i].dmabuf = vb[i - EXPORTERS].fd;
			w[i].n = (unsigned int)(vb[i - EXPORTERS].size / ZG_GRANT);
		}
		CK(!pthread_create(&w[i].thread, NULL, fn, &w[i]), "pthread_create");
		started++;
	}
out:
	for (i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].fail) {
			zc_diag("thread %d, round %d: %s failed: %s", i, w[i].round, w[i].fail,
				zc_errname(w[i].err));
			rc = ZC_FAIL;
		}
	}
	if (rc == ZC_PASS && zc_counters_idle(0) != ZC_PASS) {
		zc_diag("the threads are done, but the driver still holds something");
		rc = ZC_FAIL;
	}
	if (h && xengnttab_close(h) && rc == ZC_PASS) {
		zc_diag("xengnttab_close: %s", zc_errname(errno));
		rc = ZC_FAIL;
	}
	if (h && rc == ZC_PASS && (zg_fds_take(&fds1) || !zg_fds_same(&fds0, &fds1)))
		rc = ZC_FAIL;
	for (i = 0; i < IMPORTERS; i++)
		zg_vbuf_free(&vb[i]);
	if (vgem >= 0)
		close(vgem);
	for (i = 0; i < EXPORTERS; i++)
		if (ids[i])
			zc_agent_release(ctx, ids[i]);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	return rc;
}
