/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * zctest: the tiny test framework of the xen-zcopy test programs.
 *
 * Every test case is one function, registered with ZC_TEST(). The runner
 * binary (tests/zctest) lists and runs them:
 *
 *   zctest --list              one case name per line
 *   zctest [--domu ID] NAME... run the named cases (all when none given)
 *
 * Each case prints exactly one TAP-style verdict line:
 *   "ok - NAME", "not ok - NAME" or "ok - NAME # SKIP reason".
 * Diagnostics go to stdout as "# ..." lines before the verdict. The exit
 * status of the runner is 0 when no case failed.
 */
#ifndef ZCTEST_H
#define ZCTEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ZC_PASS 0
#define ZC_FAIL 1
#define ZC_SKIP 77

/** struct zc_ctx - what a test case gets */
struct zc_ctx {
	int domu;		/* domid of the test domU, -1 when none */
	const char *name;	/* name of the running case */
};

typedef int (*zc_test_fn)(struct zc_ctx *ctx);
void zc_register(const char *name, zc_test_fn fn);
/* as zc_register, remembering where the case is: cases run (and --list
 * prints them) in file name order, then source order */
void zc_register_at(const char *name, zc_test_fn fn, const char *file, int line);

#define ZC_TEST(fn)							\
	static int fn(struct zc_ctx *ctx);				\
	__attribute__((constructor)) static void zc_reg_##fn(void)	\
	{ zc_register_at(#fn, fn, __FILE__, __LINE__); }		\
	static int fn(struct zc_ctx *ctx __attribute__((unused)))

/* Diagnostics and checks: a failed check prints where and why, and fails. */
void zc_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ZC_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			zc_diag("%s:%d: check failed: %s", __FILE__,	\
				__LINE__, #cond);			\
			zc_diag(__VA_ARGS__);				\
			return ZC_FAIL;					\
		}							\
	} while (0)
/* ioctl wrapper result: expect a given errno (0 = success) */
#define ZC_EXPECT_ERRNO(expr, want)					\
	do {								\
		int zc_r_ = (expr);					\
		int zc_e_ = zc_r_ ? errno : 0;				\
		if (zc_e_ != (want)) {					\
			zc_diag("%s:%d: %s: errno %d (%s), want %d (%s)", \
				__FILE__, __LINE__, #expr, zc_e_,	\
				zc_errname(zc_e_), (want),		\
				zc_errname(want));			\
			return ZC_FAIL;					\
		}							\
	} while (0)
const char *zc_errname(int err);

/* Devices (each returns an fd or -1 with errno set) */
int zc_open_render(void);	/* render node of xen_drm_zcopy (by drmGetVersion name) */
int zc_open_primary(void);	/* drmOpen("xen_drm_zcopy", NULL), as the 2018 backend does */
int zc_open_vgem(void);		/* vgem render or primary node (modprobe'd by the harness) */
int zc_ioctl(int fd, unsigned long req, void *arg);	/* drmIoctl: -1 + errno on error */

/* Deterministic data pattern: byte i of a buffer made with seed s */
void zc_fill(void *buf, size_t len, uint32_t seed);
/* 0 if buf matches the pattern, else the offset of the first mismatch + 1 */
size_t zc_verify(const void *buf, size_t len, uint32_t seed);

/*
 * gntalloc/gntdev mappings (zc_self_grant, zc_self_map, the agent's) hold
 * grant k at map + k * zc_grant_stride(): the kernel page size, as those
 * drivers put each 4 KiB grant in a page of its own (on a 16K kernel only
 * the first 4 KiB of each page exist). zc_grants_fill/verify work on bytes
 * [ofs, ofs + len) of the grants' concatenated 4 KiB contents, pattern byte
 * 0 at ofs; verify returns 0 or the first bad grant-space offset - ofs + 1.
 */
size_t zc_grant_stride(void);
void zc_grants_fill(void *map, size_t ofs, size_t len, uint32_t seed);
size_t zc_grants_verify(const void *map, size_t ofs, size_t len, uint32_t seed);
/*
 * Frame markers (tests/bench): zc_grants_mark stamps the first 8 bytes of
 * each of the n grants of a gntalloc/gntdev mapping with
 * zc_mark_word(frame, grant index), so each frame differs on every page.
 */
uint64_t zc_mark_word(uint32_t frame, uint32_t grant);
void zc_grants_mark(void *map, unsigned int n, uint32_t frame);

/* Driver debugfs counters (docs/design.md): value, or -1 if unreadable */
long zc_counter(const char *name);
/* ZC_PASS when every counter is back to 0 (waits up to timeout_ms) */
int zc_counters_idle(int timeout_ms);

/*
 * The domU agent (tests/agent): remote operations, synchronous. Each returns
 * 0 on success, -1 (with a "# agent: ..." diagnostic) on failure.
 *
 * zc_agent_grant: the domU allocates npages 4 KiB pages filled with the
 *   pattern of seed, grants them to domid 'to' (read-only if ro), and
 *   returns their refs and an id naming the allocation.
 * zc_agent_check: the domU checks its allocation 'id' holds the pattern of
 *   seed from byte offset 'ofs' for 'len' bytes (data written by dom0):
 *   pattern byte 0 at 'ofs', as zc_fill(base + ofs, len, seed) writes it.
 * zc_agent_fill: the domU rewrites its allocation 'id' with pattern seed.
 * zc_agent_release: the domU unmaps/frees allocation or mapping 'id'.
 * zc_agent_map: the domU maps n refs granted by domid 'from' with gntdev
 *   (read-only if ro) and returns an id; mapping fails -> -1.
 * zc_agent_map_check / zc_agent_map_write: check or write the pattern of seed
 *   in the mapping 'id' (whole mapping).
 * zc_agent_try_write: the domU tries to write its mapping 'id'; returns 1 if
 *   the write was refused (fault or map error), 0 if it went through. For a
 *   mapping made read-only, it also tries a writable gntdev map of the same
 *   refs, so 1 means Xen refuses writes, not merely that we mapped read-only.
 *   The byte stored is the one already there: the data does not change.
 *
 * Wire protocol and the agent: tests/agent/zcopy-agent.c. Between cases the
 * harness releases whatever a case left in the agent (zctest --reset-agent).
 */
int zc_agent_grant(struct zc_ctx *ctx, unsigned int npages, uint32_t seed,
		   int to, int ro, uint32_t *refs, int *id);
int zc_agent_check(struct zc_ctx *ctx, int id, uint32_t seed, size_t ofs, size_t len);
int zc_agent_fill(struct zc_ctx *ctx, int id, uint32_t seed);
/* zc_agent_mark: the domU stamps frame marker 'frame' on every grant of
 * allocation 'id' (zc_grants_mark) */
int zc_agent_mark(struct zc_ctx *ctx, int id, uint32_t frame);
int zc_agent_release(struct zc_ctx *ctx, int id);
int zc_agent_map(struct zc_ctx *ctx, int from, const uint32_t *refs,
		 unsigned int n, int ro, int *id);
int zc_agent_map_check(struct zc_ctx *ctx, int id, uint32_t seed);
int zc_agent_map_write(struct zc_ctx *ctx, int id, uint32_t seed);
int zc_agent_try_write(struct zc_ctx *ctx, int id);

/*
 * Local (dom0) grants for single-domain tests: gntalloc pages granted to
 * domid 'to' (0 = self), filled with seed. zc_self_map maps refs of domid
 * 'from' with gntdev. Both return a mapping pointer (NULL on error) and a
 * handle to free with zc_local_free.
 */
struct zc_local;
void *zc_self_grant(unsigned int npages, uint32_t seed, int to, int ro,
		    uint32_t *refs, struct zc_local **h);
void *zc_self_map(int from, const uint32_t *refs, unsigned int n, int ro,
		  struct zc_local **h);
void zc_local_free(struct zc_local *h);

#endif /* ZCTEST_H */
