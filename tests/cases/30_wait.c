// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * WAIT_FREE: timeout, unknown and foreign tokens, the wake-up when the last
 * holder (a vgem import) goes, and a signal interrupting the wait.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

/* a 2-page buffer on dom0's own grants (refs: its two refs, or NULL) */
static int make_buf_refs(int fd, struct drm_xen_zcopy_from_refs *fr, struct zc_local **h,
			 uint32_t *refs)
{
	uint32_t r[2];

	if (!refs)
		refs = r;
	if (!zc_self_grant(2, 301, 0, 0, refs, h))
		return -1;
	return zcc_from_refs(fd, fr, 0, refs, 2, 0);
}

static int make_buf(int fd, struct drm_xen_zcopy_from_refs *fr, struct zc_local **h)
{
	return make_buf_refs(fd, fr, h, NULL);
}

ZC_TEST(wait_timeout)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	double t;
	int fd = zc_open_render();

	ZC_CHECK(fd >= 0, "open");
	ZC_EXPECT_ERRNO(make_buf(fd, &fr, &h), 0);
	t = zcc_now();
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 200), ETIMEDOUT);
	t = zcc_now() - t;
	ZC_CHECK(t >= 0.19 && t < 5, "waited %.3f s for a 200 ms timeout", t);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 0), ETIMEDOUT);
	ZC_CHECK(zc_counter("waiters") == 0, "waiters %ld after the wait", zc_counter("waiters"));
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 1000), ENOENT);	/* freed already */
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

ZC_TEST(wait_enoent)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	int fd = zc_open_render(), fd2 = zc_open_render();
	uint64_t t;

	ZC_CHECK(fd >= 0 && fd2 >= 0, "open");
	ZC_EXPECT_ERRNO(make_buf(fd, &fr, &h), 0);
	t = fr.wait_token;
	ZC_EXPECT_ERRNO(zcc_wait(fd, 0, 10), ENOENT);
	ZC_EXPECT_ERRNO(zcc_wait(fd, t + 1, 10), ENOENT);		/* unknown id */
	ZC_EXPECT_ERRNO(zcc_wait(fd, t ^ (1ull << 40), 10), ENOENT);	/* wrong salt */
	ZC_EXPECT_ERRNO(zcc_wait(fd, (uint32_t)t, 10), ENOENT);	/* bare id */
	ZC_EXPECT_ERRNO(zcc_wait(fd2, t, 10), ENOENT);		/* another file's */
	ZC_EXPECT_ERRNO(zcc_wait(fd, t, 10), ETIMEDOUT);		/* but ours is live */
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	/* freed: gone from the table */
	ZC_EXPECT_ERRNO(zcc_wait(fd, t, 1000), ENOENT);
	zc_local_free(h);
	close(fd2);
	close(fd);
	return zc_counters_idle(2000);
}

/*
 * displ_be order: close our handle and fd first; the KMS driver (vgem here)
 * still holds an import, whose release, from another task, ends the wait.
 */
ZC_TEST(wait_wakes_on_last_close)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zc_local *h;
	int fd = zc_open_render(), vg = zc_open_vgem(), pfd, st;
	uint32_t vh;
	double t;
	pid_t pid;

	ZC_CHECK(fd >= 0 && vg >= 0, "open");
	ZC_EXPECT_ERRNO(make_buf(fd, &fr, &h), 0);
	pfd = zcc_prime_fd(fd, fr.handle);
	ZC_CHECK(pfd >= 0, "PRIME fd");
	vh = zcc_import(vg, pfd);
	ZC_CHECK(vh, "vgem import: %s", strerror(errno));
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	close(pfd);

	pid = fork();
	ZC_CHECK(pid >= 0, "fork");
	if (!pid) {
		/* same open file: the child can close the vgem handle */
		usleep(300 * 1000);
		_exit(zcc_close_handle(vg, vh) ? 1 : 0);
	}
	t = zcc_now();
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 5000), 0);
	t = zcc_now() - t;
	ZC_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
		 "child failed to close the vgem handle");
	ZC_CHECK(t >= 0.25 && t < 4.5, "woke after %.3f s", t);
	ZC_CHECK(zc_counters_idle(0) == ZC_PASS, "counters not final at wake-up");
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 10), ENOENT);
	zc_local_free(h);
	close(vg);
	close(fd);
	return zc_counters_idle(2000);
}

static void on_alarm(int sig)
{
	(void)sig;
}

ZC_TEST(wait_interrupted)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct drm_xen_zcopy_from_refs fr;
	struct drm_xen_zcopy_wait_free w = { .timeout_ms = 5000 };
	struct zc_local *h;
	int fd = zc_open_render();
	double t;

	ZC_CHECK(fd >= 0, "open");
	ZC_EXPECT_ERRNO(make_buf(fd, &fr, &h), 0);
	w.wait_token = fr.wait_token;
	ZC_CHECK(!sigaction(SIGALRM, &sa, NULL), "sigaction");
	ualarm(200 * 1000, 0);
	t = zcc_now();
	/* raw ioctl: drmIoctl() would restart on EINTR */
	ZC_EXPECT_ERRNO(zcc_raw_err(fd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w), EINTR);
	t = zcc_now() - t;
	ZC_CHECK(t < 4, "signal did not end the wait (%.3f s)", t);
	ZC_CHECK(zc_counter("waiters") == 0, "waiters %ld", zc_counter("waiters"));
	/* the buffer is unaffected */
	ZC_CHECK(zc_counter("buffers") == 1, "buffers %ld", zc_counter("buffers"));
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_EXPECT_ERRNO(zcc_wait(fd, fr.wait_token, 1000), ENOENT);
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

/* The waiters counter and debugfs show a task in WAIT_FREE. */
ZC_TEST(wait_counted)
{
	struct drm_xen_zcopy_from_refs fr;
	struct zcc_dbuf d;
	struct zc_local *h;
	uint32_t refs[2];
	int fd = zc_open_render(), st, i;
	pid_t pid;

	ZC_CHECK(fd >= 0, "open");
	ZC_EXPECT_ERRNO(make_buf_refs(fd, &fr, &h, refs), 0);
	pid = fork();
	ZC_CHECK(pid >= 0, "fork");
	if (!pid)
		_exit(zcc_wait(fd, fr.wait_token, 5000));
	for (i = 0; i < 200 && zc_counter("waiters") != 1; i++)
		usleep(10 * 1000);
	ZC_CHECK(zc_counter("waiters") == 1, "waiters %ld", zc_counter("waiters"));
	ZC_CHECK(zcc_dbuf_find(&d, "foreign", 0, refs, 2) == 1, "no debugfs line of the buffer");
	ZC_CHECK(d.waiters == 1 && d.importers == 0, "debugfs: waiters %d importers %u",
		 d.waiters, d.importers);
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	ZC_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st), "child");
	ZC_CHECK(WEXITSTATUS(st) == 0, "child's wait: errno %d", WEXITSTATUS(st));
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(2000);
}

/*
 * Several processes at once (two vCPUs on every platform) create, export,
 * import, free and wait, while another reads debugfs: every call succeeds,
 * every wait ends, every debugfs line is well formed, nothing is left
 * behind. Every 4th buffer is freed while a thread of its worker is blocked
 * in WAIT_FREE on it (seen in the buffer's debugfs line first): that wait
 * returns 0. The work really overlapped: all workers ran at one instant
 * (their start and end times, in shared memory) and the reader saw buffers
 * of two workers alive at once. A worker's exit status names its first
 * failure.
 */
enum { ST_OPEN = 20, ST_FROM_REFS, ST_EXPORT, ST_IMPORT, ST_CLOSE, ST_WAIT, ST_PENDING_SEEN,
       ST_PENDING, ST_THREAD, ST_DEBUGFS = 30, ST_DEBUGFS_LINE, ST_COUNTER };
enum { NWORKERS = 4 };

struct stress_shared {
	double start[NWORKERS], end[NWORKERS];
	long max_buffers, max_waiters;
};

struct pending_wait {
	int fd;
	uint64_t token;
	int err;
	double done;	/* when the wait returned */
};

/*
 * Blocked far longer than a free takes to wake it: a wait that only ends
 * at its timeout (a lost wake-up: the freed flag is seen then, and the
 * call still returns 0) is told apart by the time it returned.
 */
static void *pending_waiter(void *arg)
{
	struct pending_wait *p = arg;

	p->err = zcc_wait(p->fd, p->token, 20000);
	p->done = zcc_now();
	return NULL;
}

/* until the buffer on refs shows its one waiter in debugfs (3 s at most) */
static int waiter_seen(const uint32_t *refs, unsigned int n)
{
	struct zcc_dbuf d;
	int i;

	for (i = 0; i < 600; i++) {
		if (zcc_dbuf_find(&d, "foreign", 0, refs, n) == 1 && d.waiters == 1)
			return 1;
		usleep(5 * 1000);
	}
	return 0;
}

static int stress_worker(int seed, struct stress_shared *sh)
{
	struct drm_xen_zcopy_from_refs fr;
	int fd = zc_open_render(), vg = zc_open_vgem(), i, r;
	struct zc_local *h;
	uint32_t refs[3], vh;

	if (fd < 0 || vg < 0 || !zc_self_grant(3, 310 + seed, 0, 0, refs, &h))
		return ST_OPEN;
	sh->start[seed] = zcc_now();
	for (i = 0; i < 40; i++) {
		unsigned int n = 1 + (i + seed) % 3;
		struct pending_wait pw;
		int pfd, bad = 0, pend = i % 4 == 3;
		double freed;
		pthread_t th;

		if (zcc_from_refs(fd, &fr, 0, refs, n, 0))
			return ST_FROM_REFS;
		pfd = zcc_prime_fd(fd, fr.handle);
		if (pfd < 0)
			return ST_EXPORT;
		vh = zcc_import(vg, pfd);
		if (!vh)
			return ST_IMPORT;
		if (pend) {
			pw.fd = fd;
			pw.token = fr.wait_token;
			pw.err = -1;
			if (pthread_create(&th, NULL, pending_waiter, &pw))
				return ST_THREAD;
			if (!waiter_seen(refs, n))
				return ST_PENDING_SEEN;
		}
		/* vary who goes last: our handle, the fd, or the import */
		switch ((i + seed) % 3) {
		case 0:
			bad |= zcc_close_handle(vg, vh);
			bad |= close(pfd);
			bad |= zcc_close_handle(fd, fr.handle);
			break;
		case 1:
			bad |= zcc_close_handle(fd, fr.handle);
			bad |= zcc_close_handle(vg, vh);
			bad |= close(pfd);
			break;
		default:
			bad |= close(pfd);
			bad |= zcc_close_handle(fd, fr.handle);
			bad |= zcc_close_handle(vg, vh);
			break;
		}
		if (bad)
			return ST_CLOSE;
		freed = zcc_now();
		/* the blocked wait ends with the free, woken by it: 0, soon */
		if (pend && (pthread_join(th, NULL) || pw.err != 0 || pw.done - freed > 5)) {
			fprintf(stdout, "# worker %d buffer %d: pending wait: %s %.1f s after the free\n",
				seed, i, pw.err < 0 ? "no result" : zc_errname(pw.err),
				pw.done - freed);
			return ST_PENDING;
		}
		/* everything is closed: the buffer is gone already */
		r = zcc_wait(fd, fr.wait_token, 2000);
		if (r != ENOENT)
			return ST_WAIT;
	}
	sh->end[seed] = zcc_now();
	zc_local_free(h);
	close(vg);
	close(fd);
	return 0;
}

/* read debugfs over and over: every line well formed, every counter a number */
static int stress_reader(struct stress_shared *sh)
{
	struct zcc_dbuf d;
	char line[512];
	long b, w;
	int n;

	for (n = 0; n < 400; n++) {
		FILE *f = fopen("/sys/kernel/debug/xen_zcopy/buffers", "r");

		if (!f)
			return ST_DEBUGFS;
		while (fgets(line, sizeof(line), f))
			/*
			 * A FROM_REFS in progress is listed before its map is
			 * published: "- 0 -" (domid -1, no grants) then.
			 */
			if (zcc_dbuf_parse(line, &d) || strcmp(d.kind, "foreign") ||
			    (d.domid != 0 && (d.domid != -1 || d.grants)) || d.grants > 3 ||
			    d.importers > 1 || d.waiters > 1) {
				line[strcspn(line, "\n")] = 0;
				zc_diag("debugfs line: %s", line);
				fclose(f);
				return ST_DEBUGFS_LINE;
			}
		fclose(f);
		b = zc_counter("buffers");
		w = zc_counter("waiters");
		if (zc_counter("grants_mapped") < 0 || b < 0 || b > NWORKERS || w < 0 ||
		    w > NWORKERS)
			return ST_COUNTER;
		if (b > sh->max_buffers)
			sh->max_buffers = b;
		if (w > sh->max_waiters)
			sh->max_waiters = w;
	}
	return 0;
}

ZC_TEST(wait_stress)
{
	struct stress_shared *sh;
	double last_start = 0, first_end = 1e300;
	pid_t pids[NWORKERS + 1];
	int i, st, bad = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ZC_CHECK(sh != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	zc_diag("%ld CPUs online", sysconf(_SC_NPROCESSORS_ONLN));
	for (i = 0; i <= NWORKERS; i++) {
		pids[i] = fork();
		ZC_CHECK(pids[i] >= 0, "fork");
		if (pids[i])
			continue;
		_exit(i < NWORKERS ? stress_worker(i, sh) : stress_reader(sh));
	}
	for (i = 0; i <= NWORKERS; i++) {
		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			zc_diag("%s %d: status %d", i < NWORKERS ? "worker" : "debugfs reader", i,
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			bad++;
		}
	}
	ZC_CHECK(!bad, "%d process(es) failed", bad);
	for (i = 0; i < NWORKERS; i++) {
		if (sh->start[i] > last_start)
			last_start = sh->start[i];
		if (sh->end[i] < first_end)
			first_end = sh->end[i];
	}
	zc_diag("all %d workers running together for %.0f ms; the reader saw up to %ld buffers and %ld waiters at once",
		NWORKERS, (first_end - last_start) * 1e3, sh->max_buffers, sh->max_waiters);
	ZC_CHECK(last_start < first_end, "the workers never ran at the same time");
	ZC_CHECK(sh->max_buffers >= 2, "the reader never saw two workers' buffers at once");
	munmap(sh, sizeof(*sh));
	return zc_counters_idle(3000);
}
