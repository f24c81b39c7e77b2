// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The display cases' environment (display.h): the display domU, the
 * backend process, xl vdispl-attach/-detach, and the guest's client run
 * over xenstore (data/zcdisp/{req,rsp}, served by
 * tests/backend/guest/disp-init.sh).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "display.h"
#include "zc_priv.h"

#define CONSOLE_LOG "/var/log/xen/console/guest-zcdisp.log"

static struct zc_xs xs = { .fd = -1 };

static int xs_ready(void)
{
	if (xs.fd >= 0)
		return 0;
	if (zc_xs_open(&xs)) {
		zc_diag("xenstore: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

long zcd_guest_value(int domid, const char *name)
{
	char path[128], v[64];

	if (xs_ready())
		return -1;
	snprintf(path, sizeof(path), "/local/domain/%d/data/zcdisp/%s", domid, name);
	if (zc_xs_read(&xs, path, v, sizeof(v)) < 0)
		return -1;
	return atol(v);
}

int zcd_domain(void)
{
	char out[64];
	double t0;
	int domid;

	if (!zc_sh_out(out, sizeof(out), "xl domid zcdisp 2>/dev/null") && out[0])
		return atoi(out);
	t0 = zcc_now();
	if (zc_sh("xl create /etc/xen/zcdisp.cfg > /run/zc/zcdisp-create.log 2>&1")) {
		zc_diag("xl create zcdisp failed:");
		zc_sh("sed 's/^/# /' /run/zc/zcdisp-create.log");
		return -1;
	}
	if (zc_sh_out(out, sizeof(out), "xl domid zcdisp") || !out[0])
		return -1;
	domid = atoi(out);
	while (zcd_guest_value(domid, "ready") != 1) {
		if (zcc_now() - t0 > 150) {
			zc_diag("display domU %d not ready within 150 s", domid);
			return -1;
		}
		sleep_ms(200);
	}
	zc_diag("display domU zcdisp is domain %d (xl create + boot: %.1f s)", domid,
		zcc_now() - t0);
	return domid;
}

/* no domain of that id, and no dying "(null)" one either */
static int domain_gone(int domid)
{
	char out[64], cmd[96];

	snprintf(cmd, sizeof(cmd), "xl list %d 2>/dev/null | tail -n +2", domid);
	if (zc_sh_out(out, sizeof(out), cmd) == 0 && out[0])
		return 0;
	return zc_sh_out(out, sizeof(out), "xl list | grep -c '(null)'") != 0 || atoi(out) == 0;
}

double zcd_domain_destroy(int domid)
{
	double t0 = zcc_now();

	if (zc_sh("xl destroy %d", domid)) {
		zc_diag("xl destroy %d failed", domid);
		return -1;
	}
	while (!domain_gone(domid)) {
		if (zcc_now() - t0 > 30) {
			zc_diag("domain %d still listed 30 s after xl destroy:", domid);
			zc_sh("xl list | sed 's/^/# /'");
			return -1;
		}
		sleep_ms(100);
	}
	return (zcc_now() - t0) * 1e3;
}

int zcd_load_kms(void)
{
	if (!zc_sh("grep -q '^vkms ' /proc/modules"))
		return 0;
	/* no fbdev console on it: only the backend drives it */
	zc_sh("modprobe drm_kms_helper; echo 0 > /sys/module/drm_kms_helper/parameters/fbdev_emulation");
	if (zc_sh("modprobe vkms enable_writeback=1 enable_cursor=0")) {
		zc_diag("modprobe vkms failed (is vkms.ko in the image? scripts/vkms-build.sh)");
		return -1;
	}
	return 0;
}

int zcd_be_log_has(const struct zcd_be *b, const char *text)
{
	char line[512];
	FILE *f = fopen(b->log, "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

int zcd_be_start(struct zcd_be *b, const char *args)
{
	static int n;
	double t0 = zcc_now();

	memset(b, 0, sizeof(*b));
	snprintf(b->log, sizeof(b->log), "/run/zc/zc-displ-be.%d.%d.log", (int)getpid(), n++);
	b->pid = fork();
	if (b->pid < 0)
		return -1;
	if (!b->pid) {
		char cmd[512];
		int fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* --gnttab: libxengnttab's calls, served by xen_drm_zcopy
		 * through the launcher (lib/gnttab-zcopy) */
		snprintf(cmd, sizeof(cmd), "exec %szc-displ-be %s",
			 strstr(args, "--gnttab") ? "xen-zcopy-run " : "", args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		int st;

		if (!zcd_be_log_has(b, "zc-displ-be info: ready"))
			break;
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			zc_diag("zc-displ-be %s exited before it was ready:", args);
			zcd_be_errors(b);
			b->pid = 0;
			return -1;
		}
		if (zcc_now() - t0 > 15) {
			zc_diag("zc-displ-be %s not ready within 15 s", args);
			zcd_be_stop(b);
			return -1;
		}
		sleep_ms(50);
	}
	zc_diag("backend: zc-displ-be %s (log %s)", args, b->log);
	return 0;
}

int zcd_be_stop(struct zcd_be *b)
{
	char line[2048];
	double t0 = zcc_now();
	int st = 0, done = 0;
	FILE *f;

	if (b->pid <= 0)
		return -1;
	kill(b->pid, SIGTERM);
	while (!done) {
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			done = 1;
		} else if (zcc_now() - t0 > 20) {
			zc_diag("zc-displ-be did not exit within 20 s of SIGTERM: killed");
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &st, 0);
			break;
		} else {
			sleep_ms(50);
		}
	}
	b->pid = 0;
	f = fopen(b->log, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "STATS ", 6))
			snprintf(b->stats, sizeof(b->stats), "%s", line);
	if (f)
		fclose(f);
	if (!done || !WIFEXITED(st) || WEXITSTATUS(st)) {
		zc_diag("zc-displ-be ended badly (status %#x)", st);
		return -1;
	}
	if (!b->stats[0]) {
		zc_diag("zc-displ-be printed no STATS line");
		return -1;
	}
	zc_diag("backend %s", b->stats);
	return 0;
}

static double kv(const char *s, const char *key)
{
	size_t kl = strlen(key);
	const char *p = s;

	while ((p = strstr(p, key))) {
		if ((p == s || p[-1] == ' ') && p[kl] == '=')
			return atof(p + kl + 1);
		p += kl;
	}
	return -1;
}

double zcd_stat(const struct zcd_be *b, const char *key)
{
	return kv(b->stats, key);
}

double zcd_result(const char *result, const char *key)
{
	return kv(result, key);
}

int zcd_be_errors(const struct zcd_be *b)
{
	char line[512];
	FILE *f = fopen(b->log, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " ERROR: ")) {
			if (n++ < 12)
				zc_diag("%.*s", (int)strcspn(line, "\n"), line);
		}
	if (f)
		fclose(f);
	return n;
}

int zcd_attach(int domid, int be_alloc)
{
	if (zc_sh("xl vdispl-attach %d backend=0 be-alloc=%d connectors=%s:%dx%d > /run/zc/vdispl.log 2>&1",
	       domid, be_alloc, ZCD_OUTPUT, ZCD_W, ZCD_H)) {
		zc_diag("xl vdispl-attach failed:");
		zc_sh("sed 's/^/# /' /run/zc/vdispl.log");
		return -1;
	}
	return 0;
}

int zcd_detach(int domid)
{
	char path[96], v[16];
	double t0 = zcc_now();

	if (zc_sh("xl vdispl-detach %d 0 > /run/zc/vdispl.log 2>&1", domid)) {
		zc_diag("xl vdispl-detach failed:");
		zc_sh("sed 's/^/# /' /run/zc/vdispl.log");
		return -1;
	}
	if (xs_ready())
		return -1;
	snprintf(path, sizeof(path), "/local/domain/0/backend/vdispl/%d/0/state", domid);
	while (zc_xs_read(&xs, path, v, sizeof(v)) >= 0) {
		if (zcc_now() - t0 > 20) {
			zc_diag("%s still there 20 s after xl vdispl-detach", path);
			return -1;
		}
		sleep_ms(100);
	}
	zc_diag("xl vdispl-detach: %.1f s", zcc_now() - t0);
	return 0;
}

static unsigned int guest_seq;

int zcd_guest_start(int domid, const char *args)
{
	char path[96], req[400];

	if (xs_ready())
		return -1;
	snprintf(path, sizeof(path), "/local/domain/%d/data/zcdisp/req", domid);
	snprintf(req, sizeof(req), "%d.%u %s", (int)getpid(), ++guest_seq, args);
	if (zc_xs_write(&xs, path, req)) {
		zc_diag("write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int zcd_guest(int domid, const char *args, char *result, size_t len, int timeout_s)
{
	char path[96], rsp[512], seq[32];
	double t0 = zcc_now();
	size_t sl;

	result[0] = 0;
	if (zcd_guest_start(domid, args))
		return -1;
	sl = (size_t)snprintf(seq, sizeof(seq), "%d.%u ", (int)getpid(), guest_seq);
	snprintf(path, sizeof(path), "/local/domain/%d/data/zcdisp/rsp", domid);
	for (;;) {
		if (zc_xs_read(&xs, path, rsp, sizeof(rsp)) >= 0 && !strncmp(rsp, seq, sl))
			break;
		if (zcc_now() - t0 > timeout_s) {
			zc_diag("guest: zc-disp-client %s: no answer within %d s", args, timeout_s);
			return -1;
		}
		sleep_ms(100);
	}
	snprintf(result, len, "%s", strchr(rsp + sl, ' ') ? strchr(rsp + sl, ' ') + 1 : "");
	zc_diag("guest: zc-disp-client %s -> status %d, %s", args, atoi(rsp + sl), result);
	return atoi(rsp + sl);
}

void zcd_dump(const struct zcd_be *b)
{
	char line[600];
	FILE *f = b ? fopen(b->log, "r") : NULL;

	/* plain lines: they go to the serial log only, not to the verdict */
	while (f && fgets(line, sizeof(line), f))
		printf("  be: %s", line);
	if (f)
		fclose(f);
	f = fopen(CONSOLE_LOG, "r");
	while (f && fgets(line, sizeof(line), f))
		printf("  zcdisp: %s", line);
	if (f)
		fclose(f);
	fflush(stdout);
}

int zcd_guest_trouble(int report)
{
	static const char *pat[] = { "WARNING:", "BUG:", "BUG ", "Oops", "Call Trace",
		"refcount_t:", "Bad rss-counter", "general protection", "Kernel panic" };
	static long off;
	char line[512];
	FILE *f = fopen(CONSOLE_LOG, "r");
	int n = 0;
	size_t i;

	if (!f)
		return 0;
	if (fseek(f, off, SEEK_SET))
		rewind(f);
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
			if (report && strstr(line, pat[i])) {
				if (n++ < 10)
					zc_diag("zcdisp console: %.*s", (int)strcspn(line, "\n"), line);
				break;
			}
	off = ftell(f);
	fclose(f);
	return n;
}
