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
        bool not_running;        /* the root is not running (no /proc: mounted from a live
                                  * USB): the checks below were not made */
        struct strv missing_args; /* added arguments /proc/cmdline lacks (after a reboot) */
        struct strv not_on_vfio;  /* bound devices not on vfio-pci (after a reboot) */
        bool iommu_off;           /* no IOMMU groups (after a reboot) */
};

/* 0 with *ret filled (SETUP_STATE_NONE when there is no journal); -errno with one line when
 * the journal cannot be read. */
int setup_status_read(const struct sysroot *sr, struct setup_status *ret, char **ret_error);
void setup_status_done(struct setup_status *s);

struct host;
struct quirk_db;
struct commands;
struct lg_request;
struct engine_run;
struct step;

/* What the user asked for. */
struct setup_request {
        char **vfio;            /* addresses named with --vfio, NULL-terminated (NULL: none) */
        const char *bootloader; /* --bootloader NAME, or NULL: detected */
        const char *initramfs;  /* --initramfs NAME, or NULL: detected */
        bool boot_gpu_ok;       /* --yes: bind the boot display's GPU too, having been told the way back */
        bool disable_idle_d3;   /* --disable-idle-d3: vfio_pci.disable_idle_d3=1 (cards stuck in D3) */
        /* --vendor-reset: the udev rule for the vendor-reset family of this database (setup/vendor-reset.h);
         * NULL: not asked */
        const struct quirk_db *vendor_reset;
        /* The system running now, when it is not the root's (a system mounted at --root from a
         * live USB, whose /proc is empty): its CPU is the root's CPU. NULL: the root is running. */
        const struct sysroot *running;
        /* --looking-glass (setup/looking-glass.h), or NULL. Without --vfio it is the whole plan:
         * no kernel argument, no bootloader, only Looking Glass's files. */
        const struct lg_request *looking_glass;
};

/* The plan for this host: the boot facts read and decided, the IOMMU arguments this CPU needs,
 * the boot-time binding of req->vfio (h: the host model; NULL when there is none to bind), and
 * every backend's part. 0 with *ret filled — ret->refused set when setup must not act (it
 * plans no file then); -errno with one line for a bad request (an unknown --bootloader) or
 * what cannot be read. */
int setup_plan_make(const struct sysroot *sr, const struct host *h, const struct setup_request *req,
                    struct setup_plan *ret, char **ret_error);

/* Applies a plan under setup's journal (the caller holds the lock). 0, or -errno with one line;
 * *ret_run and *ret_steps (freed by the caller: run first, then steps_free()) say what happened
 * to each step, as transaction_apply() does. */
int setup_apply(const struct sysroot *sr, const struct commands *cmds, const struct setup_plan *p,
                struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n, char **ret_error);

/* What `setup undo` will do, as a plan (files restored to their before-images, files setup made
 * removed, the revert commands in the order they run). -ENOENT when there is no journal. */
int setup_undo_plan(const struct sysroot *sr, struct setup_plan *ret, char **ret_error);
/* Undoes the journal's steps (phase "undo", or "recover" for an interrupted one). -ENOENT when
 * there is none. Like transaction_undo(). */
int setup_undo(const struct sysroot *sr, const struct commands *cmds, const char *phase, struct engine_run **ret_run,
               struct step **ret_steps, size_t *ret_n, char **ret_error);

/* A file undo would not overwrite: changed since setup wrote it. */
struct setup_conflict {
        char *path;
        char *before; /* what was there before setup (NULL: nothing) */
        size_t before_len;
        char *ours; /* what setup wrote */
        size_t ours_len;
        char *now; /* what is there now (NULL: nothing) */
        size_t now_len;
};
/* After an undo stopped at a changed file (-ESTALE): the three versions. -ENOENT when the
 * journal shows no such stop. */
int setup_conflict_read(const struct sysroot *sr, struct setup_conflict *ret, char **ret_error);
void setup_conflict_done(struct setup_conflict *c);
