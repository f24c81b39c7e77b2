// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * QUERY: every output field, and caps that match the domain we run in
 * (what the platform is comes from /sys/hypervisor, not from the driver).
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cases.h"

ZC_TEST(query_fields)
{
	struct drm_xen_zcopy_query q;
	const char *type;
	int fd = zc_open_render();

	ZC_CHECK(fd >= 0, "no xen_drm_zcopy render node: %s", strerror(errno));
	ZC_EXPECT_ERRNO(zcc_query(fd, &q), 0);
	zc_diag("api %u max_refs %u max_buffers %u max_wait_ms %u grant %u page %u caps %#x from %#x to %#x wait %#x",
		q.api_version, q.max_refs, q.max_buffers, q.max_wait_ms,
		q.grant_size, q.page_size, q.caps, q.from_refs_flags,
		q.to_refs_flags, q.wait_free_flags);
	ZC_CHECK(q.api_version == XEN_ZCOPY_API_VERSION, "api_version %u", q.api_version);
	ZC_CHECK(q.max_refs == 65536, "default max_refs %u", q.max_refs);
	ZC_CHECK(q.max_buffers == 4096, "default max_buffers %u", q.max_buffers);
	ZC_CHECK(q.max_wait_ms >= 3000, "max_wait_ms %u below displ_be's needs", q.max_wait_ms);
	ZC_CHECK(q.grant_size == XEN_ZCOPY_GRANT_SIZE, "grant_size %u", q.grant_size);
	ZC_CHECK(q.page_size == (uint32_t)sysconf(_SC_PAGESIZE), "page_size %u", q.page_size);
	ZC_CHECK(q.caps & XEN_ZCOPY_CAP_LEGACY, "no LEGACY cap");
	ZC_CHECK(!(q.caps & ~(XEN_ZCOPY_CAP_LEGACY | XEN_ZCOPY_CAP_MMAP |
			      XEN_ZCOPY_CAP_VMAP | XEN_ZCOPY_CAP_PV_DOMAIN)),
		 "unknown caps %#x", q.caps);
	ZC_CHECK(q.from_refs_flags == XEN_ZCOPY_FROM_REFS_FLAGS, "from_refs_flags %#x", q.from_refs_flags);
	ZC_CHECK(q.to_refs_flags == XEN_ZCOPY_TO_REFS_FLAGS, "to_refs_flags %#x", q.to_refs_flags);
	ZC_CHECK(q.wait_free_flags == 0, "wait_free_flags %#x", q.wait_free_flags);
	ZC_CHECK(q.pad == 0 && !q.reserved[0] && !q.reserved[1] && !q.reserved[2] && !q.reserved[3],
		 "pad/reserved written");

	/* the platform decides, from the system: PV or not */
	type = zc_guest_type();
	ZC_CHECK(type[0], "/sys/hypervisor/guest_type unreadable: %s", strerror(errno));
	ZC_CHECK(!!(q.caps & XEN_ZCOPY_CAP_PV_DOMAIN) == zc_guest_is_pv(),
		 "PV_DOMAIN cap %d in a %s domain", !!(q.caps & XEN_ZCOPY_CAP_PV_DOMAIN), type);
	/* every platform maps the buffers for the CPU: in PV through grant PTEs */
	ZC_CHECK((q.caps & (XEN_ZCOPY_CAP_MMAP | XEN_ZCOPY_CAP_VMAP)) ==
		 (XEN_ZCOPY_CAP_MMAP | XEN_ZCOPY_CAP_VMAP),
		 "%s domain without the MMAP and VMAP caps (%#x)", type, q.caps);

	/* the primary node (drmOpen, as displ_be) answers too */
	{
		int pfd = zc_open_primary();

		ZC_CHECK(pfd >= 0, "drmOpen(\"xen_drm_zcopy\") failed");
		ZC_EXPECT_ERRNO(zcc_query(pfd, &q), 0);
		close(pfd);
	}
	close(fd);
	return zc_counters_idle(1000);
}
