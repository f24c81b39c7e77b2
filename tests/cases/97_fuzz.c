// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The fuzzer (tests/fuzz, issue 11 requirement 5) as a case of the suite:
 * a short run in `make check` (20 s; the workers, the agent's grants and
 * the final counter check as in tests/fuzz/fuzz.c). Longer runs and
 * replays: ZC_FUZZ_SECS, ZC_FUZZ_SEED, ZC_FUZZ_PROCS, ZC_FUZZ_THREADS in
 * the environment of zctest, or zc.fuzz_secs=... (etc.) on dom0's kernel
 * command line; the case's own timeout is zctest --timeout (the harness:
 * ZC_CASE_TIMEOUT).
 */
#include "cases.h"
#include "fuzz.h"

ZC_TEST(fuzz_ioctls)
{
	struct zc_fuzz_opts o;

	zc_fuzz_defaults(&o, 20);
	return zc_fuzz(ctx, &o);
}
