// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * zcopy-agent: the domU half of the cross-domain tests. Started by the domU
 * init, it serves requests that dom0 test cases write to xenstore:
 *
 *   /local/domain/<self>/data/zc/req  "seq op args..."
 *   /local/domain/<self>/data/zc/rsp  "seq ok payload" | "seq err message"
 *
 * op                          payload
 *   ping                      -
 *   reset                     N         release all N objects (between cases)
 *   grant N SEED TO RO        ID REF... (or @K: refs in out/0..K-1)
 *   check ID SEED OFS LEN     -         allocation/mapping holds the pattern
 *                                       of SEED at OFS (pattern byte 0 at OFS)
 *   crcs ID                   ID CRC... CRC-32 of each 4 KiB page (zc_crc32),
 *                                       or @K: in out/0..K-1
 *   fill ID SEED              -         rewrite allocation/mapping with SEED
 *   mark ID FRAME             -         stamp frame marker FRAME on every
 *                                       grant (zc_grants_mark; the bench)
 *   release ID                -         unmap/ungrant and free
 *   map FROM N RO REF...|@K   ID        gntdev map (refs in arg/0..K-1)
 *   mapcheck ID SEED          -
 *   mapwrite ID SEED          -
 *   trywrite ID               1|0       1: the domU cannot write the granted
 *                                       pages (store faulted and, for a
 *                                       read-only mapping, a writable map of
 *                                       the same refs was refused)
 *
 * A check whose data does not match answers "seq differ message", not
 * "seq err message": a negative check ("the domU no longer sees X") must
 * tell a mismatch from an agent that failed. Fatal errors are logged as
 * "zcopy-agent: FATAL: ..." or "zcopy-agent: ERROR: ..." (the harness's log
 * scan looks for them).
 *
 * It keeps every allocation and mapping until released, across requests and
 * across dom0 test processes. Each request is logged on the domU console.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zctest.h"
#include "zc_priv.h"

#define MAX_OBJS 4096
/* serve(): the data checked differs from what was asked (not an error) */
#define AGENT_DIFFERS (-2)
/* values per xenstore node: a domU's node holds 2048 bytes (quota) */
#define CRCS_INLINE 150		/* "4294967295 " */

struct obj {
	int id;			/* 0 = free slot */
	int mapping;		/* 0 = gntalloc allocation, 1 = gntdev mapping */
	struct zc_gnt g;
};

static struct obj objs[MAX_OBJS];
static int next_id = 1;
static struct zc_xs xs;
static char base[64];

static struct obj *find(int id)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].id && objs[i].id == id)
			return &objs[i];
	return NULL;
}

static struct obj *new_obj(void)
{
	int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (!objs[i].id)
			return &objs[i];
	return NULL;
}

static size_t obj_len(const struct obj *o)
{
	return (size_t)o->g.n * ZC_PAGE;
}

static sigjmp_buf fill_jmp;

static void fill_fault(int sig)
{
	siglongjmp(fill_jmp, sig);
}

/* zc_grants_fill, but a fault (read-only mapping) is an error, not a crash */
static int guarded_fill(void *p, size_t len, uint32_t seed)
{
	struct sigaction sa = { .sa_handler = fill_fault }, o1, o2;
	int r = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &o1);
	sigaction(SIGBUS, &sa, &o2);
	if (sigsetjmp(fill_jmp, 1))
		r = -1;
	else
		zc_grants_fill(p, 0, len, seed);
	sigaction(SIGSEGV, &o1, NULL);
	sigaction(SIGBUS, &o2, NULL);
	return r;
}

static int verify(const struct obj *o, size_t ofs, size_t len, uint32_t seed,
		  char *out, size_t outlen)
{
	size_t bad;

	if (ofs > obj_len(o) || len > obj_len(o) - ofs) {
		snprintf(out, outlen, "range %zu+%zu outside %zu bytes", ofs, len, obj_len(o));
		return -1;
	}
	bad = zc_grants_verify(o->g.map, ofs, len, seed);
	if (!bad)
		return 0;
	/* the data differs: not an error of the agent (see the header) */
	snprintf(out, outlen, "pattern %u mismatch at byte %zu (page %zu): got 0x%02x",
		 seed, ofs + bad - 1, (ofs + bad - 1) / ZC_PAGE,
		 o->g.map[(ofs + bad - 1) / ZC_PAGE * zc_grant_stride() +
			  (ofs + bad - 1) % ZC_PAGE]);
	return AGENT_DIFFERS;
}

/* refs from the request (inline) or from arg/0..K-1 */
static int read_refs(const char *s, uint32_t *refs, unsigned int n,
		     char *out, size_t outlen)
{
	unsigned int got = 0, k, chunks;
	char val[4096], path[96];
	char *end;

	while (*s == ' ')
		s++;
	if (*s == '@') {
		chunks = (unsigned int)strtoul(s + 1, NULL, 10);
		for (k = 0; k < chunks; k++) {
			const char *v = val;

			snprintf(path, sizeof(path), "%s/arg/%u", base, k);
			if (zc_xs_read(&xs, path, val, sizeof(val)) < 0) {
				snprintf(out, outlen, "read %s: %s", path, strerror(errno));
				return -1;
			}
			for (; got < n; got++) {
				unsigned long r = strtoul(v, &end, 10);

				if (end == v)
					break;
				refs[got] = (uint32_t)r;
				v = end;
			}
		}
	} else {
		for (; got < n; got++) {
			unsigned long r = strtoul(s, &end, 10);

			if (end == s)
				break;
			refs[got] = (uint32_t)r;
			s = end;
		}
	}
	if (got != n) {
		snprintf(out, outlen, "got %u refs, want %u", got, n);
		return -1;
	}
	return 0;
}

/* "ID V..." inline, or chunks of @per values in out/K and "ID @K" */
static int answer_list(int id, const uint32_t *vals, unsigned int n,
		       unsigned int per, char *out, size_t outlen)
{
	unsigned int i, k;
	size_t w;

	w = (size_t)snprintf(out, outlen, "%d", id);
	if (n <= per) {
		for (i = 0; i < n && w < outlen; i++)
			w += (size_t)snprintf(out + w, outlen - w, " %u", vals[i]);
		return 0;
	}
	for (k = 0; k * per < n; k++) {
		char val[4096], path[96];
		size_t v = 0;

		for (i = k * per; i < n && i < (k + 1) * per; i++)
			v += (size_t)snprintf(val + v, sizeof(val) - v, "%s%u",
					      v ? " " : "", vals[i]);
		snprintf(path, sizeof(path), "%s/out/%u", base, k);
		if (zc_xs_write(&xs, path, val)) {
			snprintf(out, outlen, "write %s: %s", path, strerror(errno));
			return -1;
		}
	}
	snprintf(out + w, outlen - w, " @%u", k);
	return 0;
}

/* returns 0 (ok, payload in out) or -1 (error message in out) */
static int serve(char *op, char *args, char *out, size_t outlen)
{
	char err[200];
	struct obj *o;
	int id = 0;
	unsigned int n, seed;
	int peer, ro, r;
	size_t ofs, len;

	out[0] = 0;
	if (!strcmp(op, "ping"))
		return 0;
	if (!strcmp(op, "reset")) {	/* between cases: drop everything */
		for (r = 0, id = 0; r < MAX_OBJS; r++)
			if (objs[r].id) {
				zc_gnt_free(&objs[r].g);
				objs[r].id = 0;
				id++;
			}
		snprintf(out, outlen, "%d", id);
		return 0;
	}
	if (!strcmp(op, "grant")) {
		if (sscanf(args, "%u %u %d %d", &n, &seed, &peer, &ro) != 4)
			goto usage;
		o = new_obj();
		if (!o) {
			snprintf(out, outlen, "too many objects");
			return -1;
		}
		if (zc_gnt_alloc(&o->g, n, peer, ro, err, sizeof(err))) {
			snprintf(out, outlen, "%s", err);
			return -1;
		}
		zc_grants_fill(o->g.map, 0, obj_len(o), seed);
		o->id = next_id++;
		o->mapping = 0;
		if (answer_list(o->id, o->g.refs, o->g.n, ZC_REFS_INLINE, out, outlen)) {
			zc_gnt_free(&o->g);
			o->id = 0;
			return -1;
		}
		return 0;
	}
	if (!strcmp(op, "map")) {
		uint32_t *refs;
		char *p = args;

		if (sscanf(args, "%d %u %d", &peer, &n, &ro) != 3 || !n || n > 1u << 20)
			goto usage;
		for (r = 0; r < 3; r++) {	/* skip the three numbers */
			while (*p == ' ')
				p++;
			while (*p && *p != ' ')
				p++;
		}
		refs = calloc(n, sizeof(*refs));
		o = new_obj();
		if (!refs || !o) {
			free(refs);
			snprintf(out, outlen, "out of memory/objects");
			return -1;
		}
		if (read_refs(p, refs, n, out, outlen)) {
			free(refs);
			return -1;
		}
		r = zc_gnt_map(&o->g, peer, refs, n, ro, err, sizeof(err));
		free(refs);
		if (r) {
			snprintf(out, outlen, "%s", err);
			return -1;
		}
		o->id = next_id++;
		o->mapping = 1;
		snprintf(out, outlen, "%d", o->id);
		return 0;
	}
	if (sscanf(args, "%d", &id) != 1)
		goto usage;
	o = find(id);
	if (!o) {
		snprintf(out, outlen, "no object %d", id);
		return -1;
	}
	if (!strcmp(op, "release")) {
		zc_gnt_free(&o->g);
		o->id = 0;
		return 0;
	}
	if (!strcmp(op, "check")) {
		if (sscanf(args, "%d %u %zu %zu", &id, &seed, &ofs, &len) != 4)
			goto usage;
		return verify(o, ofs, len, seed, out, outlen);
	}
	if (!strcmp(op, "crcs")) {
		uint32_t *crcs = calloc(o->g.n ? o->g.n : 1, sizeof(*crcs));
		unsigned int i;

		if (!crcs) {
			snprintf(out, outlen, "out of memory");
			return -1;
		}
		for (i = 0; i < o->g.n; i++)
			crcs[i] = zc_crc32(o->g.map + (size_t)i * zc_grant_stride(), ZC_PAGE);
		r = answer_list(o->id, crcs, o->g.n, CRCS_INLINE, out, outlen);
		free(crcs);
		return r;
	}
	if (!strcmp(op, "mapcheck")) {
		if (sscanf(args, "%d %u", &id, &seed) != 2)
			goto usage;
		return verify(o, 0, obj_len(o), seed, out, outlen);
	}
	if (!strcmp(op, "fill") || !strcmp(op, "mapwrite")) {
		if (sscanf(args, "%d %u", &id, &seed) != 2)
			goto usage;
		if (guarded_fill(o->g.map, obj_len(o), seed)) {
			snprintf(out, outlen, "write to object %d faulted%s", id,
				 o->g.ro ? " (read-only mapping)" : "");
			return -1;
		}
		return 0;
	}
	if (!strcmp(op, "mark")) {
		if (sscanf(args, "%d %u", &id, &seed) != 2)
			goto usage;
		if (o->g.ro) {
			snprintf(out, outlen, "object %d is a read-only mapping", id);
			return -1;
		}
		zc_grants_mark(o->g.map, o->g.n, seed);
		return 0;
	}
	if (!strcmp(op, "trywrite")) {
		struct zc_gnt w;
		unsigned int i;
		int refused = 1;

		if (!o->mapping) {
			snprintf(out, outlen, "object %d is not a mapping", id);
			return -1;
		}
		for (i = 0; i < o->g.n && refused; i++)
			refused = zc_try_store(o->g.map + (size_t)i * zc_grant_stride());
		if (refused && o->g.ro) {
			/* a read-only mapping refuses by itself; ask Xen too */
			if (!zc_gnt_map(&w, o->g.from, o->g.refs, o->g.n, 0, err,
					sizeof(err))) {
				for (i = 0; i < w.n && refused; i++)
					refused = zc_try_store(w.map + (size_t)i * zc_grant_stride());
				zc_gnt_free(&w);
			}
		}
		snprintf(out, outlen, "%d", refused);
		return 0;
	}
	snprintf(out, outlen, "unknown op '%s'", op);
	return -1;
usage:
	snprintf(out, outlen, "bad arguments for '%s': '%s'", op, args);
	return -1;
}

int main(void)
{
	char path_req[96], path_rsp[96], domid[16], last[32] = "";
	static char req[4096], out[4096], rsp[4200];

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (zc_xs_open(&xs) || zc_xs_read(&xs, "domid", domid, sizeof(domid)) < 0) {
		perror("zcopy-agent: FATAL: xenstore");
		return 1;
	}
	snprintf(base, sizeof(base), "/local/domain/%s/" ZC_XS_DIR, domid);
	snprintf(path_req, sizeof(path_req), "%s/req", base);
	snprintf(path_rsp, sizeof(path_rsp), "%s/rsp", base);
	if (zc_xs_watch(&xs, path_req, "zcreq")) {
		perror("zcopy-agent: FATAL: watch");
		return 1;
	}
	snprintf(out, sizeof(out), "%s/ready", base);
	snprintf(rsp, sizeof(rsp), "%d", (int)getpid());
	if (zc_xs_write(&xs, out, rsp)) {
		perror("zcopy-agent: FATAL: write ready");
		return 1;
	}
	printf("zcopy-agent: serving %s (pid %d)\n", base, (int)getpid());
	for (;;) {
		char *seq, *op, *args, *sp;
		int r;

		/* the periodic re-read covers a lost watch event */
		if (zc_xs_wait(&xs, 1000) < 0) {
			perror("zcopy-agent: FATAL: xenstore");
			return 1;
		}
		if (zc_xs_read(&xs, path_req, req, sizeof(req)) < 0)
			continue;
		seq = req;
		sp = strchr(req, ' ');
		if (!sp || sp - req >= (long)sizeof(last))
			continue;
		*sp = 0;
		if (!strcmp(seq, last))
			continue;
		memcpy(last, seq, (size_t)(sp - req) + 1);
		op = sp + 1;
		args = strchr(op, ' ');
		if (args)
			*args++ = 0;
		else
			args = op + strlen(op);
		r = serve(op, args, out, sizeof(out));
		snprintf(rsp, sizeof(rsp), "%s %s%s%s", seq,
			 r == AGENT_DIFFERS ? "differ" : r ? "err" : "ok",
			 out[0] ? " " : "", out);
		/* not the bench's per-frame marks: relaying each console line
		 * costs dom0 CPU while the bench measures */
		if (r || strcmp(op, "mark"))
			printf("zcopy-agent: %s %s %.60s -> %.100s\n", seq, op, args,
			       rsp + strlen(seq) + 1);
		if (zc_xs_write(&xs, path_rsp, rsp))
			perror("zcopy-agent: ERROR: write rsp");
	}
}
