// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The data pattern: every 32-bit word is a hash of (seed, word index), so a
 * page that was swapped, shifted, zeroed or left stale does not match.
 */
#include "zctest.h"

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

void zc_fill(void *buf, size_t len, uint32_t seed)
{
	volatile uint8_t *p = buf;
	size_t i = 0;

	/* volatile: the buffer may be a foreign mapping; store each byte once */
	for (; i < len && i % 4; i++)
		p[i] = pattern_byte(seed, i);
	for (; i + 4 <= len; i += 4) {
		uint32_t w = pattern_word(seed, i / 4);

		p[i] = (uint8_t)w;
		p[i + 1] = (uint8_t)(w >> 8);
		p[i + 2] = (uint8_t)(w >> 16);
		p[i + 3] = (uint8_t)(w >> 24);
	}
	for (; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

size_t zc_verify(const void *buf, size_t len, uint32_t seed)
{
	const volatile uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		uint32_t w;

		if (i % 4 == 0 && i + 4 <= len) {
			w = pattern_word(seed, i / 4);
			if (p[i] == (uint8_t)w && p[i + 1] == (uint8_t)(w >> 8) &&
			    p[i + 2] == (uint8_t)(w >> 16) &&
			    p[i + 3] == (uint8_t)(w >> 24)) {
				i += 3;
				continue;
			}
		}
		if (p[i] != pattern_byte(seed, i))
			return i + 1;
	}
	return 0;
}
