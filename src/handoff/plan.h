/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The attach plan: which devices go to vfio-pci and the ordered steps that take them from the
 * host, decided from a host snapshot alone. Pure data: nothing here changes the machine. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "basic/strv.h"
#include "config/config.h"
#include "handoff/context.h"
#include "handoff/step.h"
#include "host/host.h"

struct plan_options {
        bool with_group; /* lend the other endpoints of the IOMMU group too */
        bool force;      /* lend a device that is not a GPU */
        bool yes;        /* lend the GPU that drives the host's display (single-GPU hosts) */
        bool terminate;  /* stop the processes that hold the GPU instead of refusing */
        const char *consent; /* how to give the consent yes stands for, in a refusal; NULL: --yes */
        /* Devices the caller binds to vfio-pci itself (libvirt's managed='yes' hostdevs): the plan
         * frees them from the host but has no bind step for them, nor a wait for their group. */
        char *const *caller_binds;
        size_t n_caller_binds;
};

struct plan {
        /* The GPU the plan is for, a GPU of the snapshot: the default one plan_attach() picked when
         * no device was named, else the first named device that is a GPU (NULL: none is). */
        const struct gpu *gpu;
        struct pci_device **devices; /* everything that goes to vfio-pci, by address */
        size_t n_devices;
        struct step *steps;
        size_t n_steps;
        struct strv notes; /* what the plan chose not to do, and why */
};

/* Picks the devices (named ones, or the default: the only GPU that drives no display of the host,
 * one on vfio-pci first, else on a single-GPU host its display GPU with opts->yes), checks them
 * and plans. Every device of the lend set is checked, whatever brought it in: none may hold what
 * the host runs on (a mounted file system, swap, the default route), and one that drives the
 * host's display needs opts->yes.
 * Refusals are -EINVAL (bad name), -ENODEV (no such device), -EPERM (needs --yes, --force or
 * --with-group) or -ENOENT (nothing to lend), with *ret_error one line saying what and what to do. */
int plan_attach(const struct host *h, char *const *names, size_t n_names, const struct plan_options *opts,
                struct plan **ret, char **ret_error);
/* True when every device is on vfio-pci already (bound at boot, or lent by hand): attach then
 * has nothing to change, and nothing to give back later. */
bool plan_already_lent(const struct plan *p);
/* Reads into h the room facts (host_read_room()) that planning c's room needs. self: this process,
 * which with its ancestors (a libvirt daemon running the hook) is never stopped or frozen.
 * -ENOMEM only. */
int plan_room_read(struct host *h, const struct config *c, const struct process_id *self);
/* Appends the steps that make room for the guest, as the configuration asks, in this order:
 * freeze units, stop processes, confine the host to its housekeeping CPUs (systemd's AllowedCPUs,
 * or cgroupfs without systemd; the writeback workqueue; IRQs), drop caches, compact, reserve
 * hugepages. Planned from h alone (its room facts from plan_room_read()) but for AllowedCPUs,
 * asked through ctx->units where there is a bus; the values the steps restore are those facts,
 * so the journal holds them before anything changes.
 * -EINVAL/-ENOENT/-EOPNOTSUPP with *ret_error one line saying what and what to do. */
int plan_room(const struct host *h, const struct handoff_ctx *ctx, const struct config *c, struct plan *p,
              char **ret_error);
/* For the plan builders: append a step (arguments: a NULL-terminated list of strings, at most
 * STEP_MAX_ARGS: -E2BIG beyond, the step left in the plan for plan_free()); a note goes in with
 * strv_addv(&p->notes, ...). */
int plan_add_stepv(struct plan *p, enum step_kind kind, const char *skip, va_list ap);
void plan_free(struct plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free)
