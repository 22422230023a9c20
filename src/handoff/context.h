/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a hand-over step needs to change the machine: the root, the kernel seam, a clock for waits
 * and the deadlines. One per command. The engine runs the steps in the core's context
 * (struct change_ctx, change/step.h), which points to this one (handoff_change_ctx()); a step gets
 * it back with handoff_ctx_of(). */

#include <stdint.h>

#include "basic/sysroot.h"
#include "basic/wait.h"
#include "change/step.h"
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

/* The core's context for the engine, pointing to ctx (which must outlive it). */
static inline struct change_ctx handoff_change_ctx(const struct handoff_ctx *ctx)
{
        return (struct change_ctx){.sr = ctx->sr, .clock = ctx->clock, .domain = ctx};
}

/* The hand-over's context of a step the engine runs. */
static inline const struct handoff_ctx *handoff_ctx_of(const struct change_ctx *change)
{
        return change->domain;
}

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
extern const struct step_ops step_reset_method_ops, step_reset_device_ops,
        step_remove_rescan_ops, step_return_reset_ops;                    /* step-reset.c */
/* The journal room of a reset-method step's note ("default" = yes|no), at most. */
#define STEP_RESET_NOTE_ROOM 256
/* The journal room a unit step's notes take (step-unit.c: the unit it stopped, whether systemd
 * was asked), at most: two notes with a unit name of 200 bytes, escaped. */
#define STEP_UNIT_NOTE_ROOM 1024

/* The driver bound to a PCI device now: 1 and its name, 0 when none, or -errno. */
int pci_current_driver(const struct sysroot *sr, const char *address, char *buf, size_t size);
