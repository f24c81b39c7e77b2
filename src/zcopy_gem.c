// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: GEM objects
 *
 * A FROM_REFS buffer is created completely (grants mapped, wait token
 * allocated, on the debugfs list) before its GEM handle is published, and
 * the handle is created last: once it exists, another thread may close it,
 * so nothing touches the object afterwards. Any earlier failure either
 * unwinds by hand (before the object exists) or drops the only reference,
 * and the free path undoes exactly what was set up. That closes the 2018
 * driver's use-after-free on a failed handle creation.
 */

#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <drm/drm_file.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>

#include "zcopy_drv.h"

static void zcopy_gem_free(struct drm_gem_object *obj);
static int zcopy_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map);
static void zcopy_gem_vunmap(struct drm_gem_object *obj, struct iosys_map *map);
static void zcopy_buf_vmap_release(struct zcopy_buf *buf);

/*
 * No .mmap: user space maps a buffer through its dma-buf fd (our
 * dma_buf_ops.mmap); the driver has no ioctl that hands out a GEM mmap
 * offset, so a mapping through the DRM fd cannot be asked for.
 */
static const struct drm_gem_object_funcs zcopy_gem_funcs = {
	.free	= zcopy_gem_free,
	.export	= zcopy_gem_export,
	.vmap	= zcopy_gem_vmap,
	.vunmap	= zcopy_gem_vunmap,
};

/**
 * zcopy_buf_create - a new GEM object of the driver
 * @zdev: the device
 * @kind: foreign mapping or import
 * @size: GEM size, a multiple of PAGE_SIZE
 *
 * The object is on the debugfs list and counted in "buffers"; dropping its
 * last reference runs the free path of @kind.
 *
 * Return: the buffer or ERR_PTR(-ENOMEM).
 */
struct zcopy_buf *zcopy_buf_create(struct zcopy_device *zdev,
				   enum zcopy_buf_kind kind, size_t size)
{
	struct zcopy_buf *buf = kzalloc(sizeof(*buf), GFP_KERNEL);

	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->kind = kind;
	buf->base.funcs = &zcopy_gem_funcs;
	drm_gem_private_object_init(&zdev->drm, &buf->base, size);
	mutex_init(&buf->vmap_lock);
	mutex_init(&buf->attach_lock);
	INIT_LIST_HEAD(&buf->attachments);

	mutex_lock(&zdev->bufs_lock);
	buf->id = ++zdev->next_buf_id;
	list_add_tail(&buf->link, &zdev->bufs);
	mutex_unlock(&zdev->bufs_lock);
	atomic_long_inc(&zdev->buffers);
	return buf;
}

/* Take @buf off the debugfs list and out of the "buffers" counter. */
static void zcopy_buf_unlist(struct zcopy_buf *buf)
{
	struct zcopy_device *zdev = zcopy_buf_dev(buf);

	mutex_lock(&zdev->bufs_lock);
	list_del(&buf->link);
	mutex_unlock(&zdev->bufs_lock);
	atomic_long_dec(&zdev->buffers);
}

/**
 * zcopy_buf_destroy - the last step of a buffer's life
 * @buf: a buffer already off the list (its GEM free callback ran)
 */
void zcopy_buf_destroy(struct zcopy_buf *buf)
{
	WARN_ON(buf->vmap_count || buf->importers);
	drm_gem_object_release(&buf->base);
	mutex_destroy(&buf->attach_lock);
	mutex_destroy(&buf->vmap_lock);
	kfree(buf);
}

static void zcopy_map_free(struct zcopy_map *map)
{
	if (!map)
		return;
	kvfree(map->refs);
	kfree(map);
}

/**
 * zcopy_buf_uncharge - a buffer no longer counts for the file that made it
 * @buf: a FROM_REFS buffer at the end of its life, or an import whose
 *	 release finished (zcopy_grant.c)
 *
 * Drops the buffer's place in the file's max_buffers budget and its
 * reference to the file state.
 */
void zcopy_buf_uncharge(struct zcopy_buf *buf)
{
	struct zcopy_client *client = buf->client;

	if (!client)
		return;
	buf->client = NULL;
	atomic_dec(&client->live_buffers);
	zcopy_client_put(client);
}

/*
 * The end of a FROM_REFS buffer: the grants are unmapped (@ok) or leaked.
 * Counters are final now, so a woken waiter may check them.
 */
static void zcopy_foreign_finish(struct zcopy_buf *buf, bool ok)
{
	struct zcopy_client *client = buf->client;
	struct zcopy_waiter *w = buf->waiter;

	/* the token is in the client's table: signal before the client goes */
	if (w)
		zcopy_waiter_signal(client, w, ok ? 0 : -EIO);
	zcopy_buf_uncharge(buf);
	zcopy_buf_destroy(buf);
	/* taken in zcopy_gem_free(): the unmap may have run from a workqueue */
	module_put(THIS_MODULE);
}

static void zcopy_foreign_unmapped(struct zcopy_map *map, bool ok)
{
	struct zcopy_buf *buf = map->owner;

	buf->map = NULL;
	zcopy_map_free(map);
	zcopy_foreign_finish(buf, ok);
}

static void zcopy_gem_free(struct drm_gem_object *obj)
{
	struct zcopy_buf *buf = to_zcopy_buf(obj);

	zcopy_buf_unlist(buf);

	if (buf->kind == ZCOPY_BUF_IMPORTED) {
		/* zcopy_grant.c finishes the object, maybe later */
		zcopy_import_release(buf);
		return;
	}

	/*
	 * Every handle, dma-buf, attachment and CPU mapping is gone. The
	 * grants are unmapped once nothing holds the pages any more, which
	 * may be later (a pin taken through an importer): never block the
	 * task that dropped the last reference, and keep the module until
	 * the unmap is done.
	 */
	zcopy_buf_vmap_release(buf);
	__module_get(THIS_MODULE);
	if (buf->map)
		zcopy_unmap_grants_async(buf->map, zcopy_foreign_unmapped);
	else
		zcopy_foreign_finish(buf, true);
}

/**
 * zcopy_from_refs - FROM_REFS and DUMB_FROM_REFS: map grants into a buffer
 * @drm: the device
 * @file: the caller; gets the handle, and the wait token in its table
 * @args: validated arguments
 * @handle: out, GEM handle
 * @wait_token: out, token for WAIT_FREE (the legacy wait_handle is its id)
 *
 * Return: 0 or a negative errno (docs/design.md).
 */
int zcopy_from_refs(struct drm_device *drm, struct drm_file *file,
		    const struct zcopy_from_refs_args *args,
		    u32 *handle, u64 *wait_token)
{
	struct zcopy_device *zdev = to_zcopy_device(drm);
	struct zcopy_client *client = file->driver_priv;
	struct zcopy_waiter *w;
	struct zcopy_map *map;
	struct zcopy_buf *buf;
	u64 token;
	int ret;

	if (atomic_inc_return(&client->live_buffers) >
	    READ_ONCE(zcopy_max_buffers)) {
		ret = -EMFILE;
		goto out_live;
	}

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map) {
		ret = -ENOMEM;
		goto out_live;
	}
	map->domid = args->domid;
	map->readonly = args->readonly;
	map->nr_grants = args->nr_grants;
	map->refs = kvcalloc(args->nr_grants, sizeof(*map->refs), GFP_KERNEL);
	if (!map->refs) {
		ret = -ENOMEM;
		goto out_map;
	}
	if (args->urefs) {
		BUILD_BUG_ON(sizeof(*map->refs) != sizeof(u32));
		if (copy_from_user(map->refs, args->urefs,
				   array_size(args->nr_grants, sizeof(u32)))) {
			ret = -EFAULT;
			goto out_map;
		}
	} else {
		ret = zcopy_pgdir_read(zdev, args->domid, args->gref_dir,
				       args->nr_grants, map->refs);
		if (ret)
			goto out_map;
	}

	ret = zcopy_map_grants(zdev, map);
	if (ret)
		goto out_map;

	buf = zcopy_buf_create(zdev, ZCOPY_BUF_FOREIGN,
			       zcopy_gem_size(args->nr_grants));
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		zcopy_unmap_grants(zdev, map);
		goto out_map;
	}
	/* from here on the free path undoes everything */
	map->owner = buf;
	/* debugfs may look already: publish the map fully set up */
	smp_store_release(&buf->map, map);
	buf->data_ofs = args->data_ofs;
	buf->flags = args->flags;
	kref_get(&client->ref);
	buf->client = client;	/* now owns the live_buffers count */

	ret = zcopy_waiter_new(client, &w);
	if (ret)
		goto out_put;
	buf->waiter = w;
	token = zcopy_wait_token(client, w);

	/* last: once the handle exists, another thread may close it */
	ret = drm_gem_handle_create(file, &buf->base, handle);
	drm_gem_object_put(&buf->base);
	if (ret)
		return ret;
	*wait_token = token;
	return 0;

out_put:
	/* the free path also gives back the live_buffers count */
	drm_gem_object_put(&buf->base);
	return ret;
out_map:
	zcopy_map_free(map);
out_live:
	atomic_dec(&client->live_buffers);
	return ret;
}

/**
 * zcopy_gem_prime_import - &drm_driver.gem_prime_import
 * @drm: the device
 * @dma_buf: the dma-buf to import
 *
 * Our own dma-buf comes back as the same GEM object (a new reference),
 * without attaching to ourselves. Anything else is imported as the DRM
 * core would (attach with our device, map, gem_prime_import_sg_table).
 *
 * Return: the GEM object or an ERR_PTR.
 */
struct drm_gem_object *zcopy_gem_prime_import(struct drm_device *drm,
					      struct dma_buf *dma_buf)
{
	if (zcopy_is_our_dmabuf(dma_buf, drm)) {
		struct drm_gem_object *obj = dma_buf->priv;

		drm_gem_object_get(obj);
		return obj;
	}
	return drm_gem_prime_import(drm, dma_buf);
}

/**
 * zcopy_gem_import_sg_table - &drm_driver.gem_prime_import_sg_table
 * @drm: the device
 * @attach: our attachment to the other driver's dma-buf
 * @sgt: its mapping for our device
 *
 * Creates the %ZCOPY_BUF_IMPORTED object that TO_REFS grants; the DRM core
 * sets import_attach afterwards. zcopy_import_release() tears it down.
 *
 * Return: the GEM object or an ERR_PTR.
 */
struct drm_gem_object *zcopy_gem_import_sg_table(struct drm_device *drm,
						 struct dma_buf_attachment *attach,
						 struct sg_table *sgt)
{
	struct zcopy_device *zdev = to_zcopy_device(drm);
	size_t size = attach->dmabuf->size;
	struct zcopy_import *imp;
	struct zcopy_buf *buf;

	if (!size || size != PAGE_ALIGN(size))
		return ERR_PTR(-EINVAL);
	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return ERR_PTR(-ENOMEM);
	buf = zcopy_buf_create(zdev, ZCOPY_BUF_IMPORTED, size);
	if (IS_ERR(buf)) {
		kfree(imp);
		return ERR_CAST(buf);
	}
	mutex_init(&imp->lock);
	imp->attach = attach;
	imp->sgt = sgt;
	/* debugfs may look already: publish the import fully set up */
	smp_store_release(&buf->imp, imp);
	return &buf->base;
}

/**
 * zcopy_prime_fd_to_handle - &drm_driver.prime_fd_to_handle
 * @drm: the device
 * @file: the importing file
 * @fd: the dma-buf fd
 * @handle: out, the GEM handle
 *
 * The DRM core's import, plus what it cannot do: charge a new import to the
 * importing file's max_buffers budget. An import pins the exporter's memory
 * (and in a PV domain possibly swiotlb-xen space), so it counts like a
 * FROM_REFS buffer. gem_prime_import does not know the file, hence this
 * hook. Whether the call creates an import is known only afterwards (a
 * dma-buf this file imported already gives its handle again, one of our own
 * buffers is itself), so a place is reserved first and kept only for a new
 * import; a new import beyond the budget is closed again: -EMFILE.
 *
 * Return: 0 or a negative errno.
 */
int zcopy_prime_fd_to_handle(struct drm_device *drm, struct drm_file *file,
			     int fd, u32 *handle)
{
	struct zcopy_client *client = file->driver_priv;
	struct drm_gem_object *obj;
	bool over, charged = false;
	int ret;

	over = atomic_inc_return(&client->live_buffers) >
	       READ_ONCE(zcopy_max_buffers);
	ret = drm_gem_prime_fd_to_handle(drm, file, fd, handle);
	if (ret)
		goto out_uncharge;
	/* a concurrent GEM_CLOSE may have freed it already: nothing to keep */
	obj = drm_gem_object_lookup(file, *handle);
	if (!obj)
		goto out_uncharge;
	if (to_zcopy_buf(obj)->kind == ZCOPY_BUF_IMPORTED &&
	    !cmpxchg(&to_zcopy_buf(obj)->client, NULL, client)) {
		if (over) {
			/* new, and no room: undo it (the free path sees no client) */
			to_zcopy_buf(obj)->client = NULL;
			drm_gem_object_put(obj);
			drm_gem_handle_delete(file, *handle);
			*handle = 0;
			ret = -EMFILE;
			goto out_uncharge;
		}
		kref_get(&client->ref);
		charged = true;
	}
	drm_gem_object_put(obj);
	if (charged)
		return 0;
out_uncharge:
	atomic_dec(&client->live_buffers);
	return ret;
}

/* vmap of the buffer for the kernel: GEM helpers and dma_buf_vmap() */
int zcopy_buf_vmap(struct zcopy_buf *buf, struct iosys_map *map)
{
	void *vaddr;
	int ret = 0;

	if (buf->kind != ZCOPY_BUF_FOREIGN || !buf->map)
		return -EOPNOTSUPP;

	mutex_lock(&buf->vmap_lock);
	if (buf->vmap_count || buf->vaddr) {
		/* in use, or kept from the last use (zcopy_buf_vunmap()) */
		buf->vmap_count++;
		iosys_map_set_vaddr(map, buf->vaddr);
		goto out;
	}
	if (zcopy_is_pv()) {
		/* Xen refuses a plain PTE to a foreign frame in PV */
		if (!zcopy_pv_cpu_supported()) {
			ret = -EOPNOTSUPP;
			goto out;
		}
		vaddr = zcopy_pv_vmap(buf);
		if (IS_ERR(vaddr)) {
			ret = PTR_ERR(vaddr);
			goto out;
		}
	} else {
		vaddr = vmap(buf->map->pages, buf->map->nr_pages, VM_MAP,
			     buf->map->readonly ? PAGE_KERNEL_RO : PAGE_KERNEL);
		if (!vaddr) {
			ret = -ENOMEM;
			goto out;
		}
	}
	buf->vaddr = vaddr;
	buf->vmap_count = 1;
	iosys_map_set_vaddr(map, vaddr);
out:
	mutex_unlock(&buf->vmap_lock);
	return ret;
}

void zcopy_buf_vunmap(struct zcopy_buf *buf, struct iosys_map *map)
{
	mutex_lock(&buf->vmap_lock);
	if (WARN_ON(!buf->vmap_count || map->vaddr != buf->vaddr))
		goto out;
	if (--buf->vmap_count)
		goto out;
	/*
	 * PV: keep the mapping until the buffer is freed. A KMS importer that
	 * composes with the CPU (vkms, the shadow-plane helpers) vmaps the
	 * framebuffer at every commit and vunmaps the previous one, and a PV
	 * vmap is a grant map hypercall per page: at 1080p that was most of
	 * the cost of a page flip. The grants stay mapped for the buffer's
	 * lifetime anyway (for DMA); this adds only their kernel PTEs.
	 */
	if (zcopy_is_pv())
		goto out;
	vunmap(buf->vaddr);
	buf->vaddr = NULL;
out:
	mutex_unlock(&buf->vmap_lock);
}

/* Free path: drop the PV kernel mapping zcopy_buf_vunmap() kept. */
static void zcopy_buf_vmap_release(struct zcopy_buf *buf)
{
	mutex_lock(&buf->vmap_lock);
	if (buf->vaddr && !WARN_ON(buf->vmap_count)) {
		zcopy_pv_vunmap(buf, buf->vaddr);
		buf->vaddr = NULL;
	}
	mutex_unlock(&buf->vmap_lock);
}

static int zcopy_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	return zcopy_buf_vmap(to_zcopy_buf(obj), map);
}

static void zcopy_gem_vunmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	zcopy_buf_vunmap(to_zcopy_buf(obj), map);
}
