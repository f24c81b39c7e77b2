/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The displif protocol header (libxen-dev: xen/io/displif.h) for user space:
 * its ring macros need the memory barriers Xen's own tools define.
 */
#ifndef ZC_DISPLIF_USER_H
#define ZC_DISPLIF_USER_H

#include <stdint.h>

/* xen/xen.h maps xen_mb() & co. to mb() & co. */
#ifndef mb
#define mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/displif.h>

#endif /* ZC_DISPLIF_USER_H */
