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

/*
 * The platform, from the system (never from the driver under test):
 * zc_guest_type() is /sys/hypervisor/guest_type ("PV", "PVH", "HVM", or ""
 * when unreadable); zc_guest_is_pv() is 1 in a PV domain.
 */
const char *zc_guest_type(void);
int zc_guest_is_pv(void);
/* system() of a formatted command: its exit status, 128 if killed, -1 */
int zc_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* popen(): the first line of the output ("" if none) and the exit status */
int zc_sh_out(char *out, size_t len, const char *cmd);

/* CRC-32 (zlib's, = the kernel's crc32_le(~0, p, len) ^ ~0), and one per
 * 4 KiB unit of n units at buf */
uint32_t zc_crc32(const void *buf, size_t len);
void zc_crc_units(const void *buf, unsigned int n, uint32_t *crcs);

/*
 * The importer's view (tests/kmod/zc_importer.ko, /dev/zc_importer): what a
 * DMA importer attached to a dma-buf sees, page by page. The zc_imp_*
 * wrappers return 0 or the errno of the module's ioctl (see
 * tests/kmod/zc_importer.h for the commands); zc_imp_open returns an fd
 * (one importer context, one attachment) or -1 with a diagnostic.
 *
 * zc_importer_check: attach dmabuf_fd, map it (DMA_TO_DEVICE if ro, else
 *   DMA_BIDIRECTIONAL) and check: one sg entry per kernel page covering the
 *   dma-buf; for each of the n grants, the CRC through the sg page's kernel
 *   address equals want[i] (if want is not NULL) and the CRC of the same
 *   grant mapped by the module itself from (domid, refs[i]); in a PV domain
 *   the DMA address equals the bus address Xen returned for that grant;
 *   begin/end_cpu_access succeed; dma_buf_vmap of the whole buffer shows
 *   the same CRCs. ZC_PASS, or ZC_FAIL with a diagnostic.
 * zc_importer_check_seed: the same, want = the pattern of seed over the
 *   n grants (as zc_fill writes it from byte 0).
 * The structs are the module's (#include "zc_importer.h", tests/kmod).
 */
struct zci_map;
struct zci_frame;
struct zci_xen_ref;
int zc_imp_open(void);
int zc_imp_attach(int ifd, int dmabuf_fd, uint64_t *size);
int zc_imp_map(int ifd, int dir, struct zci_map *out);
int zc_imp_frames(int ifd, struct zci_frame *frames, unsigned int max,
		  unsigned int *count);
int zc_imp_unmap(int ifd);
int zc_imp_xen_frames(int ifd, int domid, const uint32_t *refs, unsigned int n,
		      int ro, struct zci_xen_ref *out);
int zc_imp_vmap_crcs(int ifd, uint32_t *crcs, unsigned int max, unsigned int *count);
int zc_imp_cpu_access(int ifd, int dir, int end);
int zc_imp_pin(int ifd, unsigned int index);
int zc_imp_unpin(int ifd);
int zc_imp_detach(int ifd);
int zc_importer_check(int dmabuf_fd, int domid, const uint32_t *refs,
		      unsigned int n, int ro, const uint32_t *want);
int zc_importer_check_seed(int dmabuf_fd, int domid, const uint32_t *refs,
			   unsigned int n, int ro, uint32_t seed);

/*
 * Kernel log lines a case provokes on purpose (documented warnings):
 * zc_expect_log: the harness's log scan excuses one line containing text
 *   (appended to the file $ZC_EXPECT names; a no-op outside the harness).
 * zc_kmsg_open: /dev/kmsg positioned at its end (-1 with a diagnostic);
 * zc_kmsg_count: read every record since, count those containing text.
 */
int zc_expect_log(const char *text);
int zc_kmsg_open(void);
int zc_kmsg_count(int fd, const char *text);

/*
 * A knob of a case: the environment variable env (zctest run by hand) if
 * set, else karg=value on the kernel command line (the harness:
 * ZC_DOM0_ARGS), else NULL. The value is copied to buf.
 */
const char *zc_param(const char *env, const char *karg, char *buf, size_t len);

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
 *   Returns 0 if it does, ZC_AGENT_DIFFERS if the data differs, -1 if the
 *   agent failed or did not answer: a negative check ("the domU no longer
 *   sees X") must test == ZC_AGENT_DIFFERS, never != 0.
 * zc_agent_crcs: the CRC-32 (zc_crc32) of each of the n 4 KiB pages of
 *   allocation or mapping 'id', as the domU sees them.
 * zc_agent_fill: the domU rewrites its allocation 'id' with pattern seed.
 * zc_agent_release: the domU unmaps/frees allocation or mapping 'id'.
 * zc_agent_map: the domU maps n refs granted by domid 'from' with gntdev
 *   (read-only if ro) and returns an id; mapping fails -> -1.
 * zc_agent_map_check / zc_agent_map_write: check (results as zc_agent_check)
 *   or write the pattern of seed in the mapping 'id' (whole mapping).
 * zc_agent_try_write: the domU tries to write its mapping 'id'; returns 1 if
 *   the write was refused (fault or map error), 0 if it went through. For a
 *   mapping made read-only, it also tries a writable gntdev map of the same
 *   refs, so 1 means Xen refuses writes, not merely that we mapped read-only.
 *   The byte stored is the one already there: the data does not change.
 *
 * Wire protocol and the agent: tests/agent/zcopy-agent.c. Between cases the
 * harness releases whatever a case left in the agent (zctest --reset-agent).
 */
#define ZC_AGENT_DIFFERS 1
int zc_agent_grant(struct zc_ctx *ctx, unsigned int npages, uint32_t seed,
		   int to, int ro, uint32_t *refs, int *id);
int zc_agent_check(struct zc_ctx *ctx, int id, uint32_t seed, size_t ofs, size_t len);
int zc_agent_crcs(struct zc_ctx *ctx, int id, unsigned int n, uint32_t *crcs);
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
