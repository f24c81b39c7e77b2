// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Regression cases for the defects of the 2026-12 review (issue #9):
 * - who may open the device: CAP_SYS_ADMIN or the allow_gid group, decided
 *   at open from the opener's credentials, with allow_gid a gid of the
 *   initial user namespace (a user namespace's gid_map cannot fake it);
 *   an open file is the capability and keeps working when passed on;
 * - PRIME imports count against max_buffers, like FROM_REFS buffers;
 * - TO_REFS of a dma-buf whose file is read-only grants read-only (the
 *   legacy DUMB_TO_REFS keeps the 2018 read-write contract);
 * - max_refs is clamped at run time;
 * - the free path does not wait for a page pinned through a user mapping;
 * - debugfs "buffers" read while TO_REFS succeeds and fails.
 */
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "cases.h"

#define PARAM_DIR "/sys/module/xen_drm_zcopy/parameters/"
#define TEST_GID 4321
#define NOBODY 65534

static int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ok ? 0 : -1;
}

static int write_param(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* /dev/dri node of xen_drm_zcopy: "renderD" or "card" */
static int node_path(const char *prefix, char *path, size_t len)
{
	DIR *d = opendir("/dev/dri");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found && (e = readdir(d))) {
		drmVersionPtr v;
		int fd;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, len, "/dev/dri/%.40s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, XENDRM_ZCOPY_DRIVER_NAME))
			found = 0;
		drmFreeVersion(v);
		close(fd);
	}
	closedir(d);
	return found;
}

/*
 * Run fn(arg) in a child that dropped to nobody (uid and gid 65534, in the
 * supplementary group 'gid' if >= 0, no capabilities); its exit status.
 */
static int as_nobody(int gid, int (*fn)(void *), void *arg)
{
	gid_t g = (gid_t)gid;
	pid_t pid = fork();
	int st;

	if (!pid) {
		if (setgroups(gid >= 0 ? 1 : 0, &g) || setgid(NOBODY) || setuid(NOBODY))
			_exit(100);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* open() of a node as the caller: 0 or the errno (fd closed again) */
static int open_errno(void *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * The device nodes opened to everybody for the duration of a case, as the
 * stock udev rule does for render nodes: the driver, not the file mode,
 * must be what refuses.
 */
struct nodes {
	char render[64], card[64];
	mode_t render_mode, card_mode;
};

static int nodes_open_up(struct nodes *n)
{
	struct stat s;

	if (node_path("renderD", n->render, sizeof(n->render)) ||
	    node_path("card", n->card, sizeof(n->card)))
		return -1;
	if (stat(n->render, &s))
		return -1;
	n->render_mode = s.st_mode & 07777;
	if (stat(n->card, &s))
		return -1;
	n->card_mode = s.st_mode & 07777;
	return chmod(n->render, 0666) || chmod(n->card, 0666) ? -1 : 0;
}

static void nodes_restore(struct nodes *n)
{
	if (n->render[0])
		chmod(n->render, n->render_mode);
	if (n->card[0])
		chmod(n->card, n->card_mode);
}

/* An unprivileged opener is refused at open, on both nodes: -EPERM. */
ZC_TEST(priv_open_refused)
{
	struct nodes n = { 0 };
	int r1, r2, rc = ZC_PASS;

	CK(!nodes_open_up(&n), "find/chmod the nodes: %s", zc_errname(errno));
	r1 = as_nobody(-1, open_errno, n.render);
	r2 = as_nobody(-1, open_errno, n.card);
	CK(r1 != 100 && r2 != 100, "could not drop privileges");
	CK(r1 == EPERM, "unprivileged open of %s: %s, want EPERM", n.render, zc_errname(r1));
	CK(r2 == EPERM, "unprivileged open of %s: %s, want EPERM", n.card, zc_errname(r2));
	/* root still can */
	CK(!open_errno(n.render), "root open refused");
out:
	nodes_restore(&n);
	return rc == ZC_PASS ? zc_counters_idle(1000) : rc;
}

/*
 * allow_gid=G: an unprivileged user maps namespace gid G onto its own gid
 * in a new user namespace (setgroups denied, as any user may). That must
 * not make it a member of G: open is refused.
 */
static int userns_open(void *path)
{
	char map[64];
	int fd;

	/* setuid() made us undumpable: /proc/self would be root's */
	if (prctl(PR_SET_DUMPABLE, 1) || unshare(CLONE_NEWUSER))
		return 101;
	fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd < 0 || write(fd, "deny", 4) != 4)
		return 102;
	close(fd);
	snprintf(map, sizeof(map), "%d %d 1", TEST_GID, NOBODY);
	fd = open("/proc/self/gid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		return 103;
	close(fd);
	snprintf(map, sizeof(map), "0 %d 1", NOBODY);
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		return 104;
	close(fd);
	/* now getgid() == TEST_GID inside the namespace */
	if (getgid() != TEST_GID)
		return 105;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	/* opened: show that it is usable, as the bypass was */
	{
		struct drm_xen_zcopy_query q;
		int r = zcc_query(fd, &q);

		close(fd);
		return r ? 106 : 0;
	}
}

ZC_TEST(priv_userns_gid_refused)
{
	char orig[32] = "", gid[16];
	struct nodes n = { 0 };
	int r, rc = ZC_PASS;

	CK(!read_param("allow_gid", orig, sizeof(orig)), "read allow_gid");
	CK(!nodes_open_up(&n), "find/chmod the nodes: %s", zc_errname(errno));
	snprintf(gid, sizeof(gid), "%d", TEST_GID);
	CK(!write_param("allow_gid", gid), "write allow_gid");
	r = as_nobody(-1, userns_open, n.render);
	CK((r >= 0 && r < 101) || r == 106, "user namespace set-up failed (%d)", r);
	CK(r == EPERM, "open through a user namespace gid_map: %s, want EPERM",
	   r == 0 ? "allowed, and usable" : r == 106 ? "allowed" : zc_errname(r));
out:
	if (orig[0] && write_param("allow_gid", orig))
		zc_diag("could not restore allow_gid to %s", orig);
	nodes_restore(&n);
	return rc == ZC_PASS ? zc_counters_idle(1000) : rc;
}

/* a member of allow_gid opens and really uses the device */
struct member_args {
	const char *path;
	const uint32_t *refs;
};

static int member_use(void *p)
{
	struct member_args *a = p;
	struct drm_xen_zcopy_from_refs fr;
	struct drm_xen_zcopy_query q;
	int fd = open(a->path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return errno;
	r = zcc_query(fd, &q);
	if (!r)
		r = zcc_from_refs(fd, &fr, 0, a->refs, 1, 0);
	if (!r)
		r = zcc_close_handle(fd, fr.handle);
	close(fd);
	return r;
}

ZC_TEST(priv_allow_gid_member)
{
	char orig[32] = "", gid[16];
	struct nodes n = { 0 };
	struct zc_local *h = NULL;
	struct member_args a;
	uint32_t refs[1];
	int in, out, after, dflt, rc = ZC_PASS;

	CK(!read_param("allow_gid", orig, sizeof(orig)), "read allow_gid");
	CK(!strcmp(orig, "-1"), "allow_gid is %s, not the default -1", orig);
	CK(!nodes_open_up(&n), "find/chmod the nodes: %s", zc_errname(errno));
	CK(zc_self_grant(1, 611, 0, 0, refs, &h), "self grant");
	a.path = n.render;
	a.refs = refs;
	dflt = as_nobody(TEST_GID, member_use, &a);
	snprintf(gid, sizeof(gid), "%d", TEST_GID);
	CK(!write_param("allow_gid", gid), "write allow_gid");
	in = as_nobody(TEST_GID, member_use, &a);
	out = as_nobody(-1, member_use, &a);
	CK(!write_param("allow_gid", orig), "restore allow_gid");
	after = as_nobody(TEST_GID, member_use, &a);
	CK(dflt == EPERM, "group member allowed by default: %s", zc_errname(dflt));
	CK(in == 0, "member of allow_gid refused: %s", zc_errname(in));
	CK(out == EPERM, "non-member allowed: %s", zc_errname(out));
	CK(after == EPERM, "member still allowed after reset: %s", zc_errname(after));
out:
	if (orig[0])
		write_param("allow_gid", orig);
	nodes_restore(&n);
	if (h)
		zc_local_free(h);
	return rc == ZC_PASS ? zc_counters_idle(1000) : rc;
}

/* An open file is the capability: passed to an unprivileged child, it works. */
static int passed_fd_use(void *p)
{
	struct member_args *a = p;
	struct drm_xen_zcopy_from_refs fr;
	struct drm_xen_zcopy_query q;
	int fd = atoi(a->path), r;

	r = zcc_query(fd, &q);
	if (!r)
		r = zcc_from_refs(fd, &fr, 0, a->refs, 1, 0);
	if (!r)
		r = zcc_close_handle(fd, fr.handle);
	return r;
}

ZC_TEST(priv_passed_fd_works)
{
	struct zc_local *h = NULL;
	struct member_args a;
	char num[16];
	uint32_t refs[1];
	int fd = zc_open_render(), r, rc = ZC_PASS;

	CK(fd >= 0, "open: %s", zc_errname(errno));
	CK(zc_self_grant(1, 612, 0, 0, refs, &h), "self grant");
	snprintf(num, sizeof(num), "%d", fd);
	a.path = num;
	a.refs = refs;
	r = as_nobody(-1, passed_fd_use, &a);
	CK(r != 100, "could not drop privileges");
	CK(r == 0, "a passed, privileged fd refused its unprivileged holder: %s",
	   zc_errname(r));
out:
	if (h)
		zc_local_free(h);
	if (fd >= 0)
		close(fd);
	return rc == ZC_PASS ? zc_counters_idle(1000) : rc;
}

/* ------------------------------------------------------------ imports */

struct vbuf {
	uint32_t handle;
	int fd;
};

static int vgem_buf(int vgem, unsigned int pages, int flags, struct vbuf *b)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = pages, .bpp = 32 };

	b->fd = -1;
	if (zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -1;
	b->handle = cd.handle;
	return drmPrimeHandleToFD(vgem, cd.handle, flags, &b->fd);
}

static void vgem_buf_free(int vgem, struct vbuf *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->handle)
		zcc_close_handle(vgem, b->handle);
	b->fd = -1;
	b->handle = 0;
}

/* the work of import_limit_emfile, with max_buffers = 2 */
static int imports_limited(void)
{
	struct drm_xen_zcopy_from_refs fr, fr2;
	struct vbuf v[3] = { { 0, -1 }, { 0, -1 }, { 0, -1 } };
	struct zc_local *h = NULL;
	uint32_t refs[1], i0, i1, again;
	int vgem = zcc_open_vgem_card(), zc = zc_open_render(), zc2 = zc_open_render();
	int i, pfd = -1, rc = ZC_PASS;

	CK(vgem >= 0 && zc >= 0 && zc2 >= 0, "open: %s", zc_errname(errno));
	CK(zc_self_grant(1, 613, 0, 0, refs, &h), "self grant");
	for (i = 0; i < 3; i++)
		CK(!vgem_buf(vgem, 1, DRM_CLOEXEC | DRM_RDWR, &v[i]), "vgem buffer %d", i);
	i0 = zcc_import(zc, v[0].fd);
	i1 = zcc_import(zc, v[1].fd);
	CK(i0 && i1, "first two imports: %s", zc_errname(errno));
	CK(!zcc_import(zc, v[2].fd) && errno == EMFILE, "third import: %s, want EMFILE",
	   zc_errname(errno));
	CK(zc_counter("buffers") == 2, "buffers %ld after a refused import",
	   zc_counter("buffers"));
	/* importing the same dma-buf again is the same buffer: no new charge */
	again = zcc_import(zc, v[0].fd);
	CK(again == i0, "re-import gave handle %u, want %u (%s)", again, i0, zc_errname(errno));
	/* FROM_REFS shares the budget */
	ZC_EXPECT_ERRNO(zcc_from_refs(zc, &fr, 0, refs, 1, 0), EMFILE);
	/* per file */
	CK(zcc_import(zc2, v[2].fd), "import in another file: %s", zc_errname(errno));
	/* a freed import makes room */
	CK(!zcc_close_handle(zc, i1), "close import");
	ZC_EXPECT_ERRNO(zcc_from_refs(zc, &fr, 0, refs, 1, 0), 0);
	/* a self-import of our own buffer is that buffer: no charge either */
	pfd = zcc_prime_fd(zc, fr.handle);
	CK(pfd >= 0, "export");
	CK(zcc_import(zc, pfd) == fr.handle, "self-import: %s", zc_errname(errno));
	ZC_EXPECT_ERRNO(zcc_from_refs(zc, &fr2, 0, refs, 1, 0), EMFILE);
out:
	if (pfd >= 0)
		close(pfd);
	if (zc2 >= 0)
		close(zc2);
	if (zc >= 0)
		close(zc);
	for (i = 0; i < 3; i++)
		vgem_buf_free(vgem, &v[i]);
	if (vgem >= 0)
		close(vgem);
	if (h)
		zc_local_free(h);
	return rc;
}

ZC_TEST(import_limit_emfile)
{
	char orig[32] = "";
	int st, ret, rc = ZC_PASS;
	pid_t pid;

	CK(!read_param("max_buffers", orig, sizeof(orig)), "read max_buffers");
	CK(!write_param("max_buffers", "2"), "write max_buffers");
	/* the child does the work, so that the limit is restored whatever happens */
	pid = fork();
	if (!pid)
		_exit(imports_limited());
	ret = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : ZC_FAIL;
	CK(ret == ZC_PASS, "the limited run failed (see above)");
out:
	if (orig[0] && write_param("max_buffers", orig))
		zc_diag("could not restore max_buffers to %s", orig);
	return rc == ZC_PASS ? zc_counters_idle(2000) : rc;
}

/* ------------------------------------------------------------ TO_REFS */

/*
 * A dma-buf exported without DRM_RDWR has a read-only file: TO_REFS grants
 * it read-only and says so; the 2018 DUMB_TO_REFS grants it read-write, as
 * the 2018 backend (which exports KMS buffers that way) needs.
 */
ZC_TEST(to_refs_rdonly_dmabuf)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = 4, .bpp = 32 };
	struct drm_xen_zcopy_dumb_to_refs lt = { .num_grefs = 4 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_xen_zcopy_to_refs t = { 0 };
	uint32_t imp = 0, refs[4], lrefs[4];
	struct vbuf lv = { 0, -1 };
	int vgem, zc, vfd = -1, id = 0, lid = 0, rc = ZC_PASS;
	uint32_t limp = 0;
	void *vmap = MAP_FAILED;

	ZCC_NEED_DOMU(ctx);
	vgem = zcc_open_vgem_card();
	zc = zc_open_render();
	CK(vgem >= 0 && zc >= 0, "open: %s", zc_errname(errno));
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd), "vgem dumb");
	md.handle = cd.handle;
	CK(!zc_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md), "map dumb");
	vmap = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
	CK(vmap != MAP_FAILED, "vgem mmap");
	zc_fill(vmap, cd.size, 621);
	CK(!drmPrimeHandleToFD(vgem, cd.handle, DRM_CLOEXEC, &vfd), "vgem export");
	CK((fcntl(vfd, F_GETFL) & O_ACCMODE) == O_RDONLY, "export without DRM_RDWR is not O_RDONLY");
	imp = zcc_import(zc, vfd);
	CK(imp, "import: %s", zc_errname(errno));
	t.domid = (uint32_t)ctx->domu;
	t.refs = (uintptr_t)refs;
	t.num_refs = 4;
	t.handle = imp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t), "TO_REFS: %s", zc_errname(errno));
	CK(t.flags & XEN_ZCOPY_TO_REFS_READ_ONLY, "READ_ONLY not reported (flags %#x)", t.flags);
	/* the domU can read it, and nothing lets it write */
	CK(zc_agent_map(ctx, 0, refs, 4, 0, &id), "the domU mapped a read-only dma-buf writable");
	id = 0;
	CK(!zc_agent_map(ctx, 0, refs, 4, 1, &id), "domU read-only map");
	CK(!zc_agent_map_check(ctx, id, 621), "domU sees the wrong data");
	CK(zc_agent_try_write(ctx, id) == 1, "the domU could write");
	CK(!zc_verify(vmap, cd.size, 621), "the data changed");
	CK(!zc_agent_release(ctx, id), "domU unmap");
	id = 0;

	/* the same kind of fd through the 2018 ioctl: read-write */
	CK(!vgem_buf(vgem, 4, DRM_CLOEXEC, &lv), "second vgem buffer");
	limp = zcc_import(zc, lv.fd);
	CK(limp, "import: %s", zc_errname(errno));
	lt.grefs_ptr = (uintptr_t)lrefs;
	lt.otherend_id = (uint64_t)ctx->domu;
	lt.handle = limp;
	CK(!zc_ioctl(zc, DRM_IOCTL_XEN_ZCOPY_DUMB_TO_REFS, &lt), "DUMB_TO_REFS: %s",
	   zc_errname(errno));
	CK(!zc_agent_map(ctx, 0, lrefs, 4, 0, &lid), "DUMB_TO_REFS grants are not writable");
	CK(!zc_agent_map_write(ctx, lid, 622), "domU write");
out:
	if (id)
		zc_agent_release(ctx, id);
	if (lid)
		zc_agent_release(ctx, lid);
	if (imp)
		zcc_close_handle(zc, imp);
	if (limp)
		zcc_close_handle(zc, limp);
	if (vmap != MAP_FAILED)
		munmap(vmap, cd.size);
	if (vfd >= 0)
		close(vfd);
	vgem_buf_free(vgem, &lv);
	if (cd.handle)
		zcc_close_handle(vgem, cd.handle);
	if (zc >= 0)
		close(zc);
	if (vgem >= 0)
		close(vgem);
	return rc == ZC_PASS ? zc_counters_idle(8000) : rc;
}

/* ------------------------------------------------------------ max_refs */

ZC_TEST(max_refs_clamped)
{
	struct drm_xen_zcopy_from_refs fr;
	struct drm_xen_zcopy_query q;
	struct zc_local *h = NULL;
	char orig[32] = "", v[32] = "";
	uint32_t refs[2];
	int fd = zc_open_render(), rc = ZC_PASS;

	CK(fd >= 0, "open");
	CK(!read_param("max_refs", orig, sizeof(orig)), "read max_refs");
	/* the driver says so, once per clamp */
	zc_expect_log("max_refs 4294967295 clamped to 1048576");
	zc_expect_log("max_refs 0 clamped to 1");
	CK(!write_param("max_refs", "4294967295"), "max_refs is not writable");
	CK(!read_param("max_refs", v, sizeof(v)) && !strcmp(v, "1048576"),
	   "max_refs 4294967295 reads back as %s, want 1048576", v);
	CK(!zcc_query(fd, &q) && q.max_refs == 1048576, "QUERY max_refs %u", q.max_refs);
	CK(!write_param("max_refs", "0"), "write 0");
	CK(!read_param("max_refs", v, sizeof(v)) && !strcmp(v, "1"),
	   "max_refs 0 reads back as %s, want 1", v);
	CK(zc_self_grant(2, 631, 0, 0, refs, &h), "self grant");
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, refs, 2, 0), EINVAL);
	ZC_EXPECT_ERRNO(zcc_from_refs(fd, &fr, 0, refs, 1, 0), 0);
	CK(!zcc_close_handle(fd, fr.handle), "close");
out:
	if (orig[0] && write_param("max_refs", orig))
		zc_diag("could not restore max_refs to %s", orig);
	if (h)
		zc_local_free(h);
	if (fd >= 0)
		close(fd);
	return rc == ZC_PASS ? zc_counters_idle(1000) : rc;
}

/* ------------------------------------------------------------ free path */

/*
 * A page of a FROM_REFS buffer's user mapping spliced into a pipe must not
 * make the last close wait for the pipe (it used to, unkillably, when the
 * same task held the pipe). The child makes the buffer on the shared file,
 * maps it, vmsplices a page into the parent's pipe and lets go of
 * everything; the parent holds the pipe. Either the mapping cannot be
 * pinned (no struct-page mapping: vmsplice fails with EFAULT), or the child
 * still finishes at once and WAIT_FREE reports the buffer freed only after
 * the pipe is drained.
 */
static int pin_child(int zc, int pipe_w, const uint32_t *refs, int tokfd)
{
	struct drm_xen_zcopy_from_refs fr;
	struct iovec iov;
	int pfd, r;
	void *m;

	r = zcc_from_refs(zc, &fr, 0, refs, 1, 0);
	if (r)
		return 10;
	if (write(tokfd, &fr.wait_token, sizeof(fr.wait_token)) != sizeof(fr.wait_token))
		return 11;
	pfd = zcc_prime_fd(zc, fr.handle);
	if (pfd < 0)
		return 12;
	m = mmap(NULL, ZCC_PAGE, PROT_READ, MAP_SHARED, pfd, 0);
	if (m == MAP_FAILED)
		return 13;
	iov.iov_base = m;
	iov.iov_len = ZCC_PAGE;
	r = vmsplice(pipe_w, &iov, 1, 0) == ZCC_PAGE ? 0 : errno;
	munmap(m, ZCC_PAGE);
	close(pfd);
	zcc_close_handle(zc, fr.handle);	/* the last reference */
	if (r == EFAULT)
		return 1;	/* not pinnable */
	return r ? 14 : 0;	/* 0: a page is in the pipe */
}

ZC_TEST(free_pin_does_not_block)
{
	struct zc_local *h = NULL;
	uint64_t token = 0;
	uint32_t refs[1];
	int zc = zc_open_render(), p[2] = { -1, -1 }, tp[2] = { -1, -1 };
	int st = 0, r, rc = ZC_PASS;
	char page[ZCC_PAGE];
	double t0;
	pid_t pid;

	CK(zc >= 0, "open");
	CK(zc_self_grant(1, 641, 0, 0, refs, &h), "self grant");
	CK(!pipe(p) && !pipe(tp), "pipe");
	pid = fork();
	CK(pid >= 0, "fork");
	if (!pid)
		_exit(pin_child(zc, p[1], refs, tp[1]));
	CK(read(tp[0], &token, sizeof(token)) == sizeof(token), "no token from the child");
	t0 = zcc_now();
	while (waitpid(pid, &st, WNOHANG) == 0 && zcc_now() - t0 < 10)
		usleep(20000);
	if (zcc_now() - t0 >= 10) {
		/* blocked in the free path: drain the pipe to let it go */
		CK(read(p[0], page, sizeof(page)) == ZCC_PAGE, "drain");
		waitpid(pid, &st, 0);
		CK(0, "the last close waited for the page pinned in the pipe (10 s)");
	}
	CK(WIFEXITED(st), "child died");
	r = WEXITSTATUS(st);
	CK(r <= 1, "child failed at step %d", r);
	if (r == 0) {
		/* pinned: the unmap waits for the pin, not the task */
		ZC_EXPECT_ERRNO(zcc_wait(zc, token, 300), ETIMEDOUT);
		CK(read(p[0], page, sizeof(page)) == ZCC_PAGE, "drain");
		ZC_EXPECT_ERRNO(zcc_wait(zc, token, 5000), 0);
	} else {
		zc_diag("the mapping cannot be pinned (vmsplice: EFAULT)");
		r = zcc_wait(zc, token, 5000);
		CK(r == 0 || r == ENOENT, "WAIT_FREE: %s", zc_errname(r));
	}
out:
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	if (tp[0] >= 0) {
		close(tp[0]);
		close(tp[1]);
	}
	if (h)
		zc_local_free(h);
	if (zc >= 0)
		close(zc);
	return rc == ZC_PASS ? zc_counters_idle(2000) : rc;
}

/* ------------------------------------------------------------ debugfs */

struct race {
	volatile int stop;
	long lines, bad;
	char badline[256];
};

/* every line of "buffers" is whole and well formed (docs/design.md) */
static void *race_reader(void *p)
{
	struct race *r = p;
	char line[512];

	while (!r->stop) {
		FILE *f = fopen("/sys/kernel/debug/xen_zcopy/buffers", "r");

		if (!f)
			break;
		while (fgets(line, sizeof(line), f)) {
			unsigned int id, dom, n, imps;
			char kind[16], refs[256], fl[64];
			int w;

			r->lines++;
			if (sscanf(line, "%u %15s %u %u %255s %u %d %63s", &id, kind, &dom, &n,
				   refs, &imps, &w, fl) != 8 &&
			    sscanf(line, "%u %15s - %u %255s %u %d %63s", &id, kind, &n, refs,
				   &imps, &w, fl) != 7) {
				r->bad++;
				snprintf(r->badline, sizeof(r->badline), "%.200s", line);
				continue;
			}
			/* refs are 32-bit grant refs below the grant table's size */
			if (strcmp(refs, "-")) {
				char *s = refs, *e;

				while (*s && *s != '.') {
					unsigned long v = strtoul(s, &e, 10);

					if (e == s || v >= (1ul << 20)) {
						r->bad++;
						snprintf(r->badline, sizeof(r->badline), "%.200s", line);
						break;
					}
					s = *e == ',' ? e + 1 : e;
				}
			}
		}
		fclose(f);
	}
	return NULL;
}

ZC_TEST(debugfs_to_refs_race)
{
	struct race r = { 0 };
	pthread_t th;
	int vgem = zcc_open_vgem_card(), zc = zc_open_render(), i, started = 0;
	int rc = ZC_PASS, fails = 0;
	double t0 = zcc_now();

	CK(vgem >= 0 && zc >= 0, "open: %s", zc_errname(errno));
	CK(!pthread_create(&th, NULL, race_reader, &r), "thread");
	started = 1;
	for (i = 0; i < 400 && zcc_now() - t0 < 20; i++) {
		struct drm_xen_zcopy_to_refs t = { 0 };
		uint32_t refs[8], imp;
		struct vbuf v;

		CK(!vgem_buf(vgem, 8, DRM_CLOEXEC | DRM_RDWR, &v), "vgem buffer");
		imp = zcc_import(zc, v.fd);
		CK(imp, "import");
		t.num_refs = 8;
		t.handle = imp;
		t.domid = 0;
		/* an unwritable refs pointer: granted, then undone (EFAULT) */
		t.refs = (uintptr_t)8;
		if (zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t) != EFAULT)
			fails++;
		t.refs = (uintptr_t)refs;
		t.flags = 0;
		if (zcc_err(zc, DRM_IOCTL_XEN_ZCOPY_TO_REFS, &t))
			fails++;
		zcc_close_handle(zc, imp);
		vgem_buf_free(vgem, &v);
	}
	CK(!fails, "%d TO_REFS calls did not give the expected result", fails);
out:
	r.stop = 1;
	if (started)
		pthread_join(th, NULL);
	if (rc == ZC_PASS) {
		zc_diag("%d TO_REFS pairs, %ld debugfs lines read", i, r.lines);
		if (r.bad) {
			zc_diag("%ld malformed lines, e.g.: %s", r.bad, r.badline);
			rc = ZC_FAIL;
		}
	}
	if (zc >= 0)
		close(zc);
	if (vgem >= 0)
		close(vgem);
	return rc == ZC_PASS ? zc_counters_idle(2000) : rc;
}
