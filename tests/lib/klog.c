// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The kernel log, for cases that provoke a documented warning on purpose:
 * they read /dev/kmsg themselves to assert the line, and tell the harness's
 * log scan to excuse it (tests/vm/guest/zc-lib.sh reads $ZC_EXPECT).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zctest.h"

int zc_expect_log(const char *text)
{
	const char *path = getenv("ZC_EXPECT");
	FILE *f;

	if (!path || !*path)
		return 0;	/* not under the harness: nobody scans */
	f = fopen(path, "a");
	if (!f) {
		zc_diag("cannot append to %s: %s", path, zc_errname(errno));
		return -1;
	}
	fprintf(f, "%s\n", text);
	return fclose(f) ? -1 : 0;
}

int zc_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		zc_diag("open /dev/kmsg: %s", zc_errname(errno));
		return -1;
	}
	lseek(fd, 0, SEEK_END);	/* only what comes from now on */
	return fd;
}

int zc_kmsg_count(int fd, const char *text)
{
	char rec[8192];
	int n = 0;

	for (;;) {
		ssize_t len = read(fd, rec, sizeof(rec) - 1);

		if (len < 0) {
			if (errno == EPIPE)	/* overwritten records: go on */
				continue;
			if (errno == EAGAIN)
				break;
			zc_diag("read /dev/kmsg: %s", zc_errname(errno));
			return -1;
		}
		rec[len] = 0;
		if (strstr(rec, text))
			n++;
	}
	return n;
}
