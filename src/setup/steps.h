/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Host setup's step kinds on the change core, and a plan (setup/plan.h) turned into steps. The
 * order of the steps is what makes undo and rollback exact:
 *
 *   record                 what setup did (arguments, devices, bootloader), for `setup status`
 *   regenerate-on-undo ... one per REGENERATE command, in reverse: their reverts run last, after
 *                          every file is back, so that grub.cfg and the initramfs are rebuilt
 *                          from the restored files and the next boot is the old one; each stops
 *                          what is left of every run step's group first, never regenerating
 *                          beside it (its own command, run while reverting, journals no group)
 *   make-dir ...           the directories our drop-ins need
 *   create-file / replace-file / remove-file ...
 *   run ...                the commands in plan order (a TOOL command's revert takes exactly its
 *                          arguments away again; a REGENERATE one's revert is its guard above).
 *                          Each journals its command's process group (note "pgid") before the
 *                          command starts; its revert first stops what is left of that group (a
 *                          killed owner's generator leaves its children running), and fails,
 *                          staying for recover, when some of it still runs after a few seconds
 *   check-lines / check-output ...
 *                          the result read back from what the commands generated; a check that
 *                          fails rolls everything back ("exit status 0 but nothing changed")
 *
 * A command's argv is one step argument: its words joined by '\n' (a word never holds one). */

#include <stddef.h>

#include "change/journal.h"
#include "change/step.h"
#include "setup/plan.h"

enum setup_step_kind {
        SETUP_STEP_RECORD,
        SETUP_STEP_REGENERATE_ON_UNDO,
        SETUP_STEP_MAKE_DIR,
        SETUP_STEP_CREATE_FILE,
        SETUP_STEP_REPLACE_FILE,
        SETUP_STEP_REMOVE_FILE,
        SETUP_STEP_RUN,
        SETUP_STEP_CHECK_LINES,
        SETUP_STEP_CHECK_OUTPUT,
        _SETUP_STEP_MAX,
};

extern const struct change_domain setup_domain;
extern const struct journal_spec setup_journal;

/* How long one command may run: dracut --regenerate-all over several kernels takes minutes. */
#define SETUP_COMMAND_TIMEOUT_USEC (20 * 60 * UINT64_C(1000000))

/* The steps of a plan (with its file changes as file steps, and make-dir steps for the missing
 * directories above new files, found below sr). -EINVAL for an argv word holding '\n'. */
int setup_steps_from_plan(const struct sysroot *sr, const struct setup_plan *p, struct step **ret, size_t *ret_n);

/* A record step's facts, from its arguments. */
struct setup_record {
        const char *args_added; /* kernel arguments, space-separated */
        const char *vfio;       /* addresses, space-separated */
        const char *bootloader; /* "grub"... */
        const char *initramfs;  /* "" when none */
};
int setup_record_parse(const struct step *s, struct setup_record *ret);

/* argv <-> one step argument. */
char *setup_argv_join(char *const *argv);
char **setup_argv_split(const char *joined);

/* Whether a journal holds only what setup writes: its own kinds, absolute paths without "..",
 * commands whose program is one setup runs (update-grub, dracut ...). Undo runs the commands a
 * journal names: one naming anything else is refused as a whole. */
int setup_journal_trusted(const struct journal_state *st, char **ret_error);
