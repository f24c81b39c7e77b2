// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The importer's view of a dma-buf: what a DMA importer (a scan-out engine)
 * gets from the exporter, through the test-only module tests/kmod
 * (/dev/zc_importer, loaded in dom0 by the harness). Thin wrappers around
 * its ioctls, and zc_importer_check(), which compares that view with the
 * data the grants must hold and with Xen's own answer for each grant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "zctest.h"
#include "../kmod/zc_importer.h"

static int imp_ioctl(int ifd, unsigned long req, void *arg)
{
	return ioctl(ifd, req, arg) ? errno : 0;
}

int zc_imp_open(void)
{
	int fd = open(ZCI_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		zc_diag("open %s: %s (is zc_importer.ko loaded?)", ZCI_DEVICE,
			zc_errname(errno));
	return fd;
}

int zc_imp_attach(int ifd, int dmabuf_fd, uint64_t *size)
{
	struct zci_attach a = { .fd = dmabuf_fd };
	int e = imp_ioctl(ifd, ZCI_ATTACH, &a);

	if (!e && size)
		*size = a.size;
	return e;
}

int zc_imp_map(int ifd, int dir, struct zci_map *out)
{
	struct zci_map m = { .dir = (uint32_t)dir };
	int e = imp_ioctl(ifd, ZCI_MAP, &m);

	if (!e && out)
		*out = m;
	return e;
}

int zc_imp_frames(int ifd, struct zci_frame *frames, unsigned int max,
		  unsigned int *count)
{
	struct zci_frames f = { .frames = (uintptr_t)frames, .max = max };
	int e = imp_ioctl(ifd, ZCI_FRAMES, &f);

	if (!e && count)
		*count = f.count;
	return e;
}

int zc_imp_unmap(int ifd)
{
	return imp_ioctl(ifd, ZCI_UNMAP, NULL);
}

int zc_imp_xen_frames(int ifd, int domid, const uint32_t *refs, unsigned int n,
		      int ro, struct zci_xen_ref *out)
{
	struct zci_xen_frames x = { .refs = (uintptr_t)out, .n = n,
				    .domid = (uint32_t)domid, .readonly = !!ro };
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].ref = refs[i];
	}
	return imp_ioctl(ifd, ZCI_XEN_FRAMES, &x);
}

int zc_imp_vmap_crcs(int ifd, uint32_t *crcs, unsigned int max, unsigned int *count)
{
	struct zci_vmap v = { .crcs = (uintptr_t)crcs, .max = max };
	int e = imp_ioctl(ifd, ZCI_VMAP, &v);

	if (!e && count)
		*count = v.count;
	return e;
}

int zc_imp_cpu_access(int ifd, int dir, int end)
{
	struct zci_cpu_access c = { .dir = (uint32_t)dir, .end = !!end };

	return imp_ioctl(ifd, ZCI_CPU_ACCESS, &c);
}

int zc_imp_pin(int ifd, unsigned int index)
{
	struct zci_pin p = { .index = index };

	return imp_ioctl(ifd, ZCI_PIN, &p);
}

int zc_imp_unpin(int ifd)
{
	return imp_ioctl(ifd, ZCI_UNPIN, NULL);
}

int zc_imp_detach(int ifd)
{
	return imp_ioctl(ifd, ZCI_DETACH, NULL);
}

/* ------------------------------------------------------------ the check */

struct imp_check {
	int ifd;
	struct zci_frame *frames;
	struct zci_xen_ref *xen;
	uint32_t *vcrc;
};

static void imp_check_free(struct imp_check *c)
{
	if (c->ifd >= 0)
		close(c->ifd);	/* unmaps and detaches */
	free(c->frames);
	free(c->xen);
	free(c->vcrc);
}

#define ICK(cond, ...)							\
	do {								\
		if (!(cond)) {						\
			zc_diag("importer: " __VA_ARGS__);		\
			rc = ZC_FAIL;					\
			goto out;					\
		}							\
	} while (0)

int zc_importer_check(int dmabuf_fd, int domid, const uint32_t *refs,
		      unsigned int n, int ro, const uint32_t *want)
{
	struct imp_check c = { .ifd = -1 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int i, units = 0, nv = 0, max;
	int dir = ro ? ZCI_DMA_TO_DEVICE : ZCI_DMA_BIDIRECTIONAL;
	int pv = zc_guest_is_pv(), rc = ZC_PASS, e;
	struct zci_map m;
	uint64_t size = 0;

	c.ifd = zc_imp_open();
	ICK(c.ifd >= 0, "no test importer");
	e = zc_imp_attach(c.ifd, dmabuf_fd, &size);
	ICK(!e, "attach: %s", zc_errname(e));
	ICK(size >= (uint64_t)n * 4096 && size < (uint64_t)n * 4096 + page,
	    "dma-buf of %llu bytes for %u grants", (unsigned long long)size, n);
	e = zc_imp_map(c.ifd, dir, &m);
	ICK(!e, "map_attachment(%s): %s", ro ? "DMA_TO_DEVICE" : "DMA_BIDIRECTIONAL",
	    zc_errname(e));
	/* one entry per kernel page, covering exactly the dma-buf */
	ICK(m.nents == (size + page - 1) / page && m.length == size,
	    "sg table of %u entries, %llu bytes, for %llu bytes in %zu-byte pages",
	    m.nents, (unsigned long long)m.length, (unsigned long long)size, page);
	max = m.units;
	c.frames = calloc(max ? max : 1, sizeof(*c.frames));
	c.xen = calloc(n ? n : 1, sizeof(*c.xen));
	c.vcrc = calloc(max ? max : 1, sizeof(*c.vcrc));
	ICK(c.frames && c.xen && c.vcrc, "out of memory");
	e = zc_imp_frames(c.ifd, c.frames, max, &units);
	ICK(!e && units == max && units >= n, "frames: %s, %u units for %u grants",
	    zc_errname(e), units, n);
	e = zc_imp_xen_frames(c.ifd, domid, refs, n, ro, c.xen);
	ICK(!e, "mapping the grants in the importer: %s", zc_errname(e));
	for (i = 0; i < n; i++) {
		const struct zci_frame *f = &c.frames[i];

		ICK(c.xen[i].status == 0, "grant %u (ref %u of domain %d): the importer's own map failed, status %d",
		    i, refs[i], domid, c.xen[i].status);
		ICK(f->len == 4096, "unit %u is %u bytes", i, f->len);
		if (want)
			ICK(f->crc == want[i], "page %u (sg entry %u) through its kernel address: crc %08x, want %08x (the data of grant %u)",
			    i, f->sg_index, f->crc, want[i], i);
		ICK(c.xen[i].crc == f->crc, "page %u: the sg page holds crc %08x, grant %u (ref %u) itself %08x",
		    i, f->crc, i, refs[i], c.xen[i].crc);
		/* PV: DMA addresses are machine addresses, from the p2m */
		if (pv)
			ICK(f->dma_addr == c.xen[i].bus_addr,
			    "page %u: DMA address %#llx, but Xen maps grant %u (ref %u) at %#llx",
			    i, (unsigned long long)f->dma_addr, i, refs[i],
			    (unsigned long long)c.xen[i].bus_addr);
	}
	if (!pv && n)	/* what DMA addresses are there, for the record */
		zc_diag("importer (%s domain): page 0: DMA address %#llx, phys %#llx; Xen's bus address of grant 0 %#llx",
			zc_guest_type(), (unsigned long long)c.frames[0].dma_addr,
			(unsigned long long)c.frames[0].phys, (unsigned long long)c.xen[0].bus_addr);
	/* CPU access brackets and the kernel mapping of the whole buffer */
	e = zc_imp_cpu_access(c.ifd, dir, 0);
	ICK(!e, "begin_cpu_access: %s", zc_errname(e));
	e = zc_imp_cpu_access(c.ifd, dir, 1);
	ICK(!e, "end_cpu_access: %s", zc_errname(e));
	e = zc_imp_vmap_crcs(c.ifd, c.vcrc, max, &nv);
	ICK(!e, "dma_buf_vmap: %s", zc_errname(e));
	ICK(nv == (size + 4095) / 4096, "vmap covered %u units of %llu bytes", nv,
	    (unsigned long long)size);
	for (i = 0; i < n; i++)
		ICK(c.vcrc[i] == c.frames[i].crc,
		    "page %u through dma_buf_vmap: crc %08x, through the sg page %08x",
		    i, c.vcrc[i], c.frames[i].crc);
	/*
	 * 16K/64K pages: the dma-buf is whole pages, and the 4 KiB units past
	 * the n grants show the last grant again (the driver maps it there):
	 * nothing an importer can reach is without memory behind it.
	 */
	for (i = n; n && i < nv && i < units; i++)
		ICK(c.vcrc[i] == c.frames[n - 1].crc && c.frames[i].crc == c.frames[n - 1].crc,
		    "tail unit %u: crc %08x (vmap), %08x (sg page), want the last grant's %08x",
		    i, c.vcrc[i], c.frames[i].crc, c.frames[n - 1].crc);
	e = zc_imp_unmap(c.ifd);
	ICK(!e, "unmap: %s", zc_errname(e));
	e = zc_imp_detach(c.ifd);
	ICK(!e, "detach: %s", zc_errname(e));
out:
	imp_check_free(&c);
	return rc;
}

int zc_importer_check_seed(int dmabuf_fd, int domid, const uint32_t *refs,
			   unsigned int n, int ro, uint32_t seed)
{
	unsigned char *data = malloc((size_t)n * 4096);
	uint32_t *want = calloc(n ? n : 1, sizeof(*want));
	int rc;

	if (!data || !want) {
		free(data);
		free(want);
		zc_diag("importer: out of memory");
		return ZC_FAIL;
	}
	zc_fill(data, (size_t)n * 4096, seed);
	zc_crc_units(data, n, want);
	free(data);
	rc = zc_importer_check(dmabuf_fd, domid, refs, n, ro, want);
	free(want);
	return rc;
}
