/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Whole transactions, for every domain: apply runs a plan's steps under a new journal; undo
 * reverts what an existing journal says is applied (release, recover, uninstall). The domain
 * (step kinds) and the journal's spec (where, which words) are parameters; the verbs of each
 * domain call these and report. The caller holds the lock (lock.h). */

#include "basic/proc.h"
#include "change/engine.h"
#include "change/journal.h"
#include "change/step.h"

/* What a transaction changes and where it keeps its journal. */
struct transaction {
        const struct change_domain *domain;
        const struct journal_spec *spec;
};

/* What the journal of these steps can grow to: the first phase and three after it (an undo and
 * two recovers; their commands are not known yet: as long as the first's, with 1 KiB to spare),
 * every step that is not skipped with its notes and revert rounds, the end records. */
size_t transaction_journal_bytes(const struct transaction *t, const char *phase, const char *devices,
                                 const char *command, const struct step *steps, size_t n);

/* Applies steps under a new journal whose first phase is phase ("attach"); devices and command
 * are the phase record's free text. 0: every step done, the journal says APPLIED. Otherwise the
 * failed step's -errno with (*ret_run)->host_intact saying whether the rollback put everything
 * back (the journal is then ended ROLLED_BACK and removed, unless (*ret_run)->journal_error says
 * it could not record that) or the machine needs recover (the journal stays). *ret_run is NULL
 * when the journal could not be started (*ret_error says why): then nothing was changed. That
 * includes steps whose records could outgrow the journal's limit (-EFBIG, "... more than its
 * limit ...") and no room in the journal's directory for them (-ENOSPC): the room for every
 * record of the transaction, reverts included, is reserved before the first change. */
int transaction_apply(const struct change_ctx *ctx, const struct transaction *t,
                      const struct process_id *self, const char *phase, const char *devices,
                      const char *command, const struct step *steps, size_t n, struct engine_run **ret_run,
                      char **ret_error);

/* Reverts every step of the journal that may be applied, as a new phase ("release", "recover"),
 * ends it UNDONE (or ROLLED_BACK when it never was APPLIED) and removes the journal. 0, or -errno
 * (the journal stays for recover): with no *ret_run when the new phase could not be written
 * (nothing was changed), -EIO when everything was undone but the journal could not say so
 * ((*ret_run)->journal_error). The run borrows *ret_steps: free it first, then steps_free().
 * -ENOENT: there is no journal. */
int transaction_undo(const struct change_ctx *ctx, const struct transaction *t,
                     const struct process_id *self, const char *command, const char *phase,
                     struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n, char **ret_error);
