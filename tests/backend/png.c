// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A minimal PNG writer (8-bit RGB, zlib), so that dom0 can save what its
 * KMS device scanned out as a picture a person can look at. Rows use the
 * "Sub" filter: the test frames are gradients, which then compress to a few
 * kilobytes (the file travels over the serial console).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "be.h"

static void chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
	uint32_t n = htonl(len), crc;

	fwrite(&n, 4, 1, f);
	fwrite(type, 1, 4, f);
	if (len)
		fwrite(data, 1, len, f);
	crc = (uint32_t)crc32(0, (const unsigned char *)type, 4);
	if (len)
		crc = (uint32_t)crc32(crc, data, len);
	crc = htonl(crc);
	fwrite(&crc, 4, 1, f);
}

int png_write_xrgb(const char *path, const void *pix, uint32_t w, uint32_t h,
		   uint32_t pitch)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t raw_len = (size_t)h * (1 + (size_t)w * 3);
	unsigned char ihdr[13], *raw = malloc(raw_len), *z;
	uLongf zlen = compressBound((uLong)raw_len);
	uint32_t x, y, v;
	FILE *f;
	int ret = -1;

	z = malloc(zlen);
	if (!raw || !z)
		goto out;
	for (y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)((const char *)pix + (size_t)y * pitch);
		unsigned char *o = raw + (size_t)y * (1 + (size_t)w * 3);

		*o++ = 1;	/* Sub */
		for (x = 0; x < w; x++) {
			uint32_t p = row[x], q = x ? row[x - 1] : 0;

			*o++ = (unsigned char)((p >> 16) - (q >> 16));
			*o++ = (unsigned char)((p >> 8) - (q >> 8));
			*o++ = (unsigned char)(p - q);
		}
	}
	if (compress2(z, &zlen, raw, (uLong)raw_len, 9) != Z_OK)
		goto out;
	v = htonl(w);
	memcpy(ihdr, &v, 4);
	v = htonl(h);
	memcpy(ihdr + 4, &v, 4);
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 2;	/* RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	f = fopen(path, "wb");
	if (!f)
		goto out;
	fwrite(sig, 1, sizeof(sig), f);
	chunk(f, "IHDR", ihdr, sizeof(ihdr));
	chunk(f, "IDAT", z, (uint32_t)zlen);
	chunk(f, "IEND", NULL, 0);
	ret = fclose(f) ? -1 : 0;
out:
	free(raw);
	free(z);
	return ret;
}
