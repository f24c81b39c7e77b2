// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Bad input: every field of QUERY, FROM_REFS, WAIT_FREE and the legacy
 * ioctls, each row one change to a valid argument, with the errno of
 * docs/design.md. Then the unprivileged caller, refused on every ioctl.
 */
#include <grp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

#define DOMID_FIRST_RESERVED 0x7FF0u
#define BAD_PTR ((uintptr_t)8)	/* mapped by nobody */
#define N 2			/* grants of the valid argument */

struct ctx60 {
	int fd;
	uint32_t refs[N];
	uint32_t max_refs;
};

/* ------------------------------------------------------------- QUERY */

ZC_TEST(bad_query)
{
	struct drm_xen_zcopy_query q;
	int fd = zc_open_render(), i;

	ZC_CHECK(fd >= 0, "open");
	memset(&q, 0, sizeof(q));
	q.flags = 1;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), EINVAL);
	memset(&q, 0, sizeof(q));
	q.flags = 0x80000000u;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), EINVAL);
	memset(&q, 0, sizeof(q));
	q.pad = 1;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), EINVAL);
	for (i = 0; i < 4; i++) {
		memset(&q, 0, sizeof(q));
		q.reserved[i] = 1ull << 63;
		ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), EINVAL);
	}
	/* out fields are not inputs: garbage in them is fine */
	memset(&q, 0, sizeof(q));
	q.api_version = q.max_refs = q.caps = q.wait_free_flags = ~0u;
	ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_QUERY, &q), 0);
	close(fd);
	return zc_counters_idle(1000);
}

/* --------------------------------------------------------- FROM_REFS */

static void fr_valid(struct ctx60 *c, struct drm_xen_zcopy_from_refs *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->domid = 0;
	fr->refs = (uintptr_t)c->refs;
	fr->num_refs = N;
}

#define FR_ROW(what, want, ...)						\
	do {								\
		struct drm_xen_zcopy_from_refs fr;			\
		int r_;							\
									\
		fr_valid(&c, &fr);					\
		__VA_ARGS__;						\
		r_ = zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_FROM_REFS, &fr);	\
		if (!r_)						\
			zcc_close_handle(c.fd, fr.handle);		\
		ZC_CHECK(r_ == (want), "FROM_REFS %s: %s, want %s",	\
			 what, zc_errname(r_), zc_errname(want));	\
		ZC_CHECK(zc_counters_idle(1000) == ZC_PASS,		\
			 "FROM_REFS %s left something behind", what);	\
	} while (0)

ZC_TEST(bad_from_refs)
{
	struct drm_xen_zcopy_query q;
	struct zc_local *h;
	struct ctx60 c;
	uint32_t dir_refs[N];

	c.fd = zc_open_render();
	ZC_CHECK(c.fd >= 0, "open");
	ZC_EXPECT_ERRNO(zcc_query(c.fd, &q), 0);
	c.max_refs = q.max_refs;
	ZC_CHECK(zc_self_grant(N, 601, 0, 0, c.refs, &h), "self grant");
	memcpy(dir_refs, c.refs, sizeof(dir_refs));

	FR_ROW("valid", 0, (void)0);
	/* out fields are ignored */
	FR_ROW("garbage in out fields", 0,
	       fr.pitch = fr.handle = ~0u; fr.size = fr.wait_token = ~0ull);
	FR_ROW("unknown flag", EINVAL, fr.flags = 1u << 3);
	FR_ROW("high flag", EINVAL, fr.flags = 1u << 31);
	FR_ROW("reserved[0]", EINVAL, fr.reserved[0] = 1);
	FR_ROW("reserved[1]", EINVAL, fr.reserved[1] = 1ull << 40);
	FR_ROW("domid DOMID_FIRST_RESERVED", EINVAL, fr.domid = DOMID_FIRST_RESERVED);
	FR_ROW("domid DOMID_IDLE", EINVAL, fr.domid = 0x7FFF);
	FR_ROW("domid 0xFFFF", EINVAL, fr.domid = 0xFFFF);
	FR_ROW("domid above 16 bits", EINVAL, fr.domid = 0x10000);
	FR_ROW("domid does not exist", ESRCH, fr.domid = 0x7000);
	FR_ROW("num_refs 0", EINVAL, fr.num_refs = 0);
	FR_ROW("num_refs above max_refs", EINVAL, fr.num_refs = c.max_refs + 1);
	FR_ROW("num_refs 2^32-1", EINVAL, fr.num_refs = ~0u);
	FR_ROW("refs missing", EINVAL, fr.refs = 0);
	FR_ROW("refs unreadable", EFAULT, fr.refs = BAD_PTR);
	FR_ROW("refs past the end of memory", EFAULT, fr.refs = ~0ull - 3);
	FR_ROW("a ref not granted", EINVAL, c.refs[1] = 0x7ffffff; fr.refs = (uintptr_t)c.refs);
	c.refs[1] = dir_refs[1];
	FR_ROW("gref_dir without PGDIR", EINVAL, fr.gref_dir = c.refs[0]);
	FR_ROW("PGDIR with refs", EINVAL,
	       fr.flags = XEN_ZCOPY_FROM_REFS_PGDIR; fr.gref_dir = c.refs[0]);
	FR_ROW("PGDIR without gref_dir", EINVAL,
	       fr.flags = XEN_ZCOPY_FROM_REFS_PGDIR; fr.refs = 0);
	FR_ROW("data_ofs 4096", EINVAL, fr.data_ofs = 4096);
	FR_ROW("data_ofs 2^32-1", EINVAL, fr.data_ofs = ~0u);
	FR_ROW("data_ofs 4095", 0, fr.data_ofs = 4095);
	FR_ROW("width without DUMB", EINVAL, fr.width = 1);
	FR_ROW("height without DUMB", EINVAL, fr.height = 1);
	FR_ROW("bpp without DUMB", EINVAL, fr.bpp = 32);
#define DUMB(w, h, b) fr.flags = XEN_ZCOPY_FROM_REFS_DUMB; fr.width = (w); fr.height = (h); fr.bpp = (b)
	FR_ROW("DUMB valid", 0, DUMB(64, 32, 32));
	FR_ROW("DUMB width 0", EINVAL, DUMB(0, 32, 32));
	FR_ROW("DUMB height 0", EINVAL, DUMB(64, 0, 32));
	FR_ROW("DUMB bpp 0", EINVAL, DUMB(64, 32, 0));
	FR_ROW("DUMB pitch overflows 32 bits", EINVAL, DUMB(~0u, 1, ~0u));
	FR_ROW("DUMB width*bpp overflows 32 bits", EINVAL, DUMB(0x10000000u, 1, 32));
	FR_ROW("DUMB pitch*height overflows 32 bits", EINVAL, DUMB(0x10000u, 0x10000u, 32));
	FR_ROW("DUMB one byte too large", EINVAL, DUMB(N * 4096 + 1, 1, 8));
	FR_ROW("DUMB exactly the buffer", 0, DUMB(N * 4096, 1, 8));
	FR_ROW("DUMB too large with data_ofs", EINVAL, DUMB(N * 4096, 1, 8); fr.data_ofs = 1);
#undef DUMB
	zc_local_free(h);
	close(c.fd);
	return zc_counters_idle(1000);
}

/* --------------------------------------------------------- WAIT_FREE */

ZC_TEST(bad_wait_free)
{
	struct drm_xen_zcopy_from_refs fr;
	struct drm_xen_zcopy_wait_free w;
	struct drm_xen_zcopy_query q;
	struct zc_local *h;
	uint32_t refs[1];
	int fd = zc_open_render();

	ZC_CHECK(fd >= 0, "open");
	ZC_EXPECT_ERRNO(zcc_query(fd, &q), 0);
	ZC_CHECK(zc_self_grant(1, 602, 0, 0, refs, &h), "self grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, refs, 1, 0), 0);
#define W_ROW(want, ...)						\
	do {								\
		memset(&w, 0, sizeof(w));				\
		w.wait_token = fr.wait_token;				\
		w.timeout_ms = 10;					\
		__VA_ARGS__;						\
		ZC_EXPECT_ERRNO(zcc_err(fd, DRM_IOCTL_XEN_ZCOPY_WAIT_FREE, &w), want); \
	} while (0)
	W_ROW(ETIMEDOUT, (void)0);
	W_ROW(EINVAL, w.flags = 1);
	W_ROW(EINVAL, w.flags = 1u << 31);
	W_ROW(EINVAL, w.reserved = 1);
	W_ROW(EINVAL, w.timeout_ms = q.max_wait_ms + 1);
	W_ROW(EINVAL, w.timeout_ms = ~0u);
	W_ROW(ETIMEDOUT, w.timeout_ms = 0);
	W_ROW(ENOENT, w.wait_token = 0);
	W_ROW(ENOENT, w.wait_token = ~0ull);
	W_ROW(ENOENT, w.wait_token = fr.wait_token + (1ull << 32));
	W_ROW(ENOENT, w.wait_token = fr.wait_token + 1);
#undef W_ROW
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr.handle), 0);
	zc_local_free(h);
	close(fd);
	return zc_counters_idle(1000);
}

/* ------------------------------------------------------------ legacy */

ZC_TEST(bad_legacy)
{
	struct drm_xen_zcopy_dumb_wait_free lw;
	struct drm_xen_zcopy_dumb_to_refs lt;
	struct drm_xen_zcopy_query q;
	struct zc_local *h;
	struct ctx60 c;
	int r;

	c.fd = zc_open_primary();
	ZC_CHECK(c.fd >= 0, "open");
	ZC_EXPECT_ERRNO(zcc_query(c.fd, &q), 0);
	ZC_CHECK(zc_self_grant(N, 603, 0, 0, c.refs, &h), "self grant");
#define LF_ROW(what, want, ...)						\
	do {								\
		struct drm_xen_zcopy_dumb_from_refs lf;			\
		int r_;							\
									\
		memset(&lf, 0, sizeof(lf));				\
		lf.num_grefs = N;					\
		lf.grefs_ptr = (uintptr_t)c.refs;			\
		lf.dumb.width = 32;					\
		lf.dumb.height = 32;					\
		lf.dumb.bpp = 32;					\
		__VA_ARGS__;						\
		r_ = zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_FROM_REFS, &lf); \
		if (!r_)						\
			zcc_close_handle(c.fd, lf.dumb.handle);		\
		ZC_CHECK(r_ == (want), "DUMB_FROM_REFS %s: %s, want %s", \
			 what, zc_errname(r_), zc_errname(want));	\
		ZC_CHECK(zc_counters_idle(1000) == ZC_PASS,		\
			 "DUMB_FROM_REFS %s left something behind", what); \
	} while (0)
	LF_ROW("valid", 0, (void)0);
	/* the 2018 structs' implicit holes may hold garbage: ignored */
	LF_ROW("__pad0/__pad1 garbage", 0, lf.__pad0 = lf.__pad1 = ~0u);
	LF_ROW("dumb out fields / flags garbage", 0,
	       lf.dumb.handle = lf.dumb.pitch = ~0u; lf.dumb.size = ~0ull; lf.dumb.flags = 7);
	LF_ROW("more grefs than needed", 0, lf.dumb.height = 1);
	LF_ROW("num_grefs 0", EINVAL, lf.num_grefs = 0);
	LF_ROW("num_grefs above max_refs", EINVAL, lf.num_grefs = q.max_refs + 1);
	LF_ROW("grefs NULL", EINVAL, lf.grefs_ptr = 0);
	LF_ROW("grefs unreadable", EFAULT, lf.grefs_ptr = BAD_PTR);
	LF_ROW("otherend_id reserved", EINVAL, lf.otherend_id = DOMID_FIRST_RESERVED);
	LF_ROW("otherend_id above 32 bits", EINVAL, lf.otherend_id = 1ull << 32);
	LF_ROW("otherend_id does not exist", ESRCH, lf.otherend_id = 0x7000);
	LF_ROW("width 0", EINVAL, lf.dumb.width = 0);
	LF_ROW("height 0", EINVAL, lf.dumb.height = 0);
	LF_ROW("bpp 0", EINVAL, lf.dumb.bpp = 0);
	LF_ROW("larger than the grefs", EINVAL, lf.dumb.height = 65);
	LF_ROW("pitch overflow", EINVAL, lf.dumb.width = ~0u; lf.dumb.bpp = ~0u);
	LF_ROW("size overflow", EINVAL, lf.dumb.width = 0x10000; lf.dumb.height = 0x10000);
#undef LF_ROW

#define LT_ROW(what, want, ...)						\
	do {								\
		int r_;							\
									\
		memset(&lt, 0, sizeof(lt));				\
		lt.num_grefs = N;					\
		lt.grefs_ptr = (uintptr_t)c.refs;			\
		lt.handle = 0x7777;					\
		__VA_ARGS__;						\
		r_ = zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &lt); \
		ZC_CHECK(r_ == (want), "DUMB_TO_REFS %s: %s, want %s",	\
			 what, zc_errname(r_), zc_errname(want));	\
	} while (0)
	LT_ROW("num_grefs 0", EINVAL, lt.num_grefs = 0);
	LT_ROW("num_grefs above max_refs", EINVAL, lt.num_grefs = q.max_refs + 1);
	LT_ROW("grefs NULL", EINVAL, lt.grefs_ptr = 0);
	LT_ROW("otherend_id reserved", EINVAL, lt.otherend_id = DOMID_FIRST_RESERVED);
	LT_ROW("otherend_id above 32 bits", EINVAL, lt.otherend_id = 1ull << 32);
	/* past the translation, zcopy_grant.c answers */
	memset(&lt, 0, sizeof(lt));
	lt.num_grefs = N;
	lt.grefs_ptr = (uintptr_t)c.refs;
	lt.handle = 0x7777;
	r = zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &lt);
	ZC_CHECK(r == ENOENT, "DUMB_TO_REFS unknown handle: %s", zc_errname(r));
#undef LT_ROW

	memset(&lw, 0, sizeof(lw));
	lw.wait_handle = 12345;
	lw.wait_to_ms = 10;
	ZC_EXPECT_ERRNO(zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &lw), ENOENT);
	lw.wait_handle = 0;
	ZC_EXPECT_ERRNO(zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &lw), ENOENT);
	lw.wait_to_ms = q.max_wait_ms + 1;
	ZC_EXPECT_ERRNO(zcc_err(c.fd, DRM_IOCTL_XEN_ZCOPY_DUMB_WAIT_FREE, &lw), EINVAL);
	zc_local_free(h);
	close(c.fd);
	return zc_counters_idle(1000);
}

/* ------------------------------------------------------- privilege */

/* ------------------------------------------------------------ limits */

#define MAXBUF_PARAM "/sys/module/xen_drm_zcopy/parameters/max_buffers"

static int write_param(const char *val)
{
	FILE *f = fopen(MAXBUF_PARAM, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

static int limited(void)
{
	struct drm_xen_zcopy_from_refs fr[3], other;
	struct drm_xen_zcopy_query q;
	struct zc_local *h;
	uint32_t refs[1];
	int fd = zc_open_render(), fd2 = zc_open_render();

	ZC_CHECK(fd >= 0 && fd2 >= 0, "open");
	ZC_CHECK(zc_self_grant(1, 605, 0, 0, refs, &h), "self grant");
	ZC_EXPECT_ERRNO(zcc_query(fd, &q), 0);
	ZC_CHECK(q.max_buffers == 2, "QUERY max_buffers %u after setting 2", q.max_buffers);
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr[0], 0, refs, 1, 0), 0);
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr[1], 0, refs, 1, 0), 0);
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr[2], 0, refs, 1, 0), EMFILE);
	ZC_CHECK(zc_counter("buffers") == 2 && zc_counter("grants_mapped") == 2,
		 "refused buffer left something (buffers %ld)", zc_counter("buffers"));
	/* the limit is per file */
	ZC_EXPECT_ERRNO(zcc_from_refs(fd2, &other, 0, refs, 1, 0), 0);
	/* a freed buffer makes room again */
	ZC_EXPECT_ERRNO(zcc_close_handle(fd, fr[0].handle), 0);
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr[2], 0, refs, 1, 0), 0);
	close(fd2);
	close(fd);
	zc_local_free(h);
	return ZC_PASS;
}

ZC_TEST(limit_max_buffers)
{
	char orig[32] = "";
	FILE *f = fopen(MAXBUF_PARAM, "r");
	int st, ret;
	pid_t pid;

	ZC_CHECK(f && fgets(orig, sizeof(orig), f), "read %s", MAXBUF_PARAM);
	fclose(f);
	orig[strcspn(orig, "\n")] = 0;
	ZC_CHECK(!write_param("2"), "write %s: %s", MAXBUF_PARAM, strerror(errno));
	/* the child does the work, so that the limit is restored whatever happens */
	pid = fork();
	if (!pid)
		_exit(limited());
	ret = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : ZC_FAIL;
	ZC_CHECK(!write_param(orig), "restore %s to %s", MAXBUF_PARAM, orig);
	ZC_CHECK(ret == ZC_PASS, "limited run failed (see above)");
	return zc_counters_idle(1000);
}
