/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The host's memory as a guest's hugepages depend on it: what /proc/meminfo says, and each
 * hugepage pool (the global one per page size, and each NUMA node's). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/sysroot.h"

struct hugepage_pool {
        uint64_t page_size; /* bytes */
        int node;           /* NUMA node; -1: the global pool (sys/kernel/mm/hugepages) */
        bool have_nr, have_free;
        uint32_t nr;        /* nr_hugepages */
        uint32_t free;      /* free_hugepages */
        uint32_t reserved;  /* resv_hugepages; only the global pool counts reservations (0 elsewhere) */
};

struct host_memory {
        uint64_t default_hugepage_size; /* meminfo's Hugepagesize; 2 MiB when it does not say */
        uint64_t available_bytes;       /* MemAvailable; 0 when unknown */
        bool zfs_loaded;                /* sys/module/zfs: its ARC and compaction do not get on */
        struct hugepage_pool *pools;    /* the pools whose directory exists */
        size_t n_pools;
};

/* Missing files leave the facts unknown; -ENOMEM only. */
int host_memory_read(const struct sysroot *sr, struct host_memory *ret);
void host_memory_done(struct host_memory *m);
/* The pool of that page size on node (-1: the global pool); NULL when the host has none. */
const struct hugepage_pool *hugepage_pool_find(const struct host_memory *m, uint64_t page_size, int node);
/* The free pages a guest can have: free pages promised to a hugetlbfs mount or mapping are not
 * its. */
uint32_t hugepage_pool_available(const struct hugepage_pool *p);
