/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The cgroup v2 facts CPU isolation plans from: whether the unified hierarchy is mounted at
 * sys/fs/cgroup, and for given cgroups and every parent of theirs whether it exists, whether it
 * hands the cpuset controller down, and the CPUs it allows. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"

struct cgroup_info {
        char *path;          /* below sys/fs/cgroup: "" for the root, "a.slice/a-b.slice" */
        bool exists;
        bool cpuset_enabled; /* "cpuset" in its cgroup.subtree_control (unreadable: no) */
        char *cpus;          /* cpuset.cpus as cpulist_format() writes it; "" when empty or missing */
        int cpus_error;      /* 0, or why cpuset.cpus could not be read (-EINVAL: not a CPU list) */
};

struct cgroup_facts {
        bool v2; /* sys/fs/cgroup/cgroup.controllers exists */
        struct cgroup_info *v;
        size_t n;
};

/* Reads each of paths (NULL-terminated) and every parent of each ("a/b": "", "a", "a/b"). */
int cgroup_facts_read(const struct sysroot *sr, char *const *paths, struct cgroup_facts *ret);
void cgroup_facts_done(struct cgroup_facts *f);
/* NULL when path was not read. */
const struct cgroup_info *cgroup_facts_find(const struct cgroup_facts *f, const char *path);
