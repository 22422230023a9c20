/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The processes that run, as the root's procfs shows them: what freezing by name needs (each
 * one's name, state, parent and identity), and the line of processes a given one runs under with
 * their cgroups (stopping or freezing any of them would stop the hand-over itself). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"
#include "basic/proc.h"
#include "basic/sysroot.h"

struct process {
        struct process_id id;
        pid_t ppid;
        char state; /* /proc/PID/stat's letter: 'T' stopped, 'Z' zombie... */
        char comm[PROC_COMM_MAX];
        bool kernel_thread; /* kthreadd or its child, or no command line */
};

/* In pid order: plans and their journals must not depend on the order procfs lists them in. */
struct process_table {
        struct process *v;
        size_t n;
};

/* A process and the cgroup paths of its /proc/PID/cgroup lines ("/system.slice/x.service"). */
struct process_ancestor {
        pid_t pid;
        char **cgroups; /* NULL-terminated; NULL when unreadable */
};

#define PROCESS_ANCESTORS_MAX 64

/* The numeric entries of a directory below the root (proc, proc/irq), in numeric order. */
int proc_numbered_entries(const struct sysroot *sr, const char *path, int **ret, size_t *ret_n);

/* Every process whose stat can be read (one gone meanwhile is left out). -errno when proc cannot be
 * listed. */
int process_table_read(const struct sysroot *sr, struct process_table *ret);
void process_table_done(struct process_table *t);

/* pid and the processes it runs under, pid first, up to PROCESS_ANCESTORS_MAX, ending where a stat
 * cannot be read; pid itself is always there. */
int process_ancestors_read(const struct sysroot *sr, pid_t pid, struct process_ancestor **ret, size_t *ret_n);
void process_ancestors_free(struct process_ancestor *v, size_t n);
