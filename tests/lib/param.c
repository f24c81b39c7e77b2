// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The knobs of a case (zc_param, zctest.h): how long the fuzzer runs, how
 * many soak cycles. In the harness they come from dom0's kernel command
 * line (tests/vm/run.sh: ZC_DOM0_ARGS); by hand, from the environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zctest.h"

/* the value of NAME= on the kernel command line, or NULL */
static const char *cmdline_arg(const char *name, char *buf, size_t len)
{
	FILE *f = fopen("/proc/cmdline", "r");
	char line[2048], *p, *tok;
	size_t nl = strlen(name);

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	for (tok = strtok_r(line, " \n", &p); tok; tok = strtok_r(NULL, " \n", &p))
		if (!strncmp(tok, name, nl) && tok[nl] == '=') {
			snprintf(buf, len, "%s", tok + nl + 1);
			return buf;
		}
	return NULL;
}

const char *zc_param(const char *env, const char *karg, char *buf, size_t len)
{
	const char *v = getenv(env);

	if (v && *v) {
		snprintf(buf, len, "%s", v);
		return buf;
	}
	return cmdline_arg(karg, buf, len);
}
