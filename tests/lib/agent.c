// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Client side of the domU agent protocol (see zc_priv.h and
 * tests/agent/zcopy-agent.c): one request node, one response node, matched
 * by a sequence string unique to this process and call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zctest.h"
#include "zc_priv.h"

static struct zc_xs xs = { .fd = -1 };
static int xs_domu = -1;
static char base[64];
static unsigned int calls;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int agent_init(struct zc_ctx *ctx)
{
	char path[96];

	if (ctx->domu < 0) {
		zc_diag("agent: no domU (run zctest with --domu ID)");
		return -1;
	}
	if (xs.fd >= 0 && xs_domu == ctx->domu)
		return 0;
	zc_xs_close(&xs);
	if (zc_xs_open(&xs)) {
		zc_diag("agent: cannot reach xenstore: %s", strerror(errno));
		return -1;
	}
	xs_domu = ctx->domu;
	snprintf(base, sizeof(base), "/local/domain/%d/" ZC_XS_DIR, ctx->domu);
	snprintf(path, sizeof(path), "%s/rsp", base);
	if (zc_xs_watch(&xs, path, "zcrsp")) {
		zc_diag("agent: xenstore watch %s: %s", path, strerror(errno));
		zc_xs_close(&xs);
		return -1;
	}
	return 0;
}

/*
 * Send "op args", wait for the answer; the payload after "ok " goes to out.
 * Returns 0, ZC_AGENT_DIFFERS when the agent checked data that differs
 * ("differ" answer), or -1 (the agent failed, or no answer in time) after
 * a diagnostic.
 */
static int agent_call(struct zc_ctx *ctx, char *out, size_t outlen,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int agent_call(struct zc_ctx *ctx, char *out, size_t outlen,
		      const char *fmt, ...)
{
	const char *tmo = getenv("ZC_AGENT_TIMEOUT_MS");
	long deadline, timeout = tmo ? atol(tmo) : 60000;
	char req[4096], rsp[4096], seq[32], path[96];
	size_t sl;
	va_list ap;
	int n;

	if (agent_init(ctx))
		return -1;
	sl = (size_t)snprintf(seq, sizeof(seq), "%d.%u", (int)getpid(), ++calls);
	n = snprintf(req, sizeof(req), "%s ", seq);
	va_start(ap, fmt);
	vsnprintf(req + n, sizeof(req) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/req", base);
	if (zc_xs_write(&xs, path, req)) {
		zc_diag("agent: write %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/rsp", base);
	deadline = now_ms() + timeout;
	for (;;) {
		long left;

		if (zc_xs_read(&xs, path, rsp, sizeof(rsp)) >= 0 &&
		    !strncmp(rsp, seq, sl) && rsp[sl] == ' ')
			break;
		left = deadline - now_ms();
		if (left <= 0) {
			zc_diag("agent: no answer to \"%s\" within %ld ms", req, timeout);
			return -1;
		}
		if (zc_xs_wait(&xs, left > 1000 ? 1000 : (int)left) < 0) {
			zc_diag("agent: xenstore: %s", strerror(errno));
			return -1;
		}
	}
	if (!strncmp(rsp + sl, " ok", 3) && (!rsp[sl + 3] || rsp[sl + 3] == ' ')) {
		if (out && outlen)
			snprintf(out, outlen, "%s", rsp[sl + 3] ? rsp + sl + 4 : "");
		return 0;
	}
	zc_diag("agent: %s -> %s", req + n, rsp + sl + 1);
	if (!strncmp(rsp + sl, " differ", 7) && (!rsp[sl + 7] || rsp[sl + 7] == ' '))
		return ZC_AGENT_DIFFERS;
	return -1;
}

/* write refs as arg/K chunks when they do not fit in the request */
static int put_refs(char *dst, size_t dlen, const uint32_t *refs, unsigned int n)
{
	unsigned int i, k;
	size_t o = 0;

	if (n <= ZC_REFS_INLINE) {
		for (i = 0; i < n && o < dlen; i++)
			o += (size_t)snprintf(dst + o, dlen - o, " %u", refs[i]);
		return 0;
	}
	for (k = 0; k * ZC_REFS_INLINE < n; k++) {
		char val[4096], path[96];

		o = 0;
		for (i = k * ZC_REFS_INLINE; i < n && i < (k + 1) * ZC_REFS_INLINE; i++)
			o += (size_t)snprintf(val + o, sizeof(val) - o, "%s%u",
					      o ? " " : "", refs[i]);
		snprintf(path, sizeof(path), "%s/arg/%u", base, k);
		if (zc_xs_write(&xs, path, val)) {
			zc_diag("agent: write %s: %s", path, strerror(errno));
			return -1;
		}
	}
	snprintf(dst, dlen, " @%u", k);
	return 0;
}

/* parse "N N N..." or "@K" (out/0..K-1) into refs[n] */
static int get_refs(const char *s, uint32_t *refs, unsigned int n)
{
	unsigned int got = 0, k, chunks = 0;
	char val[4096], path[96];
	char *end;

	if (*s == '@') {
		chunks = (unsigned int)strtoul(s + 1, NULL, 10);
		for (k = 0; k < chunks; k++) {
			snprintf(path, sizeof(path), "%s/out/%u", base, k);
			if (zc_xs_read(&xs, path, val, sizeof(val)) < 0) {
				zc_diag("agent: read %s: %s", path, strerror(errno));
				return -1;
			}
			for (s = val; got < n; got++) {
				unsigned long v = strtoul(s, &end, 10);

				if (end == s)
					break;
				refs[got] = (uint32_t)v;
				s = end;
			}
		}
	} else {
		for (; got < n; got++) {
			unsigned long v = strtoul(s, &end, 10);

			if (end == s)
				break;
			refs[got] = (uint32_t)v;
			s = end;
		}
	}
	if (got != n) {
		zc_diag("agent: got %u refs, want %u", got, n);
		return -1;
	}
	return 0;
}

int zc_agent_grant(struct zc_ctx *ctx, unsigned int npages, uint32_t seed,
		   int to, int ro, uint32_t *refs, int *id)
{
	char out[4096], *end;

	if (agent_call(ctx, out, sizeof(out), "grant %u %u %d %d", npages, seed, to, !!ro))
		return -1;
	*id = (int)strtol(out, &end, 10);
	while (*end == ' ')
		end++;
	return get_refs(end, refs, npages);
}

int zc_agent_check(struct zc_ctx *ctx, int id, uint32_t seed, size_t ofs, size_t len)
{
	return agent_call(ctx, NULL, 0, "check %d %u %zu %zu", id, seed, ofs, len);
}

int zc_agent_crcs(struct zc_ctx *ctx, int id, unsigned int n, uint32_t *crcs)
{
	char out[4096], *end;

	if (agent_call(ctx, out, sizeof(out), "crcs %d", id))
		return -1;
	if (strtol(out, &end, 10) != id) {
		zc_diag("agent: crcs %d answered for '%s'", id, out);
		return -1;
	}
	while (*end == ' ')
		end++;
	return get_refs(end, crcs, n);
}

int zc_agent_fill(struct zc_ctx *ctx, int id, uint32_t seed)
{
	return agent_call(ctx, NULL, 0, "fill %d %u", id, seed);
}

int zc_agent_mark(struct zc_ctx *ctx, int id, uint32_t frame)
{
	return agent_call(ctx, NULL, 0, "mark %d %u", id, frame);
}

int zc_agent_release(struct zc_ctx *ctx, int id)
{
	return agent_call(ctx, NULL, 0, "release %d", id);
}

int zc_agent_map(struct zc_ctx *ctx, int from, const uint32_t *refs,
		 unsigned int n, int ro, int *id)
{
	char args[4096], out[64];

	if (agent_init(ctx) || put_refs(args, sizeof(args), refs, n))
		return -1;
	if (agent_call(ctx, out, sizeof(out), "map %d %u %d%s", from, n, !!ro, args))
		return -1;
	*id = atoi(out);
	return 0;
}

int zc_agent_map_check(struct zc_ctx *ctx, int id, uint32_t seed)
{
	return agent_call(ctx, NULL, 0, "mapcheck %d %u", id, seed);
}

int zc_agent_map_write(struct zc_ctx *ctx, int id, uint32_t seed)
{
	return agent_call(ctx, NULL, 0, "mapwrite %d %u", id, seed);
}

int zc_agent_try_write(struct zc_ctx *ctx, int id)
{
	char out[64];

	if (agent_call(ctx, out, sizeof(out), "trywrite %d", id))
		return -1;
	return atoi(out) ? 1 : 0;
}

int zc_agent_reset(struct zc_ctx *ctx)
{
	char out[64];

	if (agent_call(ctx, out, sizeof(out), "reset"))
		return -1;
	return atoi(out);
}
