// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * gntalloc (grant our pages to a domain) and gntdev (map a domain's grants)
 * from user space, as a Xen frontend/backend pair would, plus the probe used
 * to show that a read-only mapping really refuses writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
/* the kernel's uapi/xen headers use two kernel-internal type names */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#include "zc_priv.h"
#include "zctest.h"

static int fail(char *err, size_t len, const char *what)
{
	int e = errno;

	snprintf(err, len, "%s: %s", what, strerror(e));
	errno = e;
	return -1;
}

int zc_gnt_alloc(struct zc_gnt *g, unsigned int n, int to, int ro,
		 char *err, size_t errlen)
{
	struct ioctl_gntalloc_alloc_gref *a;
	size_t sz = sizeof(*a) + n * sizeof(uint32_t);
	void *p;

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	if (!n || n > 1u << 20) {
		errno = EINVAL;
		return fail(err, errlen, "gntalloc: bad page count");
	}
	a = calloc(1, sz);
	g->refs = calloc(n, sizeof(uint32_t));
	if (!a || !g->refs) {
		free(a);
		errno = ENOMEM;
		return fail(err, errlen, "gntalloc");
	}
	g->fd = open("/dev/xen/gntalloc", O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		free(a);
		fail(err, errlen, "open /dev/xen/gntalloc");
		goto out;
	}
	a->domid = (uint16_t)to;
	a->flags = ro ? 0 : GNTALLOC_FLAG_WRITABLE;
	a->count = n;
	if (ioctl(g->fd, IOCTL_GNTALLOC_ALLOC_GREF, a)) {
		free(a);
		fail(err, errlen, "IOCTL_GNTALLOC_ALLOC_GREF");
		goto out;
	}
	g->n = n;
	g->index = a->index;
	g->from = -1;
	memcpy(g->refs, a->gref_ids, n * sizeof(uint32_t));
	free(a);
	/* our own pages: always writable locally, whatever the grant says */
	p = mmap(NULL, (size_t)n * zc_grant_stride(), PROT_READ | PROT_WRITE, MAP_SHARED,
		 g->fd, (off_t)g->index);
	if (p == MAP_FAILED) {
		fail(err, errlen, "mmap gntalloc");
		goto out;
	}
	g->map = p;
	return 0;
out:
	zc_gnt_free(g);
	return -1;
}

int zc_gnt_map(struct zc_gnt *g, int from, const uint32_t *refs,
	       unsigned int n, int ro, char *err, size_t errlen)
{
	struct ioctl_gntdev_map_grant_ref *m;
	size_t sz;
	unsigned int i;
	void *p;

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	if (!n || n > 1u << 20) {
		errno = EINVAL;
		return fail(err, errlen, "gntdev: bad ref count");
	}
	sz = sizeof(*m) + n * sizeof(m->refs[0]);
	m = calloc(1, sz);
	g->refs = calloc(n, sizeof(uint32_t));
	if (!m || !g->refs) {
		free(m);
		errno = ENOMEM;
		return fail(err, errlen, "gntdev");
	}
	memcpy(g->refs, refs, n * sizeof(uint32_t));
	g->fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		free(m);
		fail(err, errlen, "open /dev/xen/gntdev");
		goto out;
	}
	m->count = n;
	for (i = 0; i < n; i++) {
		m->refs[i].domid = (uint32_t)from;
		m->refs[i].ref = refs[i];
	}
	if (ioctl(g->fd, IOCTL_GNTDEV_MAP_GRANT_REF, m)) {
		free(m);
		fail(err, errlen, "IOCTL_GNTDEV_MAP_GRANT_REF");
		goto out;
	}
	g->n = n;
	g->index = m->index;
	g->from = from;
	g->ro = ro;
	free(m);
	/* PV: the grant map hypercall runs here; a refused grant fails mmap */
	p = mmap(NULL, (size_t)n * zc_grant_stride(), ro ? PROT_READ : PROT_READ | PROT_WRITE,
		 MAP_SHARED, g->fd, (off_t)g->index);
	if (p == MAP_FAILED) {
		fail(err, errlen, "mmap gntdev (grant map refused?)");
		goto out;
	}
	g->map = p;
	return 0;
out:
	zc_gnt_free(g);
	return -1;
}

void zc_gnt_free(struct zc_gnt *g)
{
	if (g->map)
		munmap(g->map, (size_t)g->n * zc_grant_stride());
	if (g->fd >= 0 && g->n) {
		if (g->from >= 0) {
			struct ioctl_gntdev_unmap_grant_ref u = {
				.index = g->index, .count = g->n };

			ioctl(g->fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
		} else {
			struct ioctl_gntalloc_dealloc_gref d = {
				.index = g->index, .count = g->n };

			ioctl(g->fd, IOCTL_GNTALLOC_DEALLOC_GREF, &d);
		}
	}
	if (g->fd >= 0)
		close(g->fd);
	free(g->refs);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}

static sigjmp_buf probe_jmp;

static void probe_fault(int sig)
{
	siglongjmp(probe_jmp, sig);
}

int zc_try_store(volatile unsigned char *p)
{
	struct sigaction sa = { .sa_handler = probe_fault }, old_segv, old_bus;
	int refused;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(probe_jmp, 1)) {
		refused = 1;
	} else {
		unsigned char v = *p;

		*p = v;
		refused = 0;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return refused;
}

int zc_try_load(const volatile unsigned char *p)
{
	struct sigaction sa = { .sa_handler = probe_fault }, old_segv, old_bus;
	int refused;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(probe_jmp, 1)) {
		refused = 1;
	} else {
		(void)*p;
		refused = 0;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return refused;
}
