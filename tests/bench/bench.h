/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zcbench: the parts of the benchmark and what they share.
 *
 *   frame.c  a CPU consumer reads every byte of each guest frame:
 *            zero-copy (sync + read through vgem's import) against
 *            gntdev + memcpy into a vgem dumb buffer + read
 *   scale.c  set-up and release cost against the number of grant refs:
 *            FROM_REFS + export + import against gntdev map + mmap, and
 *            TO_REFS of a vgem buffer against gntalloc
 *   sync.c   cost of one DMA_BUF_IOCTL_SYNC against the buffer size
 *   util.c   clocks, statistics, vgem and DRM helpers
 *
 * Every part checks what it measures (the consumer's data, the refs'
 * contents), and a failed check fails the whole run: zcbench exits 1.
 * Times are wall-clock in dom0, in microseconds internally, printed in ms.
 */
#ifndef ZCBENCH_H
#define ZCBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "zctest.h"

#define ZB_GRANT	4096u
#define ZB_MAX_SIZES	16
#define ZB_SEED		0x5eed

/** struct zb_opts - the run's knobs (zcbench --help) */
struct zb_opts {
	struct zc_ctx ctx;	/* the domU (agent) */
	int reps;		/* timed repetitions per measurement (>= 1) */
	int frames;		/* frames per run of the frame part */
	int calls;		/* SYNC calls per run of the sync part */
	unsigned int nsizes;	/* frame sizes (WxH) of the frame part */
	unsigned int w[ZB_MAX_SIZES], h[ZB_MAX_SIZES];
	unsigned int nrefs;	/* ref counts of the scaling part */
	unsigned int refs[ZB_MAX_SIZES];
	unsigned int nsync;	/* page counts of the sync part */
	unsigned int sync[ZB_MAX_SIZES];
	uint32_t frame_no;	/* the last frame marker the domU stamped */
};

/** struct zb_stat - min / median / max of a set of samples */
struct zb_stat {
	double min, med, max;
};

double zb_now_us(void);
/* statistics of v[0..n) (sorts v) */
void zb_stat(double *v, int n, struct zb_stat *s);
/* order of repetition r in an interleaved (ABAB / BABA) series: 0 = A first */
static inline int zb_b_first(int r)
{
	return r & 1;
}

/* the consumer's work: every byte read once, as 64-bit words summed */
uint64_t zb_sum64(const void *p, size_t len);
/* sum64 of a frame of len bytes with the pattern of seed in which the
 * domU stamped marker 'frame' on every 4 KiB grant (see zc_grants_mark) */
struct zb_expect {
	uint64_t rest;		/* sum of the words no marker overwrites */
	unsigned int grants;
};
void zb_expect_init(struct zb_expect *e, size_t len, uint32_t seed);
uint64_t zb_expect_sum(const struct zb_expect *e, uint32_t frame);
/* the whole expected frame, for a byte-by-byte comparison */
void zb_expect_frame(void *buf, size_t len, uint32_t seed, uint32_t frame);

/** struct zb_dumb - a vgem dumb buffer, mapped through vgem */
struct zb_dumb {
	uint32_t handle;
	uint64_t size;
	void *map;
};
int zb_vgem_card(void);	/* vgem's primary node: render nodes refuse CREATE_DUMB */
/* create (w x h, 32 bpp) and, if map, mmap it through vgem's MAP_DUMB */
int zb_dumb_create(int vg, unsigned int w, unsigned int h, int map, struct zb_dumb *d);
void zb_dumb_destroy(int vg, struct zb_dumb *d);
void zb_gem_close(int fd, uint32_t handle);
int zb_same_file(int a, int b);

/* ftrace markers for the profile (run-bench.sh): tracing_on around a phase
 * when ZC_BENCH_TRACE=1, else nothing */
void zb_trace(int on);

int zb_frame(struct zb_opts *o);
int zb_scale(struct zb_opts *o);
int zb_sync(struct zb_opts *o);
/* one cycle of one operation, for the profile: zc-from gntdev zc-to gntalloc sync */
int zb_profile(struct zb_opts *o, const char *what, unsigned int n);
int zb_sync_profile(struct zb_opts *o, unsigned int n);

/* a failed check: says what, returns -1 */
int zb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* results the summary of targets needs (filled by the parts) */
struct zb_results {
	double frame_ratio[ZB_MAX_SIZES];	/* copy / zero-copy, median */
	double setup_ratio_8100;		/* gntdev / FROM_REFS set-up at 8100 refs, 0 = not run */
	double perref_spread;			/* max/min per-ref set-up, 256.. refs, 0 = not run */
	unsigned int perref_lo, perref_hi;	/* the sizes it spans */
	double perref_spread_min;		/* the same from the minimums */
	double marginal_spread;			/* the same for the marginal cost */
	double sync_spread;			/* max/min per-call SYNC cost, 0 = not run */
	unsigned int sync_lo, sync_hi;
};
extern struct zb_results zb_res;

#endif /* ZCBENCH_H */
