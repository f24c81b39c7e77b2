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
#include <linux/module.h>
#include <linux/moduleparam.h>
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

/*
 * max_refs bounds every per-buffer allocation (the largest is 24 bytes per
 * grant) and the page count of a buffer. Values above ZCOPY_MAX_REFS_LIMIT
 * (4 GiB of grants) are clamped, at load and at run time: far beyond any
 * framebuffer, and small enough that no size computation can wrap and no
 * kvmalloc() exceeds INT_MAX. 0 is raised to 1.
 */
unsigned int zcopy_max_refs = 65536;

static int zcopy_max_refs_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret = kstrtouint(val, 0, &n);

	if (ret)
		return ret;
	if (n > ZCOPY_MAX_REFS_LIMIT || !n) {
		pr_warn(ZCOPY_DRIVER_NAME ": max_refs %u clamped to %u\n", n,
			clamp_t(unsigned int, n, 1, ZCOPY_MAX_REFS_LIMIT));
		n = clamp_t(unsigned int, n, 1, ZCOPY_MAX_REFS_LIMIT);
	}
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops zcopy_max_refs_ops = {
	.set	= zcopy_max_refs_set,
	.get	= param_get_uint,
};

module_param_cb(max_refs, &zcopy_max_refs_ops, &zcopy_max_refs, 0644);
MODULE_PARM_DESC(max_refs, "Most grant references per buffer (default 65536, at most 1048576)");

/* writable: an administrator (or a test) may tighten it at run time */
unsigned int zcopy_max_buffers = 4096;
module_param_named(max_buffers, zcopy_max_buffers, uint, 0644);
MODULE_PARM_DESC(max_buffers,
		 "Most live buffers (FROM_REFS and imports) per open file (default 4096)");

/* writable: the administrator may grant or revoke the group at run time */
static int zcopy_allow_gid = -1;
module_param_named(allow_gid, zcopy_allow_gid, int, 0644);
MODULE_PARM_DESC(allow_gid,
		 "Group (of the initial user namespace) whose members may open the device without CAP_SYS_ADMIN (default -1: none)");

/* The one device; module exit needs it. */
static struct zcopy_device *zcopy_the_device;

/**
 * zcopy_may_open - may the opener use the driver?
 *
 * Mapping foreign grants and granting memory to another domain are as
 * powerful as /dev/xen/gntdev, so a render node is not enough: the opener
 * needs CAP_SYS_ADMIN, or membership of the group the administrator named.
 * Everything the driver does goes through a file (its ioctls, and PRIME
 * imports, which pin exporters' memory), so the decision is made once, here,
 * and an open file is the capability: it may be passed on like any fd.
 *
 * &drm_driver.open runs in the opener's context before drm_file.filp is set
 * (drm_file_alloc()), so the current credentials are the ones the file
 * will carry in f_cred. The group is a gid of the initial user namespace: a
 * gid_map of a user namespace must not be able to make any gid "ours".
 *
 * Return: true if the opener is privileged.
 */
static bool zcopy_may_open(void)
{
	int gid = READ_ONCE(zcopy_allow_gid);
	kgid_t kgid;

	if (capable(CAP_SYS_ADMIN))
		return true;
	if (gid < 0)
		return false;
	kgid = make_kgid(&init_user_ns, gid);
	return gid_valid(kgid) && in_group_p(kgid);
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
	struct zcopy_client *client;

	if (!zcopy_may_open())
		return -EPERM;
	client = zcopy_client_new();
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
	ZCOPY_DRM_PRIME_HANDLE_TO_FD_HOOK
	/* ours, to charge imports to the importing file (zcopy_gem.c) */
	.prime_fd_to_handle	= zcopy_prime_fd_to_handle,
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

	/* what exporters map for us is what TO_REFS grants (zcopy_dma.c) */
	ret = zcopy_dma_setup(&pdev->dev);
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
