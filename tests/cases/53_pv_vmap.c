// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel mappings (vmap) of FROM_REFS buffers. Nothing in DRM vmaps an
 * imported buffer on request of user space, but V4L2 does: vivid with the
 * vmalloc memory ops dma_buf_vmap()s a DMABUF capture buffer and draws its
 * test pattern into it. So a frame captured into a buffer the domU granted
 * goes through our vmap (in the PV dom0: grant PTE mappings over a vmap()
 * area, src/zcopy_cpu_pv.c), and the domU sees the frame: every page of
 * the domU's is the frame, page for page as the importer and dom0's CPU see
 * it, none is the old pattern. While vivid holds the buffer (vmapped), our
 * handle and fd gone, WAIT_FREE waits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/videodev2.h>
#include <xf86drm.h>

#include <xen_zcopy_drm.h>

#include "cases.h"


/* the vivid video capture node, or -1 */
static int open_vivid(void)
{
	DIR *d = opendir("/dev");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		struct v4l2_capability cap;
		char path[300];
		int fd;

		if (strncmp(e->d_name, "video", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&cap, 0, sizeof(cap));
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			found = fd;
		else
			close(fd);
	}
	closedir(d);
	return found;
}

ZC_TEST(pv_vmap_vivid_capture)
{
	struct drm_xen_zcopy_from_refs fr = { 0 };
	struct v4l2_requestbuffers rb = { 0 };
	struct v4l2_format fmt = { 0 };
	struct v4l2_buffer b = { 0 };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	unsigned char *p = MAP_FAILED;
	uint32_t *refs = NULL, handle = 0, *dcrc = NULL, *icrc = NULL, *old = NULL;
	int zc = -1, vfd = -1, dfd = -1, ifd = -1, id = 0, streaming = 0, rc = ZC_PASS, e;
	unsigned int n = 0, ni = 0;
	unsigned char *pat = NULL;
	struct pollfd pfd;
	size_t i, len = 0;

	if (ctx->domu < 0) {
		zc_diag("needs the test domU (--domu ID)");
		return ZC_SKIP;
	}
	/* vivid is in every platform's dom0 image (the harness's build.sh) */
	if (system("modprobe vivid n_devs=1 node_types=0x1 >/dev/null 2>&1") ||
	    (vfd = open_vivid()) < 0) {
		zc_diag("no vivid capture device");
		return ZC_FAIL;
	}

	fmt.type = type;
	fmt.fmt.pix.width = 640;
	fmt.fmt.pix.height = 480;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	CK(!ioctl(vfd, VIDIOC_S_FMT, &fmt), "S_FMT: %s", zc_errname(errno));
	CK(fmt.fmt.pix.sizeimage, "sizeimage 0");
	n = (fmt.fmt.pix.sizeimage + ZCC_PAGE - 1) / ZCC_PAGE;

	zc = zc_open_render();
	refs = calloc(n, sizeof(*refs));
	CK(zc >= 0 && refs, "open xen_drm_zcopy: %s", zc_errname(errno));
	CK(!zc_agent_grant(ctx, n, 681, 0, 0, refs, &id), "domU grant of %u pages", n);
	fr.domid = (uint32_t)ctx->domu;
	fr.refs = (uintptr_t)refs;
	fr.num_refs = n;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr), "FROM_REFS: %s",
	   zc_errname(errno));
	handle = fr.handle;
	CK(!drmPrimeHandleToFD(zc, handle, DRM_CLOEXEC | DRM_RDWR, &dfd), "export: %s",
	   zc_errname(errno));

	rb.count = 1;
	rb.type = type;
	rb.memory = V4L2_MEMORY_DMABUF;
	CK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) && rb.count >= 1, "REQBUFS DMABUF: %s",
	   zc_errname(errno));
	b.index = 0;
	b.type = type;
	b.memory = V4L2_MEMORY_DMABUF;
	b.m.fd = dfd;
	b.length = (uint32_t)fr.size;
	/* vb2 vmaps the dma-buf here (vb2_vmalloc_map_dmabuf) */
	CK(!ioctl(vfd, VIDIOC_QBUF, &b), "QBUF: %s", zc_errname(errno));
	CK(!ioctl(vfd, VIDIOC_STREAMON, &type), "STREAMON: %s", zc_errname(errno));
	streaming = 1;
	pfd.fd = vfd;
	pfd.events = POLLIN;
	CK(poll(&pfd, 1, 10000) == 1, "no frame within 10 s");
	memset(&b, 0, sizeof(b));
	b.type = type;
	b.memory = V4L2_MEMORY_DMABUF;
	CK(!ioctl(vfd, VIDIOC_DQBUF, &b), "DQBUF: %s", zc_errname(errno));
	CK(!(b.flags & V4L2_BUF_FLAG_ERROR) && b.bytesused, "frame flags %#x bytesused %u",
	   b.flags, b.bytesused);
	CK(!ioctl(vfd, VIDIOC_STREAMOFF, &type), "STREAMOFF");
	streaming = 0;

	/*
	 * vivid drew through the kernel mapping: the domU's pages are the
	 * frame, as the importer (dma_buf_vmap) and the CPU (mmap) see it
	 */
	dcrc = calloc(n, sizeof(*dcrc));
	icrc = calloc(n + 4, sizeof(*icrc));
	old = calloc(n, sizeof(*old));
	pat = malloc((size_t)n * ZCC_PAGE);
	CK(dcrc && icrc && old && pat, "oom");
	CK(!zc_agent_crcs(ctx, id, n, dcrc), "the domU's page checksums");
	ifd = zc_imp_open();
	CK(ifd >= 0, "test importer");
	e = zc_imp_attach(ifd, dfd, NULL);
	CK(!e, "importer attach: %s", zc_errname(e));
	e = zc_imp_vmap_crcs(ifd, icrc, n + 4, &ni);
	CK(!e && ni >= n, "importer vmap: %s, %u units", zc_errname(e), ni);
	close(ifd);
	ifd = -1;
	zc_fill(pat, (size_t)n * ZCC_PAGE, 681);
	zc_crc_units(pat, n, old);
	for (i = 0; i < n; i++) {
		CK(dcrc[i] == icrc[i], "page %zu: the domU sees crc %08x, dom0's kernel mapping %08x",
		   i, dcrc[i], icrc[i]);
		CK(dcrc[i] != old[i] || (i + 1) * ZCC_PAGE > b.bytesused,
		   "page %zu still holds the old pattern", i);
	}
	/* dma-buf mmap maps whole pages inside the buffer (16K: not the tail) */
	len = fr.size / (size_t)sysconf(_SC_PAGESIZE) * (size_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, dfd, 0);
	CK(p != MAP_FAILED, "mmap: %s", zc_errname(errno));
	for (i = 0; i < len / ZCC_PAGE; i++)
		CK(zc_crc32(p + i * ZCC_PAGE, ZCC_PAGE) == dcrc[i],
		   "page %zu: dom0's mmap differs from the domU's", i);
	for (i = 1; i < b.bytesused && i < len && p[i] == p[0]; i++)
		;
	CK(i < b.bytesused && i < len, "frame is one flat byte value");
	munmap(p, len);
	p = MAP_FAILED;
	/* vivid still holds it (and maps it): WAIT_FREE waits */
	close(dfd);
	dfd = -1;
	CK(!zc_ioctl(zc, DRM_IOCTL_GEM_CLOSE, &(struct drm_gem_close){ .handle = handle }),
	   "GEM_CLOSE: %s", zc_errname(errno));
	handle = 0;
	CK(zcc_wait(zc, fr.wait_token, 200) == ETIMEDOUT, "WAIT_FREE while vivid holds the buffer: %s",
	   zc_errname(zcc_wait(zc, fr.wait_token, 0)));
	memset(&rb, 0, sizeof(rb));
	rb.type = type;
	rb.memory = V4L2_MEMORY_DMABUF;
	CK(!ioctl(vfd, VIDIOC_REQBUFS, &rb), "REQBUFS 0: %s", zc_errname(errno));
	CK(zcc_wait(zc, fr.wait_token, 2000) == ENOENT, "WAIT_FREE after vivid let go: %s",
	   zc_errname(zcc_wait(zc, fr.wait_token, 0)));
out:
	if (p != MAP_FAILED)
		munmap(p, len);
	if (streaming)
		ioctl(vfd, VIDIOC_STREAMOFF, &type);
	if (vfd >= 0) {
		/* free the vb2 buffer: vunmap and release of the dma-buf */
		memset(&rb, 0, sizeof(rb));
		rb.type = type;
		rb.memory = V4L2_MEMORY_DMABUF;
		ioctl(vfd, VIDIOC_REQBUFS, &rb);
		close(vfd);
	}
	if (dfd >= 0)
		close(dfd);
	if (handle) {
		struct drm_gem_close cl = { .handle = handle };

		zc_ioctl(zc, DRM_IOCTL_GEM_CLOSE, &cl);
	}
	if (zc >= 0)
		close(zc);
	if (ifd >= 0)
		close(ifd);
	free(refs);
	free(dcrc);
	free(icrc);
	free(old);
	free(pat);
	if (rc == ZC_PASS)
		rc = zc_counters_idle(3000);
	if (id && zc_agent_release(ctx, id) && rc == ZC_PASS)
		rc = ZC_FAIL;
	if (system("rmmod vivid >/dev/null 2>&1"))
		zc_diag("rmmod vivid failed");
	return rc;
}
