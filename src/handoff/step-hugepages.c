/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hugepages for the guest: the pool grows to the planned size and shrinks back to exactly what
 * it was. The kernel answers a write to nr_hugepages with as many pages as it could find, not an
 * error, so the step reads back what it got, compacts memory while that helps, and gives up
 * when an attempt brings nothing more or the deadline passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/parse.h"
#include "handoff/context.h"

#define DEFAULT_HUGEPAGES_USEC (10 * USEC_PER_SEC)

/* args: size-kB node|all before target compact|no-compact */
static int pool_path(const struct step *s, char *buf, size_t size)
{
        uint32_t node;
        int n;

        if (s->n_args < 5)
                return -EINVAL;
        if (strcmp(s->args[1], "all") == 0)
                n = snprintf(buf, size, "sys/kernel/mm/hugepages/hugepages-%skB/nr_hugepages", s->args[0]);
        else if (sysfs_parse_uint(s->args[1], 65535, &node) >= 0)
                n = snprintf(buf, size, "sys/devices/system/node/node%u/hugepages/hugepages-%skB/nr_hugepages", node,
                             s->args[0]);
        else
                return -EINVAL;
        return n > 0 && (size_t)n < size ? 0 : -EINVAL;
}

static int read_count(const struct handoff_ctx *ctx, const char *path, uint32_t *ret)
{
        char buf[32];
        ssize_t n = sysroot_read_attr(ctx->sr, path, buf, sizeof(buf));

        return n < 0 ? (int)n : sysfs_parse_uint(buf, UINT32_MAX, ret);
}

static int hugepages_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        uint64_t budget = ctx->hugepages_usec ? ctx->hugepages_usec : DEFAULT_HUGEPAGES_USEC;
        uint64_t deadline = clock_now(ctx->clock) + budget;
        uint32_t before, target, got = 0, last;
        bool may_compact, compacted = false, ever_compacted = false;
        char path[160];
        int r;

        if (pool_path(s, path, sizeof(path)) < 0 || sysfs_parse_uint(s->args[2], UINT32_MAX, &before) < 0 ||
            sysfs_parse_uint(s->args[3], UINT32_MAX, &target) < 0 || target < before)
                return step_fail(message, -EINVAL, "malformed hugepages step");
        may_compact = strcmp(s->args[4], "compact") == 0;
        last = before;
        /* Each round either brings pages or compacts once more: it ends, even before the deadline. */
        for (;;) {
                r = kernel_write(ctx->kernel, path, s->args[3]);
                if (r < 0)
                        return step_fail(message, r, "cannot set /%s to %s: %s", path, s->args[3], strerror(-r));
                r = read_count(ctx, path, &got);
                if (r < 0)
                        return step_fail(message, r, "cannot read /%s: %s", path, strerror(-r));
                if (got >= target)
                        return 0;
                if (clock_now(ctx->clock) >= deadline)
                        break;
                if (got > last) { /* the kernel found more: ask again */
                        last = got;
                        compacted = false;
                        continue;
                }
                if (!may_compact || compacted)
                        break;
                r = kernel_write(ctx->kernel, "proc/sys/vm/compact_memory", "1");
                if (r < 0)
                        return step_fail(message, r, "cannot compact memory: %s", strerror(-r));
                compacted = ever_compacted = true;
        }
        return step_fail(message, -ENOMEM,
                         "the kernel gave %u of the %u %s hugepages the guest needs%s (the pool had %u); reserve "
                         "them at boot (hugepages=%u on the kernel command line), give the guest less memory, or "
                         "use 1 GiB pages reserved at boot (default_hugepagesz=1G hugepagesz=1G hugepages=N)",
                         got > before ? got - before : 0, target - before, hugepage_size_name(s->args[0]),
                         ever_compacted ? " after compacting memory" : "", before, target);
}

/* Back to the size it had: what the step added goes, pages that were there stay. */
static int hugepages_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        char path[160];
        int r;

        if (pool_path(s, path, sizeof(path)) < 0)
                return step_fail(message, -EINVAL, "malformed hugepages step");
        r = kernel_write(ctx->kernel, path, s->args[2]);
        return r < 0 ? step_fail(message, r, "cannot set /%s back to %s: %s", path, s->args[2], strerror(-r)) : 0;
}

const struct step_ops step_hugepages_ops = {hugepages_apply, hugepages_revert};
