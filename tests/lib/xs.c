// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Minimal xenstore client: the wire protocol of xen/include/public/io/xs_wire.h
 * over the xenstored unix socket (dom0) or /dev/xen/xenbus (any domain).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "zc_priv.h"

enum {
	XS_READ = 2,
	XS_WATCH = 4,
	XS_WRITE = 11,
	XS_RM = 13,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
};

struct xs_hdr {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

#define XS_PAYLOAD_MAX 4096

static int open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int zc_xs_open(struct zc_xs *xs)
{
	const char *env = getenv("XENSTORED_PATH");

	memset(xs, 0, sizeof(*xs));
	xs->fd = -1;
	if (env)
		xs->fd = open_socket(env);
	if (xs->fd < 0)
		xs->fd = open_socket("/run/xenstored/socket");
	if (xs->fd < 0)
		xs->fd = open_socket("/var/run/xenstored/socket");
	if (xs->fd < 0)
		xs->fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC);
	return xs->fd < 0 ? -1 : 0;
}

void zc_xs_close(struct zc_xs *xs)
{
	if (xs->fd >= 0)
		close(xs->fd);
	xs->fd = -1;
}

static int full_io(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;

	while (len) {
		ssize_t r = wr ? write(fd, p, len) : read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* one message; body gets len bytes plus a NUL */
static int recv_msg(struct zc_xs *xs, struct xs_hdr *h, char *body)
{
	if (full_io(xs->fd, h, sizeof(*h), 0))
		return -1;
	if (h->len > XS_PAYLOAD_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (full_io(xs->fd, body, h->len, 0))
		return -1;
	body[h->len] = 0;
	return 0;
}

static const struct { const char *name; int err; } xs_errors[] = {
	{ "ENOENT", ENOENT }, { "EACCES", EACCES }, { "EINVAL", EINVAL },
	{ "EEXIST", EEXIST }, { "EAGAIN", EAGAIN }, { "ENOSPC", ENOSPC },
	{ "EBUSY", EBUSY }, { "EPERM", EPERM }, { "E2BIG", E2BIG },
	{ "EISDIR", EISDIR }, { "ENOMEM", ENOMEM }, { "EQUOTA", EDQUOT },
};

/* request + reply; watch events arriving meanwhile are counted */
static int xs_call(struct zc_xs *xs, uint32_t type, const char *a, size_t alen,
		   const char *b, size_t blen, char *reply, size_t rsize)
{
	static char body[XS_PAYLOAD_MAX + 1];
	char msg[sizeof(struct xs_hdr) + XS_PAYLOAD_MAX];
	struct xs_hdr h = { .type = type, .req_id = ++xs->req_id,
			    .len = (uint32_t)(alen + blen) };
	size_t i;

	if (xs->fd < 0 && zc_xs_open(xs))
		return -1;
	if (alen + blen > XS_PAYLOAD_MAX) {
		errno = E2BIG;
		return -1;
	}
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), a, alen);
	if (blen)
		memcpy(msg + sizeof(h) + alen, b, blen);
	if (full_io(xs->fd, msg, sizeof(h) + alen + blen, 1))
		return -1;
	for (;;) {
		if (recv_msg(xs, &h, body))
			return -1;
		if (h.type == XS_WATCH_EVENT) {
			xs->events++;
			continue;
		}
		if (h.req_id != xs->req_id)
			continue;	/* stale reply of an interrupted call */
		break;
	}
	if (h.type == XS_ERROR) {
		errno = EIO;
		for (i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
			if (!strcmp(body, xs_errors[i].name))
				errno = xs_errors[i].err;
		return -1;
	}
	if (reply && rsize) {
		size_t n = h.len < rsize - 1 ? h.len : rsize - 1;

		memcpy(reply, body, n);
		reply[n] = 0;
	}
	return (int)h.len;
}

int zc_xs_read(struct zc_xs *xs, const char *path, char *buf, size_t size)
{
	int r = xs_call(xs, XS_READ, path, strlen(path) + 1, NULL, 0, buf, size);

	if (r >= 0 && (size_t)r >= size) {
		errno = E2BIG;
		return -1;
	}
	return r;
}

int zc_xs_write(struct zc_xs *xs, const char *path, const char *val)
{
	return xs_call(xs, XS_WRITE, path, strlen(path) + 1, val, strlen(val),
		       NULL, 0) < 0 ? -1 : 0;
}

int zc_xs_rm(struct zc_xs *xs, const char *path)
{
	int r = xs_call(xs, XS_RM, path, strlen(path) + 1, NULL, 0, NULL, 0);

	return r < 0 && errno != ENOENT ? -1 : 0;
}

int zc_xs_watch(struct zc_xs *xs, const char *path, const char *token)
{
	return xs_call(xs, XS_WATCH, path, strlen(path) + 1, token,
		       strlen(token) + 1, NULL, 0) < 0 ? -1 : 0;
}

int zc_xs_wait(struct zc_xs *xs, int timeout_ms)
{
	static char body[XS_PAYLOAD_MAX + 1];
	struct pollfd pfd = { .fd = xs->fd, .events = POLLIN };
	struct xs_hdr h;
	int r;

	for (;;) {
		if (xs->events) {
			xs->events = 0;	/* events coalesce: the caller re-reads */
			return 1;
		}
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		if (recv_msg(xs, &h, body))
			return -1;
		if (h.type == XS_WATCH_EVENT)
			xs->events++;
		/* anything else is a stale reply: ignore, poll again */
	}
}
