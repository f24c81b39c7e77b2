// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Shell commands for the cases that drive the toolstack (xl, xenstore-*,
 * modprobe): a formatted command's exit status, and a command's first line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "zctest.h"

int zc_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -1 : WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

int zc_sh_out(char *out, size_t len, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	int r;

	out[0] = 0;
	if (!p)
		return -1;
	if (!fgets(out, (int)len, p))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	r = pclose(p);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}
