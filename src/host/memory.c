/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory facts from proc/meminfo, sys/kernel/mm/hugepages and sys/devices/system/node. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "host/memory.h"

static bool read_count(const struct sysroot *sr, const char *dir, const char *name, uint32_t *ret)
{
        char path[PATH_MAX], buf[32];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return sysroot_read_attr(sr, path, buf, sizeof(buf)) > 0 && sysfs_parse_uint(buf, UINT32_MAX, ret) >= 0;
}

/* The pools of one directory ("sys/kernel/mm/hugepages"): one "hugepages-2048kB" per size. */
static int read_pools(const struct sysroot *sr, const char *dir, int node, struct host_memory *m)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (sysroot_opendir(sr, dir, &d) < 0)
                return 0;
        while ((de = readdir(d))) {
                unsigned long long kb;
                char sub[PATH_MAX], end;
                struct hugepage_pool *v, p = {.node = node};

                if (sscanf(de->d_name, "hugepages-%llukB%c", &kb, &end) != 1 || kb == 0)
                        continue;
                p.page_size = (uint64_t)kb << 10;
                snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
                p.have_nr = read_count(sr, sub, "nr_hugepages", &p.nr);
                p.have_free = read_count(sr, sub, "free_hugepages", &p.free);
                if (!read_count(sr, sub, "resv_hugepages", &p.reserved))
                        p.reserved = 0;
                v = realloc(m->pools, (m->n_pools + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                m->pools = v;
                m->pools[m->n_pools++] = p;
        }
        return 0;
}

static int read_node_pools(const struct sysroot *sr, struct host_memory *m)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        if (sysroot_opendir(sr, "sys/devices/system/node", &d) < 0)
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                char dir[PATH_MAX], end;
                int node;

                if (sscanf(de->d_name, "node%d%c", &node, &end) != 1 || node < 0)
                        continue;
                snprintf(dir, sizeof(dir), "sys/devices/system/node/%s/hugepages", de->d_name);
                r = read_pools(sr, dir, node, m);
        }
        return r;
}

int host_memory_read(const struct sysroot *sr, struct host_memory *ret)
{
        struct host_memory m = {.default_hugepage_size = UINT64_C(2) << 20};
        _cleanup_free_ char *meminfo = NULL;
        unsigned long long kb;
        int r;

        if (sysroot_read_file(sr, "proc/meminfo", 64 * 1024, &meminfo, NULL) >= 0) {
                const char *p = strstr(meminfo, "Hugepagesize:");
                if (p && sscanf(p, "Hugepagesize: %llu kB", &kb) == 1)
                        m.default_hugepage_size = (uint64_t)kb << 10;
                p = strstr(meminfo, "MemAvailable:");
                if (p && sscanf(p, "MemAvailable: %llu kB", &kb) == 1)
                        m.available_bytes = (uint64_t)kb << 10;
        }
        m.zfs_loaded = sysroot_exists(sr, "sys/module/zfs");
        r = read_pools(sr, "sys/kernel/mm/hugepages", -1, &m);
        if (r >= 0)
                r = read_node_pools(sr, &m);
        if (r < 0) {
                host_memory_done(&m);
                return r;
        }
        *ret = m;
        return 0;
}

void host_memory_done(struct host_memory *m)
{
        free(m->pools);
        *m = (struct host_memory){0};
}

const struct hugepage_pool *hugepage_pool_find(const struct host_memory *m, uint64_t page_size, int node)
{
        for (size_t i = 0; i < m->n_pools; i++)
                if (m->pools[i].page_size == page_size && m->pools[i].node == node)
                        return &m->pools[i];
        return NULL;
}

uint32_t hugepage_pool_available(const struct hugepage_pool *p)
{
        return p->free > p->reserved ? p->free - p->reserved : 0;
}
