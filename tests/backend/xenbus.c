// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The XenBus side: find vdispl devices under /local/domain/0/backend/vdispl
 * and drive their backend state, as the Linux frontend (drm_xen_front,
 * displback_changed() and xen_drv_remove()) expects it:
 *
 *   new device (libxl wrote state 1)        -> InitWait (2)
 *   frontend Initialised (3) / Connected (4)-> map rings, bind, Connected (4)
 *   frontend Reconfiguring (7), Initialising (1), Closing (5), Closed (6)
 *                                           -> tear down, back to InitWait
 *                                              (the frontend reconnects from
 *                                              there; on removal it waits for
 *                                              InitWait before freeing)
 *   toolstack wrote our state Closing (5)   -> tear down, Closed (6)
 *                                              (xl vdispl-detach waits for it)
 *   device directory removed (detach done,  -> tear down, forget the device
 *   or xl destroy of the guest)
 *
 * One watch on the whole vdispl backend tree and one per known frontend
 * state node; every event rescans, which keeps the logic in one place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "be.h"

#define VDISPL_ROOT "/local/domain/0/backend/vdispl"

struct xs_handle *be_xs;
static struct be_dev devs[BE_MAX_DEV];

static char *xs_get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xs_get(const char *fmt, ...)
{
	char path[256];
	unsigned int len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(be_xs, XBT_NULL, path, &len);
}

static int xs_get_int(int def, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int xs_get_int(int def, const char *fmt, ...)
{
	char path[256], *v, *end;
	unsigned int len;
	va_list ap;
	long r;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	v = xs_read(be_xs, XBT_NULL, path, &len);
	if (!v)
		return def;
	r = strtol(v, &end, 10);
	if (end == v)
		r = def;
	free(v);
	return (int)r;
}

static const char *state_name(int s)
{
	static const char *n[] = { "Unknown", "Initialising", "InitWait",
		"Initialised", "Connected", "Closing", "Closed", "Reconfiguring",
		"Reconfigured" };

	return s >= 0 && s <= 8 ? n[s] : "?";
}

int xb_set_state(struct be_dev *d, int state)
{
	char path[200], val[8];

	snprintf(path, sizeof(path), "%s/state", d->bepath);
	snprintf(val, sizeof(val), "%d", state);
	if (!xs_write(be_xs, XBT_NULL, path, val, (unsigned int)strlen(val))) {
		ERR("vdispl %d/%d: cannot write %s: %s", d->domid, d->devid, path,
		    strerror(errno));
		return -1;
	}
	if (d->state != state)
		LOG("vdispl %d/%d: backend state %s -> %s", d->domid, d->devid,
		    state_name(d->state), state_name(state));
	d->state = state;
	return 0;
}

/* the frontend's per-connector configuration, written by libxl */
static int read_config(struct be_dev *d)
{
	int i;

	d->be_alloc = xs_get_int(0, "%s/be-alloc", d->fepath);
	for (i = 0; i < BE_MAX_CONN; i++) {
		struct be_conn *c = &d->conn[i];
		char *res = xs_get("%s/%d/resolution", d->fepath, i);
		char *uid = xs_get("%s/%d/unique-id", d->fepath, i);

		if (!res) {
			free(uid);
			break;
		}
		memset(c, 0, sizeof(*c));
		c->dev = d;
		c->index = i;
		c->req_lport = c->evt_lport = -1;
		if (sscanf(res, "%ux%u", &c->width, &c->height) != 2) {
			ERR("vdispl %d/%d: connector %d: bad resolution \"%s\"",
			    d->domid, d->devid, i, res);
			free(res);
			free(uid);
			return -1;
		}
		snprintf(c->unique_id, sizeof(c->unique_id), "%s", uid ? uid : "");
		free(res);
		free(uid);
		LOG("vdispl %d/%d: connector %d \"%s\" %ux%u", d->domid, d->devid, i,
		    c->unique_id, c->width, c->height);
	}
	d->nconn = i;
	if (!d->nconn) {
		ERR("vdispl %d/%d: no connectors in %s", d->domid, d->devid, d->fepath);
		return -1;
	}
	LOG("vdispl %d/%d: %d connector(s), %s buffers", d->domid, d->devid,
	    d->nconn, d->be_alloc ? "backend-allocated" : "frontend-allocated");
	return 0;
}

static void disconnect(struct be_dev *d, const char *why)
{
	int i;

	if (!d->connected)
		return;
	LOG("vdispl %d/%d: disconnect (%s)", d->domid, d->devid, why);
	for (i = 0; i < d->nconn; i++)
		kms_release_output(&d->conn[i]);
	dbuf_release_all(d);
	for (i = 0; i < d->nconn; i++)
		ring_disconnect(&d->conn[i]);
	d->connected = 0;
	d->published = 0;
	be_st.dev_disconnects++;
}

static void do_connect(struct be_dev *d)
{
	int i;

	if (read_config(d))
		goto fail;
	for (i = 0; i < d->nconn; i++) {
		struct be_conn *c = &d->conn[i];

		c->out = kms_output(c->unique_id);
		if (!c->out)
			WARNL("vdispl %d/%d: connector \"%s\": no such KMS output, headless (flips are answered, nothing is shown)",
			      d->domid, d->devid, c->unique_id);
		if (ring_connect(c))
			goto fail;
	}
	d->connected = 1;
	be_st.dev_connects++;
	xb_set_state(d, XenbusStateConnected);
	return;
fail:
	ERR("vdispl %d/%d: cannot connect; staying in InitWait", d->domid, d->devid);
	d->connected = 1;	/* so that disconnect() undoes the part done */
	disconnect(d, "connect failed");
	be_st.dev_disconnects--;
}

static void forget(struct be_dev *d, const char *why)
{
	char path[200];

	disconnect(d, why);
	snprintf(path, sizeof(path), "%s/state", d->fepath);
	xs_unwatch(be_xs, path, "fe");
	LOG("vdispl %d/%d: device gone (%s)", d->domid, d->devid, why);
	memset(d, 0, sizeof(*d));
}

/* one pass over a known device: react to changes of both state nodes */
static void step(struct be_dev *d)
{
	int fe, be, changed;

	be = xs_get_int(-1, "%s/state", d->bepath);
	if (be < 0) {
		forget(d, "backend directory removed");
		return;
	}
	if (be == XenbusStateClosing || be == XenbusStateClosed) {
		/* the toolstack removes the device (xl vdispl-detach) */
		if (d->state != XenbusStateClosed) {
			disconnect(d, "toolstack closes the device");
			xb_set_state(d, XenbusStateClosed);
		}
		return;
	}
	fe = xs_get_int(XenbusStateUnknown, "%s/state", d->fepath);
	changed = fe != d->fe_state;
	if (changed)
		LOG("vdispl %d/%d: frontend state %s -> %s", d->domid, d->devid,
		    state_name(d->fe_state), state_name(fe));
	d->fe_state = fe;
	switch (fe) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (!d->connected && d->state == XenbusStateInitWait)
			do_connect(d);
		break;
	case XenbusStateInitialising:
		/* (re)starting: our InitWait, written again even when it is
		 * already there, fires the frontend's watch */
		if (changed) {
			disconnect(d, "frontend restarts");
			xb_set_state(d, XenbusStateInitWait);
		}
		break;
	case XenbusStateReconfiguring:
	case XenbusStateClosing:
	case XenbusStateClosed:
	case XenbusStateUnknown:
		/* the frontend lets go (Reconfiguring: it frees its DRM device
		 * first; Closing: the driver is removed and waits for our
		 * InitWait before it frees the rings) */
		if (changed) {
			disconnect(d, fe == XenbusStateReconfiguring ? "frontend reconfigures" :
				   fe == XenbusStateUnknown ? "frontend gone" : "frontend closes");
			if (d->state != XenbusStateInitWait)
				xb_set_state(d, XenbusStateInitWait);
		}
		break;
	default:
		break;
	}
}

static struct be_dev *find(int domid, int devid)
{
	int i;

	for (i = 0; i < BE_MAX_DEV; i++)
		if (devs[i].used && devs[i].domid == domid && devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

static void add(int domid, int devid)
{
	struct be_dev *d = NULL;
	char *fe, path[200];
	int i;

	for (i = 0; i < BE_MAX_DEV && !d; i++)
		if (!devs[i].used)
			d = &devs[i];
	if (!d) {
		ERR("vdispl %d/%d: more than %d devices, ignored", domid, devid, BE_MAX_DEV);
		return;
	}
	snprintf(d->bepath, sizeof(d->bepath), VDISPL_ROOT "/%d/%d", domid, devid);
	fe = xs_get("%s/frontend", d->bepath);
	if (!fe)
		return;		/* libxl is still writing it */
	d->used = 1;
	d->domid = domid;
	d->devid = devid;
	d->state = xs_get_int(XenbusStateUnknown, "%s/state", d->bepath);
	d->fe_state = -1;
	snprintf(d->fepath, sizeof(d->fepath), "%s", fe);
	free(fe);
	LOG("vdispl %d/%d: new device, frontend %s", domid, devid, d->fepath);
	snprintf(path, sizeof(path), "%s/state", d->fepath);
	if (!xs_watch(be_xs, path, "fe"))
		ERR("vdispl %d/%d: watch %s: %s", domid, devid, path, strerror(errno));
	xb_set_state(d, XenbusStateInitWait);
}

static void scan(void)
{
	unsigned int nd, nv, i, j, k;
	char **doms, **ids, path[160];

	doms = xs_directory(be_xs, XBT_NULL, VDISPL_ROOT, &nd);
	for (i = 0; doms && i < nd; i++) {
		snprintf(path, sizeof(path), VDISPL_ROOT "/%s", doms[i]);
		ids = xs_directory(be_xs, XBT_NULL, path, &nv);
		for (j = 0; ids && j < nv; j++) {
			int domid = atoi(doms[i]), devid = atoi(ids[j]);

			if (!find(domid, devid))
				add(domid, devid);
		}
		free(ids);
	}
	free(doms);
	for (k = 0; k < BE_MAX_DEV; k++)
		if (devs[k].used)
			step(&devs[k]);
}

int xb_init(void)
{
	be_xs = xs_open(0);
	if (!be_xs) {
		ERR("xs_open: %s", strerror(errno));
		return -1;
	}
	if (!xs_watch(be_xs, VDISPL_ROOT, "be")) {
		ERR("xs_watch %s: %s", VDISPL_ROOT, strerror(errno));
		return -1;
	}
	LOG("watching %s", VDISPL_ROOT);
	return xs_fileno(be_xs);
}

void xb_watch_event(void)
{
	unsigned int n;
	char **w = xs_read_watch(be_xs, &n);

	free(w);
	scan();
}

struct be_dev *xb_devices(int *n)
{
	*n = BE_MAX_DEV;
	return devs;
}

void xb_shutdown(void)
{
	int i;

	for (i = 0; i < BE_MAX_DEV; i++)
		if (devs[i].used) {
			disconnect(&devs[i], "backend exits");
			xb_set_state(&devs[i], XenbusStateClosed);
		}
}
