// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Per connector: the control ring (requests from the frontend, one response
 * each, status 0 or -errno) and the event page (PG_FLIP events to the
 * frontend). The frontend accepts a response only if its id is the last
 * request's id, and an event only if its id is the next in 0, 1, 2, ...
 * (xen_drm_front_evtchnl.c), so both are kept exact here. Generic requests
 * (DBUF_*, FB_*) come on connector 0's ring, SET_CONFIG and PG_FLIP on the
 * connector's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "be.h"

xenevtchn_handle *be_xce;
xengnttab_handle *be_xgt;

static int read_uint(struct be_conn *c, const char *field, uint32_t *val)
{
	char path[256], *v, *end;
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%d/%s", c->dev->fepath, c->index, field);
	v = xs_read(be_xs, XBT_NULL, path, &len);
	if (!v) {
		ERR("connector %d: cannot read %s: %s", c->index, path, strerror(errno));
		return -1;
	}
	*val = (uint32_t)strtoul(v, &end, 10);
	free(v);
	return 0;
}

int ring_connect(struct be_conn *c)
{
	int domid = c->dev->domid;

	if (read_uint(c, XENDISPL_FIELD_REQ_RING_REF, &c->req_ref) ||
	    read_uint(c, XENDISPL_FIELD_REQ_CHANNEL, &c->req_port) ||
	    read_uint(c, XENDISPL_FIELD_EVT_RING_REF, &c->evt_ref) ||
	    read_uint(c, XENDISPL_FIELD_EVT_CHANNEL, &c->evt_port))
		return -1;
	c->req_page = xengnttab_map_grant_ref(be_xgt, (uint32_t)domid, c->req_ref,
					      PROT_READ | PROT_WRITE);
	c->evt_page = xengnttab_map_grant_ref(be_xgt, (uint32_t)domid, c->evt_ref,
					      PROT_READ | PROT_WRITE);
	if (!c->req_page || !c->evt_page) {
		ERR("connector %d: cannot map the rings (refs %u, %u): %s", c->index,
		    c->req_ref, c->evt_ref, strerror(errno));
		return -1;
	}
	c->req_lport = xenevtchn_bind_interdomain(be_xce, (uint32_t)domid, c->req_port);
	c->evt_lport = xenevtchn_bind_interdomain(be_xce, (uint32_t)domid, c->evt_port);
	if (c->req_lport < 0 || c->evt_lport < 0) {
		ERR("connector %d: cannot bind event channels %u, %u: %s", c->index,
		    c->req_port, c->evt_port, strerror(errno));
		return -1;
	}
	BACK_RING_INIT(&c->ring, (struct xen_displif_sring *)c->req_page, BE_GRANT);
	c->evt_id = 0;
	LOG("connector %d: rings mapped (req ref %u port %u -> %d, evt ref %u port %u -> %d)",
	    c->index, c->req_ref, c->req_port, c->req_lport, c->evt_ref, c->evt_port,
	    c->evt_lport);
	return 0;
}

void ring_disconnect(struct be_conn *c)
{
	if (c->req_lport >= 0)
		xenevtchn_unbind(be_xce, (evtchn_port_t)c->req_lport);
	if (c->evt_lport >= 0)
		xenevtchn_unbind(be_xce, (evtchn_port_t)c->evt_lport);
	c->req_lport = c->evt_lport = -1;
	if (c->req_page)
		xengnttab_unmap(be_xgt, c->req_page, 1);
	if (c->evt_page)
		xengnttab_unmap(be_xgt, c->evt_page, 1);
	c->req_page = c->evt_page = NULL;
	c->flip_pending = 0;
}

int ring_send_flip_event(struct be_conn *c, uint64_t fb_cookie)
{
	struct xendispl_event_page *page = c->evt_page;
	struct xendispl_evt *e;
	uint32_t prod;

	if (!page)
		return -1;
	prod = page->in_prod;
	xen_mb();
	if (prod - page->in_cons >= XENDISPL_IN_RING_LEN) {
		ERR("connector %d: event ring full, PG_FLIP event for fb %#llx dropped",
		    c->index, (unsigned long long)fb_cookie);
		be_st.events_dropped++;
		return -1;
	}
	e = &XENDISPL_IN_RING_REF(page, prod);
	memset(e, 0, sizeof(*e));
	e->id = c->evt_id++;
	e->type = XENDISPL_EVT_PG_FLIP;
	e->op.pg_flip.fb_cookie = fb_cookie;
	xen_wmb();
	page->in_prod = prod + 1;
	xenevtchn_notify(be_xce, (evtchn_port_t)c->evt_lport);
	be_st.flip_events++;
	return 0;
}

static const char *op_name(int op)
{
	switch (op) {
	case XENDISPL_OP_DBUF_CREATE: return "DBUF_CREATE";
	case XENDISPL_OP_DBUF_DESTROY: return "DBUF_DESTROY";
	case XENDISPL_OP_FB_ATTACH: return "FB_ATTACH";
	case XENDISPL_OP_FB_DETACH: return "FB_DETACH";
	case XENDISPL_OP_SET_CONFIG: return "SET_CONFIG";
	case XENDISPL_OP_PG_FLIP: return "PG_FLIP";
	case XENDISPL_OP_GET_EDID: return "GET_EDID";
	}
	return "unknown";
}

static int do_set_config(struct be_conn *c, const struct xendispl_set_config_req *r)
{
	struct be_fb *fb = NULL;

	be_st.set_config++;
	if (r->fb_cookie) {
		fb = fb_find(c->dev, r->fb_cookie);
		if (!fb) {
			ERR("SET_CONFIG: unknown fb %#llx", (unsigned long long)r->fb_cookie);
			return -EINVAL;
		}
		if (r->width != c->width || r->height != c->height)
			WARNL("SET_CONFIG %ux%u on a %ux%u connector", r->width,
			      r->height, c->width, c->height);
	}
	c->shown_fb = r->fb_cookie;
	if (!c->out)
		return 0;
	if (fb && fb->dbuf->copy && copy_present(fb->dbuf))
		return -EIO;
	return kms_set_config(c, fb ? fb->fb_id : 0, r->width, r->height);
}

static int do_pg_flip(struct be_conn *c, const struct xendispl_page_flip_req *r)
{
	struct be_fb *fb = fb_find(c->dev, r->fb_cookie);
	double t0 = be_now_ms();
	int ret;

	be_st.flips++;
	if (!fb) {
		ERR("PG_FLIP: unknown fb %#llx", (unsigned long long)r->fb_cookie);
		return -EINVAL;
	}
	if (c->flip_pending) {
		ERR("PG_FLIP: connector %d: fb %#llx while the previous flip is pending",
		    c->index, (unsigned long long)r->fb_cookie);
		return -EBUSY;
	}
	c->flip_cookie = r->fb_cookie;
	c->flip_t0 = t0;
	if (!c->out) {
		/* headless: the frame is "shown" at once */
		c->shown_fb = r->fb_cookie;
		return ring_send_flip_event(c, r->fb_cookie) ? -EIO : 0;
	}
	if (fb->dbuf->copy && copy_present(fb->dbuf))
		return -EIO;
	ret = kms_flip(c, fb->fb_id);
	if (!ret) {
		double dt = be_now_ms() - t0;

		c->flip_pending = 1;
		be_st.present_ms_sum += dt;
		if (!be_st.present_n || dt < be_st.present_ms_min)
			be_st.present_ms_min = dt;
		if (dt > be_st.present_ms_max)
			be_st.present_ms_max = dt;
		be_st.present_n++;
	}
	return ret;
}

static int handle(struct be_conn *c, const struct xendispl_req *req)
{
	struct be_dev *d = c->dev;
	const typeof(req->op) *op = &req->op;

	switch (req->operation) {
	case XENDISPL_OP_DBUF_CREATE:
		return dbuf_create(d, op->dbuf_create.dbuf_cookie, op->dbuf_create.width,
				   op->dbuf_create.height, op->dbuf_create.bpp,
				   op->dbuf_create.buffer_sz, op->dbuf_create.flags,
				   op->dbuf_create.gref_directory,
				   op->dbuf_create.data_ofs);
	case XENDISPL_OP_DBUF_DESTROY:
		return dbuf_destroy(d, op->dbuf_destroy.dbuf_cookie);
	case XENDISPL_OP_FB_ATTACH:
		return fb_attach(d, op->fb_attach.dbuf_cookie, op->fb_attach.fb_cookie,
				 op->fb_attach.width, op->fb_attach.height,
				 op->fb_attach.pixel_format);
	case XENDISPL_OP_FB_DETACH:
		return fb_detach(d, op->fb_detach.fb_cookie);
	case XENDISPL_OP_SET_CONFIG:
		return do_set_config(c, &op->set_config);
	case XENDISPL_OP_PG_FLIP:
		return do_pg_flip(c, &op->pg_flip);
	default:
		/* GET_EDID included: we publish no EDID (the 6.1 frontend
		 * never asks) */
		ERR("connector %d: operation %#x (%s) not supported", c->index,
		    req->operation, op_name(req->operation));
		return -EINVAL;
	}
}

static void process(struct be_conn *c)
{
	int more;

	do {
		RING_IDX rc = c->ring.req_cons, rp = c->ring.sring->req_prod;

		xen_rmb();
		if (RING_REQUEST_PROD_OVERFLOW(&c->ring, rp)) {
			ERR("connector %d: bogus request producer %u (consumer %u): frontend misbehaves, ring ignored",
			    c->index, rp, rc);
			return;
		}
		while (rc != rp) {
			struct xendispl_req req;
			struct xendispl_resp *rsp;
			double t0;
			int status, notify;

			memcpy(&req, RING_GET_REQUEST(&c->ring, rc), sizeof(req));
			c->ring.req_cons = ++rc;
			be_st.reqs++;
			t0 = be_now_ms();
			status = handle(c, &req);
			if (status)
				be_st.req_errors++;
			LOG("connector %d: req %u %s -> %d%s%s (%.1f ms)", c->index, req.id,
			    op_name(req.operation), status, status ? " " : "",
			    status ? strerror(-status) : "", be_now_ms() - t0);
			rsp = RING_GET_RESPONSE(&c->ring, c->ring.rsp_prod_pvt);
			memset(rsp, 0, sizeof(*rsp));
			rsp->id = req.id;
			rsp->operation = req.operation;
			rsp->status = status;
			c->ring.rsp_prod_pvt++;
			RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->ring, notify);
			if (notify)
				xenevtchn_notify(be_xce, (evtchn_port_t)c->req_lport);
			/* a request may have disconnected the device */
			if (!c->req_page)
				return;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&c->ring, more);
	} while (more);
}

void ring_port_event(int lport)
{
	int n, i, j;
	struct be_dev *devs = xb_devices(&n);

	for (i = 0; i < n; i++) {
		if (!devs[i].used || !devs[i].connected)
			continue;
		for (j = 0; j < devs[i].nconn; j++) {
			struct be_conn *c = &devs[i].conn[j];

			if (c->req_lport == lport && c->req_page)
				process(c);
			/* evt port: the frontend consumed events; nothing to do */
		}
	}
}
