/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The frames of the display tests, shared by the guest's drawer
 * (tests/backend/guest/zc-disp-client.c) and dom0's checker
 * (tests/backend/capture.c). A frame is a function of its seed and is
 * self-describing: pixel (0,0) holds the seed, so dom0 can tell which frame
 * it scanned out and check every other pixel. It is also a picture a person
 * can recognise in the demo's PNG: colour bars on top, an RGB gradient, and
 * a white square that moves with the seed. XRGB8888; the X byte is not
 * compared (a writeback may fill it).
 */
#ifndef ZCD_PATTERN_H
#define ZCD_PATTERN_H

#include <stdint.h>

#define ZCD_RGB_MASK	0x00ffffffu

static inline uint32_t zcd_pixel(uint32_t seed, uint32_t x, uint32_t y,
				 uint32_t w, uint32_t h)
{
	static const uint32_t bars[8] = {
		0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
		0xff00ff, 0xff0000, 0x0000ff, 0x000000,
	};
	uint32_t bx = (seed * 16u) % (w > 64 ? w - 64 : 1), by = h / 2 - 32;

	if (!x && !y)
		return seed & ZCD_RGB_MASK;
	if (y < h / 10)
		return bars[(x * 8u) / w];
	if (x >= bx && x < bx + 64 && y >= by && y < by + 64)
		return 0xffffff;
	return ((x * 255u / w) << 16) | ((y * 255u / h) << 8) | ((seed * 8u) & 0xff);
}

/* draw frame 'seed' into a w x h XRGB8888 buffer with the given pitch */
static inline void zcd_draw(void *buf, uint32_t pitch, uint32_t seed,
			    uint32_t w, uint32_t h)
{
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((char *)buf + (uint64_t)y * pitch);

		for (x = 0; x < w; x++)
			row[x] = zcd_pixel(seed, x, y, w, h);
	}
}

/* pixels that differ from frame 'seed' (RGB only) */
static inline uint64_t zcd_mismatches(const void *buf, uint32_t pitch,
				      uint32_t seed, uint32_t w, uint32_t h)
{
	uint64_t bad = 0;
	uint32_t x, y;

	for (y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)buf +
							 (uint64_t)y * pitch);

		for (x = 0; x < w; x++)
			bad += ((row[x] ^ zcd_pixel(seed, x, y, w, h)) & ZCD_RGB_MASK) != 0;
	}
	return bad;
}

static inline uint32_t zcd_seed_of(const void *buf)
{
	return *(const uint32_t *)buf & ZCD_RGB_MASK;
}

#endif /* ZCD_PATTERN_H */
