// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zc-displ-be: a reference displif backend (see be.h for its parts).
 *
 *   zc-displ-be [--legacy | --gnttab] [--capture] [--verify] [--publish-refs]
 *               [--png FILE] [--copy] [--kms DRIVER]
 *
 * Run it in dom0 before the guest's vdispl device exists (xl create or
 * xl vdispl-attach wait up to 10 s for its InitWait). It serves every
 * vdispl device of every domain until SIGTERM/SIGINT, then tears down
 * (outputs off, buffers released, WAIT_FREE), prints the STATS line and
 * exits 0. SIGUSR1 prints the STATS line and goes on. SIGUSR2 switches
 * between zero-copy and the copy path (--copy) for the buffers created from
 * then on (the benchmark measures both against one guest: the 6.1 frontend
 * cannot be detached and attached again).
 *
 *   --legacy        the 2018 DUMB_* ioctls (displ_be's sequence) instead of
 *                   the new UAPI
 *   --gnttab        no ioctl of ours: libxengnttab's xengnttab_dmabuf_*
 *                   calls, as libxenbe makes them; zero-copy when started
 *                   as "xen-zcopy-run zc-displ-be --gnttab ..."
 *   --capture       writeback capture of every frame shown, checked against
 *                   the test pattern (zcd_pattern.h)
 *   --verify        prove for each framebuffer that the KMS device scans out
 *                   our dma-buf (drmModeGetFB2 + PRIME + fdinfo + debugfs)
 *   --publish-refs  be-alloc: also write each buffer's refs to xenstore
 *                   (<backend>/zc-test/dbufN) for a test guest to draw
 *                   through gntdev
 *   --png FILE      save the last captured frame as a PNG at exit
 *   --copy          front-alloc through gntdev + memcpy (no zero-copy; the
 *                   benchmark's baseline); SIGUSR2 switches
 *   --kms DRIVER    the KMS driver to show frames on (default vkms)
 *
 * Logs go to stdout, one line per step, with a monotonic timestamp.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be.h"

struct be_opts be_opt = { .kms = "vkms" };
struct be_stats be_st;
static double t_start;
static volatile sig_atomic_t stop, dump, toggle;

double be_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void be_log(const char *lvl, const char *fmt, ...)
{
	va_list ap;

	printf("[%9.3f] zc-displ-be %s: ", (be_now_ms() - t_start) / 1e3, lvl);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void be_stats_print(FILE *f)
{
	fprintf(f, "STATS connects=%ld disconnects=%ld reqs=%ld req_errors=%ld "
		"dbuf_create=%ld dbuf_destroy=%ld fb_attach=%ld fb_detach=%ld "
		"set_config=%ld flips=%ld flip_events=%ld events_dropped=%ld "
		"zc_fb_ok=%ld zc_fb_bad=%ld captured=%ld capture_errors=%ld "
		"mismatches=%ld seq_errors=%ld last_seed=%ld wait_free_timeouts=%ld "
		"destroy_ms_max=%.1f destroy_ms_avg=%.1f wait_free_ms_max=%.1f "
		"present_n=%ld present_ms_min=%.3f present_ms_avg=%.3f present_ms_max=%.3f "
		"present_ms_sum=%.3f\n",
		be_st.dev_connects, be_st.dev_disconnects, be_st.reqs, be_st.req_errors,
		be_st.dbuf_create, be_st.dbuf_destroy, be_st.fb_attach, be_st.fb_detach,
		be_st.set_config, be_st.flips, be_st.flip_events, be_st.events_dropped,
		be_st.zc_fb_ok, be_st.zc_fb_bad, be_st.captured, be_st.capture_errors,
		be_st.mismatches, be_st.seq_errors, be_st.last_seed, be_st.wait_free_timeouts,
		be_st.destroy_ms_max,
		be_st.dbuf_destroy ? be_st.destroy_ms_sum / be_st.dbuf_destroy : 0.0,
		be_st.wait_free_ms_max, be_st.present_n, be_st.present_ms_min,
		be_st.present_n ? be_st.present_ms_sum / be_st.present_n : 0.0,
		be_st.present_ms_max, be_st.present_ms_sum);
	fflush(f);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else if (sig == SIGUSR2)
		toggle = 1;
	else
		stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: zc-displ-be [--legacy | --gnttab] [--capture] [--verify] [--publish-refs]\n"
			"                   [--png FILE] [--copy] [--kms DRIVER]\n");
	exit(2);
}

/* a flip whose KMS event never came: answer it anyway, the frontend
 * must not hang (it would time out after 3100 ms and log an error) */
static void flip_watchdog(void)
{
	int n, i, j;
	struct be_dev *d = xb_devices(&n);

	for (i = 0; i < n; i++)
		for (j = 0; d[i].used && d[i].connected && j < d[i].nconn; j++) {
			struct be_conn *c = &d[i].conn[j];

			if (c->flip_pending && be_now_ms() - c->flip_t0 > 1000) {
				ERR("connector %d: no KMS flip event within 1000 ms: answering the flip anyway",
				    c->index);
				c->flip_pending = 0;
				ring_send_flip_event(c, c->flip_cookie);
			}
		}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd p[3];
	int i, xsfd;

	t_start = be_now_ms();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--legacy"))
			be_opt.api = BE_API_LEGACY;
		else if (!strcmp(argv[i], "--gnttab"))
			be_opt.api = BE_API_GNTTAB;
		else if (!strcmp(argv[i], "--new"))
			be_opt.api = BE_API_NEW;
		else if (!strcmp(argv[i], "--capture"))
			be_opt.capture = 1;
		else if (!strcmp(argv[i], "--verify"))
			be_opt.verify_zc = 1;
		else if (!strcmp(argv[i], "--publish-refs"))
			be_opt.publish_refs = 1;
		else if (!strcmp(argv[i], "--copy"))
			be_opt.copy = 1;
		else if (!strcmp(argv[i], "--png") && i + 1 < argc)
			be_opt.png = argv[++i];
		else if (!strcmp(argv[i], "--kms") && i + 1 < argc)
			be_opt.kms = argv[++i];
		else
			usage();
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	LOG("starting: %s, %s%s%s%s",
	    be_opt.api == BE_API_LEGACY ? "legacy (2018) UAPI" :
	    be_opt.api == BE_API_GNTTAB ? "libxengnttab dma-buf calls" : "new UAPI",
	    be_opt.copy ? "copy path" : "zero-copy", be_opt.capture ? ", capture" : "",
	    be_opt.verify_zc ? ", verify" : "", be_opt.publish_refs ? ", publish refs" : "");
	if (kms_open(be_opt.kms) || dbuf_open_zcopy())
		return 1;
	be_xce = xenevtchn_open(NULL, 0);
	be_xgt = xengnttab_open(NULL, 0);
	if (!be_xce || !be_xgt) {
		ERR("cannot open /dev/xen/evtchn or /dev/xen/gntdev: %s", strerror(errno));
		return 1;
	}
	xsfd = xb_init();
	if (xsfd < 0)
		return 1;
	p[0] = (struct pollfd){ .fd = xsfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = xenevtchn_fd(be_xce), .events = POLLIN };
	p[2] = (struct pollfd){ .fd = kms_fd(), .events = POLLIN };
	LOG("ready");
	while (!stop) {
		int r = poll(p, 3, 200);

		if (dump) {
			dump = 0;
			be_stats_print(stdout);
		}
		if (toggle) {
			toggle = 0;
			be_opt.copy = !be_opt.copy;
			LOG("mode: %s for the buffers created from now on",
			    be_opt.copy ? "copy path" : "zero-copy");
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ERR("poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN)
			xb_watch_event();
		if (p[1].revents & POLLIN) {
			xenevtchn_port_or_error_t port = xenevtchn_pending(be_xce);

			if (port >= 0) {
				xenevtchn_unmask(be_xce, (evtchn_port_t)port);
				ring_port_event((int)port);
			}
		}
		if (p[2].revents & POLLIN)
			kms_event();
		flip_watchdog();
	}
	LOG("stopping");
	xb_shutdown();
	capture_shutdown();
	be_stats_print(stdout);
	return 0;
}
