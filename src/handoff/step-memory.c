/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Freeing host memory before the guest takes its share: write dirty pages back, drop the page
 * cache and slab caches, compact what is left so large pages can be found. Nothing to undo: the
 * caches refill on their own. */
#include <errno.h>
#include <string.h>

#include "handoff/context.h"

static int drop_caches_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        int r = kernel_sync(ctx->kernel);

        if (r < 0)
                return step_fail(message, r, "sync failed: %s", strerror(-r));
        /* 3: the page cache and reclaimable slab objects (dentries, inodes) */
        r = kernel_write(ctx->kernel, "proc/sys/vm/drop_caches", "3");
        return r < 0 ? step_fail(message, r, "cannot write /proc/sys/vm/drop_caches: %s", strerror(-r)) : 0;
}

static int compact_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        int r = kernel_write(ctx->kernel, "proc/sys/vm/compact_memory", "1");

        return r < 0 ? step_fail(message, r, "cannot write /proc/sys/vm/compact_memory: %s", strerror(-r)) : 0;
}

const struct step_ops step_drop_caches_ops = {drop_caches_apply, NULL};
const struct step_ops step_compact_memory_ops = {compact_apply, NULL};
