// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench, scaling part: what set-up and release cost against the number
 * of grant refs, for the same refs of the domU, both ways.
 *
 *  from  zero-copy: FROM_REFS + PRIME export + import into vgem (attach +
 *        DMA map for vgem's device) | release: close the import, the fd and
 *        the handle, WAIT_FREE until the grants are unmapped;
 *        gntdev: MAP_GRANT_REF + mmap (the grants are mapped here) |
 *        munmap + UNMAP_GRANT_REF.
 *  to    zero-copy: a vgem dumb buffer of N pages (create + export) +
 *        import into xen_drm_zcopy (vgem allocates its pages here) +
 *        TO_REFS to the domU | release: close the import, fd, vgem buffer;
 *        gntalloc: ALLOC_GREF of N pages to the domU (allocates and grants)
 *        | DEALLOC_GREF.
 *
 * Per size: one warm-up cycle of each (which also checks the data: the
 * domU's markers through our mapping and gntdev's, and the domU reading
 * dom0's pattern through the refs TO_REFS and gntalloc returned), then
 * o->reps timed cycles of each, interleaved, order alternated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>
/* the kernel's uapi/xen headers use two kernel-internal type names */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#include "bench.h"

/* pages the data checks look at, at most (the domU maps them) */
#define CHECK_MAX 2025u

struct cyc {
	double setup, release;	/* us */
	double alloc;		/* "to" zero-copy: vgem create + export part of setup */
	double grant;		/* "to" zero-copy: the TO_REFS ioctl alone */
};

struct scale_env {
	struct zb_opts *o;
	int zc, vg, gntdev, gntalloc;
	const uint32_t *refs;	/* the domU's, marked with frame 'mark' */
	uint32_t mark;
	uint32_t *out;		/* refs TO_REFS / gntalloc return */
	struct ioctl_gntdev_map_grant_ref *map;
	struct ioctl_gntalloc_alloc_gref *alloc;
};

static int check_marks(const unsigned char *m, size_t stride, unsigned int n, uint32_t frame,
		       const char *what)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint64_t w, want = zc_mark_word(frame, k);

		memcpy(&w, m + (size_t)k * stride, sizeof(w));
		if (w != want)
			return zb_fail("%s: grant %u does not show the domU's page", what, k);
	}
	return 0;
}

/* the domU maps the first refs read-only and checks dom0's pattern */
static int domu_check(struct scale_env *e, unsigned int n, const char *what)
{
	unsigned int c = n < CHECK_MAX ? n : CHECK_MAX;
	int id, ret = 0;

	if (zc_agent_map(&e->o->ctx, 0, e->out, c, 1, &id))
		return zb_fail("%s: the domU could not map the refs", what);
	if (zc_agent_map_check(&e->o->ctx, id, ZB_SEED))
		ret = zb_fail("%s: the domU does not see dom0's pages through the refs", what);
	if (zc_agent_release(&e->o->ctx, id))
		ret = zb_fail("%s: the domU could not unmap the refs", what);
	return ret;
}

static int cycle_from_zc(struct scale_env *e, unsigned int n, int check, struct cyc *c)
{
	struct drm_xen_zcopy_from_refs fr = {
		.domid = (uint32_t)e->o->ctx.domu,
		.refs = (uintptr_t)e->refs,
		.num_refs = n,
	};
	struct drm_xen_zcopy_wait_free wf = { .timeout_ms = 10000 };
	uint32_t vh;
	double t0, t1;
	int pfd, ret = 0;

	t0 = zb_now_us();
	if (zc_ioctl(e->zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr))
		return zb_fail("FROM_REFS of %u refs: %s", n, strerror(errno));
	if (drmPrimeHandleToFD(e->zc, fr.handle, DRM_CLOEXEC | DRM_RDWR, &pfd))
		return zb_fail("PRIME export: %s", strerror(errno));
	if (drmPrimeFDToHandle(e->vg, pfd, &vh))
		return zb_fail("vgem import of %u refs: %s", n, strerror(errno));
	t1 = zb_now_us();
	c->setup = t1 - t0;
	if (check) {
		unsigned int k = n < CHECK_MAX ? n : CHECK_MAX;
		void *m = mmap(NULL, (size_t)k * ZB_GRANT, PROT_READ, MAP_SHARED, pfd, 0);

		if (m == MAP_FAILED)
			return zb_fail("mmap of %u refs: %s", k, strerror(errno));
		ret = check_marks(m, ZB_GRANT, k, e->mark, "FROM_REFS");
		munmap(m, (size_t)k * ZB_GRANT);
	}
	t0 = zb_now_us();
	zb_gem_close(e->vg, vh);
	close(pfd);
	zb_gem_close(e->zc, fr.handle);
	wf.wait_token = fr.wait_token;
	if (zc_ioctl(e->zc, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &wf) && errno != ENOENT)
		return zb_fail("WAIT_FREE after %u refs: %s", n, strerror(errno));
	c->release = zb_now_us() - t0;
	return ret;
}

static int cycle_from_gntdev(struct scale_env *e, unsigned int n, int check, struct cyc *c)
{
	struct ioctl_gntdev_unmap_grant_ref u = { .count = n };
	size_t len = (size_t)n * zc_grant_stride();
	unsigned int i;
	double t0, t1;
	void *m;
	int ret = 0;

	e->map->count = n;
	for (i = 0; i < n; i++) {
		e->map->refs[i].domid = (uint32_t)e->o->ctx.domu;
		e->map->refs[i].ref = e->refs[i];
	}
	t0 = zb_now_us();
	if (ioctl(e->gntdev, IOCTL_GNTDEV_MAP_GRANT_REF, e->map))
		return zb_fail("gntdev MAP_GRANT_REF of %u refs: %s", n, strerror(errno));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, e->gntdev, (off_t)e->map->index);
	if (m == MAP_FAILED)
		return zb_fail("gntdev mmap of %u refs: %s", n, strerror(errno));
	t1 = zb_now_us();
	c->setup = t1 - t0;
	if (check)
		ret = check_marks(m, zc_grant_stride(), n, e->mark, "gntdev");
	u.index = e->map->index;
	t0 = zb_now_us();
	munmap(m, len);
	if (ioctl(e->gntdev, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u))
		return zb_fail("gntdev UNMAP_GRANT_REF: %s", strerror(errno));
	c->release = zb_now_us() - t0;
	return ret;
}

static int cycle_to_zc(struct scale_env *e, unsigned int n, int check, struct cyc *c)
{
	struct drm_xen_zcopy_to_refs tr = {
		.domid = (uint32_t)e->o->ctx.domu,
		.refs = (uintptr_t)e->out,
		.num_refs = n,
	};
	struct zb_dumb d;
	uint32_t zh;
	double t0, t1, t2, t3, t4;
	int pfd, ret = 0;

	t0 = zb_now_us();
	if (zb_dumb_create(e->vg, 1024, n, 0, &d))
		return zb_fail("vgem dumb buffer of %u pages: %s", n, strerror(errno));
	if (drmPrimeHandleToFD(e->vg, d.handle, DRM_CLOEXEC | DRM_RDWR, &pfd))
		return zb_fail("vgem export: %s", strerror(errno));
	t1 = zb_now_us();
	if (check) {
		/* before the import, which is where vgem would allocate */
		void *m = mmap(NULL, d.size, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);

		if (m == MAP_FAILED)
			return zb_fail("mmap of the vgem buffer: %s", strerror(errno));
		zc_fill(m, d.size, ZB_SEED);
		munmap(m, d.size);
	}
	t2 = zb_now_us();
	if (drmPrimeFDToHandle(e->zc, pfd, &zh))
		return zb_fail("import of %u vgem pages: %s", n, strerror(errno));
	tr.handle = zh;
	t3 = zb_now_us();
	if (zc_ioctl(e->zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr))
		return zb_fail("TO_REFS of %u pages: %s", n, strerror(errno));
	t4 = zb_now_us();
	c->alloc = t1 - t0;
	c->grant = t4 - t3;
	c->setup = c->alloc + (t4 - t2);
	if (check)
		ret = domu_check(e, n, "TO_REFS");
	t0 = zb_now_us();
	zb_gem_close(e->zc, zh);
	close(pfd);
	zb_gem_close(e->vg, d.handle);
	c->release = zb_now_us() - t0;
	return ret;
}

static int cycle_to_gntalloc(struct scale_env *e, unsigned int n, int check, struct cyc *c)
{
	struct ioctl_gntalloc_dealloc_gref d = { .count = n };
	double t0;
	int ret = 0;

	e->alloc->domid = (uint16_t)e->o->ctx.domu;
	e->alloc->flags = GNTALLOC_FLAG_WRITABLE;
	e->alloc->count = n;
	t0 = zb_now_us();
	if (ioctl(e->gntalloc, IOCTL_GNTALLOC_ALLOC_GREF, e->alloc))
		return zb_fail("gntalloc ALLOC_GREF of %u pages: %s", n, strerror(errno));
	c->setup = zb_now_us() - t0;
	c->alloc = c->grant = 0;
	d.index = e->alloc->index;
	if (check) {
		size_t len = (size_t)n * zc_grant_stride();
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, e->gntalloc,
			       (off_t)e->alloc->index);

		if (m == MAP_FAILED)
			return zb_fail("gntalloc mmap: %s", strerror(errno));
		zc_grants_fill(m, 0, (size_t)n * ZB_GRANT, ZB_SEED);
		memcpy(e->out, e->alloc->gref_ids, n * sizeof(uint32_t));
		ret = domu_check(e, n, "gntalloc");
		munmap(m, len);
	}
	t0 = zb_now_us();
	if (ioctl(e->gntalloc, IOCTL_GNTALLOC_DEALLOC_GREF, &d))
		return zb_fail("gntalloc DEALLOC_GREF: %s", strerror(errno));
	c->release = zb_now_us() - t0;
	return ret;
}

typedef int (*cycle_fn)(struct scale_env *e, unsigned int n, int check, struct cyc *c);

static void stat_of(const struct cyc *c, int n, int field, struct zb_stat *s)
{
	double v[64];
	int i;

	for (i = 0; i < n && i < 64; i++)
		v[i] = field == 0 ? c[i].setup : field == 1 ? c[i].release :
		       field == 2 ? c[i].alloc : c[i].grant;
	zb_stat(v, i, s);
}

/*
 * Every size: a warm-up cycle of a and b (which checks the data); then
 * reps rounds over all sizes (ascending on even rounds, descending on odd
 * ones), a and b in alternating order, so that a change of the host's load
 * during the run falls on every size and both paths alike. One table row
 * per size; medians (and minimums) of the set-up times into am/bm (amin).
 */
static int measure_all(struct scale_env *e, const char *op, cycle_fn a, cycle_fn b,
		       double *am, double *bm, double *amin)
{
	static struct cyc ca[ZB_MAX_SIZES][64], cb[ZB_MAX_SIZES][64];
	const struct zb_opts *o = e->o;
	unsigned int i, k, ns = o->nrefs;
	int r, reps = o->reps > 64 ? 64 : o->reps;
	struct cyc warm;

	for (i = 0; i < ns; i++)
		if (a(e, o->refs[i], 1, &warm) || b(e, o->refs[i], 1, &warm))
			return -1;
	for (r = 0; r < reps; r++)
		for (k = 0; k < ns; k++) {
			unsigned int n;

			i = zb_b_first(r) ? ns - 1 - k : k;
			n = o->refs[i];
			if ((r + k) & 1) {
				if (b(e, n, 0, &cb[i][r]) || a(e, n, 0, &ca[i][r]))
					return -1;
			} else if (a(e, n, 0, &ca[i][r]) || b(e, n, 0, &cb[i][r])) {
				return -1;
			}
		}
	for (i = 0; i < ns; i++) {
		struct zb_stat sa, sb, ra, rb, aa, ga;
		unsigned int n = o->refs[i];

		stat_of(ca[i], reps, 0, &sa);
		stat_of(cb[i], reps, 0, &sb);
		stat_of(ca[i], reps, 1, &ra);
		stat_of(cb[i], reps, 1, &rb);
		stat_of(ca[i], reps, 2, &aa);
		stat_of(ca[i], reps, 3, &ga);
		printf("   %-4s %6u %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %7.2fx %8.2f %8.2f %9.3f %9.3f",
		       op, n, sa.min / 1e3, sa.med / 1e3, sa.max / 1e3, sb.min / 1e3, sb.med / 1e3,
		       sb.max / 1e3, sb.med / sa.med, sa.med / n, sb.med / n, ra.med / 1e3,
		       rb.med / 1e3);
		if (!strcmp(op, "to"))
			printf(" %9.3f %9.3f", aa.med / 1e3, ga.med / 1e3);
		printf("\n");
		am[i] = sa.med;
		bm[i] = sb.med;
		amin[i] = sa.min;
	}
	fflush(stdout);
	return 0;
}

/* largest / smallest per-ref cost t[i] / refs[i] over the sizes >= 256 */
static double perref_spread(const struct zb_opts *o, const double *t, unsigned int *lo,
			    unsigned int *hi)
{
	double mn = 0, mx = 0;
	unsigned int i;

	*lo = *hi = 0;
	for (i = 0; i < o->nrefs; i++) {
		double pr = t[i] / o->refs[i];

		if (o->refs[i] < 256)
			continue;
		if (!*lo || pr < mn)
			mn = pr;
		if (!*lo || pr > mx)
			mx = pr;
		if (!*lo)
			*lo = o->refs[i];
		*hi = o->refs[i];
	}
	return *hi > *lo ? mx / mn : 0;
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		zb_fail("open %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Total / refs mixes the fixed cost of a buffer (ioctls, files, objects)
 * with the cost of each ref; the marginal cost between two sizes is the
 * cost of the refs alone.
 */
static void marginal(const struct zb_opts *o, const double *z, const double *g)
{
	double lo = 0, hi = 0;
	unsigned int i;

	printf("   marginal us/ref between successive sizes (zero-copy / other):");
	for (i = 1; i < o->nrefs; i++) {
		double dz, dn = (double)o->refs[i] - o->refs[i - 1];

		if (dn <= 0)
			continue;
		dz = (z[i] - z[i - 1]) / dn;
		printf(" %u-%u: %.2f / %.2f;", o->refs[i - 1], o->refs[i], dz,
		       (g[i] - g[i - 1]) / dn);
		if (o->refs[i - 1] >= 256) {
			if (!lo || dz < lo)
				lo = dz;
			if (!lo || dz > hi)
				hi = dz;
		}
	}
	printf("\n   fixed cost (set-up of 1 ref): zero-copy %.3f ms, other %.3f ms\n",
	       o->refs[0] == 1 ? z[0] / 1e3 : 0, o->refs[0] == 1 ? g[0] / 1e3 : 0);
	if (lo > 0) {
		zb_res.marginal_spread = hi / lo;
		printf("   zero-copy marginal cost from 256 refs on: largest / smallest %.2fx\n", hi / lo);
	}
}

static void env_close(struct scale_env *e, int id, int *ret)
{
	if (id >= 0 && zc_agent_release(&e->o->ctx, id))
		*ret = zb_fail("the domU could not release its pages");
	if (e->gntalloc >= 0)
		close(e->gntalloc);
	if (e->gntdev >= 0)
		close(e->gntdev);
	if (e->vg >= 0)
		close(e->vg);
	if (e->zc >= 0)
		close(e->zc);
	free((void *)e->refs);
	free(e->out);
	free(e->map);
	free(e->alloc);
}

/* devices, buffers, and max pages granted by the domU and marked; *id the
 * domU's allocation */
static int env_open(struct zb_opts *o, struct scale_env *e, unsigned int max, int *id)
{
	uint32_t *refs;

	memset(e, 0, sizeof(*e));
	e->o = o;
	e->zc = e->vg = e->gntdev = e->gntalloc = -1;
	*id = -1;
	refs = calloc(max, sizeof(*refs));
	e->refs = refs;
	e->out = calloc(max, sizeof(*e->out));
	e->map = calloc(1, sizeof(*e->map) + max * sizeof(e->map->refs[0]));
	e->alloc = calloc(1, sizeof(*e->alloc) + max * sizeof(uint32_t));
	if (!refs || !e->out || !e->map || !e->alloc)
		return zb_fail("out of memory");
	e->zc = zc_open_render();
	e->vg = zb_vgem_card();
	if (e->zc < 0 || e->vg < 0)
		return zb_fail("open xen_drm_zcopy / vgem: %s", strerror(errno));
	e->gntdev = open_dev("/dev/xen/gntdev");
	e->gntalloc = open_dev("/dev/xen/gntalloc");
	if (e->gntdev < 0 || e->gntalloc < 0)
		return -1;
	if (zc_agent_grant(&o->ctx, max, ZB_SEED, 0, 0, refs, id))
		return zb_fail("the domU could not grant %u pages (its memory, gntalloc limit, grant table?)",
			       max);
	e->mark = ++o->frame_no;
	if (zc_agent_mark(&o->ctx, *id, e->mark))
		return zb_fail("the domU could not stamp its pages");
	return 0;
}

int zb_scale(struct zb_opts *o)
{
	struct scale_env e;
	unsigned int i, max = 0, lo = 0, hi = 0;
	double zmed[ZB_MAX_SIZES], gmed[ZB_MAX_SIZES], zmin[ZB_MAX_SIZES];
	int id, ret = -1;

	for (i = 0; i < o->nrefs; i++)
		if (o->refs[i] > max)
			max = o->refs[i];
	if (!max)
		return 0;
	if (env_open(o, &e, max, &id))
		goto out;

	printf("\n== set-up and release against the number of grant refs: ms, min / median / max of %d runs ==\n",
	       o->reps);
	printf("   (a warm-up cycle of each at each size, which checks the data; then the runs: all sizes\n"
	       "   in turn, both paths at each, orders alternated; ratio = other / zero-copy set-up,\n"
	       "   medians; us/ref = median set-up / refs)\n");
	printf("   from: zero-copy = FROM_REFS + PRIME export + vgem import; release = close all + WAIT_FREE\n"
	       "         other = gntdev MAP_GRANT_REF + mmap; release = munmap + UNMAP_GRANT_REF\n");
	printf("   op     refs    zero-copy set-up (ms)          other set-up (ms)      ratio  us/ref:zc    other  release:zc    other\n");
	if (measure_all(&e, "from", cycle_from_zc, cycle_from_gntdev, zmed, gmed, zmin))
		goto out;
	for (i = 0; i < o->nrefs; i++)
		if (o->refs[i] == 8100)
			zb_res.setup_ratio_8100 = gmed[i] / zmed[i];
	zb_res.perref_spread = perref_spread(o, zmed, &zb_res.perref_lo, &zb_res.perref_hi);
	zb_res.perref_spread_min = perref_spread(o, zmin, &lo, &hi);
	marginal(o, zmed, gmed);
	printf("   to:   zero-copy = vgem dumb buffer (create + export) + import + TO_REFS; release = close all\n"
	       "         other = gntalloc ALLOC_GREF; release = DEALLOC_GREF\n"
	       "         (last columns, zero-copy medians: the vgem create + export part, the TO_REFS ioctl alone)\n");
	printf("   op     refs    zero-copy set-up (ms)          other set-up (ms)      ratio  us/ref:zc    other  release:zc    other  vgem part   TO_REFS\n");
	if (measure_all(&e, "to", cycle_to_zc, cycle_to_gntalloc, zmed, gmed, zmin))
		goto out;
	ret = 0;
out:
	env_close(&e, id, &ret);
	if (!ret && zc_counters_idle(5000) != ZC_PASS)
		ret = zb_fail("scaling part: the driver's counters are not back to 0");
	return ret;
}

/*
 * One cycle of one operation on n refs, traced: a warm-up cycle first
 * (untimed, untraced), then tracing_on around one cycle (run-bench.sh has
 * set up the tracer and reads the trace).
 */
int zb_profile(struct zb_opts *o, const char *what, unsigned int n)
{
	static const struct {
		const char *name;
		cycle_fn fn;
	} ops[] = {
		{ "zc-from", cycle_from_zc },
		{ "gntdev", cycle_from_gntdev },
		{ "zc-to", cycle_to_zc },
		{ "gntalloc", cycle_to_gntalloc },
	};
	struct scale_env e;
	struct cyc c, warm;
	unsigned int i;
	int id, ret = -1;

	if (!strcmp(what, "sync"))
		return zb_sync_profile(o, n);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, what))
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return zb_fail("unknown profile '%s'", what);
	if (env_open(o, &e, n, &id) || ops[i].fn(&e, n, 0, &warm))
		goto out;
	zb_trace(1);
	ret = ops[i].fn(&e, n, 0, &c);
	zb_trace(0);
	if (!ret)
		printf("profile %s %u refs: set-up %.3f ms, release %.3f ms (traced)\n", what, n,
		       c.setup / 1e3, c.release / 1e3);
out:
	env_close(&e, id, &ret);
	return ret;
}
