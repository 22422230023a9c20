/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Whole hand-overs: attach runs a plan under a new journal; undo (release, recover) reverts
 * what an existing journal says is applied. The hand-over's use of the core's transactions
 * (change/transaction.h): its domain (handoff_domain), its journal in run/gpu-handoff with its
 * words. The verbs call these and report; tests call them on the kernel model. The caller holds
 * the lock (change_lock_take() on HANDOFF_RUN_DIR). */

#include "basic/proc.h"
#include "change/engine.h"
#include "change/journal.h"
#include "handoff/context.h"
#include "handoff/plan.h"

/* tmpfs: a reboot clears the journal together with the runtime state it describes. */
#define HANDOFF_RUN_DIR "run/gpu-handoff"
#define HANDOFF_JOURNAL_PATH HANDOFF_RUN_DIR "/journal"
#define HANDOFF_LOCK_PATH HANDOFF_RUN_DIR "/lock"

/* The hand-over's journal: HANDOFF_JOURNAL_PATH, "gpu-handoff journal 1", outcomes "attached",
 * "rolled-back" and "released". */
extern const struct journal_spec handoff_journal;

/* 0: every step done, the journal says "attached". Otherwise the failed step's -errno with
 * (*ret_run)->host_intact saying whether the rollback put everything back (the journal is then
 * removed, unless (*ret_run)->journal_error says it could not record that) or the host needs
 * recover (the journal stays). *ret_run is NULL when the journal could not be started (*ret_error
 * says why): then nothing was changed. That includes a plan whose records could outgrow the
 * journal's limit (-EFBIG) and no room in run/ for them (-ENOSPC): the room for every record
 * of the transition, reverts included, is reserved before the first change. */
int transition_attach(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                      const struct plan *p, struct engine_run **ret_run, char **ret_error);

/* Reverts every step of the journal that may be applied, as a new phase ("release", "recover"),
 * and removes the journal when all are. 0, or -errno (the journal stays for recover): with no
 * *ret_run when the new phase could not be written (nothing was changed), -EIO when everything
 * was undone but the journal could not say so ((*ret_run)->journal_error). The run
 * borrows *ret_steps: free it first, then steps_free(). -ENOENT: there is no journal. */
int transition_undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                    const char *phase, struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n,
                    char **ret_error);

/* What to say after an undo (transition_undo()'s r and run, for phase) that the journal kept from
 * finishing, for release, recover and the hook alike: free space in run_dir ("ROOT/run"), then
 * recover (or the phase again when not even its record was written) is the fix, never dropping
 * the only record. One line without a prefix, malloc'd; NULL when the journal is not what
 * stopped it, or out of memory. */
char *transition_journal_trouble(const char *run_dir, const char *phase, int r, const struct engine_run *run);
