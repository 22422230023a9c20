/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
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

int module_of_driver(const struct sysroot *sr, const char *driver, char **ret)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        char path[600], name[256];
        int r;

        /* The kernel links the driver to its module; built-in drivers have no module link. */
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
        {
                _cleanup_close_ int fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
                if (fd >= 0 && read_link_basename_at(fd, "module", name, sizeof(name)) >= 0) {
                        *ret = strdup(name);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        /* Fall back to the reverse links, sys/module/M/drivers/pci:DRIVER. */
        r = sysroot_opendir(sr, "sys/module", &dir);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;
        while ((de = readdir(dir))) {
                _cleanup_close_ int fd = -1;
                if (de->d_name[0] == '.')
                        continue;
                /* Through the root: sys/module/M may be a link, absolute in a fake tree. */
                snprintf(path, sizeof(path), "sys/module/%s/drivers/pci:%s", de->d_name, driver);
                fd = sysroot_openat(sr, path, O_PATH | O_NOFOLLOW);
                if (fd >= 0) {
                        *ret = strdup(de->d_name);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

/* Entry names of a directory below the root, filtered by keep(), sorted: plans built from them
 * must not depend on the order a filesystem returns entries in. */
static int list_dir(const struct sysroot *sr, const char *path, bool (*keep)(const char *), char ***ret,
                    size_t *ret_n)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct strv v = {0};
        struct dirent *de;
        int r;

        r = sysroot_opendir(sr, path, &dir);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' || !keep(de->d_name))
                        continue;
                if (strv_addf(&v, "%s", de->d_name) < 0) {
                        strv_done(&v);
                        return -ENOMEM;
                }
        }
        if (v.n > 1)
                qsort(v.v, v.n, sizeof(*v.v), strv_compare);
        *ret = v.v;
        *ret_n = v.n;
        return 0;
}

static bool any_name(const char *name)
{
        return true;
}

static bool pci_driver_entry(const char *name)
{
        return strncmp(name, "pci:", 4) == 0;
}

static bool address_entry(const char *name)
{
        struct pci_addr a;
        return pci_addr_parse(name, &a) >= 0;
}

int module_holders(const struct sysroot *sr, const char *module, char ***ret, size_t *ret_n)
{
        char path[320];

        snprintf(path, sizeof(path), "sys/module/%s/holders", module);
        return list_dir(sr, path, any_name, ret, ret_n);
}

int module_bound_devices(const struct sysroot *sr, const char *module, struct pci_addr **ret, size_t *ret_n)
{
        char **drivers = NULL, **devices = NULL, path[600];
        size_t n_drivers = 0, n_devices = 0, n = 0;
        struct pci_addr *list = NULL;
        int r;

        snprintf(path, sizeof(path), "sys/module/%s/drivers", module);
        r = list_dir(sr, path, pci_driver_entry, &drivers, &n_drivers);
        for (size_t i = 0; r >= 0 && i < n_drivers; i++) {
                struct pci_addr *p;
                snprintf(path, sizeof(path), "sys/module/%s/drivers/%s", module, drivers[i]);
                r = list_dir(sr, path, address_entry, &devices, &n_devices);
                if (r < 0)
                        break;
                p = realloc(list, (n + n_devices + 1) * sizeof(*p));
                if (!p) {
                        r = -ENOMEM;
                        break;
                }
                list = p;
                for (size_t j = 0; j < n_devices; j++)
                        pci_addr_parse(devices[j], &list[n++]);
                strv_free(devices, n_devices);
                devices = NULL;
        }
        strv_free(drivers, n_drivers);
        strv_free(devices, n_devices);
        if (r < 0) {
                free(list);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static int add_unique(struct strv *v, const char *name)
{
        char norm[256];

        normalize(name, norm, sizeof(norm));
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i], norm) == 0)
                        return 0;
        return strv_addf(v, "%s", norm) < 0 ? -ENOMEM : 1;
}

static int add_module_list(const struct sysroot *sr, const struct module_index *mi, struct kmod_list *list,
                           struct strv *v, int depth);

/* name, then what it needs, and its soft dependencies (vfio's post: vfio_iommu_type1). */
static int add_module(const struct sysroot *sr, const struct module_index *mi, struct kmod_module *m,
                      struct strv *v, int depth)
{
        struct kmod_list *deps, *pre = NULL, *post = NULL;
        int r;

        if (depth > 32)
                return -ELOOP;
        if (module_state_get(sr, mi, kmod_module_get_name(m)) != MODULE_AVAILABLE)
                return 0;
        r = add_unique(v, kmod_module_get_name(m));
        if (r <= 0)
                return r;
        deps = kmod_module_get_dependencies(m);
        r = add_module_list(sr, mi, deps, v, depth + 1);
        kmod_module_unref_list(deps);
        if (r >= 0 && kmod_module_get_softdeps(m, &pre, &post) >= 0) {
                r = add_module_list(sr, mi, pre, v, depth + 1);
                if (r >= 0)
                        r = add_module_list(sr, mi, post, v, depth + 1);
                kmod_module_unref_list(pre);
                kmod_module_unref_list(post);
        }
        return r;
}

static int add_module_list(const struct sysroot *sr, const struct module_index *mi, struct kmod_list *list,
                           struct strv *v, int depth)
{
        struct kmod_list *it;
        int r = 0;

        kmod_list_foreach(it, list) {
                struct kmod_module *m = kmod_module_get_module(it);
                r = add_module(sr, mi, m, v, depth);
                kmod_module_unref(m);
                if (r < 0)
                        break;
        }
        return r;
}

int module_load_set(const struct sysroot *sr, const struct module_index *mi, const char *name, char ***ret,
                    size_t *ret_n)
{
        struct kmod_list *list = NULL;
        struct strv v = {0};
        int r;

        if (!mi || !mi->ctx)
                r = add_unique(&v, name); /* no index: at least the module itself */
        else {
                r = kmod_module_new_from_lookup(mi->ctx, name, &list);
                if (r >= 0)
                        r = add_module_list(sr, mi, list, &v, 0);
                kmod_module_unref_list(list);
        }
        if (r < 0) {
                strv_done(&v);
                return r;
        }
        *ret = v.v;
        *ret_n = v.n;
        return 0;
}

int module_parameters(const struct module_index *mi, const char *name, char ***ret)
{
        struct kmod_module *m = NULL;
        struct kmod_list *info = NULL, *it;
        struct strv v = {0};
        char norm[256];
        int r = 0;

        normalize(name, norm, sizeof(norm));
        if (!mi || !mi->ctx || kmod_module_new_from_name(mi->ctx, norm, &m) < 0)
                return 0;
        if (kmod_module_get_info(m, &info) < 0 || !info) {
                kmod_module_unref(m);
                return 0;
        }
        kmod_list_foreach(it, info) {
                const char *key = kmod_module_info_get_key(it), *value = kmod_module_info_get_value(it);
                size_t n;
                char param[256];

                if (!key || !value || (strcmp(key, "parmtype") != 0 && strcmp(key, "parm") != 0))
                        continue;
                n = strcspn(value, ":");
                if (n == 0 || n >= sizeof(param) || value[n] != ':')
                        continue;
                memcpy(param, value, n);
                param[n] = '\0';
                r = add_unique(&v, param);
                if (r < 0)
                        break;
        }
        kmod_module_info_free_list(info);
        kmod_module_unref(m);
        if (r < 0) {
                strv_done(&v);
                return -ENOMEM;
        }
        /* A module without any parameter still had modinfo: an empty list is an answer. */
        *ret = strv_take(&v);
        if (!*ret)
                return -ENOMEM;
        qsort(*ret, strv_length(*ret), sizeof(**ret), strv_compare);
        return 1;
}
