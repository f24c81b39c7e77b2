/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internals shared by the test runner (tests/lib) and the domU agent
 * (tests/agent): a minimal xenstore client and the gntalloc/gntdev helpers.
 * Not part of the test case API (that is zctest.h).
 */
#ifndef ZC_PRIV_H
#define ZC_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define ZC_PAGE 4096u

/*
 * xenstore wire protocol (xen/include/public/io/xs_wire.h), spoken directly
 * over the xenstored socket (dom0) or /dev/xen/xenbus (any domain), so the
 * agent is one static binary and the runner needs no libxenstore.
 */
struct zc_xs {
	int fd;
	uint32_t req_id;
	int events;		/* watch events seen while waiting for a reply */
};

int zc_xs_open(struct zc_xs *xs);
void zc_xs_close(struct zc_xs *xs);
/* value into buf (NUL-terminated), returns its length or -1 + errno */
int zc_xs_read(struct zc_xs *xs, const char *path, char *buf, size_t size);
int zc_xs_write(struct zc_xs *xs, const char *path, const char *val);
int zc_xs_rm(struct zc_xs *xs, const char *path);
int zc_xs_watch(struct zc_xs *xs, const char *path, const char *token);
/* 1 when a watch event arrived within timeout_ms, 0 on timeout, -1 on error */
int zc_xs_wait(struct zc_xs *xs, int timeout_ms);

/* The agent protocol (dom0 <-> domU), under /local/domain/<domU>/data/zc/:
 *   req   "seq op args..."         written by dom0
 *   rsp   "seq ok payload" | "seq err message"   written by the agent
 *   arg/N, out/N                   ref lists too long for one node
 *   ready "pid"                    written by the agent when it serves */
#define ZC_XS_DIR "data/zc"
/* refs per xenstore value: a domU's node may hold 2048 bytes (xenstored
 * quota), and a ref takes up to 8 ("1048575 ") */
#define ZC_REFS_INLINE 250

/* the last zc_diag() message, for the runner's verdict line (diag.c) */
extern char zc_last_diag[256];

struct zc_ctx;
/* release everything the agent holds; returns how many objects, or -1 */
int zc_agent_reset(struct zc_ctx *ctx);

/* gntalloc / gntdev, one device fd per object so closing it releases all */
struct zc_gnt {
	int fd;
	uint64_t index;
	unsigned int n;
	int ro;			/* mapping is PROT_READ only */
	int from;		/* gntdev: granting domain */
	uint32_t *refs;
	unsigned char *map;
};

/* errors: -1 with errno set and a message in errbuf */
int zc_gnt_alloc(struct zc_gnt *g, unsigned int n, int to, int ro,
		 char *err, size_t errlen);
int zc_gnt_map(struct zc_gnt *g, int from, const uint32_t *refs,
	       unsigned int n, int ro, char *err, size_t errlen);
void zc_gnt_free(struct zc_gnt *g);	/* either kind */
/* try to store to the mapping; 1 = refused (SIGSEGV/SIGBUS), 0 = went through.
 * The byte written is the one already there, so the data does not change. */
int zc_try_store(volatile unsigned char *p);
/* try to read p; 1 = faulted (SIGSEGV/SIGBUS), 0 = readable */
int zc_try_load(const volatile unsigned char *p);

#endif /* ZC_PRIV_H */
