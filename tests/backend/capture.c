// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the KMS device really scanned out: every commit that shows a frame
 * also carries a writeback job (vkms's writeback connector composes the
 * CRTC's output into a buffer of ours), and once its fence signals the
 * frame is checked against the pattern the guest drew (zcd_pattern.h: pixel
 * (0,0) names the frame). Frames must arrive in order, one seed after the
 * other, from the first frame after each SET_CONFIG. The last frame can be
 * saved as a PNG (the demo).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "be.h"
#include "zcd_pattern.h"

struct cap {
	struct be_conn *c;
	uint32_t w, h, pitch, handle, fb;
	uint64_t size;
	void *map;
	int modeset;		/* the pending capture follows a SET_CONFIG */
	long last_seed;		/* -1: no frame yet */
	void *last;		/* copy of the last frame (PNG) */
};

static struct cap caps[BE_MAX_DEV * BE_MAX_CONN];

static uint32_t prop(uint32_t obj, const char *name)
{
	drmModeObjectPropertiesPtr p = drmModeObjectGetProperties(kms_fd(), obj,
								  DRM_MODE_OBJECT_CONNECTOR);
	uint32_t i, id = 0;

	for (i = 0; p && i < p->count_props && !id; i++) {
		drmModePropertyPtr pr = drmModeGetProperty(kms_fd(), p->props[i]);

		if (pr && !strcmp(pr->name, name))
			id = pr->prop_id;
		drmModeFreeProperty(pr);
	}
	drmModeFreeObjectProperties(p);
	return id;
}

static void cap_free_buf(struct cap *k)
{
	if (k->map)
		munmap(k->map, k->size);
	kms_rm_fb(k->fb);
	kms_close_handle(k->handle);
	k->map = NULL;
	k->fb = k->handle = 0;
}

static struct cap *cap_of(struct be_conn *c, uint32_t w, uint32_t h)
{
	struct cap *k = NULL;
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]) && !k; i++)
		if (caps[i].c == c)
			k = &caps[i];
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]) && !k; i++)
		if (!caps[i].c) {
			k = &caps[i];
			k->c = c;
			k->last_seed = -1;
		}
	if (!k)
		return NULL;
	if (k->map && (k->w != w || k->h != h))
		cap_free_buf(k);
	if (!k->map) {
		if (kms_create_dumb(w, h, 32, &k->handle, &k->pitch, &k->size))
			return NULL;
		k->map = kms_map_dumb(k->handle, k->size);
		if (!k->map || kms_add_fb(k->handle, w, h, DRM_FORMAT_XRGB8888, k->pitch, 0, &k->fb)) {
			cap_free_buf(k);
			return NULL;
		}
		k->w = w;
		k->h = h;
		free(k->last);
		k->last = NULL;
	}
	return k;
}

int capture_arm(struct be_conn *c, struct _drmModeAtomicReq *req, uint32_t w,
		uint32_t h, int modeset, int *fence_fd)
{
	uint32_t wb = kms_writeback_conn(c->out);
	uint32_t p_crtc = prop(wb, "CRTC_ID"), p_fb = prop(wb, "WRITEBACK_FB_ID");
	uint32_t p_fence = prop(wb, "WRITEBACK_OUT_FENCE_PTR");
	struct cap *k = cap_of(c, w, h);

	*fence_fd = -1;
	if (!k || !p_crtc || !p_fb || !p_fence) {
		ERR("capture: no writeback buffer or properties on connector %u", wb);
		be_st.capture_errors++;
		return -1;
	}
	if (modeset)
		k->modeset = 1;
	memset(k->map, 0, k->size);	/* a stale capture must not pass */
	if (drmModeAtomicAddProperty(req, wb, p_crtc, kms_crtc(c->out)) < 0 ||
	    drmModeAtomicAddProperty(req, wb, p_fb, k->fb) < 0 ||
	    drmModeAtomicAddProperty(req, wb, p_fence, (uint64_t)(uintptr_t)fence_fd) < 0) {
		be_st.capture_errors++;
		return -1;
	}
	return 0;
}

void capture_done(struct be_conn *c, int fence_fd)
{
	struct pollfd p = { .fd = fence_fd, .events = POLLIN };
	struct cap *k = NULL;
	uint64_t bad;
	uint32_t seed;
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]) && !k; i++)
		if (caps[i].c == c)
			k = &caps[i];
	if (fence_fd < 0 || !k || !k->map) {
		ERR("capture: no writeback fence (fd %d)", fence_fd);
		be_st.capture_errors++;
		goto out;
	}
	if (poll(&p, 1, 2000) != 1) {
		ERR("capture: writeback of connector %d not done within 2 s", c->index);
		be_st.capture_errors++;
		goto out;
	}
	seed = zcd_seed_of(k->map);
	bad = zcd_mismatches(k->map, k->pitch, seed, k->w, k->h);
	be_st.captured++;
	be_st.mismatches += (long)bad;
	if (!k->modeset && k->last_seed >= 0 && seed != (uint32_t)k->last_seed + 1) {
		ERR("capture: connector %d scanned out frame %u after frame %ld", c->index,
		    seed, k->last_seed);
		be_st.seq_errors++;
	}
	k->modeset = 0;
	k->last_seed = seed;
	be_st.last_seed = seed;
	if (bad)
		ERR("capture: connector %d frame %u: %llu of %u pixels differ from what the guest drew",
		    c->index, seed, (unsigned long long)bad, k->w * k->h);
	else
		LOG("capture: connector %d frame %u: all %u pixels as drawn", c->index, seed,
		    k->w * k->h);
	if (be_opt.png) {
		if (!k->last)
			k->last = malloc(k->size);
		if (k->last)
			memcpy(k->last, k->map, k->size);
	}
out:
	if (fence_fd >= 0)
		close(fence_fd);
}

void capture_shutdown(void)
{
	size_t i;
	int saved = 0;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		struct cap *k = &caps[i];

		if (be_opt.png && k->last && !saved) {
			if (png_write_xrgb(be_opt.png, k->last, k->w, k->h, k->pitch))
				ERR("capture: cannot write %s", be_opt.png);
			else
				LOG("capture: last frame scanned out (frame %ld) saved as %s",
				    k->last_seed, be_opt.png);
			saved = 1;
		}
		free(k->last);
		if (k->map)
			cap_free_buf(k);
		memset(k, 0, sizeof(*k));
	}
}
