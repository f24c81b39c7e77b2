// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unmodified libxengnttab programs, zero-copy: each case runs the case of
 * the same name of the libxengnttab test program (tests/gnttab/, installed
 * in the dom0 as /usr/libexec/xen-zcopy/zc-gnttab) the way a backend is run:
 *
 *   xen-zcopy-run zc-gnttab --domu D --timeout T --reset-agent NAME
 *
 * and passes when that case passes and the launcher said exactly once
 * "zero-copy active" (or "inactive", for the fallback cases). The test
 * program is linked against the real Debian libxengnttab; its output is
 * relayed here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cases.h"

#define ZG_PROG		"/usr/libexec/xen-zcopy/zc-gnttab"
#define ZG_RUN		"xen-zcopy-run"
/* below the harness's per-case timeout (180 s), so the inner one fires first */
#define ZG_TIMEOUT	"150"

/* the whole output of the launched program (stdout and stderr), or NULL */
static char *run_launched(struct zc_ctx *ctx, const char *env, int *status)
{
	const char *prog = getenv("ZC_GNTTAB_PROG") ? getenv("ZC_GNTTAB_PROG") : ZG_PROG;
	size_t len = 0, cap = 65536;
	char domu[16], *out;
	int p[2];
	pid_t pid;

	out = malloc(cap);
	if (!out || pipe(p)) {
		free(out);
		zc_diag("pipe: %s", zc_errname(errno));
		return NULL;
	}
	snprintf(domu, sizeof(domu), "%d", ctx->domu);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		zc_diag("fork: %s", zc_errname(errno));
		close(p[0]);
		close(p[1]);
		free(out);
		return NULL;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* this case's timeout kills it too */
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (env)
			putenv((char *)env);
		execlp(ZG_RUN, ZG_RUN, prog, "--domu", domu, "--timeout", ZG_TIMEOUT,
		       "--reset-agent", ctx->name, (char *)NULL);
		printf("# exec %s: %s\n", ZG_RUN, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *m = cap < (4u << 20) ? realloc(out, cap * 2) : NULL;

			if (!m)
				break;	/* enough to judge by; the rest is dropped */
			out = m;
			cap *= 2;
		}
		n = read(p[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = 0;
	close(p[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return out;
}

/*
 * Run ctx->name under the launcher with env (NAME=VALUE or NULL); want_active:
 * the launcher's line must say zero-copy is active (else inactive, and
 * name the reason why_off).
 */
static int run_gnttab_case(struct zc_ctx *ctx, const char *env, bool want_active,
			   const char *why_off)
{
	int status = -1, active = 0, inactive = 0, why = 0, rc = ZC_FAIL;
	size_t nlen = strlen(ctx->name);
	char *out, *line, *save = NULL;
	char skip[200] = "";

	ZCC_NEED_DOMU(ctx);
	out = run_launched(ctx, env, &status);
	if (!out)
		return ZC_FAIL;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *v = NULL;

		if (strstr(line, "xen-zcopy: zero-copy active"))
			active++;
		if (strstr(line, "xen-zcopy: zero-copy inactive")) {
			inactive++;
			why += why_off && strstr(line, why_off);
		}
		if (!strncmp(line, "ok - ", 5) && !strncmp(line + 5, ctx->name, nlen))
			v = line + 5 + nlen;
		if (v && !*v) {
			rc = ZC_PASS;
		} else if (v && !strncmp(v, " # SKIP ", 8)) {
			snprintf(skip, sizeof(skip), "%s", v + 8);
			rc = ZC_SKIP;
		}
		/* the inner case's diagnostics and the library's lines, for the log */
		printf("#   | %s\n", line);
	}
	fflush(stdout);
	free(out);
	if (!WIFEXITED(status) || (WEXITSTATUS(status) && rc == ZC_PASS)) {
		zc_diag("%s exited with status %#x", ZG_RUN, status);
		rc = ZC_FAIL;
	}
	if (rc == ZC_SKIP) {
		zc_diag("%s", skip);
		return ZC_SKIP;
	}
	if (want_active ? active != 1 || inactive : inactive != 1 || active) {
		zc_diag("launcher said %d x \"zero-copy active\", %d x \"inactive\"; want once \"%s\"",
			active, inactive, want_active ? "active" : "inactive");
		rc = ZC_FAIL;
	}
	if (!want_active && why_off && !why) {
		zc_diag("the \"inactive\" line does not say \"%s\"", why_off);
		rc = ZC_FAIL;
	}
	if (rc != ZC_PASS)
		zc_diag("%s %s failed (its output above)", ZG_PROG, ctx->name);
	return rc;
}

ZC_TEST(gnttab_front_alloc) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_be_alloc) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_wait) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_errors) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_threads) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_close_fork) { return run_gnttab_case(ctx, NULL, true, NULL); }
ZC_TEST(gnttab_restrict) { return run_gnttab_case(ctx, NULL, true, NULL); }
/*
 * The program drops CAP_SYS_ADMIN itself, before xengnttab_open; the driver
 * refuses its open (or, older modules, its QUERY) with EPERM.
 */
ZC_TEST(gnttab_fallback_noadmin)
{
	return run_gnttab_case(ctx, NULL, false,
			       "(xen_drm_zcopy) refused this process: Operation not permitted");
}
ZC_TEST(gnttab_fallback_disabled)
{
	return run_gnttab_case(ctx, "XEN_ZCOPY_DISABLE=1", false, "XEN_ZCOPY_DISABLE");
}
