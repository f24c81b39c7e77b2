// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zc_fuzz: a fuzzer of xen_drm_zcopy without any framework (fuzz.h).
 *
 * Workers (processes x threads) each keep a small world: up to three
 * xen_drm_zcopy files (slot 0 shared by the threads of a process, so they
 * race on one file's handles), two vgem files, the GEM objects they made,
 * dma-buf fds, CPU mappings and test-importer attachments. Each iteration
 * picks one operation at random: valid-shaped calls built from that world
 * (dom0's own grants, the domU's grants the parent publishes, vgem
 * buffers) or invalid ones (random flags, reserved fields, sizes, pointers,
 * handles, tokens, ioctl numbers and sizes). A fork runs a few operations in
 * a child that exits or is killed with SIGKILL. The parent process makes
 * the domU agent grant and revoke pages underneath (a pool of slots in
 * shared memory, read without locks: a torn read is one more bad input).
 *
 * What fails the run: a worker killed by a signal (say SIGSEGV through a
 * mapping the driver let us make), a worker still running 60 s after the
 * deadline (a hang), a result that may never happen (EIO, or QUERY
 * failing), and counters not back to 0 once everything is closed. The
 * harness adds the kernel and Xen log scan and Xen's grant table check.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xen_zcopy_drm.h>

#include "cases.h"
#include "fuzz.h"
#include "zc_importer.h"

#define FZ_POOL		8	/* domU grant slots */
#define FZ_POOL_REFS	8
#define FZ_SELF		16	/* dom0's own grants per process */
#define FZ_OBJS		24
#define FZ_BUFS		12
#define FZ_MAPS		6
#define FZ_IMPS		2
#define FZ_ZC		3
#define FZ_VG		2
#define FZ_ERRS		140

enum fz_op {
	OP_OPEN, OP_CLOSE_DEV, OP_QUERY, OP_FROM_REFS, OP_FROM_REFS_BAD,
	OP_TO_REFS, OP_TO_REFS_BAD, OP_WAIT, OP_WAIT_BAD, OP_LEG_FROM,
	OP_LEG_TO, OP_LEG_WAIT, OP_EXPORT, OP_IMPORT, OP_VGEM_NEW,
	OP_GEM_CLOSE, OP_CLOSE_BUF, OP_MMAP, OP_MUNMAP, OP_IMPORTER,
	OP_RAW, OP_FORK, OP_DUP, FZ_NOPS
};

static const char *const op_names[FZ_NOPS] = {
	"open", "close_dev", "query", "from_refs", "from_refs_bad",
	"to_refs", "to_refs_bad", "wait", "wait_bad", "leg_from",
	"leg_to", "leg_wait", "export", "import", "vgem_new",
	"gem_close", "close_buf", "mmap", "munmap", "importer",
	"raw", "fork", "dup",
};

/* weights of the operations (sum: any) */
static const unsigned int op_weight[FZ_NOPS] = {
	3, 1, 2, 12, 8, 5, 4, 4, 3, 4,
	3, 2, 8, 6, 4, 8, 5, 5, 4, 2,
	5, 1, 1,
};

struct fz_shared {
	volatile int stop;
	unsigned long iters;
	unsigned long ops[FZ_NOPS];
	unsigned long errs[FZ_ERRS];
	unsigned long unexpected;
	char why[256];
	int domu;
	/* the agent's pool: n[s] refs of slot s (0 while rewritten) */
	volatile unsigned int pool_n[FZ_POOL];
	volatile uint32_t pool_refs[FZ_POOL][FZ_POOL_REFS];
};

struct fz_obj {
	int dev;	/* 0..FZ_ZC-1 zc slot, FZ_ZC + i vgem slot i; -1 free */
	uint32_t handle;
	uint64_t token;
	uint32_t wait_handle;
	unsigned int pages;	/* 4 KiB units */
	int import;		/* a PRIME import (TO_REFS-able on zc) */
};

struct fz_map {
	unsigned char *p;
	size_t len;
	int writable;
};

struct fz_state {
	uint64_t rng;
	struct fz_shared *sh;
	int zc[FZ_ZC], vg[FZ_VG];
	struct fz_obj obj[FZ_OBJS];
	int buf[FZ_BUFS];
	struct fz_map map[FZ_MAPS];
	int imp[FZ_IMPS];
	const uint32_t *self;	/* FZ_SELF refs of dom0 (gntalloc) */
	unsigned char *bad;	/* a PROT_NONE page */
	int child;		/* in a forked child: no fork, no agent */
	size_t page;
};

/* splitmix64 / xorshift64* */
static uint64_t rnd(struct fz_state *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned int rn(struct fz_state *s, unsigned int n)
{
	return n ? (unsigned int)(rnd(s) % n) : 0;
}

static uint64_t mix(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (z ^ (z >> 31)) | 1;
}

static void unexpected(struct fz_state *s, const char *what, int e)
{
	if (__atomic_fetch_add(&s->sh->unexpected, 1, __ATOMIC_RELAXED) == 0)
		snprintf(s->sh->why, sizeof(s->sh->why), "%s: %s", what, zc_errname(e));
}

/* ioctl(2) once (EINTR from the kill of a child is a result too) */
static int io(struct fz_state *s, int fd, unsigned long req, void *arg)
{
	int e = ioctl(fd, req, arg) ? errno : 0;

	__atomic_fetch_add(&s->sh->errs[e < FZ_ERRS ? e : FZ_ERRS - 1], 1, __ATOMIC_RELAXED);
	if (e == EIO)
		unexpected(s, "an ioctl", e);
	return e;
}

static int zc_fd(struct fz_state *s, unsigned int slot)
{
	return s->zc[slot % FZ_ZC];
}

/* a random open zc slot, or -1 */
static int pick_zc(struct fz_state *s)
{
	unsigned int i, k = rn(s, FZ_ZC);

	for (i = 0; i < FZ_ZC; i++)
		if (s->zc[(k + i) % FZ_ZC] >= 0)
			return (int)((k + i) % FZ_ZC);
	return -1;
}

static int dev_fd(struct fz_state *s, int dev)
{
	if (dev < 0)
		return -1;
	return dev < FZ_ZC ? s->zc[dev] : s->vg[dev - FZ_ZC];
}

static struct fz_obj *new_obj(struct fz_state *s)
{
	unsigned int i;

	for (i = 0; i < FZ_OBJS; i++)
		if (s->obj[i].dev < 0)
			return &s->obj[i];
	return NULL;
}

/* a random live object (of a zc slot if zc, imports only if import) */
static struct fz_obj *pick_obj(struct fz_state *s, int zc, int import)
{
	unsigned int i, k = rn(s, FZ_OBJS);

	for (i = 0; i < FZ_OBJS; i++) {
		struct fz_obj *o = &s->obj[(k + i) % FZ_OBJS];

		if (o->dev < 0 || dev_fd(s, o->dev) < 0)
			continue;
		if (zc && o->dev >= FZ_ZC)
			continue;
		if (import && !o->import)
			continue;
		return o;
	}
	return NULL;
}

static int *free_buf(struct fz_state *s)
{
	unsigned int i;

	for (i = 0; i < FZ_BUFS; i++)
		if (s->buf[i] < 0)
			return &s->buf[i];
	return NULL;
}

static int *pick_buf(struct fz_state *s)
{
	unsigned int i, k = rn(s, FZ_BUFS);

	for (i = 0; i < FZ_BUFS; i++)
		if (s->buf[(k + i) % FZ_BUFS] >= 0)
			return &s->buf[(k + i) % FZ_BUFS];
	return NULL;
}

/* n refs of one source: dom0's own (domid 0) or a domU pool slot */
static uint32_t fill_refs(struct fz_state *s, uint32_t *refs, unsigned int n)
{
	unsigned int i, slot, have;

	if (s->sh->domu < 0 || rn(s, 2)) {
		for (i = 0; i < n; i++)
			refs[i] = s->self[rn(s, FZ_SELF)];
		return 0;
	}
	slot = rn(s, FZ_POOL);
	have = s->sh->pool_n[slot];
	for (i = 0; i < n; i++)
		refs[i] = have ? s->sh->pool_refs[slot][rn(s, have)] : 0x100000 + rn(s, 4096);
	return (uint32_t)s->sh->domu;
}

/* a random "bad" user pointer */
static uint64_t bad_ptr(struct fz_state *s)
{
	switch (rn(s, 5)) {
	case 0: return 0;
	case 1: return (uintptr_t)s->bad;
	case 2: return 8;
	case 3: return 0xffff800000000000ULL;
	default: return rnd(s);
	}
}

static void forget_dev(struct fz_state *s, int dev)
{
	unsigned int i;

	for (i = 0; i < FZ_OBJS; i++)
		if (s->obj[i].dev == dev)
			s->obj[i].dev = -1;
}

static void op_open(struct fz_state *s)
{
	unsigned int i = rn(s, FZ_ZC + FZ_VG);

	if (i < FZ_ZC) {
		if (s->zc[i] >= 0)
			return;
		s->zc[i] = rn(s, 4) ? zc_open_render() : zc_open_primary();
	} else if (s->vg[i - FZ_ZC] < 0) {
		s->vg[i - FZ_ZC] = zc_open_vgem();
	}
}

static void op_close_dev(struct fz_state *s)
{
	unsigned int i = rn(s, FZ_ZC + FZ_VG);

	if (i == 0 && !s->child)
		return;	/* the process's shared file stays */
	if (i < FZ_ZC && s->zc[i] >= 0) {
		close(s->zc[i]);
		s->zc[i] = -1;
		forget_dev(s, (int)i);
	} else if (i >= FZ_ZC && s->vg[i - FZ_ZC] >= 0) {
		close(s->vg[i - FZ_ZC]);
		s->vg[i - FZ_ZC] = -1;
		forget_dev(s, (int)i);
	}
}

static void op_query(struct fz_state *s)
{
	struct drm_xen_zcopy_query q;
	int z = pick_zc(s), e, bad = rn(s, 3) == 0;

	if (z < 0)
		return;
	memset(&q, 0, sizeof(q));
	if (bad) {
		switch (rn(s, 3)) {
		case 0: q.flags = (uint32_t)rnd(s) | 1; break;
		case 1: q.pad = (uint32_t)rnd(s) | 1; break;
		default: q.reserved[rn(s, 4)] = rnd(s) | 1; break;
		}
	}
	e = io(s, zc_fd(s, z), DRM_IOCTL_XEN_ZCOPY_QUERY, &q);
	if (!bad && e)
		unexpected(s, "a valid QUERY", e);
	if (bad && e != EINVAL)
		unexpected(s, "a QUERY with a bad field", e ? e : -1);
}

static void op_from_refs(struct fz_state *s, int bad)
{
	struct drm_xen_zcopy_from_refs fr;
	uint32_t refs[64];
	struct fz_obj *o = new_obj(s);
	unsigned int n = 1 + rn(s, rn(s, 4) ? 8 : 64);
	int z = pick_zc(s), e;

	if (z < 0 || (!o && !bad))
		return;
	memset(&fr, 0, sizeof(fr));
	fr.domid = fill_refs(s, refs, n);
	fr.refs = (uintptr_t)refs;
	fr.num_refs = n;
	if (rn(s, 4) == 0)
		fr.flags |= XEN_ZCOPY_FROM_REFS_READ_ONLY;
	if (rn(s, 4) == 0) {
		fr.flags |= XEN_ZCOPY_FROM_REFS_DUMB;
		fr.bpp = rn(s, 2) ? 32 : 16;
		fr.width = 1 + rn(s, 1024);
		fr.height = 1 + rn(s, n * 2);
	}
	if (rn(s, 6) == 0)
		fr.data_ofs = rn(s, 8) * 512;
	if (bad) {
		switch (rn(s, 12)) {
		case 0: fr.flags = (uint32_t)rnd(s); break;
		case 1: fr.flags |= XEN_ZCOPY_FROM_REFS_PGDIR; fr.gref_dir = refs[0]; break;
		case 2: fr.num_refs = rn(s, 2) ? 0 : (uint32_t)rnd(s); break;
		case 3: fr.refs = bad_ptr(s); break;
		case 4: fr.domid = rn(s, 2) ? 0x7FF0 + rn(s, 16) : (uint32_t)rnd(s); break;
		case 5: fr.reserved[rn(s, 2)] = rnd(s) | 1; break;
		case 6: fr.data_ofs = 4096 + rn(s, 100000); break;
		case 7: fr.gref_dir = (uint32_t)rnd(s) | 1; break;
		case 8: refs[rn(s, n)] = (uint32_t)rnd(s); break;
		/*
		 * the domU's refs as dom0's: never the other way round, which
		 * could map (and the mmap test write to) the domU's own rings
		 */
		case 9: fr.domid = 0; break;
		case 10: fr.flags |= XEN_ZCOPY_FROM_REFS_DUMB; fr.bpp = (uint32_t)rnd(s);
			 fr.width = (uint32_t)rnd(s); fr.height = (uint32_t)rnd(s); break;
		default: fr.refs = (uintptr_t)(s->bad - 4 * rn(s, 2)); fr.num_refs = 2 + rn(s, 4); break;
		}
	}
	e = io(s, zc_fd(s, z), DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr);
	if (!e && o) {
		o->dev = z;
		o->handle = fr.handle;
		o->token = fr.wait_token;
		o->pages = fr.num_refs;
		o->import = 0;
		o->wait_handle = 0;
	} else if (!e) {
		struct drm_gem_close c = { .handle = fr.handle };

		io(s, zc_fd(s, z), DRM_IOCTL_GEM_CLOSE, &c);
	}
}

static void op_to_refs(struct fz_state *s, int bad)
{
	struct drm_xen_zcopy_to_refs tr;
	uint32_t refs[64];
	struct fz_obj *o = pick_obj(s, 1, !bad || rn(s, 2));

	if (!o || o->pages > 64)
		return;
	memset(&tr, 0, sizeof(tr));
	tr.domid = s->sh->domu >= 0 && rn(s, 3) ? (uint32_t)s->sh->domu : 0;
	tr.refs = (uintptr_t)refs;
	tr.num_refs = o->pages;
	tr.handle = o->handle;
	tr.flags = rn(s, 4) ? 0 : XEN_ZCOPY_TO_REFS_READ_ONLY;
	if (rn(s, 5) == 0)
		tr.flags |= XEN_ZCOPY_TO_REFS_PGDIR;
	if (bad) {
		switch (rn(s, 7)) {
		case 0: tr.flags = (uint32_t)rnd(s); break;
		case 1: tr.num_refs = (uint32_t)rnd(s) % 100; break;
		case 2: tr.refs = bad_ptr(s); break;
		case 3: tr.domid = 0x7FF0 + rn(s, 16); break;
		case 4: tr.reserved[rn(s, 2)] = rnd(s) | 1; break;
		case 5: tr.handle = (uint32_t)rnd(s) % 200; break;
		default: tr.gref_dir = 1; tr.data_ofs = (uint32_t)rnd(s); break;
		}
	}
	io(s, zc_fd(s, o->dev), DRM_IOCTL_XEN_ZCOPY_TO_REFS, &tr);
}

static void op_wait(struct fz_state *s, int bad)
{
	struct drm_xen_zcopy_wait_free w;
	struct fz_obj *o = pick_obj(s, 1, 0);
	int z = o ? o->dev : pick_zc(s);

	if (z < 0)
		return;
	memset(&w, 0, sizeof(w));
	w.wait_token = o ? o->token : rnd(s);
	w.timeout_ms = rn(s, 20);
	if (bad) {
		switch (rn(s, 5)) {
		case 0: w.flags = (uint32_t)rnd(s) | 1; break;
		case 1: w.reserved = rnd(s) | 1; break;
		case 2: w.timeout_ms = 60001 + (uint32_t)rn(s, 1u << 30); break;
		case 3: w.wait_token = rnd(s); break;
		default: w.wait_token ^= 1ULL << rn(s, 64); break;
		}
	}
	io(s, zc_fd(s, (unsigned int)z), DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w);
}

static void op_leg_from(struct fz_state *s)
{
	struct drm_xen_zcopy_dumb_from_refs d;
	uint32_t refs[16];
	struct fz_obj *o = new_obj(s);
	unsigned int n = 1 + rn(s, 16);
	int z = pick_zc(s), e;

	if (z < 0 || !o)
		return;
	memset(&d, 0, sizeof(d));
	d.otherend_id = fill_refs(s, refs, n);
	d.grefs_ptr = (uintptr_t)refs;
	d.num_grefs = n;
	d.dumb.width = 1024;
	d.dumb.bpp = 32;
	d.dumb.height = 1 + rn(s, n);
	switch (rn(s, 6)) {
	case 0: d.num_grefs = (uint32_t)rnd(s); break;
	case 1: d.grefs_ptr = bad_ptr(s); break;
	case 2: d.dumb.width = (uint32_t)rnd(s); d.dumb.bpp = (uint32_t)rnd(s); break;
	case 3: d.otherend_id = rnd(s); break;
	default: break;
	}
	e = io(s, zc_fd(s, z), DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &d);
	if (!e) {
		o->dev = z;
		o->handle = d.dumb.handle;
		o->token = 0;
		o->wait_handle = d.wait_handle;
		o->pages = n;
		o->import = 0;
	}
}

static void op_leg_to(struct fz_state *s)
{
	struct drm_xen_zcopy_dumb_to_refs d;
	uint32_t refs[64];
	struct fz_obj *o = pick_obj(s, 1, rn(s, 4) != 0);

	if (!o || o->pages > 64)
		return;
	memset(&d, 0, sizeof(d));
	d.num_grefs = o->pages;
	d.grefs_ptr = (uintptr_t)refs;
	d.otherend_id = s->sh->domu >= 0 && rn(s, 2) ? (uint64_t)s->sh->domu : 0;
	d.handle = o->handle;
	switch (rn(s, 5)) {
	case 0: d.num_grefs = (uint32_t)rnd(s) % 70; break;
	case 1: d.grefs_ptr = bad_ptr(s); break;
	case 2: d.otherend_id = rnd(s); break;
	default: break;
	}
	io(s, zc_fd(s, o->dev), DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &d);
}

static void op_leg_wait(struct fz_state *s)
{
	struct drm_xen_zcopy_dumb_wait_free w;
	struct fz_obj *o = pick_obj(s, 1, 0);
	int z = o ? o->dev : pick_zc(s);

	if (z < 0)
		return;
	w.wait_handle = o && rn(s, 4) ? o->wait_handle : (uint32_t)rnd(s);
	w.wait_to_ms = rn(s, 8) ? rn(s, 20) : (uint32_t)rnd(s) | 0x80000000u;
	io(s, zc_fd(s, (unsigned int)z), DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &w);
}

static void op_export(struct fz_state *s)
{
	struct drm_prime_handle ph;
	struct fz_obj *o = pick_obj(s, 0, 0);
	int *slot = free_buf(s), z, e;

	if (!slot)
		return;
	memset(&ph, 0, sizeof(ph));
	if (o) {
		z = dev_fd(s, o->dev);
		ph.handle = o->handle;
	} else {
		int k = pick_zc(s);

		if (k < 0)
			return;
		z = zc_fd(s, (unsigned int)k);
		ph.handle = (uint32_t)rnd(s) % 100;
	}
	ph.flags = DRM_CLOEXEC | (rn(s, 4) ? DRM_RDWR : 0);
	if (rn(s, 10) == 0)
		ph.flags = (uint32_t)rnd(s);
	e = io(s, z, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph);
	if (!e)
		*slot = ph.fd;
}

/* a dma-buf into a zc or vgem file: a new object */
static void op_import(struct fz_state *s)
{
	struct drm_prime_handle ph;
	struct fz_obj *o = new_obj(s);
	int *b = pick_buf(s), dev, fd, e;
	off_t size;

	if (!o || !b)
		return;
	dev = (int)rn(s, FZ_ZC + FZ_VG);
	fd = dev_fd(s, dev);
	if (fd < 0)
		return;
	memset(&ph, 0, sizeof(ph));
	ph.fd = rn(s, 12) ? *b : (int)rn(s, 1024);
	e = io(s, fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph);
	if (e)
		return;
	size = lseek(*b, 0, SEEK_END);
	/* the same handle may come back (own object, or imported before) */
	o->dev = dev;
	o->handle = ph.handle;
	o->token = 0;
	o->wait_handle = 0;
	o->pages = size > 0 ? (unsigned int)(size / 4096) : 1;
	o->import = dev < FZ_ZC;
}

/* a vgem dumb buffer, exported and imported into a zc file */
static void op_vgem_new(struct fz_state *s)
{
	struct drm_mode_create_dumb cd;
	struct drm_prime_handle ph;
	struct drm_gem_close c;
	struct fz_obj *o = new_obj(s);
	int v = s->vg[rn(s, FZ_VG)], z = pick_zc(s), *slot = free_buf(s);

	if (!o || v < 0 || z < 0)
		return;
	memset(&cd, 0, sizeof(cd));
	cd.width = 1024;
	cd.bpp = 32;
	cd.height = 1 + rn(s, 16);
	if (io(s, v, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return;
	memset(&ph, 0, sizeof(ph));
	ph.handle = cd.handle;
	ph.flags = DRM_CLOEXEC | (rn(s, 4) ? DRM_RDWR : 0);
	if (!io(s, v, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph)) {
		int fd = ph.fd;

		memset(&ph, 0, sizeof(ph));
		ph.fd = fd;
		if (!io(s, zc_fd(s, (unsigned int)z), DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph)) {
			o->dev = z;
			o->handle = ph.handle;
			o->token = 0;
			o->wait_handle = 0;
			o->pages = (unsigned int)(cd.size / 4096);
			o->import = 1;
		}
		if (slot && rn(s, 2))
			*slot = fd;
		else
			close(fd);
	}
	memset(&c, 0, sizeof(c));
	c.handle = cd.handle;
	if (rn(s, 2))
		io(s, v, DRM_IOCTL_GEM_CLOSE, &c);
}

static void op_gem_close(struct fz_state *s)
{
	struct drm_gem_close c = { 0 };
	struct fz_obj *o = pick_obj(s, 0, 0);
	int fd;

	if (o && rn(s, 5)) {
		fd = dev_fd(s, o->dev);
		c.handle = o->handle;
		o->dev = -1;
	} else {
		int k = pick_zc(s);

		if (k < 0)
			return;
		fd = zc_fd(s, (unsigned int)k);
		c.handle = rn(s, 2) ? (uint32_t)rnd(s) : rn(s, 64);
		if (rn(s, 8) == 0)
			c.pad = 1;
	}
	io(s, fd, DRM_IOCTL_GEM_CLOSE, &c);
}

static void op_close_buf(struct fz_state *s)
{
	int *b = pick_buf(s);

	if (b) {
		close(*b);
		*b = -1;
	}
}

static void op_mmap(struct fz_state *s)
{
	unsigned int i, slot = rn(s, FZ_MAPS);
	int *b = pick_buf(s), prot = PROT_READ;
	volatile unsigned char *p;
	off_t size;
	size_t len, ofs = 0;

	if (!b || s->map[slot].p)
		return;
	size = lseek(*b, 0, SEEK_END);
	if (size <= 0)
		return;
	len = (size_t)size;
	if (rn(s, 3) == 0)
		len = s->page * (1 + rn(s, (unsigned int)(len / s->page)));
	if (rn(s, 6) == 0)
		ofs = s->page * rn(s, 3);
	if (rn(s, 2))
		prot |= PROT_WRITE;
	p = mmap(NULL, len, prot, rn(s, 10) ? MAP_SHARED : MAP_PRIVATE, *b, (off_t)ofs);
	if (p == MAP_FAILED)
		return;
	if (ofs + len > (size_t)size) {
		/* a mapping past the end must not have been granted */
		unexpected(s, "mmap past the end of a dma-buf succeeded", 0);
		munmap((void *)p, len);
		return;
	}
	for (i = 0; i < len; i += 4096) {
		unsigned char c = p[i];

		if (prot & PROT_WRITE)
			p[i] = c;
	}
	s->map[slot].p = (unsigned char *)p;
	s->map[slot].len = len;
	s->map[slot].writable = !!(prot & PROT_WRITE);
}

static void op_munmap(struct fz_state *s)
{
	struct fz_map *m = &s->map[rn(s, FZ_MAPS)];

	if (!m->p)
		return;
	if (m->len > s->page && rn(s, 3) == 0) {
		/* the tail only: the rest stays (and is unmapped later) */
		size_t keep = s->page * (1 + rn(s, (unsigned int)(m->len / s->page - 1)));

		munmap(m->p + keep, m->len - keep);
		m->len = keep;
		return;
	}
	munmap(m->p, m->len);
	m->p = NULL;
}

static void op_importer(struct fz_state *s)
{
	int *fd = &s->imp[rn(s, FZ_IMPS)], *b;
	struct zci_map zm;

	if (*fd < 0) {
		b = pick_buf(s);
		if (!b)
			return;
		*fd = open(ZCI_DEVICE, O_RDWR | O_CLOEXEC);
		if (*fd < 0)
			return;
		if (zc_imp_attach(*fd, *b, NULL)) {
			close(*fd);
			*fd = -1;
			return;
		}
		if (rn(s, 2))
			zc_imp_map(*fd, (int)rn(s, 3), &zm);
		if (rn(s, 3) == 0)
			zc_imp_pin(*fd, rn(s, 2));
		return;
	}
	switch (rn(s, 4)) {
	case 0: zc_imp_unmap(*fd); break;
	case 1: zc_imp_unpin(*fd); break;
	case 2: zc_imp_detach(*fd); break;
	default: close(*fd); *fd = -1; break;
	}
}

/* a random ioctl number of the driver's range, random size and bytes */
static void op_raw(struct fz_state *s)
{
	uint64_t arg[32];
	unsigned int i, nr = DRM_COMMAND_BASE + rn(s, 12), size = rn(s, 2) ? rn(s, 256) : 0;
	unsigned long req;
	int z = pick_zc(s);

	if (z < 0)
		return;
	for (i = 0; i < 32; i++)
		arg[i] = rn(s, 3) ? 0 : rn(s, 2) ? rnd(s) : rn(s, 64);
	switch (rn(s, 4)) {
	case 0: req = _IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, nr, size); break;
	case 1: req = _IOC(_IOC_WRITE, DRM_IOCTL_BASE, nr, size); break;
	case 2: req = _IOC(_IOC_NONE, DRM_IOCTL_BASE, nr, 0); break;
	default: req = _IOC(_IOC_READ, DRM_IOCTL_BASE, nr, size); break;
	}
	io(s, zc_fd(s, (unsigned int)z), req, rn(s, 10) ? (void *)arg : (void *)(uintptr_t)bad_ptr(s));
}

static void op_dup(struct fz_state *s)
{
	int *b = pick_buf(s), *slot = free_buf(s);

	if (b && slot)
		*slot = dup(*b);
}

static void run_ops(struct fz_state *s, unsigned long n);

static void op_fork(struct fz_state *s)
{
	unsigned int i;
	int st;
	pid_t pid;

	if (s->child)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		s->child = 1;
		/* the driver's mappings are VM_DONTCOPY: none here */
		for (i = 0; i < FZ_MAPS; i++)
			s->map[i].p = NULL;
		s->rng = mix(s->rng ^ (uint64_t)getpid());
		run_ops(s, 5 + rn(s, 30));
		_exit(rn(s, 2) ? 0 : (pause(), 0));
	}
	if (rn(s, 2)) {
		usleep(rn(s, 20000));
		kill(pid, SIGKILL);
	} else {
		usleep(rn(s, 5000));
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		unexpected(s, "a forked child died of a signal", WTERMSIG(st));
}

static void run_ops(struct fz_state *s, unsigned long n)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < FZ_NOPS; i++)
		total += op_weight[i];
	while (n-- && !s->sh->stop) {
		r = rn(s, total);
		for (i = 0; r >= op_weight[i]; i++)
			r -= op_weight[i];
		__atomic_fetch_add(&s->sh->ops[i], 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->sh->iters, 1, __ATOMIC_RELAXED);
		switch ((enum fz_op)i) {
		case OP_OPEN: op_open(s); break;
		case OP_CLOSE_DEV: op_close_dev(s); break;
		case OP_QUERY: op_query(s); break;
		case OP_FROM_REFS: op_from_refs(s, 0); break;
		case OP_FROM_REFS_BAD: op_from_refs(s, 1); break;
		case OP_TO_REFS: op_to_refs(s, 0); break;
		case OP_TO_REFS_BAD: op_to_refs(s, 1); break;
		case OP_WAIT: op_wait(s, 0); break;
		case OP_WAIT_BAD: op_wait(s, 1); break;
		case OP_LEG_FROM: op_leg_from(s); break;
		case OP_LEG_TO: op_leg_to(s); break;
		case OP_LEG_WAIT: op_leg_wait(s); break;
		case OP_EXPORT: op_export(s); break;
		case OP_IMPORT: op_import(s); break;
		case OP_VGEM_NEW: op_vgem_new(s); break;
		case OP_GEM_CLOSE: op_gem_close(s); break;
		case OP_CLOSE_BUF: op_close_buf(s); break;
		case OP_MMAP: op_mmap(s); break;
		case OP_MUNMAP: op_munmap(s); break;
		case OP_IMPORTER: op_importer(s); break;
		case OP_RAW: op_raw(s); break;
		case OP_FORK: op_fork(s); break;
		case OP_DUP: op_dup(s); break;
		default: break;
		}
	}
}

static void state_init(struct fz_state *s, struct fz_shared *sh, uint64_t seed,
		       const uint32_t *self, unsigned char *bad, int shared_zc)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->rng = mix(seed);
	s->sh = sh;
	s->self = self;
	s->bad = bad;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < FZ_ZC; i++)
		s->zc[i] = -1;
	s->zc[0] = shared_zc;
	for (i = 0; i < FZ_VG; i++)
		s->vg[i] = -1;
	for (i = 0; i < FZ_OBJS; i++)
		s->obj[i].dev = -1;
	for (i = 0; i < FZ_BUFS; i++)
		s->buf[i] = -1;
	for (i = 0; i < FZ_IMPS; i++)
		s->imp[i] = -1;
}

/* everything but the shared file (its owner closes it) */
static void state_close(struct fz_state *s)
{
	unsigned int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (s->map[i].p)
			munmap(s->map[i].p, s->map[i].len);
	for (i = 0; i < FZ_IMPS; i++)
		if (s->imp[i] >= 0)
			close(s->imp[i]);
	for (i = 0; i < FZ_BUFS; i++)
		if (s->buf[i] >= 0)
			close(s->buf[i]);
	for (i = 1; i < FZ_ZC; i++)
		if (s->zc[i] >= 0)
			close(s->zc[i]);
	for (i = 0; i < FZ_VG; i++)
		if (s->vg[i] >= 0)
			close(s->vg[i]);
}

static void *thread_main(void *arg)
{
	struct fz_state *s = arg;

	while (!s->sh->stop)
		run_ops(s, 64);
	state_close(s);
	return NULL;
}

/* one worker process: its own grants of dom0 to itself, its threads */
static int worker(struct fz_shared *sh, uint64_t seed, unsigned int threads)
{
	struct fz_state *st = calloc(threads, sizeof(*st));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	uint32_t self[FZ_SELF];
	struct zc_local *h;
	unsigned char *bad;
	unsigned int i;
	int zc;

	signal(SIGPIPE, SIG_IGN);
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zc = zc_open_render();
	if (!st || !tid || bad == MAP_FAILED || zc < 0 ||
	    !zc_self_grant(FZ_SELF, 977, 0, 0, self, &h)) {
		zc_diag("fuzz worker: set-up failed");
		return 2;
	}
	for (i = 0; i < threads; i++) {
		state_init(&st[i], sh, seed + i, self, bad, zc);
		if (pthread_create(&tid[i], NULL, thread_main, &st[i]))
			return 2;
	}
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	close(zc);
	zc_local_free(h);
	return 0;
}

void zc_fuzz_defaults(struct zc_fuzz_opts *o, unsigned int seconds)
{
	char buf[64];
	const char *v;

	o->seconds = seconds;
	o->procs = 2;
	o->threads = 2;
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	v = zc_param("ZC_FUZZ_SECS", "zc.fuzz_secs", buf, sizeof(buf));
	if (v)
		o->seconds = (unsigned int)strtoul(v, NULL, 0);
	v = zc_param("ZC_FUZZ_SEED", "zc.fuzz_seed", buf, sizeof(buf));
	if (v)
		o->seed = strtoull(v, NULL, 0);
	v = zc_param("ZC_FUZZ_PROCS", "zc.fuzz_procs", buf, sizeof(buf));
	if (v)
		o->procs = (unsigned int)strtoul(v, NULL, 0);
	v = zc_param("ZC_FUZZ_THREADS", "zc.fuzz_threads", buf, sizeof(buf));
	if (v)
		o->threads = (unsigned int)strtoul(v, NULL, 0);
}

/* the agent's side: grant and revoke pool slots until the deadline */
static int churn(struct zc_ctx *ctx, struct fz_shared *sh, uint64_t seed, double end,
		 unsigned long *grants, unsigned long *revokes)
{
	struct fz_state r = { .rng = mix(seed ^ 0xa9e47) };
	int ids[FZ_POOL] = { 0 };
	unsigned int i, n;
	int fails = 0;

	while (zcc_now() < end) {
		uint32_t refs[FZ_POOL_REFS];

		i = rn(&r, FZ_POOL);
		if (ids[i]) {
			sh->pool_n[i] = 0;
			__sync_synchronize();
			if (zc_agent_release(ctx, ids[i]))
				fails++;
			ids[i] = 0;
			(*revokes)++;
		}
		n = 1 + rn(&r, FZ_POOL_REFS);
		if (!zc_agent_grant(ctx, n, 978 + i, 0, rn(&r, 4) == 0, refs, &ids[i])) {
			memcpy((void *)sh->pool_refs[i], refs, n * sizeof(refs[0]));
			__sync_synchronize();
			sh->pool_n[i] = n;
			(*grants)++;
		} else {
			ids[i] = 0;
			fails++;
		}
		usleep(20000 + rn(&r, 200000));
	}
	for (i = 0; i < FZ_POOL; i++) {
		sh->pool_n[i] = 0;
		if (ids[i] && zc_agent_release(ctx, ids[i]))
			fails++;
	}
	return fails;
}

#define ZC_PASS_OR(x) ((x) ? ZC_FAIL : ZC_PASS)

int zc_fuzz(struct zc_ctx *ctx, const struct zc_fuzz_opts *o)
{
	struct fz_shared *sh;
	pid_t pids[16];
	unsigned long grants = 0, revokes = 0;
	unsigned int i, np = o->procs > 16 ? 16 : o->procs;
	char ops[1024], errs[512];
	size_t ol = 0, el = 0;
	double t0, end, secs;
	int rc = ZC_PASS, st, afails = 0, crashed = 0, hung = 0;

	zc_diag("fuzz: seed %llu, %u s, %u processes x %u threads (replay: ZC_FUZZ_SEED=%llu ZC_FUZZ_SECS=%u)",
		(unsigned long long)o->seed, o->seconds, np, o->threads,
		(unsigned long long)o->seed, o->seconds);
	fflush(stdout);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return ZC_FAIL;
	memset(sh, 0, sizeof(*sh));
	sh->domu = ctx->domu;
	t0 = zcc_now();
	end = t0 + o->seconds;
	for (i = 0; i < np; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return ZC_FAIL;
		if (!pids[i])
			_exit(worker(sh, mix(o->seed + 1000003ULL * (i + 1)), o->threads));
	}
	if (ctx->domu >= 0)
		afails = churn(ctx, sh, o->seed, end, &grants, &revokes);
	while (zcc_now() < end)
		usleep(100000);
	sh->stop = 1;
	secs = zcc_now() - t0;
	for (i = 0; i < np; i++) {
		double w0 = zcc_now();

		while (waitpid(pids[i], &st, WNOHANG) != pids[i]) {
			if (zcc_now() - w0 > 60) {
				zc_diag("fuzz: worker %u still running 60 s after the deadline (hang?)", i);
				hung++;
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &st, 0);
				break;
			}
			usleep(20000);
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
			zc_diag("fuzz: worker %u died: %s", i, strsignal(WTERMSIG(st)));
			crashed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st)) {
			zc_diag("fuzz: worker %u exited with %d", i, WEXITSTATUS(st));
			crashed++;
		}
	}
	for (i = 0; i < FZ_NOPS; i++)
		ol += (size_t)snprintf(ops + ol, sizeof(ops) - ol, "%s%s=%lu", i ? " " : "",
				       op_names[i], sh->ops[i]);
	for (i = 0; i < FZ_ERRS && el < sizeof(errs) - 32; i++)
		if (sh->errs[i])
			el += (size_t)snprintf(errs + el, sizeof(errs) - el, "%s%s=%lu", el ? " " : "",
					       i ? zc_errname((int)i) : "ok", sh->errs[i]);
	zc_diag("fuzz: %lu iterations in %.1f s: %.0f per minute; agent: %lu grants, %lu revokes (%d failed)",
		sh->iters, secs, sh->iters * 60.0 / secs, grants, revokes, afails);
	/* two lines: a diagnostic line holds 512 characters */
	for (i = 0, ol = 0; ops[i]; i++)
		if (ops[i] == ' ' && ++ol == FZ_NOPS / 2)
			break;
	zc_diag("fuzz ops: %.*s", (int)i, ops);
	if (ops[i])
		zc_diag("fuzz ops: %s", ops + i + 1);
	zc_diag("fuzz results: %s", errs);
	if (sh->unexpected) {
		zc_diag("fuzz: %lu unexpected results, the first: %s", sh->unexpected, sh->why);
		rc = ZC_FAIL;
	}
	if (crashed || hung)
		rc = ZC_FAIL;
	if (zc_counters_idle(30000) != ZC_PASS) {
		zc_diag("fuzz: the driver's counters are not 0 once every worker is gone");
		rc = ZC_FAIL;
	}
	if (rc != ZC_PASS)
		zc_diag("fuzz: replay with ZC_FUZZ_SEED=%llu", (unsigned long long)o->seed);
	munmap(sh, sizeof(*sh));
	return ZC_PASS_OR(rc != ZC_PASS);
}
