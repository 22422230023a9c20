/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Host setup as a whole: from what the user asked (--vfio, --bootloader...) and the host to a
 * plan (setup/plan.h), a plan to journaled steps on the change core, and back: undo, status.
 * The verb (cli/verb-setup.c) prints and asks; this layer decides and acts. */

#include <stdbool.h>

#include "basic/sysroot.h"
#include "host/boot.h"
#include "setup/plan.h"

/* Setup's journal and before-images: persistent, they describe files that survive a reboot. */
#define SETUP_JOURNAL_DIR "var/lib/gpu-handoff/setup"
#define SETUP_JOURNAL_PATH SETUP_JOURNAL_DIR "/journal"

/* What setup's journal says, for `setup status` and doctor. */
enum setup_state {
        SETUP_STATE_NONE,        /* no journal: setup changed nothing (or was undone) */
        SETUP_STATE_APPLIED,     /* applied; see the fields below for the running kernel */
        SETUP_STATE_INTERRUPTED, /* a setup or undo did not finish: `setup undo` or `recover` settles it */
};

struct setup_status {
        enum setup_state state;
        char *since;             /* when it was applied, "2026-12-07 18:23" (local time), or NULL */
        struct strv args_added;  /* the kernel arguments it added */
        struct strv vfio;        /* the devices it binds at boot */
        struct strv files;       /* the files it created or changed */
        struct strv drifted;     /* of those, the ones someone changed since */
        bool reboot_pending;     /* applied after the running kernel booted */
        struct strv missing_args; /* added arguments /proc/cmdline lacks (after a reboot) */
        struct strv not_on_vfio;  /* bound devices not on vfio-pci (after a reboot) */
        bool iommu_off;           /* no IOMMU groups (after a reboot) */
};

/* 0 with *ret filled (SETUP_STATE_NONE when there is no journal); -errno with one line when
 * the journal cannot be read. */
int setup_status_read(const struct sysroot *sr, struct setup_status *ret, char **ret_error);
void setup_status_done(struct setup_status *s);
