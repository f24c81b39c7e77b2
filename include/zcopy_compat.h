/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version gates of xen_drm_zcopy, all in one place.
 *
 * The driver builds against Linux 6.1 ... 7.3. Every difference between
 * those kernels that the code meets is hidden here behind a zcopy_* name, so
 * that the rest of the driver reads as if written for one kernel. Keep the
 * gates keyed on LINUX_VERSION_CODE (or a feature macro where one exists)
 * and say which commit moved the API.
 */
#ifndef ZCOPY_COMPAT_H
#define ZCOPY_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>

/*
 * 6.13, cdd30ebb1b9f ("module: Convert symbol namespace to string literal"):
 * the namespace argument became a string.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define ZCOPY_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define ZCOPY_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

/*
 * 6.17, "workqueue: Add system_percpu_wq and system_dfl_wq": system_wq and
 * system_unbound_wq became deprecated names, and 7.3 warns once when work
 * is queued on them. The deferred grant release is not per-CPU work, so it
 * goes to the unbound queue under whichever name the kernel has. (Stable
 * 6.12.y has system_dfl_wq too; system_unbound_wq is the same queue there.)
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define zcopy_unbound_wq()	system_dfl_wq
#else
#define zcopy_unbound_wq()	system_unbound_wq
#endif

/* 6.14, cb2e1c2136f7 ("drm: remove driver date from struct drm_driver") */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#define ZCOPY_DRM_DATE(d)	.date = (d),
#else
#define ZCOPY_DRM_DATE(d)
#endif

/*
 * 6.6, "drm: Enable PRIME import/export for all drivers": before it the
 * PRIME export ioctl returned -ENOSYS unless the driver named the GEM
 * helper. (The import hook is always ours: zcopy_prime_fd_to_handle().)
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define ZCOPY_DRM_PRIME_HANDLE_TO_FD_HOOK \
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
#else
#define ZCOPY_DRM_PRIME_HANDLE_TO_FD_HOOK
#endif

/* 6.3, bc292ab00f6c ("mm: introduce vma->vm_flags wrapper functions") */
static inline void zcopy_vm_flags_set(struct vm_area_struct *vma,
				      vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void zcopy_vm_flags_clear(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * 6.15, b57aa47d39e9 ("drm/gem: Test for imported GEM buffers with helper"),
 * backported to some stable trees; free paths must keep using
 * obj->import_attach->dmabuf (the "use dma_buf from GEM object" conversions
 * were reverted).
 */
static inline bool zcopy_gem_is_imported(const struct drm_gem_object *obj)
{
	return obj->import_attach;
}

/*
 * Our device's own DMA ops (zcopy_dma.c) need per-device ops, which every
 * kernel with swiotlb-xen has: CONFIG_DMA_OPS, CONFIG_ARCH_HAS_DMA_OPS in
 * 6.12 and later.
 */
#if !IS_ENABLED(CONFIG_DMA_OPS) && !IS_ENABLED(CONFIG_ARCH_HAS_DMA_OPS)
#error "xen_drm_zcopy needs per-device DMA ops (CONFIG_DMA_OPS / CONFIG_ARCH_HAS_DMA_OPS)"
#endif

/*
 * 6.19, "dma-mapping: remove unused map_page callback", the end of the
 * conversion to a physical-address DMA API: struct dma_map_ops maps single
 * ranges with .map_phys/.unmap_phys instead of .map_page/.unmap_page (6.12
 * has only the latter, 7.2 only the former).
 */
#define ZCOPY_DMA_OPS_MAP_PHYS	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0))

/*
 * vm_operations_struct hook naming our page behind a special PTE.
 * 6.18, "mm: rename vm_ops->find_special_page() to vm_ops->find_normal_page()",
 * which also made it depend on CONFIG_FIND_NORMAL_PAGE (gntdev selects it).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#ifdef CONFIG_FIND_NORMAL_PAGE
#define ZCOPY_VM_OPS_FIND_PAGE(fn)	.find_normal_page = (fn),
#else
#define ZCOPY_VM_OPS_FIND_PAGE(fn)
#endif
#else
#define ZCOPY_VM_OPS_FIND_PAGE(fn)	.find_special_page = (fn),
#endif

/* 7.3, VMA flags conversion: is_cow_mapping(flags) became vma_is_cow_mapping(vma). */
static inline bool zcopy_vma_is_cow(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 3, 0)
	return vma_is_cow_mapping(vma);
#else
	return is_cow_mapping(vma->vm_flags);
#endif
}

#endif /* ZCOPY_COMPAT_H */
