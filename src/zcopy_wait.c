// SPDX-License-Identifier: GPL-2.0
/*
 * xen_drm_zcopy: wait tokens and WAIT_FREE
 *
 * Each open file has its own token table (an xarray of waiters), so a
 * token of one file is never found through another (the 2018 driver had
 * one global IDR). The table lives in a refcounted &struct zcopy_client
 * because a buffer can outlive the file that created it. A waiter is in
 * the table from FROM_REFS until its buffer is freed; a WAIT_FREE after
 * that gets -ENOENT, which backends treat as "already freed".
 */

#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "zcopy_drv.h"

struct zcopy_client *zcopy_client_new(void)
{
	struct zcopy_client *client = kzalloc(sizeof(*client), GFP_KERNEL);

	if (!client)
		return NULL;
	kref_init(&client->ref);
	xa_init_flags(&client->tokens, XA_FLAGS_ALLOC1);
	/* non-zero, so that a token is never a small integer */
	do {
		client->salt = get_random_u32();
	} while (!client->salt);
	atomic_set(&client->live_buffers, 0);
	return client;
}

static void zcopy_client_free(struct kref *ref)
{
	struct zcopy_client *client = container_of(ref, struct zcopy_client, ref);

	/* every buffer (and so every waiter) of the file is gone by now */
	WARN_ON(!xa_empty(&client->tokens));
	xa_destroy(&client->tokens);
	kfree(client);
}

void zcopy_client_put(struct zcopy_client *client)
{
	kref_put(&client->ref, zcopy_client_free);
}

static void zcopy_waiter_free(struct kref *ref)
{
	kfree(container_of(ref, struct zcopy_waiter, ref));
}

/**
 * zcopy_waiter_new - a wait token for a new buffer
 * @client: the creating file's state
 * @out: the waiter, with one reference owned by the buffer
 *
 * Return: 0, -ENOMEM, or -EBUSY if the file ran out of ids.
 */
int zcopy_waiter_new(struct zcopy_client *client, struct zcopy_waiter **out)
{
	struct zcopy_waiter *w = kzalloc(sizeof(*w), GFP_KERNEL);
	int ret;

	if (!w)
		return -ENOMEM;
	kref_init(&w->ref);
	init_waitqueue_head(&w->wq);
	atomic_set(&w->waiting, 0);

	/*
	 * Cyclic ids from 1: a freed id is not reused soon, so that a late
	 * WAIT_FREE on it gets -ENOENT rather than another buffer's wait.
	 */
	ret = xa_alloc_cyclic(&client->tokens, &w->id, w, XA_LIMIT(1, U32_MAX),
			      &client->next_id, GFP_KERNEL);
	if (ret < 0) {
		kfree(w);
		return ret;
	}
	*out = w;
	return 0;
}

/**
 * zcopy_waiter_signal - the buffer of @w is gone: wake its waiters
 * @client: the table @w is in
 * @w: the waiter; the buffer's reference is dropped
 * @status: what WAIT_FREE answers: 0, or -EIO when grants could not be
 *	    unmapped and their pages were leaked (dom0 may still map them)
 *
 * Called last in the buffer's free path, after the grants were unmapped
 * and the counters updated.
 */
void zcopy_waiter_signal(struct zcopy_client *client, struct zcopy_waiter *w,
			 int status)
{
	/* from now on a lookup finds nothing: -ENOENT */
	xa_erase(&client->tokens, w->id);
	w->status = status;
	/* @status before @freed: pairs with the acquire in zcopy_wait_free() */
	smp_store_release(&w->freed, true);
	wake_up_all(&w->wq);
	kref_put(&w->ref, zcopy_waiter_free);
}

/**
 * zcopy_wait_token - the user-visible token of @w
 * @client: the table @w is in
 * @w: the waiter
 *
 * Return: (salt << 32) | id.
 */
u64 zcopy_wait_token(struct zcopy_client *client, struct zcopy_waiter *w)
{
	return (u64)client->salt << 32 | w->id;
}

/**
 * zcopy_wait_free - wait until the buffer of a token is freed
 * @zdev: the device (waiters counter)
 * @client: the caller's file state; only its table is searched
 * @token: a wait token (new ioctl) or a bare id (@legacy)
 * @legacy: @token is the 2018 wait_handle
 * @timeout_ms: validated against ZCOPY_MAX_WAIT_MS by the caller
 *
 * Return: 0 once freed, -EIO once freed with grants that could not be
 * unmapped (leaked), -ENOENT if not (or no longer) known, -ETIMEDOUT, or
 * -EINTR if a signal arrived.
 */
int zcopy_wait_free(struct zcopy_device *zdev, struct zcopy_client *client,
		    u64 token, bool legacy, u32 timeout_ms)
{
	struct zcopy_waiter *w;
	long left;
	u32 id;

	if (legacy) {
		if (token > U32_MAX)
			return -ENOENT;
	} else if ((u32)(token >> 32) != client->salt) {
		return -ENOENT;
	}
	id = lower_32_bits(token);
	if (!id)
		return -ENOENT;

	xa_lock(&client->tokens);
	w = xa_load(&client->tokens, id);
	if (w)
		kref_get(&w->ref);
	xa_unlock(&client->tokens);
	if (!w)
		return -ENOENT;

	atomic_inc(&w->waiting);
	atomic_long_inc(&zdev->waiters);
	left = wait_event_interruptible_timeout(w->wq, READ_ONCE(w->freed),
						msecs_to_jiffies(timeout_ms));
	atomic_long_dec(&zdev->waiters);
	atomic_dec(&w->waiting);

	/* pairs with the release in zcopy_waiter_signal(): @status is set */
	if (smp_load_acquire(&w->freed))
		left = w->status;
	else if (left > 0)	/* cannot happen: woken means freed */
		left = -ETIMEDOUT;
	else if (!left)
		left = -ETIMEDOUT;
	else
		/*
		 * Not -ERESTARTSYS: the UAPI promises -EINTR, and a restart
		 * would wait the whole timeout again.
		 */
		left = -EINTR;
	kref_put(&w->ref, zcopy_waiter_free);
	return left;
}
