/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The attach plan: which devices go to vfio-pci and the ordered steps that take them from the
 * host, decided from a host snapshot alone. Pure data: nothing here changes the machine. */

#include <stdbool.h>
#include <stddef.h>

#include "handoff/step.h"
#include "host/host.h"

struct plan_options {
        bool with_group; /* lend the other endpoints of the IOMMU group too */
        bool force;      /* lend a device that is not a GPU */
        bool yes;        /* lend the GPU that drives the host's display (single-GPU hosts) */
        bool terminate;  /* stop the processes that hold the GPU instead of refusing */
};

struct plan {
        struct pci_device **devices; /* everything that goes to vfio-pci, by address */
        size_t n_devices;
        struct step *steps;
        size_t n_steps;
        char **notes; /* what the plan chose not to do, and why */
        size_t n_notes;
};

/* Picks the devices (named ones, or the default: the only GPU that does not drive the host's
 * display, else on a single-GPU host the boot GPU with opts->yes), checks them and plans.
 * Refusals are -EINVAL (bad name), -ENODEV (no such device), -EPERM (needs --yes, --force or
 * --with-group) or -ENOENT (nothing to lend), with *ret_error one line saying what and what to do. */
int plan_attach(const struct host *h, char *const *names, size_t n_names, const struct plan_options *opts,
                struct plan **ret, char **ret_error);
/* True when every device is on vfio-pci already (bound at boot, or lent by hand): attach then
 * has nothing to change, and nothing to give back later. */
bool plan_already_lent(const struct plan *p);
void plan_free(struct plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free)
