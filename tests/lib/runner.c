// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zctest runner: case registry, command line, one TAP-style verdict line per
 * case. Each case runs in a child process (so a crash or a hang is that
 * case's failure, not the end of the run); ZC_NOFORK=1 runs them in-process
 * for a debugger.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zctest.h"
#include "zc_priv.h"

struct zc_case {
	const char *name;
	zc_test_fn fn;
	const char *file;
	int line;
	int seq;
};

static struct zc_case *cases;
static int ncases;


void zc_register_at(const char *name, zc_test_fn fn, const char *file, int line)
{
	struct zc_case *c = realloc(cases, (size_t)(ncases + 1) * sizeof(*c));

	if (!c) {
		perror("zc_register");
		exit(2);
	}
	cases = c;
	cases[ncases] = (struct zc_case){ name, fn, file ? file : "~", line, ncases };
	ncases++;
}

void zc_register(const char *name, zc_test_fn fn)
{
	zc_register_at(name, fn, NULL, 0);
}

static int case_cmp(const void *a, const void *b)
{
	const struct zc_case *x = a, *y = b;
	const char *fx = strrchr(x->file, '/'), *fy = strrchr(y->file, '/');
	int r = strcmp(fx ? fx + 1 : x->file, fy ? fy + 1 : y->file);

	if (r)
		return r;
	if (x->line != y->line)
		return x->line - y->line;
	return x->seq - y->seq;
}

static int run_one(const struct zc_case *c, int domu)
{
	struct zc_ctx ctx = { .domu = domu, .name = c->name };
	int rc;

	zc_last_diag[0] = 0;
	rc = c->fn(&ctx);
	if (rc == ZC_PASS) {
		printf("ok - %s\n", c->name);
	} else if (rc == ZC_SKIP) {
		printf("ok - %s # SKIP %s\n", c->name,
		       zc_last_diag[0] ? zc_last_diag : "(no reason given)");
	} else {
		printf("not ok - %s\n", c->name);
		rc = ZC_FAIL;
	}
	fflush(stdout);
	return rc;
}

/* child per case; returns ZC_PASS/ZC_FAIL/ZC_SKIP */
static int run_forked(const struct zc_case *c, int domu, unsigned int timeout_s)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		printf("not ok - %s\n", c->name);
		return ZC_FAIL;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(timeout_s);
		_exit(run_one(c, domu));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == ZC_SKIP ? ZC_SKIP :
		       WEXITSTATUS(status) ? ZC_FAIL : ZC_PASS;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		zc_diag("timed out after %u s", timeout_s);
	else
		zc_diag("died: %s", strsignal(WTERMSIG(status)));
	printf("not ok - %s\n", c->name);
	fflush(stdout);
	return ZC_FAIL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: zctest --list\n"
		   "       zctest [--domu ID] [--timeout SEC] [--reset-agent] [NAME...]\n"
		   "Runs the named cases (all when none given), one verdict line each.\n"
		   "--reset-agent: after each case, the domU agent drops what it holds.\n");
}

int main(int argc, char **argv)
{
	int i, j, domu = -1, list = 0, pass = 0, fail = 0, skip = 0;
	unsigned int timeout_s = 120;
	int nofork = getenv("ZC_NOFORK") && *getenv("ZC_NOFORK") == '1';
	int reset_agent = 0;
	char **names;
	int nnames = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	names = calloc((size_t)argc, sizeof(*names));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list")) {
			list = 1;
		} else if (!strcmp(argv[i], "--domu") && i + 1 < argc) {
			domu = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--reset-agent")) {
			reset_agent = 1;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout_s = (unsigned int)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else {
			names[nnames++] = argv[i];
		}
	}
	qsort(cases, (size_t)ncases, sizeof(*cases), case_cmp);
	if (list) {
		for (i = 0; i < ncases; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	for (j = 0; j < nnames; j++) {
		for (i = 0; i < ncases; i++)
			if (!strcmp(cases[i].name, names[j]))
				break;
		if (i == ncases) {
			fprintf(stderr, "zctest: no such case: %s\n", names[j]);
			printf("not ok - %s # no such case\n", names[j]);
			return 2;
		}
	}
	for (i = 0; i < ncases; i++) {
		int rc;

		if (nnames) {
			for (j = 0; j < nnames; j++)
				if (!strcmp(cases[i].name, names[j]))
					break;
			if (j == nnames)
				continue;
		}
		rc = nofork ? run_one(&cases[i], domu) :
			      run_forked(&cases[i], domu, timeout_s);
		if (reset_agent && domu >= 0) {
			struct zc_ctx ctx = { .domu = domu, .name = cases[i].name };
			int left = zc_agent_reset(&ctx);

			if (left > 0)
				printf("# agent: released %d object(s) %s left behind\n",
				       left, cases[i].name);
			/* the next case would find the agent in any state */
			if (left < 0 && rc != ZC_FAIL) {
				printf("# agent: the reset after %s failed\n", cases[i].name);
				rc = ZC_FAIL;
			}
		}
		if (rc == ZC_PASS)
			pass++;
		else if (rc == ZC_SKIP)
			skip++;
		else
			fail++;
	}
	if (!nnames || nnames > 1)
		printf("# %d passed, %d failed, %d skipped\n", pass, fail, skip);
	free(names);
	return fail ? 1 : 0;
}
