/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* gpu-handoff reset: the plan that resets one PCI device nobody uses, and the check that it came
 * back. A reset is the kernel's (reset_method, Linux 5.15+): the plan chooses a method from what
 * the kernel offers and the quirks database, changes reset_method only for the reset (a journaled
 * step with an exact revert) and refuses a secondary bus reset while another device behind the
 * same bridge is in use, naming each one and who uses it. Pure planning: nothing here changes
 * the machine; the steps run under the reset journal (HANDOFF_RESET_DIR). */

#include <stdbool.h>

#include "basic/strv.h"
#include "change/engine.h"
#include "change/journal.h"
#include "handoff/context.h"
#include "handoff/step.h"
#include "host/host.h"
#include "host/quirks.h"

/* Its own journal beside the hand-over's, under the same lock: a reset may run while a GPU is lent. */
#define HANDOFF_RESET_DIR "run/gpu-handoff/reset"
extern const struct journal_spec reset_journal;

struct reset_options {
        const char *method; /* flr, pm, bus, device_specific; NULL: the plan chooses */
        bool remove_rescan; /* remove the device and rescan its bridge after the reset */
        bool force;         /* reset a card whose quirks say resets hang it */
};

struct reset_plan {
        const struct pci_device *device;
        char method[32];  /* the method the reset uses: "flr", "bus", ...; "kernel" for the kernel's own order */
        char bridge[16];  /* the bridge of a secondary bus reset, "" otherwise */
        struct step *steps;
        size_t n_steps;
        struct strv notes; /* why this method, what the quirks say */
};

/* Plans the reset of the device named (an address, 01:00.0 or 0000:01:00.0) in h (read with
 * quirks). -EINVAL bad name or method, -ENODEV no such device, -EBUSY the device or (for a bus
 * reset) a device behind its bridge is in use, -EOPNOTSUPP no reset the kernel offers, -EPERM a
 * card whose quirks say a reset hangs it (without force); *ret_error one line saying what and
 * what to do. */
int reset_plan_make(const struct host *h, const char *name, const struct reset_options *opts,
                    struct reset_plan **ret, char **ret_error);
void reset_plan_free(struct reset_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct reset_plan *, reset_plan_free)

/* Who uses the device d, as lines ("bound to snd_hda_intel", "pid 812 pipewire (pipewire.service)
 * holds /dev/snd/controlC1", "its IOMMU group's /dev/vfio/3 is held by pid 4100 qemu-system-x86"
 * and the host's own uses, host/in-use.h): empty when a reset may hit it. 0 or -ENOMEM. */
int reset_device_users(const struct sysroot *sr, const struct pci_device *d, struct strv *ret);

/* Whether a device came back after a reset: its config space readable, the vendor ID there not
 * ffff, its power state D0 (where the kernel shows one). */
struct reset_health {
        bool present;         /* still on the bus */
        bool config_readable;
        bool vendor_ok;       /* config space's vendor ID is not ffff */
        char power_state[16]; /* "D0"; "" when the kernel shows none */
};
void reset_health_read(const struct sysroot *sr, const char *address, struct reset_health *ret);
/* True when it came back: present, readable, a vendor ID, D0 (or no power state shown). */
bool reset_health_ok(const struct reset_health *h);
/* "config space reads ffff (the device is gone from the bus)" etc.: what is wrong, for people. */
const char *reset_health_problem(const struct reset_health *h);

/* Runs the plan under the reset journal, then reverts what it changed for the reset (reset_method)
 * and removes the journal. 0: done and restored. Otherwise -errno: *ret_run (the apply's run; NULL
 * when the journal could not be started, nothing changed) says which step failed and whether the
 * rollback put everything back; -EUCLEAN when the reset ran but reset_method could not be
 * restored (the journal stays; reset_settle() finishes it). */
int reset_run(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
              const struct reset_plan *p, struct engine_run **ret_run, char **ret_error);
/* Finishes a reset a crash interrupted: reverts what its journal says may be applied. 0 when
 * there was none (*ret_found false) or it is done; -errno with *ret_error otherwise. */
int reset_settle(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                 bool *ret_found, char **ret_error);
