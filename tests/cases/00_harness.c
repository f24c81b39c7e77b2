// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Harness self-tests: no driver needed. They prove, on every run, the
 * plumbing every driver test stands on: the data pattern, the dom0 grant
 * helpers, the domU agent and real cross-domain grants in both directions,
 * including read-only grants that must refuse writes.
 */
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "zc_priv.h"

ZC_TEST(harness_pattern)
{
	size_t len = 3 * ZC_PAGE + 5;
	unsigned char *a = malloc(len), *b = malloc(len);

	ZC_CHECK(a && b, "out of memory");
	zc_fill(a, len, 1);
	zc_fill(b, len, 2);
	ZC_CHECK(zc_verify(a, len, 1) == 0, "fresh pattern does not verify");
	ZC_CHECK(zc_verify(b, len, 1) == 1, "seed 2 passes as seed 1");
	ZC_CHECK(memcmp(a, a + ZC_PAGE, ZC_PAGE) != 0, "pages repeat");
	a[2 * ZC_PAGE + 7] ^= 1;
	ZC_CHECK(zc_verify(a, len, 1) == 2 * ZC_PAGE + 8, "mismatch offset wrong: %zu",
		 zc_verify(a, len, 1));
	zc_fill(a + 1, len - 1, 3);	/* unaligned start: pattern byte 0 at a+1 */
	ZC_CHECK(zc_verify(a + 1, len - 1, 3) == 0, "unaligned pattern");
	free(a);
	free(b);
	return ZC_PASS;
}

ZC_TEST(harness_dom0_self_grant)
{
	struct zc_local *hg, *hm;
	uint32_t refs[4];
	unsigned char *g, *m;

	g = zc_self_grant(4, 11, 0, 0, refs, &hg);
	ZC_CHECK(g, "gntalloc to dom0 failed");
	m = zc_self_map(0, refs, 4, 0, &hm);
	ZC_CHECK(m, "gntdev map of our own refs failed");
	ZC_CHECK(m != g, "same mapping");
	ZC_CHECK(!zc_grants_verify(m, 0, 4 * ZC_PAGE, 11), "mapped data differs from granted");
	zc_grants_fill(m, 0, 4 * ZC_PAGE, 12);
	ZC_CHECK(!zc_grants_verify(g, 0, 4 * ZC_PAGE, 12), "write through the map not seen");
	zc_local_free(hm);
	zc_local_free(hg);
	return ZC_PASS;
}

ZC_TEST(harness_domu_grants_dom0_maps)
{
	struct zc_local *h;
	uint32_t refs[4];
	unsigned char *m;
	int id;

	ZCC_NEED_DOMU(ctx);
	ZC_CHECK(!zc_agent_grant(ctx, 4, 21, 0, 0, refs, &id), "agent grant");
	m = zc_self_map(ctx->domu, refs, 4, 0, &h);
	ZC_CHECK(m, "dom0 could not map the domU's grants");
	ZC_CHECK(!zc_grants_verify(m, 0, 4 * ZC_PAGE, 21), "domU data wrong in dom0 at %zu",
		 zc_grants_verify(m, 0, 4 * ZC_PAGE, 21));
	zc_grants_fill(m, 100, 4 * ZC_PAGE - 100, 22);
	ZC_CHECK(!zc_agent_check(ctx, id, 22, 100, 4 * ZC_PAGE - 100),
		 "dom0's write not seen by the domU");
	/* the agent tells a mismatch (what a negative check wants) from a failure */
	ZC_CHECK(zc_agent_check(ctx, id, 21, 0, 4 * ZC_PAGE) == ZC_AGENT_DIFFERS,
		 "agent check of a wrong pattern: not 'differs'");
	ZC_CHECK(zc_agent_check(ctx, id + 1000, 22, 0, ZC_PAGE) == -1,
		 "agent check of an unknown object: not an agent error");
	{
		uint32_t crcs[4], want[4];
		unsigned char *d = malloc(4 * ZC_PAGE);

		ZC_CHECK(d, "oom");
		/* what dom0 left in the domU's pages (above) */
		zc_fill(d, 100, 21);
		zc_fill(d + 100, 4 * ZC_PAGE - 100, 22);
		zc_crc_units(d, 4, want);
		free(d);
		ZC_CHECK(!zc_agent_crcs(ctx, id, 4, crcs), "agent crcs");
		ZC_CHECK(!memcmp(crcs, want, sizeof(want)), "agent crcs %08x..., want %08x...",
			 crcs[0], want[0]);
	}
	zc_local_free(h);
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	return ZC_PASS;
}

ZC_TEST(harness_dom0_grants_domu_maps)
{
	struct zc_local *h;
	uint32_t refs[3];
	unsigned char *g;
	int id;

	ZCC_NEED_DOMU(ctx);
	g = zc_self_grant(3, 31, ctx->domu, 0, refs, &h);
	ZC_CHECK(g, "gntalloc to the domU failed");
	ZC_CHECK(!zc_agent_map(ctx, 0, refs, 3, 0, &id), "agent map");
	ZC_CHECK(!zc_agent_map_check(ctx, id, 31), "dom0 data wrong in the domU");
	ZC_CHECK(!zc_agent_map_write(ctx, id, 32), "agent write");
	ZC_CHECK(!zc_grants_verify(g, 0, 3 * ZC_PAGE, 32), "domU's write not seen by dom0");
	ZC_CHECK(zc_agent_try_write(ctx, id) == 0, "writable mapping refused a write");
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	zc_local_free(h);
	return ZC_PASS;
}

ZC_TEST(harness_readonly_grants_refuse_writes)
{
	struct zc_local *h, *hm;
	uint32_t refs[2];
	unsigned char *g, *m;
	int id, mid;

	ZCC_NEED_DOMU(ctx);
	/* domU -> dom0, read-only: a writable map is refused, a read-only one works */
	ZC_CHECK(!zc_agent_grant(ctx, 2, 41, 0, 1, refs, &id), "agent grant ro");
	m = zc_self_map(ctx->domu, refs, 2, 0, &hm);
	ZC_CHECK(!m, "dom0 mapped a read-only grant writable");
	m = zc_self_map(ctx->domu, refs, 2, 1, &hm);
	ZC_CHECK(m, "dom0 could not map a read-only grant read-only");
	ZC_CHECK(!zc_grants_verify(m, 0, 2 * ZC_PAGE, 41), "read-only data wrong");
	ZC_CHECK(zc_try_store(m) == 1, "store to a read-only mapping went through");
	zc_local_free(hm);
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");

	/* dom0 -> domU, read-only */
	g = zc_self_grant(2, 42, ctx->domu, 1, refs, &h);
	ZC_CHECK(g, "gntalloc ro to the domU failed");
	ZC_CHECK(zc_agent_map(ctx, 0, refs, 2, 0, &mid) == -1,
		 "domU mapped a read-only grant writable");
	ZC_CHECK(!zc_agent_map(ctx, 0, refs, 2, 1, &mid), "agent ro map");
	ZC_CHECK(!zc_agent_map_check(ctx, mid, 42), "ro data wrong in the domU");
	ZC_CHECK(zc_agent_try_write(ctx, mid) == 1, "domU could write a read-only grant");
	ZC_CHECK(!zc_agent_release(ctx, mid), "agent release");
	zc_local_free(h);
	return ZC_PASS;
}

ZC_TEST(harness_many_refs)
{
	const unsigned int n = 1000;	/* more than one xenstore node of refs */
	uint32_t *refs = calloc(n, sizeof(*refs));
	struct zc_local *h;
	unsigned char *m;
	int id, mid;

	ZCC_NEED_DOMU(ctx);
	ZC_CHECK(refs, "out of memory");
	ZC_CHECK(!zc_agent_grant(ctx, n, 51, 0, 0, refs, &id), "agent grant %u", n);
	m = zc_self_map(ctx->domu, refs, n, 1, &h);
	ZC_CHECK(m, "dom0 map of %u refs", n);
	ZC_CHECK(!zc_grants_verify(m, 0, (size_t)n * ZC_PAGE, 51), "data wrong");
	zc_local_free(h);
	/* and back: the domU maps its own grants (self-map) through a long list */
	ZC_CHECK(!zc_agent_release(ctx, id), "agent release");
	m = zc_self_grant(n, 52, ctx->domu, 0, refs, &h);
	ZC_CHECK(m, "dom0 grant %u", n);
	ZC_CHECK(!zc_agent_map(ctx, 0, refs, n, 0, &mid), "agent map %u refs", n);
	ZC_CHECK(!zc_agent_map_check(ctx, mid, 52), "data wrong in the domU");
	ZC_CHECK(!zc_agent_release(ctx, mid), "agent release");
	zc_local_free(h);
	free(refs);
	return ZC_PASS;
}
