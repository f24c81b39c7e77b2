// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: wait tokens and WAIT_FREE
 *
 * STUB: placeholder so that the module builds; to be written.
 */

#include <linux/slab.h>

#include "zcopy_drv.h"

struct zcopy_client *zcopy_client_new(void)
{
	struct zcopy_client *client = kzalloc(sizeof(*client), GFP_KERNEL);

	if (!client)
		return NULL;
	kref_init(&client->ref);
	xa_init_flags(&client->tokens, XA_FLAGS_ALLOC1);
	return client;
}

static void zcopy_client_free(struct kref *ref)
{
	struct zcopy_client *client = container_of(ref, struct zcopy_client, ref);

	xa_destroy(&client->tokens);
	kfree(client);
}

void zcopy_client_put(struct zcopy_client *client)
{
	kref_put(&client->ref, zcopy_client_free);
}

int zcopy_waiter_new(struct zcopy_client *client, struct zcopy_waiter **out)
{
	return -EOPNOTSUPP;
}

void zcopy_waiter_signal(struct zcopy_client *client, struct zcopy_waiter *w)
{
}

u64 zcopy_wait_token(struct zcopy_client *client, struct zcopy_waiter *w)
{
	return 0;
}

int zcopy_wait_free(struct zcopy_device *zdev, struct zcopy_client *client,
		    u64 token, bool legacy, u32 timeout_ms)
{
	return -EOPNOTSUPP;
}
