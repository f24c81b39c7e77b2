/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zc_fuzz: a seeded, time-bounded fuzzer of xen_drm_zcopy (tests/fuzz/fuzz.c),
 * run by the case fuzz_ioctls (tests/cases/97_fuzz.c).
 */
#ifndef ZC_FUZZ_H
#define ZC_FUZZ_H

#include <stdint.h>

#include "zctest.h"

struct zc_fuzz_opts {
	uint64_t seed;		/* everything random derives from it */
	unsigned int seconds;	/* how long the workers run */
	unsigned int procs;	/* worker processes */
	unsigned int threads;	/* threads per worker process */
};

/*
 * Run the fuzzer: procs x threads workers throw random valid-shaped and
 * invalid sequences of every driver ioctl (new and legacy), PRIME
 * export/import between xen_drm_zcopy and vgem, GEM close, mmap/munmap,
 * the test importer, fork (the child killed or exiting) and close at the
 * driver, while this process makes the domU agent grant and revoke the
 * pages the workers map. Prints the seed first and one summary line
 * (iterations, per minute, per operation, errnos). ZC_PASS when no worker
 * crashed, hung or saw an unexpected result and the driver's counters are
 * 0 at the end.
 */
int zc_fuzz(struct zc_ctx *ctx, const struct zc_fuzz_opts *o);
/*
 * The options for a run of 'seconds' (2 processes x 2 threads, seed from
 * the clock), overridden by ZC_FUZZ_SECS, ZC_FUZZ_SEED, ZC_FUZZ_PROCS and
 * ZC_FUZZ_THREADS from the environment or zc.fuzz_secs, zc.fuzz_seed,
 * zc.fuzz_procs and zc.fuzz_threads from the kernel command line.
 */
void zc_fuzz_defaults(struct zc_fuzz_opts *o, unsigned int seconds);

#endif /* ZC_FUZZ_H */
