// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The data pattern: every 32-bit word is a hash of (seed, word index), so a
 * page that was swapped, shifted, zeroed or left stale does not match.
 */
#include <string.h>
#include <unistd.h>

#include "zctest.h"

#define ZC_GRANT 4096u

static uint32_t pattern_word(uint32_t seed, uint64_t w)
{
	uint32_t x = (uint32_t)w * 0x9E3779B1u ^ (uint32_t)(w >> 32) ^
		     (seed + 0x7F4A7C15u) * 0x85EBCA6Bu;

	x ^= x >> 16;
	x *= 0x7FEB352Du;
	x ^= x >> 15;
	x *= 0x846CA68Bu;
	x ^= x >> 16;
	return x;
}

static uint8_t pattern_byte(uint32_t seed, size_t i)
{
	return (uint8_t)(pattern_word(seed, i / 4) >> (8 * (i % 4)));
}

/* byte i of buf gets pattern byte start + i */
static void fill_at(void *buf, size_t len, uint32_t seed, size_t start)
{
	volatile uint8_t *p = buf;
	size_t i = 0;

	/* volatile: the buffer may be a foreign mapping; store each byte once */
	for (; i < len && (start + i) % 4; i++)
		p[i] = pattern_byte(seed, start + i);
	for (; i + 4 <= len; i += 4) {
		uint32_t w = pattern_word(seed, (start + i) / 4);

		p[i] = (uint8_t)w;
		p[i + 1] = (uint8_t)(w >> 8);
		p[i + 2] = (uint8_t)(w >> 16);
		p[i + 3] = (uint8_t)(w >> 24);
	}
	for (; i < len; i++)
		p[i] = pattern_byte(seed, start + i);
}

static size_t verify_at(const void *buf, size_t len, uint32_t seed, size_t start)
{
	const volatile uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		uint32_t w;

		if ((start + i) % 4 == 0 && i + 4 <= len) {
			w = pattern_word(seed, (start + i) / 4);
			if (p[i] == (uint8_t)w && p[i + 1] == (uint8_t)(w >> 8) &&
			    p[i + 2] == (uint8_t)(w >> 16) &&
			    p[i + 3] == (uint8_t)(w >> 24)) {
				i += 3;
				continue;
			}
		}
		if (p[i] != pattern_byte(seed, start + i))
			return i + 1;
	}
	return 0;
}

void zc_fill(void *buf, size_t len, uint32_t seed)
{
	fill_at(buf, len, seed, 0);
}

size_t zc_verify(const void *buf, size_t len, uint32_t seed)
{
	return verify_at(buf, len, seed, 0);
}

size_t zc_grant_stride(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	return pg > (long)ZC_GRANT ? (size_t)pg : ZC_GRANT;
}

/*
 * gntalloc and gntdev give every 4 KiB grant a kernel page of its own, so
 * in their mappings grant k starts at k * zc_grant_stride() and only its
 * first 4 KiB exist (touching the rest of a 16K page kills the process).
 * These walk grant-space bytes [ofs, ofs + len) chunk by chunk.
 */
void zc_grants_fill(void *map, size_t ofs, size_t len, uint32_t seed)
{
	size_t st = zc_grant_stride(), done = 0;

	while (done < len) {
		size_t o = ofs + done, n = ZC_GRANT - o % ZC_GRANT;

		if (n > len - done)
			n = len - done;
		fill_at((uint8_t *)map + o / ZC_GRANT * st + o % ZC_GRANT, n, seed, done);
		done += n;
	}
}

size_t zc_grants_verify(const void *map, size_t ofs, size_t len, uint32_t seed)
{
	size_t st = zc_grant_stride(), done = 0;

	while (done < len) {
		size_t o = ofs + done, n = ZC_GRANT - o % ZC_GRANT, bad;

		if (n > len - done)
			n = len - done;
		bad = verify_at((const uint8_t *)map + o / ZC_GRANT * st + o % ZC_GRANT,
				n, seed, done);
		if (bad)
			return done + bad;
		done += n;
	}
	return 0;
}

/*
 * Frame markers (the benchmark, tests/bench): the domU stamps the first 8
 * bytes of every 4 KiB grant of a frame with zc_mark_word(frame, grant),
 * so a consumer can tell a fresh frame from a stale one on every page.
 */
uint64_t zc_mark_word(uint32_t frame, uint32_t grant)
{
	return (uint64_t)pattern_word(frame, grant) << 32 |
	       pattern_word(frame ^ 0xA5A5A5A5u, grant);
}

void zc_grants_mark(void *map, unsigned int n, uint32_t frame)
{
	size_t st = zc_grant_stride();
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint64_t w = zc_mark_word(frame, k);

		memcpy((uint8_t *)map + (size_t)k * st, &w, sizeof(w));
	}
}
