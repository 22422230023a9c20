/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2 facts below sys/fs/cgroup, for the cgroups a plan names and their parents. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "host/cgroup.h"

/* "0-3" from a cpuset file; "" when it is empty or missing (not set). */
static int read_cpulist(const struct sysroot *sr, const char *path, char **ret)
{
        uint64_t set[BITMAP_WORDS(CPULIST_BITS)] = {0};
        char buf[4096];
        ssize_t n = sysroot_read_attr(sr, path, buf, sizeof(buf));

        if (n == -ENOENT)
                buf[0] = 0;
        else if (n < 0)
                return (int)n;
        if (buf[0] && cpulist_parse(buf, set, CPULIST_BITS) < 0)
                return -EINVAL;
        *ret = cpulist_format(set, CPULIST_BITS);
        return *ret ? 0 : -ENOMEM;
}

static int read_one(const struct sysroot *sr, char *path, struct cgroup_info *ret)
{
        _cleanup_free_ char *dir = NULL, *control = NULL, *cpus = NULL;
        char buf[256];

        *ret = (struct cgroup_info){.path = path};
        if (asprintf(&dir, "sys/fs/cgroup%s%s", *path ? "/" : "", path) < 0 ||
            asprintf(&control, "%s/cgroup.subtree_control", dir) < 0 || asprintf(&cpus, "%s/cpuset.cpus", dir) < 0)
                return -ENOMEM;
        ret->exists = sysroot_exists(sr, dir);
        ret->cpuset_enabled = sysroot_read_attr(sr, control, buf, sizeof(buf)) >= 0 && word_in_list(buf, "cpuset");
        ret->cpus_error = read_cpulist(sr, cpus, &ret->cpus);
        return ret->cpus_error == -ENOMEM ? -ENOMEM : 0;
}

static int add(const struct sysroot *sr, struct cgroup_facts *f, const char *path, size_t len)
{
        struct cgroup_info *v;
        char *copy;

        for (size_t i = 0; i < f->n; i++)
                if (strlen(f->v[i].path) == len && strncmp(f->v[i].path, path, len) == 0)
                        return 0;
        v = realloc(f->v, (f->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        f->v = v;
        copy = strndup(path, len);
        if (!copy)
                return -ENOMEM;
        if (read_one(sr, copy, &f->v[f->n]) < 0) {
                free(copy);
                free(f->v[f->n].cpus);
                return -ENOMEM;
        }
        f->n++;
        return 0;
}

int cgroup_facts_read(const struct sysroot *sr, char *const *paths, struct cgroup_facts *ret)
{
        struct cgroup_facts f = {.v2 = sysroot_exists(sr, "sys/fs/cgroup/cgroup.controllers")};
        int r = 0;

        for (char *const *p = paths; r >= 0 && p && *p; p++) {
                /* Each level of "a.slice/b.slice": its parent ("" for the root, then "a.slice"). */
                for (size_t start = 0; r >= 0;) {
                        const char *next = strchr(*p + start, '/');

                        r = add(sr, &f, *p, start ? start - 1 : 0);
                        if (!next)
                                break;
                        start = (size_t)(next - *p) + 1;
                }
                if (r >= 0)
                        r = add(sr, &f, *p, strlen(*p));
        }
        if (r < 0) {
                cgroup_facts_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

void cgroup_facts_done(struct cgroup_facts *f)
{
        for (size_t i = 0; i < f->n; i++) {
                free(f->v[i].path);
                free(f->v[i].cpus);
        }
        free(f->v);
        *f = (struct cgroup_facts){0};
}

const struct cgroup_info *cgroup_facts_find(const struct cgroup_facts *f, const char *path)
{
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->v[i].path, path) == 0)
                        return &f->v[i];
        return NULL;
}
