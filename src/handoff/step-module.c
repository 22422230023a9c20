/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Module steps: unload exactly one module (the plan orders holders first), load one. Reloading
 * makes the kernel probe the module's devices again, which is how a GPU goes back to its driver. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/context.h"
#include "host/modules.h"

static bool loaded(const struct sysroot *sr, const char *name)
{
        char path[300];
        snprintf(path, sizeof(path), "sys/module/%s/initstate", name);
        return sysroot_exists(sr, path);
}

static int load(const struct handoff_ctx *ctx, const char *name, char **message)
{
        int r;

        if (loaded(ctx->sr, name))
                return 0;
        r = kernel_load_module(ctx->kernel, name);
        return r < 0 ? step_fail(message, r, "cannot load module %s: %s", name, strerror(-r)) : 0;
}

struct module_refs {
        const struct sysroot *sr;
        const char *name;
};

/* wait_until() condition: the module's use count is down to what its holder modules account for. */
static int only_holders_left(void *userdata)
{
        const struct module_refs *m = userdata;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char path[300], buf[32];
        uint32_t refcnt, holders = 0;
        int r;

        snprintf(path, sizeof(path), "sys/module/%s/refcnt", m->name);
        if (sysroot_read_attr(m->sr, path, buf, sizeof(buf)) < 0 || sysfs_parse_uint(buf, UINT32_MAX, &refcnt) < 0)
                return 1; /* gone, or no count to wait for: try again now */
        snprintf(path, sizeof(path), "sys/module/%s/holders", m->name);
        r = sysroot_opendir(m->sr, path, &d);
        while (r >= 0 && (de = readdir(d)))
                holders += de->d_name[0] != '.';
        return refcnt <= holders;
}

static int unload(const struct handoff_ctx *ctx, const char *name, char **message)
{
        struct module_refs refs = {ctx->sr, name};
        int r;

        if (!loaded(ctx->sr, name))
                return 0;
        r = kernel_unload_module(ctx->kernel, name);
        /* A reference on its way out (a process closing the device node as it exits, udev still
         * handling the unbind) also makes the kernel say EBUSY: wait for it, then once more. */
        if (r == -EBUSY && !only_holders_left(&refs) &&
            wait_until(ctx->clock, ctx->settle_usec, only_holders_left, &refs) == 0)
                r = kernel_unload_module(ctx->kernel, name);
        if (r == -EBUSY)
                return step_fail(message, r,
                                 "module %s is in use (a process still has the GPU open, or another module needs it)",
                                 name);
        return r < 0 ? step_fail(message, r, "cannot unload module %s: %s", name, strerror(-r)) : 0;
}

static int unload_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return unload(ctx, s->args[0], message);
}

static int unload_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return load(ctx, s->args[0], message);
}

static int load_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return load(ctx, s->args[0], message);
}

/* The module goes again only when it drives nothing (another GPU may have been lent meanwhile);
 * then what it brought in, as long as nothing else uses it: repeated passes, because each unload
 * frees the next one's holder. */
static int load_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        struct pci_addr *bound = NULL;
        size_t n = 0;
        bool progress = true;
        int r;

        r = module_bound_devices(ctx->sr, s->args[0], &bound, &n);
        free(bound);
        if (r < 0 || n > 0)
                return 0;
        while (progress) {
                progress = false;
                for (size_t i = 0; i < s->n_args; i++) {
                        if (!loaded(ctx->sr, s->args[i]))
                                continue;
                        r = kernel_unload_module(ctx->kernel, s->args[i]);
                        if (r >= 0)
                                progress = true;
                        else if (r != -EBUSY)
                                return step_fail(message, r, "cannot unload module %s: %s", s->args[i], strerror(-r));
                }
        }
        return 0; /* one still in use by something else stays: harmless */
}

const struct step_ops step_unload_module_ops = {unload_apply, unload_revert};
const struct step_ops step_load_module_ops = {load_apply, load_revert};
