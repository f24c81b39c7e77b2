// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the platform is, from the system rather than from the driver under
 * test: a case never decides what to check (or to skip) from a capability
 * bit, a limit or an errno the driver reports.
 */
#include <stdio.h>
#include <string.h>

#include "zctest.h"

const char *zc_guest_type(void)
{
	static char type[16];
	FILE *f;

	if (type[0])
		return type;
	f = fopen("/sys/hypervisor/guest_type", "r");
	if (f) {
		if (!fgets(type, sizeof(type), f))
			type[0] = 0;
		fclose(f);
	}
	type[strcspn(type, "\n")] = 0;
	return type;
}

int zc_guest_is_pv(void)
{
	return !strcmp(zc_guest_type(), "PV");
}
