// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zc-demo: a guest framebuffer shown by dom0 without a copy.
 *
 *   zc-demo <domU-id>
 *
 * 1. The domU "frontend" (the test agent) grants a 1920x1080 32 bpp
 *    framebuffer, 2025 pages, filled with a known pattern.
 * 2. dom0 maps the grants with FROM_REFS (dumb geometry) and exports the
 *    buffer as a PRIME fd; vgem, standing in for a KMS driver, imports it.
 * 3. Through the import, dom0 reads the pixels; the guest redraws and dom0
 *    sees the new pixels at once, with no ioctl in between; dom0 writes a
 *    reply the guest reads in its own pages: one set of frames, no copy.
 * 4. Everything is closed in displ_be's order; WAIT_FREE returns once the
 *    last holder (vgem's import) is gone, and the driver holds nothing.
 *
 * Exit status 0 when every step was proven, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "zctest.h"

#define W	1920
#define H	1080
#define BPP	32
#define GRANT	4096u

static int failures;

static void step(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "[ ok ]" : "[FAIL]");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_debugfs(const char *file)
{
	char path[128], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/xen_zcopy/%s", file);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("         %s: %s", file, line);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct zc_ctx ctx = { .domu = argc > 1 ? atoi(argv[1]) : -1, .name = "demo" };
	unsigned int n = ((unsigned long)W * H * BPP / 8 + GRANT - 1) / GRANT;
	struct drm_xen_zcopy_wait_free wf = { .timeout_ms = 5000 };
	struct drm_xen_zcopy_from_refs fr = { 0 };
	struct drm_xen_zcopy_query q = { 0 };
	int zfd, vg, pfd = -1, vfd = -1, id = -1, st;
	struct stat sa, sb;
	uint32_t *refs, vh = 0;
	unsigned char *fb = MAP_FAILED;
	size_t size;
	double t;
	pid_t pid;

	printf("== xen-zcopy demo: a %ux%u guest framebuffer shown by dom0 without a copy ==\n", W, H);
	if (ctx.domu < 0) {
		fprintf(stderr, "usage: %s <domU-id>\n", argv[0]);
		return 1;
	}
	refs = calloc(n, sizeof(*refs));
	zfd = zc_open_render();
	vg = zc_open_vgem();
	if (!refs || zfd < 0 || vg < 0) {
		step(0, "open xen_drm_zcopy (%d) and vgem (%d)", zfd, vg);
		return 1;
	}
	st = drmIoctl(zfd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q);
	step(!st, "xen_drm_zcopy API %u: max %u refs per buffer, caps%s%s%s%s", q.api_version,
	     q.max_refs, q.caps & XEN_ZCOPY_CAP_LEGACY ? " legacy" : "",
	     q.caps & XEN_ZCOPY_CAP_MMAP ? " mmap" : "",
	     q.caps & XEN_ZCOPY_CAP_VMAP ? " vmap" : "",
	     q.caps & XEN_ZCOPY_CAP_PV_DOMAIN ? " (PV dom0)" : "");

	/* 1. the guest's framebuffer */
	t = now();
	if (zc_agent_grant(&ctx, n, 0xd15c0, 0, 0, refs, &id)) {
		step(0, "domU %d grants %u pages", ctx.domu, n);
		return 1;
	}
	step(1, "domU %d drew a test pattern and granted its framebuffer: %u pages, refs %u %u %u ... %u (%.2f s)",
	     ctx.domu, n, refs[0], refs[1], refs[2], refs[n - 1], now() - t);

	/* 2. refs -> PRIME buffer -> "KMS" driver */
	fr.flags = XEN_ZCOPY_FROM_REFS_DUMB;
	fr.domid = ctx.domu;
	fr.refs = (uintptr_t)refs;
	fr.num_refs = n;
	fr.width = W;
	fr.height = H;
	fr.bpp = BPP;
	t = now();
	if (drmIoctl(zfd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr)) {
		step(0, "FROM_REFS: %s", strerror(errno));
		goto out;
	}
	step(1, "FROM_REFS mapped %u grants in one batch in %.1f ms: GEM handle %u, %llu bytes, pitch %u",
	     n, (now() - t) * 1e3, fr.handle, (unsigned long long)fr.size, fr.pitch);
	show_debugfs("counters");
	show_debugfs("buffers");
	size = fr.size;
	if (drmPrimeHandleToFD(zfd, fr.handle, DRM_CLOEXEC | DRM_RDWR, &pfd) ||
	    drmPrimeFDToHandle(vg, pfd, &vh)) {
		step(0, "PRIME export / vgem import: %s", strerror(errno));
		goto out;
	}
	step(1, "exported as dma-buf fd %d and imported into vgem (handle %u): vgem attached and DMA-mapped it",
	     pfd, vh);
	if (drmPrimeHandleToFD(vg, vh, DRM_CLOEXEC | DRM_RDWR, &vfd)) {
		step(0, "vgem re-export: %s", strerror(errno));
		goto out;
	}
	step(!fstat(pfd, &sa) && !fstat(vfd, &sb) && sa.st_ino == sb.st_ino,
	     "vgem's import is our dma-buf itself (inode %lu both): vgem holds the guest's pages, not a copy",
	     (unsigned long)sb.st_ino);
	/* displ_be drops its own handle and fd; the "KMS" import keeps the buffer */
	drmCloseBufferHandle(zfd, fr.handle);
	close(pfd);
	pfd = -1;

	/* 3. the pixels, through the import */
	if (!(q.caps & XEN_ZCOPY_CAP_MMAP)) {
		step(0, "this domain cannot mmap foreign frames (no MMAP cap)");
		goto out;
	}
	fb = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0);
	if (fb == MAP_FAILED) {
		step(0, "mmap of vgem's import: %s", strerror(errno));
		goto out;
	}
	t = now();
	st = zc_verify(fb, size, 0xd15c0) != 0;
	t = now() - t;
	step(!st, "dom0 reads the guest's %ux%u pattern through vgem's import: all %zu bytes match (%.1f ms)",
	     W, H, size, t * 1e3);
	if (zc_agent_fill(&ctx, id, 0xbeef))
		step(0, "domU redraw");
	step(!zc_verify(fb, size, 0xbeef),
	     "the guest redraws its own pages; dom0 sees the new frame at once through the same mapping: same frames, no copy");
	zc_fill(fb + 4096, fr.pitch * 16, 0x5e1f);
	step(!zc_agent_check(&ctx, id, 0x5e1f, 4096, fr.pitch * 16),
	     "dom0 writes a %u-byte reply into the buffer; the guest reads it in its own memory", fr.pitch * 16);
	munmap(fb, size);
	fb = MAP_FAILED;
	close(vfd);
	vfd = -1;

	/* 4. release as displ_be does, waiting for the KMS import to go */
	show_debugfs("buffers");
	wf.wait_token = fr.wait_token;
	pid = fork();
	if (!pid) {
		usleep(300 * 1000);
		_exit(drmCloseBufferHandle(vg, vh) ? 1 : 0);
	}
	t = now();
	st = drmIoctl(zfd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &wf) ? errno : 0;
	t = now() - t;
	waitpid(pid, NULL, 0);
	vh = 0;
	step(!st, "WAIT_FREE returned %s after %.0f ms, when vgem dropped its import: grants unmapped, pages freed",
	     st ? strerror(st) : "0", t * 1e3);
	show_debugfs("counters");
	step(zc_counters_idle(1000) == ZC_PASS, "driver holds nothing: every counter is 0");
	step(!zc_agent_check(&ctx, id, 0xbeef, 0, 4096),
	     "the guest's framebuffer is intact and its own again");
out:
	if (fb != MAP_FAILED)
		munmap(fb, size);
	if (vfd >= 0)
		close(vfd);
	if (pfd >= 0)
		close(pfd);
	if (vh)
		drmCloseBufferHandle(vg, vh);
	if (id >= 0 && zc_agent_release(&ctx, id))
		step(0, "domU release");
	close(vg);
	close(zfd);
	printf("== demo %s: %d failed step(s) ==\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
