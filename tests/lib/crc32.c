// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CRC-32 as zlib and the kernel's crc32_le(~0, p, len) ^ ~0 compute it: the
 * checksum the test importer module (tests/kmod) and the domU agent report
 * for 4 KiB units, so that user space can compare their views byte-exact
 * without moving the data.
 */
#include "zctest.h"

static uint32_t crc_table[256];

/* at start-up: callers may be threads */
__attribute__((constructor)) static void crc_init(void)
{
	uint32_t c, n, k;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

uint32_t zc_crc32(const void *buf, size_t len)
{
	const volatile uint8_t *p = buf;	/* may be a foreign mapping */
	uint32_t c = 0xFFFFFFFFu;
	size_t i;

	for (i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

void zc_crc_units(const void *buf, unsigned int n, uint32_t *crcs)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		crcs[i] = zc_crc32((const uint8_t *)buf + (size_t)i * 4096, 4096);
}
