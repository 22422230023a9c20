/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The hand-over's step kinds: the domain the engine (change/engine.h) runs for attach, release
 * and recover. A step is the core's struct step (change/step.h); its kind is one of the constants
 * below, an index into handoff_domain's table (step.c), where each kind has its name, its line
 * for people and its apply/revert pair (the step-*.c files). */

#include <stddef.h>

#include "change/step.h"

enum step_kind {
        STEP_INHIBIT_SLEEP,      /* no args: a logind sleep inhibitor held while the GPU is lent */
        STEP_STOP_UNIT,          /* unit [why]: stop a systemd unit, start it again on the way back */
        STEP_CHECK_HOLDERS,      /* refuse|terminate addresses...: what to do with processes holding the
                                  * devices' nodes: name them and fail, or TERM, then KILL them */
        STEP_UNBIND_VTCON,       /* vtconN: fbcon lets go of the framebuffer */
        STEP_UNBIND_FRAMEBUFFER, /* platform-device driver: release the firmware framebuffer */
        STEP_UNBIND_DRIVER,      /* address driver */
        STEP_UNLOAD_MODULE,      /* module */
        STEP_LOAD_MODULE,        /* module, then the modules it brings in (unloaded again on release) */
        STEP_BIND_VFIO,          /* address: driver_override + drivers_probe */
        STEP_WAIT_VFIO_GROUP,    /* group: /dev/vfio/N appears */
        /* Making room for the guest (plan-room.c). Steps that restore a value carry the value read
         * when the plan was made, so the journal holds it before anything changes. */
        STEP_FREEZE_UNIT,        /* unit: FreezeUnit, ThawUnit on the way back */
        STEP_STOP_PROCESS,       /* pid start-time comm: SIGSTOP, SIGCONT on the way back */
        STEP_ALLOWED_CPUS,       /* unit cpus previous: systemd's runtime AllowedCPUs ("" = unset) */
        STEP_CGROUP_CPUSET,      /* cgroup ("": the root): enable the cpuset controller for its children */
        STEP_CGROUP_CPUS,        /* cgroup cpus previous: cgroupfs cpuset.cpus, without systemd */
        STEP_WRITEBACK_CPUMASK,  /* mask previous: the writeback workqueue's cpumask (hex) */
        STEP_IRQ_AFFINITY,       /* irq cpus previous: /proc/irq/N/smp_affinity_list */
        STEP_DROP_CACHES,        /* no args: sync, then drop the page cache (nothing to undo) */
        STEP_COMPACT_MEMORY,     /* no args: compact memory (nothing to undo) */
        STEP_HUGEPAGES,          /* size-kB node|all before target compact|no-compact: nr_hugepages to target
                                  * (compacting between tries when allowed), back to before */
        /* Resets (gpu-handoff reset, release of a card the quirks say needs one): step-reset.c. */
        STEP_RESET_METHOD,       /* address method previous: reset_method to method, back to previous
                                  * ("default" written where previous was the kernel's default) */
        STEP_RESET_DEVICE,       /* address function|bus [bridge]: reset it (nothing to undo); bus: a
                                  * secondary bus reset of everything below bridge */
        STEP_REMOVE_RESCAN,      /* address bridge: remove the device, rescan its bridge ("": the bus) */
        STEP_RETURN_RESET,       /* address device_specific|none [previous]: nothing; on the way back,
                                  * reset the card (reset_method back to previous after; none: only
                                  * check), and keep one that does not answer on vfio-pci */
        _STEP_KIND_MAX,
};

/* The hand-over's kinds, indexed by enum step_kind. */
extern const struct change_domain handoff_domain;

/* "stop-unit": the name the journal and --json use. */
const char *step_kind_to_string(enum step_kind k);
/* _STEP_KIND_MAX for a name this version does not know. */
enum step_kind step_kind_from_string(const char *s);
/* One line for people: "stop display-manager.service (sddm.service) and start it again after". */
char *step_describe(const struct step *s);
/* "2 MiB" for a hugepage size in kB as the kernel names its pools ("2048"). */
const char *hugepage_size_name(const char *kb);
