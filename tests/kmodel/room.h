/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The part of the kernel model (kmodel.h) that the "make room" steps talk to: hugepage pools,
 * memory compaction, cgroup v2 cpusets and stopped processes. kmodel.c hands it every write and
 * signal first; it answers the ones that are its own. The rules follow the kernel:
 *
 *   hugepages  sys/kernel/mm/hugepages/hugepages-SIZEkB/nr_hugepages ← N and the same file of
 *              sys/devices/system/node/nodeK/hugepages/...: growing the pool gives at most the
 *              pages the limit allows (kmodel_hugepage_limit), and the write still returns 0, as
 *              the kernel does when memory is short; shrinking always works. free_hugepages
 *              follows (no page is in use); the global pool is the sum of the nodes where the
 *              tree has nodes. -EINVAL for a value that is not a number.
 *   compaction proc/sys/vm/compact_memory ← 1 raises the limit to its after-compaction value;
 *              proc/sys/vm/drop_caches ← N changes nothing visible (both files are write-only).
 *   cgroups    sys/fs/cgroup/CG/cgroup.subtree_control ← "+cpuset" / "-cpuset": the controller
 *              must be in CG's cgroup.controllers (-ENOENT otherwise); enabling gives each child
 *              cgroup an empty cpuset.cpus and a cpuset.cpus.effective, disabling takes them
 *              away again (-EBUSY while a child enables cpuset for its own children).
 *              CG/cpuset.cpus ← LIST (-ENOENT without the controller): a CPU list of online CPUs (sys/devices/system/cpu/online),
 *              -EINVAL otherwise; stored canonical, "" resets it.
 *   signals    SIGSTOP sets the state in proc/PID/stat to 'T', SIGCONT puts back what it was. */

#include <stdbool.h>
#include <sys/types.h>

struct room_pool {
        unsigned long size_kb;
        long limit, after_compact; /* pages in the whole pool; < 0: no limit */
};

struct room_model {
        struct room_pool *pools;
        size_t n_pools;
        bool compacted;
        struct {
                pid_t pid;
                char state;
        } *stopped;
        size_t n_stopped;
};

void room_model_done(struct room_model *rm);

/* 1 and *ret (0 or -errno) when path (canonical, relative to the root) is one of the files this
 * part models, 0 when it is not. */
int room_write(struct room_model *rm, int rootfd, const char *path, const char *value, int *ret);
/* The same for a signal to a live process: SIGSTOP and SIGCONT are modelled here. */
int room_signal(struct room_model *rm, int rootfd, pid_t pid, int sig, int *ret);
int room_set_limit(struct room_model *rm, unsigned long size_kb, long limit, long after_compact);
