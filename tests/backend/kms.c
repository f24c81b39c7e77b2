// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The KMS device that shows the guest's frames (vkms by default, built out
 * of tree by scripts/vkms-build.sh; any atomic KMS driver that imports
 * dma-bufs works). Outputs are named as displ_be names them,
 * "<connector type>-<type id>" (vkms: "Virtual-1", cirrus: "VGA-1"), and
 * matched with the vdispl connector's unique-id. Everything is an atomic
 * commit: SET_CONFIG a blocking modeset, PG_FLIP a non-blocking commit with
 * a page-flip event, answered to the frontend when the event arrives. With
 * capture on, every commit also carries a writeback job (capture.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <poll.h>
#include <time.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "be.h"

struct be_out {
	char name[64];
	uint32_t conn_id, crtc_id, plane_id, wb_conn_id;
	int busy;
	uint32_t mode_blob;
	uint32_t mode_w, mode_h;
	int fence_fd;		/* writeback of the pending flip */
	struct be_conn *user;
};

#define MAX_OUT 8
static struct be_out outs[MAX_OUT];
static int nouts;
static int fd = -1;

int kms_fd(void)
{
	return fd;
}

static uint32_t prop_id(uint32_t obj, uint32_t type, const char *name)
{
	drmModeObjectPropertiesPtr p = drmModeObjectGetProperties(fd, obj, type);
	uint32_t i, id = 0;

	for (i = 0; p && i < p->count_props && !id; i++) {
		drmModePropertyPtr pr = drmModeGetProperty(fd, p->props[i]);

		if (pr && !strcmp(pr->name, name))
			id = pr->prop_id;
		drmModeFreeProperty(pr);
	}
	drmModeFreeObjectProperties(p);
	if (!id)
		ERR("KMS object %u has no property %s", obj, name);
	return id;
}

static int add_prop(drmModeAtomicReqPtr req, uint32_t obj, uint32_t type,
		    const char *name, uint64_t val)
{
	uint32_t id = prop_id(obj, type, name);

	if (!id || drmModeAtomicAddProperty(req, obj, id, val) < 0)
		return -1;
	return 0;
}

static int plane_is_primary(uint32_t plane)
{
	drmModeObjectPropertiesPtr p = drmModeObjectGetProperties(fd, plane, DRM_MODE_OBJECT_PLANE);
	uint32_t i;
	int prim = 0;

	for (i = 0; p && i < p->count_props; i++) {
		drmModePropertyPtr pr = drmModeGetProperty(fd, p->props[i]);

		if (pr && !strcmp(pr->name, "type"))
			prim = p->prop_values[i] == DRM_PLANE_TYPE_PRIMARY;
		drmModeFreeProperty(pr);
	}
	drmModeFreeObjectProperties(p);
	return prim;
}

static uint32_t crtc_mask_of(drmModeConnectorPtr c)
{
	uint32_t m = 0;
	int i;

	for (i = 0; i < c->count_encoders; i++) {
		drmModeEncoderPtr e = drmModeGetEncoder(fd, c->encoders[i]);

		if (e)
			m |= e->possible_crtcs;
		drmModeFreeEncoder(e);
	}
	return m;
}

static void find_outputs(void)
{
	drmModeResPtr res = drmModeGetResources(fd);
	drmModePlaneResPtr pres = drmModeGetPlaneResources(fd);
	uint32_t wb = 0, wb_mask = 0, used_crtcs = 0;
	int i, k;

	if (!res || !pres) {
		ERR("KMS: no resources: %s", strerror(errno));
		return;
	}
	for (i = 0; i < res->count_connectors; i++) {
		drmModeConnectorPtr c = drmModeGetConnector(fd, res->connectors[i]);

		if (c && c->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			wb = c->connector_id;
			wb_mask = crtc_mask_of(c);
		}
		drmModeFreeConnector(c);
	}
	for (i = 0; i < res->count_connectors && nouts < MAX_OUT; i++) {
		drmModeConnectorPtr c = drmModeGetConnector(fd, res->connectors[i]);
		struct be_out *o = &outs[nouts];
		uint32_t mask;
		const char *tn;

		if (!c || c->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			drmModeFreeConnector(c);
			continue;
		}
		tn = drmModeGetConnectorTypeName(c->connector_type);
		snprintf(o->name, sizeof(o->name), "%s-%u", tn ? tn : "Unknown",
			 c->connector_type_id);
		o->conn_id = c->connector_id;
		o->fence_fd = -1;
		mask = crtc_mask_of(c) & ~used_crtcs;
		for (k = 0; k < res->count_crtcs && !o->crtc_id; k++)
			if (mask & (1u << k)) {
				o->crtc_id = res->crtcs[k];
				used_crtcs |= 1u << k;
				for (uint32_t j = 0; j < pres->count_planes && !o->plane_id; j++) {
					drmModePlanePtr pl = drmModeGetPlane(fd, pres->planes[j]);

					if (pl && (pl->possible_crtcs & (1u << k)) &&
					    plane_is_primary(pl->plane_id))
						o->plane_id = pl->plane_id;
					drmModeFreePlane(pl);
				}
				if (wb && (wb_mask & (1u << k)))
					o->wb_conn_id = wb;
			}
		LOG("KMS output %s: connector %u (%s, %d modes), CRTC %u, primary plane %u, writeback %u",
		    o->name, o->conn_id, c->connection == DRM_MODE_CONNECTED ? "connected" : "not connected",
		    c->count_modes, o->crtc_id, o->plane_id, o->wb_conn_id);
		if (o->crtc_id && o->plane_id)
			nouts++;
		drmModeFreeConnector(c);
	}
	drmModeFreePlaneResources(pres);
	drmModeFreeResources(res);
}

int kms_open(const char *driver)
{
	DIR *d = opendir("/dev/dri");
	struct dirent *e;

	while (d && fd < 0 && (e = readdir(d))) {
		char path[300];
		drmVersionPtr v;
		int f;

		if (strncmp(e->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", e->d_name);
		f = open(path, O_RDWR | O_CLOEXEC);
		if (f < 0)
			continue;
		v = drmGetVersion(f);
		if (v && !strcmp(v->name, driver)) {
			fd = f;
			LOG("KMS device %s: %s %d.%d.%d", path, v->name, v->version_major,
			    v->version_minor, v->version_patchlevel);
		} else {
			close(f);
		}
		drmFreeVersion(v);
	}
	if (d)
		closedir(d);
	if (fd < 0) {
		ERR("no KMS device of driver \"%s\" in /dev/dri (modprobe %s)", driver, driver);
		return -1;
	}
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) ||
	    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1)) {
		ERR("KMS: no atomic modesetting: %s", strerror(errno));
		return -1;
	}
	if (be_opt.capture && drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1)) {
		ERR("KMS: no writeback connectors (capture): %s", strerror(errno));
		return -1;
	}
	if (drmSetMaster(fd))
		WARNL("KMS: not DRM master (%s); another client owns the display", strerror(errno));
	find_outputs();
	if (!nouts) {
		ERR("KMS: no usable output");
		return -1;
	}
	return 0;
}

struct be_out *kms_output(const char *name)
{
	int i;

	for (i = 0; i < nouts; i++)
		if (!strcmp(outs[i].name, name)) {
			if (outs[i].busy) {
				ERR("KMS output %s is already in use", name);
				return NULL;
			}
			outs[i].busy = 1;
			return &outs[i];
		}
	return NULL;
}

uint32_t kms_writeback_conn(struct be_out *o)
{
	return o->wb_conn_id;
}

uint32_t kms_crtc(struct be_out *o)
{
	return o->crtc_id;
}

int kms_add_fb(uint32_t handle, uint32_t w, uint32_t h, uint32_t format,
	       uint32_t pitch, uint32_t offset, uint32_t *fb_id)
{
	uint32_t handles[4] = { handle }, pitches[4] = { pitch }, offsets[4] = { offset };

	if (drmModeAddFB2(fd, w, h, format, handles, pitches, offsets, fb_id, 0)) {
		int e = errno;

		ERR("drmModeAddFB2 %ux%u pitch %u offset %u handle %u: %s", w, h, pitch,
		    offset, handle, strerror(e));
		return -e;
	}
	LOG("drmModeAddFB2 %ux%u pitch %u offset %u -> fb %u", w, h, pitch, offset, *fb_id);
	return 0;
}

void kms_rm_fb(uint32_t fb_id)
{
	if (fb_id && drmModeRmFB(fd, fb_id))
		ERR("drmModeRmFB %u: %s", fb_id, strerror(errno));
}

static int find_mode(struct be_out *o, uint32_t w, uint32_t h, drmModeModeInfo *m)
{
	drmModeConnectorPtr c = drmModeGetConnector(fd, o->conn_id);
	int i, found = 0;

	for (i = 0; c && i < c->count_modes && !found; i++)
		if (c->modes[i].hdisplay == w && c->modes[i].vdisplay == h) {
			*m = c->modes[i];
			found = 1;
		}
	drmModeFreeConnector(c);
	if (!found)
		ERR("KMS output %s has no %ux%u mode", o->name, w, h);
	return found ? 0 : -1;
}

/*
 * A commit the kernel refused: run it again as TEST_ONLY with DRM's atomic
 * debug messages on, and log what the kernel said (it says nothing else).
 */
static void explain(drmModeAtomicReqPtr req, uint32_t flags)
{
	const char *dbg = "/sys/module/drm/parameters/debug";
	char old[32] = "0", rec[1024];
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC), dfd, n = 0;
	ssize_t r;

	dfd = open(dbg, O_RDWR | O_CLOEXEC);
	if (kfd < 0 || dfd < 0)
		goto out;
	r = read(dfd, old, sizeof(old) - 1);
	old[r > 0 ? r : 0] = 0;
	lseek(kfd, 0, SEEK_END);
	if (write(dfd, "0x14", 4) < 0)
		goto out;
	drmModeAtomicCommit(fd, req, (flags & ~(DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT)) |
			    DRM_MODE_ATOMIC_TEST_ONLY, NULL);
	lseek(dfd, 0, SEEK_SET);
	if (write(dfd, old, strlen(old)) < 0)
		ERR("cannot restore %s", dbg);
	while (n < 40 && (r = read(kfd, rec, sizeof(rec) - 1)) > 0) {
		char *t;

		rec[r] = 0;
		t = strchr(rec, ';');
		rec[strcspn(rec, "\n")] = 0;
		if (t && strstr(t, "[drm")) {
			ERR("kernel says: %s", t + 1);
			n++;
		}
	}
out:
	if (kfd >= 0)
		close(kfd);
	if (dfd >= 0)
		close(dfd);
}

static int plane_props(drmModeAtomicReqPtr req, struct be_out *o, uint32_t fb_id,
		       uint32_t w, uint32_t h)
{
	const uint32_t P = DRM_MODE_OBJECT_PLANE;

	return add_prop(req, o->plane_id, P, "FB_ID", fb_id) |
	       add_prop(req, o->plane_id, P, "CRTC_ID", fb_id ? o->crtc_id : 0) |
	       add_prop(req, o->plane_id, P, "SRC_X", 0) |
	       add_prop(req, o->plane_id, P, "SRC_Y", 0) |
	       add_prop(req, o->plane_id, P, "SRC_W", fb_id ? (uint64_t)w << 16 : 0) |
	       add_prop(req, o->plane_id, P, "SRC_H", fb_id ? (uint64_t)h << 16 : 0) |
	       add_prop(req, o->plane_id, P, "CRTC_X", 0) |
	       add_prop(req, o->plane_id, P, "CRTC_Y", 0) |
	       add_prop(req, o->plane_id, P, "CRTC_W", fb_id ? w : 0) |
	       add_prop(req, o->plane_id, P, "CRTC_H", fb_id ? h : 0);
}

int kms_set_config(struct be_conn *c, uint32_t fb_id, uint32_t w, uint32_t h)
{
	struct be_out *o = c->out;
	drmModeAtomicReqPtr req = drmModeAtomicAlloc();
	uint32_t blob = 0, old = o->mode_blob;
	drmModeModeInfo m;
	int ret = -EINVAL, fence = -1, fence_armed = 0, cursor;

	if (!req)
		return -ENOMEM;
	if (fb_id) {
		if (find_mode(o, w, h, &m))
			goto out;
		if (drmModeCreatePropertyBlob(fd, &m, sizeof(m), &blob)) {
			ERR("mode blob: %s", strerror(errno));
			goto out;
		}
	}
	if (add_prop(req, o->conn_id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", fb_id ? o->crtc_id : 0) ||
	    add_prop(req, o->crtc_id, DRM_MODE_OBJECT_CRTC, "MODE_ID", blob) ||
	    add_prop(req, o->crtc_id, DRM_MODE_OBJECT_CRTC, "ACTIVE", !!fb_id) ||
	    plane_props(req, o, fb_id, w, h))
		goto out;
	o->user = c;
	o->mode_w = fb_id ? w : 0;
	o->mode_h = fb_id ? h : 0;
	cursor = drmModeAtomicGetCursor(req);
	if (be_opt.capture && o->wb_conn_id) {
		if (!fb_id) {
			if (add_prop(req, o->wb_conn_id, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", 0))
				goto out;
		} else if (capture_arm(c, req, w, h, 1, &fence)) {
			goto out;
		} else {
			fence_armed = 1;
		}
	}
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL)) {
		ret = -errno;
		ERR("atomic modeset %s %ux%u fb %u%s: %s", o->name, w, h, fb_id,
		    fence_armed ? " (with a writeback job)" : "", strerror(errno));
		explain(req, DRM_MODE_ATOMIC_ALLOW_MODESET);
		if (fence >= 0)
			close(fence);
		fence = -1;
		if (!fence_armed)
			goto out;
		/* show the frame anyway; the capture is what failed */
		be_st.capture_errors++;
		drmModeAtomicSetCursor(req, cursor);
		if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, NULL)) {
			ERR("atomic modeset %s without the writeback job: %s too", o->name,
			    strerror(errno));
			goto out;
		}
		ERR("atomic modeset %s: works without the writeback job: capture off", o->name);
		o->wb_conn_id = 0;
	}
	ret = 0;
	LOG("KMS output %s: %s", o->name, fb_id ? "mode set, showing the frame" : "disabled");
	if (fence >= 0)
		capture_done(c, fence);
	o->mode_blob = blob;
	blob = old;
out:
	if (blob)
		drmModeDestroyPropertyBlob(fd, blob);
	drmModeAtomicFree(req);
	return ret;
}

int kms_flip(struct be_conn *c, uint32_t fb_id)
{
	struct be_out *o = c->out;
	drmModeAtomicReqPtr req = drmModeAtomicAlloc();
	int ret = -EINVAL, fence = -1;

	if (!req)
		return -ENOMEM;
	if (!o->mode_w) {
		ERR("PG_FLIP on output %s before SET_CONFIG", o->name);
		goto out;
	}
	if (add_prop(req, o->plane_id, DRM_MODE_OBJECT_PLANE, "FB_ID", fb_id))
		goto out;
	if (be_opt.capture && o->wb_conn_id &&
	    capture_arm(c, req, o->mode_w, o->mode_h, 0, &fence))
		goto out;
	if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT, c)) {
		ret = -errno;
		ERR("atomic page flip %s fb %u: %s", o->name, fb_id, strerror(errno));
		if (ret != -EBUSY)
			explain(req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT);
		if (fence >= 0)
			close(fence);
		goto out;
	}
	o->fence_fd = fence;
	ret = 0;
out:
	drmModeAtomicFree(req);
	return ret;
}

static void flip_done(int f, unsigned int seq, unsigned int sec, unsigned int usec,
		      unsigned int crtc, void *data)
{
	struct be_conn *c = data;
	struct be_out *o = c->out;

	(void)f; (void)seq; (void)sec; (void)usec; (void)crtc;
	if (!o || !c->flip_pending)
		return;		/* the device went away meanwhile */
	if (o->fence_fd >= 0) {
		capture_done(c, o->fence_fd);
		o->fence_fd = -1;
	}
	c->flip_pending = 0;
	c->shown_fb = c->flip_cookie;
	ring_send_flip_event(c, c->flip_cookie);
}

void kms_event(void)
{
	drmEventContext ev = { .version = 3, .page_flip_handler2 = flip_done };

	if (drmHandleEvent(fd, &ev))
		ERR("drmHandleEvent: %s", strerror(errno));
}

static void kms_event_poll(int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) > 0)
		kms_event();
}

void kms_release_output(struct be_conn *c)
{
	struct be_out *o = c->out;

	if (!o)
		return;
	/* a flip still in flight completes first: its event names c */
	if (c->flip_pending) {
		int n;

		for (n = 0; n < 50 && c->flip_pending; n++)
			kms_event_poll(20);
		if (c->flip_pending)
			ERR("KMS output %s: no flip event within 1 s", o->name);
	}
	if (o->mode_w)
		kms_set_config(c, 0, 0, 0);
	if (o->fence_fd >= 0)
		close(o->fence_fd);
	o->fence_fd = -1;
	o->busy = 0;
	o->user = NULL;
	c->out = NULL;
	c->flip_pending = 0;
}

int kms_create_dumb(uint32_t w, uint32_t h, uint32_t bpp, uint32_t *handle,
		    uint32_t *pitch, uint64_t *size)
{
	struct drm_mode_create_dumb cd = { .width = w, .height = h, .bpp = bpp };

	if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd)) {
		ERR("KMS CREATE_DUMB %ux%u@%u: %s", w, h, bpp, strerror(errno));
		return -1;
	}
	*handle = cd.handle;
	*pitch = cd.pitch;
	*size = cd.size;
	return 0;
}

void *kms_map_dumb(uint32_t handle, uint64_t size)
{
	struct drm_mode_map_dumb md = { .handle = handle };
	void *p;

	if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md)) {
		ERR("KMS MAP_DUMB: %s", strerror(errno));
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
	if (p == MAP_FAILED) {
		ERR("mmap of a KMS dumb buffer: %s", strerror(errno));
		return NULL;
	}
	return p;
}

void kms_close_handle(uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	if (handle && drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c))
		ERR("KMS GEM_CLOSE %u: %s", handle, strerror(errno));
}

/*
 * The framebuffer really is the buffer we handed over: drmModeGetFB2 gives
 * a handle of the KMS driver's object, and exporting it returns the very
 * dma-buf it imported (same file), whose exporter is xen_drm_zcopy
 * (fe-alloc; /proc/self/fdinfo "exp_name").
 */
int kms_check_zero_copy(uint32_t fb_id, int prime_fd, const char *want_exp)
{
	drmModeFB2Ptr fb = drmModeGetFB2(fd, fb_id);
	char path[64], line[256], exp[64] = "";
	struct stat a, b;
	int efd = -1, ok = 0;
	FILE *f;

	if (!fb || !fb->handles[0]) {
		ERR("zero-copy check: drmModeGetFB2(%u): %s", fb_id, strerror(errno));
		drmModeFreeFB2(fb);
		return -1;
	}
	if (drmPrimeHandleToFD(fd, fb->handles[0], DRM_CLOEXEC, &efd)) {
		ERR("zero-copy check: export of fb %u's buffer: %s", fb_id, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "exp_name: %63s", exp) == 1)
			break;
	if (f)
		fclose(f);
	if (fstat(efd, &a) || fstat(prime_fd, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		ERR("zero-copy check: fb %u scans out another buffer than the dma-buf we handed over (exporter \"%s\")",
		    fb_id, exp);
		goto out;
	}
	if (want_exp && strcmp(exp, want_exp)) {
		ERR("zero-copy check: fb %u's dma-buf exporter is \"%s\", not \"%s\"", fb_id,
		    exp, want_exp);
		goto out;
	}
	LOG("zero-copy check: fb %u -> dma-buf inode %lu, exporter \"%s\"", fb_id,
	    (unsigned long)a.st_ino, exp);
	ok = 1;
out:
	if (efd >= 0)
		close(efd);
	if (fb->handles[0])
		kms_close_handle(fb->handles[0]);
	drmModeFreeFB2(fb);
	return ok ? 0 : -1;
}
