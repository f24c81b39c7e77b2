/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The environment of the display cases (80_display.c, implemented in
 * display_env.c): the display domU "zcdisp" (tests/backend/zcdisp.cfg,
 * drm_xen_front + zc-disp-client), the reference backend zc-displ-be as a
 * child process, the vdispl device attached and detached with xl, and the
 * KMS device (vkms) in dom0.
 */
#ifndef ZC_DISPLAY_H
#define ZC_DISPLAY_H

#include <sys/types.h>

#define ZCD_W		640
#define ZCD_H		480
#define ZCD_OUTPUT	"Virtual-1"	/* vkms's connector, as displ_be names it */

/* the display domU's id, creating it (and waiting for it) if need be; -1 */
int zcd_domain(void);
/* xl destroy it and wait until Xen has no trace of it: ms taken, or -1 */
double zcd_domain_destroy(int domid);
/* dom0's KMS device for the tests */
int zcd_load_kms(void);

struct zcd_be {
	pid_t pid;
	char log[96];
	char stats[2048];	/* the last STATS line */
};
/* start zc-displ-be ARGS, wait for "ready"; 0 or -1 (+ diagnostics) */
int zcd_be_start(struct zcd_be *b, const char *args);
/* 0 if a line of the backend's log (stdout and stderr) contains @text */
int zcd_be_log_has(const struct zcd_be *b, const char *text);
/* SIGTERM, wait for its exit and STATS line; 0 or -1 */
int zcd_be_stop(struct zcd_be *b);
/* a STATS value (key=value), -1 if missing */
double zcd_stat(const struct zcd_be *b, const char *key);
/* the backend log's lines with "ERROR", as diagnostics; how many */
int zcd_be_errors(const struct zcd_be *b);

/* xl vdispl-attach / -detach (waits until the device is gone) */
int zcd_attach(int domid, int be_alloc);
int zcd_detach(int domid);

/* run zc-disp-client ARGS in the display domU; its exit status (-1 on a
 * timeout) and its RESULT line */
int zcd_guest(int domid, const char *args, char *result, size_t len, int timeout_s);
/* start it without waiting for the answer */
int zcd_guest_start(int domid, const char *args);
/* a RESULT value (key=value), -1 if missing */
double zcd_result(const char *result, const char *key);
/* xenstore value of the display domU under data/zcdisp/ as a number, -1 */
long zcd_guest_value(int domid, const char *name);

/* trouble (WARNING, BUG, Oops, ...) in the display domU's console since the
 * last call: count, printed as diagnostics (report 0: only skip ahead) */
int zcd_guest_trouble(int report);

/* the backend's log and the display domU's console, into the serial log */
void zcd_dump(const struct zcd_be *b);

#endif /* ZC_DISPLAY_H */
