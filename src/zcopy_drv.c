// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: module, device and DRM driver.
 *
 * A render-node DRM driver with no display: it only creates GEM objects
 * backed by foreign Xen grants and grants imported buffers to other
 * domains. Modelled on vgem: one platform device as the parent, one
 * devm-managed DRM device on it.
 */

#include <linux/cred.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/uidgid.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_prime.h>

#include <xen/xen.h>
#include <xen/interface/xen.h>

#include <xen_zcopy_drm.h>

#include "zcopy_drv.h"

unsigned int zcopy_max_refs = 65536;
module_param_named(max_refs, zcopy_max_refs, uint, 0444);
MODULE_PARM_DESC(max_refs, "Most grant references per buffer (default 65536)");

/* writable: an administrator (or a test) may tighten it at run time */
unsigned int zcopy_max_buffers = 4096;
module_param_named(max_buffers, zcopy_max_buffers, uint, 0644);
MODULE_PARM_DESC(max_buffers,
		 "Most live buffers per open file, checked at each FROM_REFS (default 4096)");

/* writable: the administrator may grant or revoke the group at run time */
static int zcopy_allow_gid = -1;
module_param_named(allow_gid, zcopy_allow_gid, int, 0644);
MODULE_PARM_DESC(allow_gid,
		 "Group whose members may use the ioctls without CAP_SYS_ADMIN (default -1: none)");

/* The one device; module exit needs it. */
static struct zcopy_device *zcopy_the_device;

/**
 * zcopy_check_priv - may the caller use the driver?
 *
 * Mapping foreign grants and granting memory to another domain are as
 * powerful as /dev/xen/gntdev, so a render node is not enough: require
 * CAP_SYS_ADMIN, or membership of the group the administrator named.
 *
 * Return: 0 or -EPERM.
 */
int zcopy_check_priv(void)
{
	int gid = READ_ONCE(zcopy_allow_gid);

	if (capable(CAP_SYS_ADMIN))
		return 0;
	if (gid >= 0 && in_group_p(make_kgid(current_user_ns(), gid)))
		return 0;
	return -EPERM;
}

/**
 * zcopy_check_domid - is @domid a domain id grants can name?
 * @domid: the domain id from user space
 *
 * Return: 0 or -EINVAL for DOMID_SELF and the other reserved ids.
 */
int zcopy_check_domid(u64 domid)
{
	return domid < DOMID_FIRST_RESERVED ? 0 : -EINVAL;
}

static int zcopy_open(struct drm_device *drm, struct drm_file *file)
{
	struct zcopy_client *client = zcopy_client_new();

	if (!client)
		return -ENOMEM;
	file->driver_priv = client;
	return 0;
}

static void zcopy_postclose(struct drm_device *drm, struct drm_file *file)
{
	zcopy_client_put(file->driver_priv);
}

static const struct drm_ioctl_desc zcopy_ioctls[] = {
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_DUMB_FROM_REFS, zcopy_ioctl_dumb_from_refs,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_DUMB_TO_REFS, zcopy_ioctl_dumb_to_refs,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_DUMB_WAIT_FREE, zcopy_ioctl_dumb_wait_free,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_QUERY, zcopy_ioctl_query,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_FROM_REFS, zcopy_ioctl_from_refs,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_TO_REFS, zcopy_ioctl_to_refs,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(XEN_ZCOPY_WAIT_FREE, zcopy_ioctl_wait_free,
			  DRM_RENDER_ALLOW),
};

DEFINE_DRM_GEM_FOPS(zcopy_fops);

static const struct drm_driver zcopy_driver = {
	.driver_features	= DRIVER_GEM | DRIVER_RENDER,
	.open			= zcopy_open,
	.postclose		= zcopy_postclose,
	.ioctls			= zcopy_ioctls,
	.num_ioctls		= ARRAY_SIZE(zcopy_ioctls),
	.fops			= &zcopy_fops,
	ZCOPY_DRM_PRIME_FD_HOOKS
	.gem_prime_import	= zcopy_gem_prime_import,
	.gem_prime_import_sg_table = zcopy_gem_import_sg_table,
	.name			= ZCOPY_DRIVER_NAME,
	.desc			= ZCOPY_DRIVER_DESC,
	ZCOPY_DRM_DATE(ZCOPY_DRIVER_DATE)
	.major			= ZCOPY_DRIVER_MAJOR,
	.minor			= ZCOPY_DRIVER_MINOR,
};

static int __init zcopy_init(void)
{
	struct platform_device *pdev;
	struct zcopy_device *zdev;
	int ret;

	if (!xen_domain()) {
		pr_err(ZCOPY_DRIVER_NAME ": not running in a Xen domain, refusing to load\n");
		return -ENODEV;
	}

	pdev = platform_device_register_simple(ZCOPY_DRIVER_NAME, -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto out_unregister;
	}

	/*
	 * Importers map our buffers, and we map the buffers we import, through
	 * this device: give it a DMA mask so that the DMA API (swiotlb-xen in
	 * a PV domain) accepts any address.
	 */
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_devres;

	zdev = devm_drm_dev_alloc(&pdev->dev, &zcopy_driver,
				  struct zcopy_device, drm);
	if (IS_ERR(zdev)) {
		ret = PTR_ERR(zdev);
		goto out_devres;
	}
	zdev->pdev = pdev;
	mutex_init(&zdev->bufs_lock);
	INIT_LIST_HEAD(&zdev->bufs);
	zcopy_deferred_init(zdev);

	ret = drm_dev_register(&zdev->drm, 0);
	if (ret)
		goto out_deferred;

	zcopy_debugfs_init(zdev);
	zcopy_the_device = zdev;
	return 0;

out_deferred:
	zcopy_deferred_fini(zdev);
out_devres:
	devres_release_group(&pdev->dev, NULL);
out_unregister:
	platform_device_unregister(pdev);
	return ret;
}

static void __exit zcopy_exit(void)
{
	struct zcopy_device *zdev = zcopy_the_device;
	struct platform_device *pdev = zdev->pdev;

	zcopy_debugfs_fini(zdev);
	drm_dev_unregister(&zdev->drm);
	zcopy_deferred_fini(zdev);
	devres_release_group(&pdev->dev, NULL);
	platform_device_unregister(pdev);
}

module_init(zcopy_init);
module_exit(zcopy_exit);

MODULE_DESCRIPTION(ZCOPY_DRIVER_DESC);
MODULE_LICENSE("GPL");
ZCOPY_IMPORT_NS_DMA_BUF();
