// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * CPU mappings of FROM_REFS buffers. In the PV dom0 of the test system a
 * plain PTE to a foreign frame is refused by Xen, so these go through grant
 * PTE operations (src/zcopy_cpu_pv.c): mmap, read, write seen by the domU,
 * munmap then close, close then munmap, partial munmap, fork with the
 * mapping (not inherited), mprotect (refused, mapping intact), a private
 * mapping (refused), a process exiting with the mapping live. The log scan
 * of the harness fails the case on any Xen or kernel warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <xen_zcopy_drm.h>

#include "cases.h"
#include "zc_priv.h"


/* A FROM_REFS buffer of n pages the domU granted (pattern seed), exported. */
struct fbuf {
	int zc;
	int id;			/* agent allocation */
	uint32_t handle;
	int fd;			/* dma-buf */
	size_t size;
};

static int fbuf_new(struct zc_ctx *ctx, struct fbuf *f, unsigned int n,
		    uint32_t seed, int ro)
{
	struct drm_xen_zcopy_from_refs r = { 0 };
	uint32_t *refs = calloc(n, sizeof(*refs));

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->zc = zc_open_render();
	if (f->zc < 0 || !refs) {
		zc_diag("open xen_drm_zcopy: %s", zc_errname(errno));
		goto err;
	}
	if (zc_agent_grant(ctx, n, seed, 0, ro, refs, &f->id)) {
		f->id = 0;
		goto err;
	}
	r.flags = ro ? XEN_ZCOPY_FROM_REFS_READ_ONLY : 0;
	r.domid = (uint32_t)ctx->domu;
	r.refs = (uintptr_t)refs;
	r.num_refs = n;
	if (zc_ioctl(f->zc, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &r)) {
		zc_diag("FROM_REFS: %s", zc_errname(errno));
		goto err;
	}
	f->handle = r.handle;
	f->size = r.size;
	if (drmPrimeHandleToFD(f->zc, f->handle, DRM_CLOEXEC | (ro ? 0 : DRM_RDWR),
			       &f->fd)) {
		zc_diag("PRIME_HANDLE_TO_FD: %s", zc_errname(errno));
		f->fd = -1;
		goto err;
	}
	free(refs);
	return 0;
err:
	free(refs);
	return -1;
}

/* Drop our handle and fd (the mapping may live on), then the domU's pages. */
static void fbuf_close(struct fbuf *f)
{
	struct drm_gem_close cl = { .handle = f->handle };

	if (f->handle)
		zc_ioctl(f->zc, DRM_IOCTL_GEM_CLOSE, &cl);
	f->handle = 0;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->zc >= 0)
		close(f->zc);
	f->zc = -1;
}

static int fbuf_release(struct zc_ctx *ctx, struct fbuf *f)
{
	int rc = ZC_PASS;

	fbuf_close(f);
	/* the driver must have let the grants go before the domU frees them */
	if (zc_counters_idle(3000) != ZC_PASS)
		rc = ZC_FAIL;
	if (f->id && zc_agent_release(ctx, f->id))
		rc = ZC_FAIL;
	f->id = 0;
	return rc;
}

/* The end of every case: unmap p, release the buffer, keep the first failure. */
static int fbuf_finish(struct zc_ctx *ctx, struct fbuf *f, unsigned char *p,
		       size_t len, int rc)
{
	if (p != MAP_FAILED)
		munmap(p, len);
	if (fbuf_release(ctx, f) != ZC_PASS && rc == ZC_PASS)
		rc = ZC_FAIL;
	return rc;
}

/*
 * fork and mprotect are refused only where Xen owns the PTEs (PV); an
 * auto-translated domain (arm64) maps the pages like any shared mapping.
 * What the domain is comes from /sys/hypervisor, not from the driver.
 */
#define NEED_PV()							\
	do {								\
		if (!zc_guest_is_pv()) {				\
			zc_diag("not a PV domain (%s): ordinary page mappings", \
				zc_guest_type());			\
			return ZC_SKIP;					\
		}							\
	} while (0)

ZC_TEST(pv_mmap_read_write)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	CK(!fbuf_new(ctx, &f, 8, 601, 0), "FROM_REFS buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	CK(p != MAP_FAILED, "mmap: %s", zc_errname(errno));
	CK(!zc_verify(p, f.size, 601), "pattern wrong at %zu", zc_verify(p, f.size, 601));
	zc_fill(p, f.size, 602);
	CK(!zc_agent_check(ctx, f.id, 602, 0, f.size), "domU does not see dom0's write");
	CK(!zc_agent_fill(ctx, f.id, 603), "domU fill");
	CK(!zc_verify(p, f.size, 603), "dom0 does not see the domU's write");
	/* munmap, then close */
	CK(!munmap(p, f.size), "munmap: %s", zc_errname(errno));
	p = MAP_FAILED;
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/* close every fd and handle first: the mapping keeps the buffer alive */
ZC_TEST(pv_mmap_close_then_munmap)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	CK(!fbuf_new(ctx, &f, 4, 611, 0), "FROM_REFS buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	CK(p != MAP_FAILED, "mmap: %s", zc_errname(errno));
	fbuf_close(&f);
	CK(zc_counter("grants_mapped") == 4, "grants_mapped %ld while mapped",
	   zc_counter("grants_mapped"));
	CK(!zc_verify(p, f.size, 611), "pattern after close");
	zc_fill(p, f.size, 612);
	CK(!zc_agent_check(ctx, f.id, 612, 0, f.size), "domU does not see the write");
	CK(!munmap(p, f.size), "munmap");
	p = MAP_FAILED;
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/*
 * An offset mapping and a hole punched in the middle: the hole faults, the
 * pages around it keep their data and still reach the domU both ways (a
 * failed unmap of the hole's grant PTE would be an error line in the log,
 * which fails the case); a mapping past the end is refused (EINVAL).
 */
ZC_TEST(pv_mmap_partial)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED, *ref = NULL;
	uint32_t want[8], got[8];
	size_t len = 5 * ZCC_PAGE;
	int rc = ZC_PASS;
	unsigned int i;

	ZCC_NEED_DOMU(ctx);
	if (sysconf(_SC_PAGESIZE) != ZCC_PAGE) {
		zc_diag("offsets and holes in 4 KiB pages: needs a 4K kernel");
		return ZC_SKIP;
	}
	CK(!fbuf_new(ctx, &f, 8, 621, 0), "FROM_REFS buffer");
	ref = malloc(f.size);
	CK(ref, "oom");
	zc_fill(ref, f.size, 621);
	/* pages 2..6 */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 2 * ZCC_PAGE);
	CK(p != MAP_FAILED, "mmap at offset: %s", zc_errname(errno));
	CK(!memcmp(p, ref + 2 * ZCC_PAGE, len), "offset mapping shows the wrong pages");
	CK(!munmap(p + 2 * ZCC_PAGE, ZCC_PAGE), "munmap of the middle page: %s", zc_errname(errno));
	CK(zc_try_load(p + 2 * ZCC_PAGE) == 1, "the punched hole is still readable");
	CK(zc_try_load(p + 2 * ZCC_PAGE + ZCC_PAGE - 1) == 1, "the end of the hole is still readable");
	/* the pages around the hole: same data, and still the domU's */
	CK(!memcmp(p, ref + 2 * ZCC_PAGE, 2 * ZCC_PAGE), "pages 2-3 changed after the punch");
	CK(!memcmp(p + 3 * ZCC_PAGE, ref + 5 * ZCC_PAGE, 2 * ZCC_PAGE),
	   "pages 5-6 changed after the punch");
	/* writes before and after the hole: exactly those pages change */
	zc_fill(p + ZCC_PAGE, ZCC_PAGE, 622);
	zc_fill(p + 3 * ZCC_PAGE, ZCC_PAGE, 623);
	zc_fill(ref + 3 * ZCC_PAGE, ZCC_PAGE, 622);
	zc_fill(ref + 5 * ZCC_PAGE, ZCC_PAGE, 623);
	zc_crc_units(ref, 8, want);
	CK(!zc_agent_crcs(ctx, f.id, 8, got), "agent crcs");
	for (i = 0; i < 8; i++)
		CK(got[i] == want[i], "the domU's page %u: crc %08x, want %08x", i, got[i], want[i]);
	CK(!munmap(p, 2 * ZCC_PAGE) && !munmap(p + 3 * ZCC_PAGE, 2 * ZCC_PAGE), "munmap rest");
	p = MAP_FAILED;
	/* beyond the end */
	p = mmap(NULL, 2 * ZCC_PAGE, PROT_READ, MAP_SHARED, f.fd, 7 * ZCC_PAGE);
	CK(p == MAP_FAILED && errno == EINVAL, "mapping past the end: %s",
	   p == MAP_FAILED ? zc_errname(errno) : "allowed");
out:
	free(ref);
	return fbuf_finish(ctx, &f, p, len, rc);
}

/* the child does not inherit the mapping; the parent's stays intact */
ZC_TEST(pv_mmap_fork)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS, st;
	pid_t pid;

	ZCC_NEED_DOMU(ctx);
	NEED_PV();
	CK(!fbuf_new(ctx, &f, 4, 631, 0), "FROM_REFS buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	CK(p != MAP_FAILED, "mmap: %s", zc_errname(errno));
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid) {
		/* VM_DONTCOPY: the address is unmapped here */
		struct sigaction sa = { .sa_handler = SIG_DFL };

		sigaction(SIGSEGV, &sa, NULL);
		if (msync(p, ZCC_PAGE, MS_ASYNC) == 0)
			_exit(3);
		_exit(errno == ENOMEM ? 0 : 4);
	}
	CK(waitpid(pid, &st, 0) == pid, "waitpid");
	CK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (3: mapping inherited)", st);
	CK(!zc_verify(p, f.size, 631), "parent mapping changed");
	zc_fill(p, ZCC_PAGE, 632);
	CK(!zc_agent_check(ctx, f.id, 632, 0, ZCC_PAGE), "parent write after fork");
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/* Xen owns the PTEs: protection changes are refused, the mapping stays */
ZC_TEST(pv_mmap_mprotect)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	NEED_PV();
	CK(!fbuf_new(ctx, &f, 4, 641, 0), "FROM_REFS buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	CK(p != MAP_FAILED, "mmap: %s", zc_errname(errno));
	CK(mprotect(p, f.size, PROT_READ) && errno == EACCES, "mprotect RO: %s",
	   zc_errname(errno));
	CK(mprotect(p + ZCC_PAGE, ZCC_PAGE, PROT_NONE) && errno == EACCES, "mprotect NONE: %s",
	   zc_errname(errno));
	CK(!mprotect(p, f.size, PROT_READ | PROT_WRITE), "mprotect to the same: %s",
	   zc_errname(errno));
	CK(!zc_verify(p, f.size, 641), "mapping changed");
	zc_fill(p, f.size, 642);
	CK(!zc_agent_check(ctx, f.id, 642, 0, f.size), "write after mprotect");
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/*
 * Private (copy-on-write) mappings would overwrite grant PTEs (PV) or give
 * the writer a copy the other domain never sees: refused with EINVAL, the
 * read-only ones too (a file opened read-write can be mprotect()ed to write).
 */
ZC_TEST(pv_mmap_private_refused)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	CK(!fbuf_new(ctx, &f, 2, 651, 0), "FROM_REFS buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd, 0);
	CK(p == MAP_FAILED && errno == EINVAL, "read-write MAP_PRIVATE: %s",
	   p == MAP_FAILED ? zc_errname(errno) : "allowed");
	p = mmap(NULL, f.size, PROT_READ, MAP_PRIVATE, f.fd, 0);
	CK(p == MAP_FAILED && errno == EINVAL, "read-only MAP_PRIVATE: %s",
	   p == MAP_FAILED ? zc_errname(errno) : "allowed");
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/* read-only buffer: PROT_READ maps, PROT_WRITE and mprotect are EACCES */
ZC_TEST(pv_mmap_readonly)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	unsigned char *p = MAP_FAILED;
	int rc = ZC_PASS;

	ZCC_NEED_DOMU(ctx);
	CK(!fbuf_new(ctx, &f, 4, 661, 1), "FROM_REFS read-only buffer");
	p = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	CK(p == MAP_FAILED && errno == EACCES, "writable mapping of a read-only buffer: %s",
	   p == MAP_FAILED ? zc_errname(errno) : "allowed");
	p = mmap(NULL, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
	CK(p != MAP_FAILED, "read-only mmap: %s", zc_errname(errno));
	CK(!zc_verify(p, f.size, 661), "pattern");
	CK(mprotect(p, f.size, PROT_READ | PROT_WRITE) && errno == EACCES,
	   "mprotect to writable: %s", zc_errname(errno));
	CK(zc_try_store(p) == 1, "a store to the read-only mapping went through");
out:
	return fbuf_finish(ctx, &f, p, f.size, rc);
}

/* a process exits with the mapping (and its fd) live */
ZC_TEST(pv_mmap_exit_live)
{
	struct fbuf f = { .fd = -1, .zc = -1 };
	int rc = ZC_PASS, st;
	pid_t pid;

	ZCC_NEED_DOMU(ctx);
	CK(!fbuf_new(ctx, &f, 4, 671, 0), "FROM_REFS buffer");
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid) {
		unsigned char *p = mmap(NULL, f.size, PROT_READ | PROT_WRITE,
					MAP_SHARED, f.fd, 0);

		if (p == MAP_FAILED || zc_verify(p, f.size, 671))
			_exit(1);
		zc_fill(p, f.size, 672);
		_exit(0);	/* no munmap, no close */
	}
	CK(waitpid(pid, &st, 0) == pid, "waitpid");
	CK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	CK(!zc_agent_check(ctx, f.id, 672, 0, f.size), "child's write not seen");
out:
	if (fbuf_release(ctx, &f) != ZC_PASS && rc == ZC_PASS)
		rc = ZC_FAIL;
	return rc;
}
