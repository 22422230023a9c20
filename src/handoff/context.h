/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a step needs to change the machine: the root, the kernel seam, a clock for waits and the
 * deadlines. One per command. */

#include <stdint.h>

#include "basic/sysroot.h"
#include "basic/wait.h"
#include "handoff/kernel.h"
#include "handoff/step.h"
#include "handoff/units.h"

struct handoff_ctx {
        const struct sysroot *sr;
        const struct kernel *kernel;
        const struct clock_ops *clock; /* NULL: the real clock */
        uint64_t settle_usec;          /* how long a change may take to show (driver bound, /dev/vfio/N) */
        /* units seam (step-unit.c): systemd and logind over the system bus; NULL when there is no bus
         * (--root, no D-Bus), and a unit step the plan did not skip then fails, saying so. */
        struct units *units;
        uint64_t hugepages_usec; /* how long obtaining hugepages may take, compaction included */
};

struct step_ops {
        /* Makes the change; 0, or -errno with *message saying what went wrong in the user's terms. */
        int (*apply)(const struct handoff_ctx *ctx, const struct step *s, char **message);
        /* Puts back what apply changed. Idempotent: a change already undone is not an error. NULL when
         * the step changes nothing (a check, a wait). */
        int (*revert)(const struct handoff_ctx *ctx, const struct step *s, char **message);
};

const struct step_ops *step_ops_get(enum step_kind kind);

/* Implementations, one file per family: step-pci.c, step-module.c, step-console.c, step-holders.c. */
extern const struct step_ops step_unbind_driver_ops, step_bind_vfio_ops, step_wait_vfio_group_ops;
extern const struct step_ops step_load_module_ops, step_unload_module_ops;
extern const struct step_ops step_unbind_vtcon_ops, step_unbind_framebuffer_ops;
extern const struct step_ops step_check_holders_ops;
extern const struct step_ops step_inhibit_sleep_ops, step_stop_unit_ops; /* step-unit.c */
extern const struct step_ops step_freeze_unit_ops, step_allowed_cpus_ops; /* step-unit.c */
extern const struct step_ops step_stop_process_ops;                     /* step-process.c */
extern const struct step_ops step_cgroup_cpuset_ops, step_cgroup_cpus_ops, step_writeback_cpumask_ops,
        step_irq_affinity_ops;                                          /* step-cpu.c */
extern const struct step_ops step_drop_caches_ops, step_compact_memory_ops; /* step-memory.c */
extern const struct step_ops step_hugepages_ops;                          /* step-hugepages.c */

/* For the implementations: printf into *message (which may be NULL); returns error. */
int step_fail(char **message, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The driver bound to a PCI device now: 1 and its name, 0 when none, or -errno. */
int pci_current_driver(const struct sysroot *sr, const char *address, char *buf, size_t size);
