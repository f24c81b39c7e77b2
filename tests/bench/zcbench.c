// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcbench: what a dom0 backend pays with xen_drm_zcopy and without it, for
 * the same guest memory, measured side by side in one boot (bench.h lists
 * the parts). Run in dom0 by tests/bench/run-bench.sh (`make bench`):
 *
 *   zcbench --domu ID [--reps N] [--frames N] [--calls N]
 *           [--size WxH]... [--refs N,N,...] [--sync N,N,...]
 *           [--parts frame,scale,sync] [--profile OP:N]
 *
 * Exit status 1 when any check failed (the tables printed so far stand),
 * 2 on bad arguments. No time is ever asserted: the targets are reported.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int parse_list(const char *s, unsigned int *v, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*s) {
		unsigned long x = strtoul(s, &end, 10);

		if (end == s || !x || x > 1u << 20 || *n >= ZB_MAX_SIZES)
			return -1;
		v[(*n)++] = (unsigned int)x;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *n ? 0 : -1;
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		/* x86 "model name", arm64 "CPU part" as the nearest thing */
		if (c && (!strncmp(line, "model name", 10) || !strncmp(line, "CPU part", 8))) {
			snprintf(buf, len, "%s", c + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	fclose(f);
}

static const char *verdict(int met)
{
	return met ? "met" : "MISSED";
}

static void targets(const struct zb_opts *o)
{
	unsigned int i;

	printf("\n== targets (issue 13); times are never asserted ==\n");
	for (i = 0; i < o->nsizes; i++)
		if (zb_res.frame_ratio[i] > 0)
			printf("   CPU consumer, %ux%u: copy / zero-copy %.2fx per frame (the >= 100x target is for scan-out: display part)\n",
			       o->w[i], o->h[i], zb_res.frame_ratio[i]);
	if (zb_res.setup_ratio_8100 > 0)
		printf("   set-up of 8100 refs: %.2fx faster than gntdev (target >= 10x): %s\n",
		       zb_res.setup_ratio_8100, verdict(zb_res.setup_ratio_8100 >= 10));
	if (zb_res.perref_spread > 0)
		printf("   per-ref set-up cost, %u to %u refs: largest / smallest %.2fx (target <= 1.1x): %s\n",
		       zb_res.perref_lo, zb_res.perref_hi, zb_res.perref_spread,
		       verdict(zb_res.perref_spread <= 1.1));
	if (zb_res.perref_spread_min > 0)
		printf("   (the same from each size's fastest run: %.2fx; marginal per-ref cost, medians: %.2fx)\n",
		       zb_res.perref_spread_min, zb_res.marginal_spread);
	if (zb_res.sync_spread > 0)
		printf("   SYNC per call, %u to %u pages: largest / smallest %.2fx (target <= 1.2x where no sync is needed): %s\n",
		       zb_res.sync_lo, zb_res.sync_hi, zb_res.sync_spread,
		       verdict(zb_res.sync_spread <= 1.2));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domu", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "frames", required_argument, NULL, 'f' },
		{ "calls", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "refs", required_argument, NULL, 'n' },
		{ "sync", required_argument, NULL, 'y' },
		{ "parts", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	static struct zb_opts o = {
		.ctx = { .domu = -1, .name = "bench" },
		.reps = 5, .frames = 10, .calls = 100,
	};
	const char *parts = "frame,scale,sync", *profile = NULL;
	char model[128];
	int c, ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.ctx.domu = atoi(optarg);
			break;
		case 'r':
			o.reps = atoi(optarg);
			break;
		case 'f':
			o.frames = atoi(optarg);
			break;
		case 'c':
			o.calls = atoi(optarg);
			break;
		case 's':
			if (o.nsizes < ZB_MAX_SIZES &&
			    sscanf(optarg, "%ux%u", &o.w[o.nsizes], &o.h[o.nsizes]) == 2 &&
			    o.w[o.nsizes] && o.h[o.nsizes]) {
				o.nsizes++;
				break;
			}
			goto usage;
		case 'n':
			if (parse_list(optarg, o.refs, &o.nrefs))
				goto usage;
			break;
		case 'y':
			if (parse_list(optarg, o.sync, &o.nsync))
				goto usage;
			break;
		case 'p':
			parts = optarg;
			break;
		case 'P':
			profile = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (o.ctx.domu < 0 || o.reps < 1 || o.reps > 64 || o.frames < 1 || o.calls < 2)
		goto usage;
	if (profile) {
		char what[32];
		unsigned int n;

		if (sscanf(profile, "%31[a-z-]:%u", what, &n) != 2 || !n)
			goto usage;
		return zb_profile(&o, what, n) ? 1 : 0;
	}
	if (!o.nsizes) {
		o.w[0] = 1920;
		o.h[0] = 1080;
		o.nsizes = 1;
	}
	cpu_model(model, sizeof(model));
	printf("zcbench: dom0 sees %ld CPU(s), %s, %ld-byte pages; domU %d; %d runs per measurement\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, sysconf(_SC_PAGESIZE), o.ctx.domu, o.reps);
	if (strstr(parts, "frame") && zb_frame(&o))
		ret = 1;
	if (!ret && strstr(parts, "scale") && zb_scale(&o))
		ret = 1;
	if (!ret && strstr(parts, "sync") && zb_sync(&o))
		ret = 1;
	targets(&o);
	printf("zcbench: %s\n", ret ? "FAIL (a check failed, see above)" : "all checks passed");
	return ret;
usage:
	fprintf(stderr, "usage: zcbench --domu ID [--reps 1..64] [--frames N] [--calls N>=2] [--size WxH]...\n"
		"               [--refs N,N,...] [--sync N,N,...] [--parts frame,scale,sync] [--profile OP:N]\n"
		"       OP: zc-from gntdev zc-to gntalloc sync\n");
	return 2;
}
