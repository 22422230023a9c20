/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <libkmod.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/modules.h"

struct module_index {
        struct kmod_ctx *ctx;
};

/* Library code never prints: libkmod's default logger writes to stderr. */
static void kmod_log_nothing(void *data, int priority, const char *file, int line, const char *fn,
                             const char *format, va_list args)
{
}

int module_index_open(const struct sysroot *sr, const char *kernel_release, struct module_index **ret)
{
        _cleanup_free_ char *rel = NULL, *dir = NULL, *etc = NULL, *run = NULL, *lib = NULL;
        struct module_index *mi;

        mi = calloc(1, sizeof(*mi));
        if (!mi)
                return -ENOMEM;
        if (kernel_release && asprintf(&rel, "lib/modules/%s", kernel_release) >= 0) {
                dir = sysroot_path(sr, rel);
                etc = sysroot_path(sr, "etc/modprobe.d");
                run = sysroot_path(sr, "run/modprobe.d");
                lib = sysroot_path(sr, "lib/modprobe.d");
        }
        if (dir && etc && run && lib && sysroot_exists(sr, rel)) {
                const char *config[] = {etc, run, lib, NULL};
                mi->ctx = kmod_new(dir, config);
                if (mi->ctx)
                        kmod_set_log_fn(mi->ctx, kmod_log_nothing, NULL);
        }
        *ret = mi;
        return 0;
}

void module_index_free(struct module_index *mi)
{
        if (!mi)
                return;
        kmod_unref(mi->ctx);
        free(mi);
}

/* The kernel names modules with underscores in /sys/module. */
static void normalize(const char *name, char *buf, size_t size)
{
        size_t i;
        for (i = 0; name[i] && i + 1 < size; i++)
                buf[i] = name[i] == '-' ? '_' : name[i];
        buf[i] = '\0';
}

static enum module_state lookup_index(const struct module_index *mi, const char *name)
{
        struct kmod_list *list = NULL, *it;
        enum module_state s = MODULE_MISSING;

        if (!mi || !mi->ctx || kmod_module_new_from_lookup(mi->ctx, name, &list) < 0)
                return MODULE_MISSING;
        kmod_list_foreach(it, list) {
                struct kmod_module *m = kmod_module_get_module(it);
                /* A built-in module has no file to load. */
                s = kmod_module_get_path(m) ? MODULE_AVAILABLE : MODULE_BUILTIN;
                kmod_module_unref(m);
                break;
        }
        kmod_module_unref_list(list);
        return s;
}

enum module_state module_state_get(const struct sysroot *sr, const struct module_index *mi, const char *name)
{
        char norm[256], path[320];

        normalize(name, norm, sizeof(norm));
        snprintf(path, sizeof(path), "sys/module/%s/initstate", norm);
        if (sysroot_exists(sr, path))
                return MODULE_LOADED;
        /* Built-in modules appear in /sys/module (when they have parameters) without initstate. */
        snprintf(path, sizeof(path), "sys/module/%s", norm);
        if (sysroot_exists(sr, path))
                return MODULE_BUILTIN;
        return lookup_index(mi, norm);
}

const char *module_state_to_string(enum module_state s)
{
        switch (s) {
        case MODULE_AVAILABLE:
                return "available";
        case MODULE_LOADED:
                return "loaded";
        case MODULE_BUILTIN:
                return "built-in";
        default:
                return "missing";
        }
}
