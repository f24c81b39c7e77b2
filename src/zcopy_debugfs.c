// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: debugfs
 *
 * /sys/kernel/debug/xen_zcopy/counters and .../buffers, in the format
 * docs/design.md specifies: the tests read them to prove that every case
 * left nothing mapped, granted or allocated behind.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "zcopy_drv.h"

/* At most this many refs of a buffer are listed; "..." marks the rest. */
#define ZCOPY_DEBUGFS_REFS	8

static int zcopy_counters_show(struct seq_file *m, void *unused)
{
	struct zcopy_device *zdev = m->private;

	seq_printf(m, "grants_mapped %ld\n", atomic_long_read(&zdev->grants_mapped));
	seq_printf(m, "grants_issued %ld\n", atomic_long_read(&zdev->grants_issued));
	seq_printf(m, "pages_held %ld\n", atomic_long_read(&zdev->pages_held));
	seq_printf(m, "buffers %ld\n", atomic_long_read(&zdev->buffers));
	seq_printf(m, "deferred %ld\n", atomic_long_read(&zdev->deferred));
	seq_printf(m, "waiters %ld\n", atomic_long_read(&zdev->waiters));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zcopy_counters);

static void zcopy_show_refs(struct seq_file *m, const grant_ref_t *refs,
			    unsigned int n)
{
	unsigned int i;

	if (!refs || !n) {
		seq_puts(m, " -");
		return;
	}
	for (i = 0; i < n && i < ZCOPY_DEBUGFS_REFS; i++)
		seq_printf(m, "%c%u", i ? ',' : ' ', refs[i]);
	if (n > ZCOPY_DEBUGFS_REFS)
		seq_puts(m, ",...");
}

static void zcopy_show_flags(struct seq_file *m, u32 flags)
{
	static const char * const names[] = { "ro", "pgdir", "dumb", "legacy" };
	bool any = false;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(flags & BIT(i)))
			continue;
		seq_printf(m, "%c%s", any ? ',' : ' ', names[i]);
		any = true;
	}
	if (!any)
		seq_puts(m, " -");
}

/* domid grants refs of an import: "- 0 -" before TO_REFS granted it */
static void zcopy_show_import(struct seq_file *m, struct zcopy_import *imp)
{
	if (!imp) {
		seq_puts(m, " - 0 -");
		return;
	}
	/* TO_REFS publishes and its undo frees the refs under the lock */
	mutex_lock(&imp->lock);
	if (imp->granted) {
		seq_printf(m, " %u %u", imp->domid, imp->nr_refs);
		zcopy_show_refs(m, imp->refs, imp->nr_refs);
	} else {
		seq_puts(m, " - 0 -");
	}
	mutex_unlock(&imp->lock);
}

/*
 * One line per live buffer:
 *   id kind domid grants refs-or-- importers waiters flags
 * kind is "foreign" (FROM_REFS) or "import"; an import shows its grants
 * once TO_REFS granted it, "-" before.
 */
static int zcopy_buffers_show(struct seq_file *m, void *unused)
{
	struct zcopy_device *zdev = m->private;
	struct zcopy_buf *buf;

	mutex_lock(&zdev->bufs_lock);
	list_for_each_entry(buf, &zdev->bufs, link) {
		struct zcopy_waiter *w = buf->waiter;

		if (buf->kind == ZCOPY_BUF_FOREIGN) {
			/* pairs with the release in zcopy_from_refs() */
			struct zcopy_map *map = smp_load_acquire(&buf->map);

			seq_printf(m, "%u foreign", buf->id);
			if (map) {
				seq_printf(m, " %u %u", map->domid, map->nr_grants);
				zcopy_show_refs(m, map->refs, map->nr_grants);
			} else {
				seq_puts(m, " - 0 -");
			}
		} else {
			/* pairs with the release in zcopy_gem_import_sg_table() */
			struct zcopy_import *imp = smp_load_acquire(&buf->imp);

			seq_printf(m, "%u import", buf->id);
			zcopy_show_import(m, imp);
		}
		seq_printf(m, " %u %d", READ_ONCE(buf->importers),
			   w ? atomic_read(&w->waiting) : 0);
		zcopy_show_flags(m, buf->flags);
		seq_putc(m, '\n');
	}
	mutex_unlock(&zdev->bufs_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zcopy_buffers);

void zcopy_debugfs_init(struct zcopy_device *zdev)
{
	/* debugfs is best effort: the driver works without it */
	zdev->debugfs = debugfs_create_dir("xen_zcopy", NULL);
	debugfs_create_file("counters", 0444, zdev->debugfs, zdev,
			    &zcopy_counters_fops);
	debugfs_create_file("buffers", 0444, zdev->debugfs, zdev,
			    &zcopy_buffers_fops);
}

void zcopy_debugfs_fini(struct zcopy_device *zdev)
{
	debugfs_remove_recursive(zdev->debugfs);
	zdev->debugfs = NULL;
}
