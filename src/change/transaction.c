/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole transactions on the engine and the journal, for any domain (transaction.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "change/transaction.h"

size_t transaction_journal_bytes(const struct transaction *t, const char *phase, const char *devices,
                                 const char *command, const struct step *steps, size_t n)
{
        size_t later = journal_phase_bytes(phase, devices, command) + 1024;
        size_t longest_end = 0;
        size_t bytes;

        for (unsigned o = JOURNAL_OUTCOME_APPLIED; o < _JOURNAL_OUTCOME_MAX; o++)
                if (strlen(t->spec->outcomes[o]) > longest_end)
                        longest_end = strlen(t->spec->outcomes[o]);
        bytes = strlen(t->spec->magic) + 1 + journal_phase_bytes(phase, devices, command) + 3 * later +
                2 * (strlen("end ") + longest_end + 1);
        for (size_t i = 0, journaled = 0; i < n; i++) {
                const struct change_kind *kind = change_domain_kind(t->domain, steps[i].kind);

                if (!steps[i].skip && kind)
                        bytes +=
                            journal_step_bytes(journaled++, kind->name, (const char *const *)steps[i].args,
                                               steps[i].n_args, kind->note_room);
        }
        return bytes;
}

int transaction_apply(const struct change_ctx *ctx, const struct transaction *t,
                      const struct process_id *self, const char *phase, const char *devices,
                      const char *command, const struct step *steps, size_t n, struct engine_run **ret_run,
                      char **ret_error)
{
        _cleanup_journal_ struct journal *j = NULL;
        struct engine_run *run = NULL;
        size_t bytes;
        int r;

        *ret_run = NULL;
        /* Refused before the first change: a journal that cannot record the reverts could not
         * record what a rollback, release or recover did either. */
        bytes = transaction_journal_bytes(t, phase, devices, command, steps, n);
        if (bytes > JOURNAL_SIZE_MAX)
                return error_setf(
                    ret_error, -EFBIG,
                    "the plan's %zu steps need up to %zu KiB of journal, more than its limit of %u KiB", n,
                    (bytes + 1023) / 1024, JOURNAL_SIZE_MAX / 1024);
        r = journal_create(t->spec, ctx->sr, phase, self, devices, command, &j, ret_error);
        if (r < 0)
                return r;
        r = journal_reserve(j, bytes);
        if (r < 0) {
                /* Nothing was done under it yet: no trace. */
                j = journal_close(j);
                (void)journal_remove(t->spec, ctx->sr);
                return error_setf(ret_error, r, "no room for the journal (%zu KiB) in %s: %s",
                                  (bytes + 1023) / 1024, t->spec->dir, strerror(-r));
        }
        r = engine_apply(ctx, t->domain, j, steps, n, &run);
        *ret_run = run;
        if (!run)
                return r;
        if (r == 0)
                return 0;
        if (run->host_intact && journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK) >= 0)
                journal_remove(t->spec, ctx->sr);
        return r;
}

int transaction_undo(const struct change_ctx *ctx, const struct transaction *t,
                     const struct process_id *self, const char *command, const char *phase,
                     struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n, char **ret_error)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ size_t *pending = NULL;
        const struct journal_state *st;
        enum journal_outcome outcome;
        size_t n_pending = 0;
        int r;

        *ret_run = NULL;
        *ret_steps = NULL;
        *ret_n = 0;
        r = journal_open(t->spec, ctx->sr, &j, ret_error);
        if (r < 0)
                return r;
        st = journal_get_state(j);
        outcome = journal_state_undo_outcome(st);
        r = steps_from_journal(t->domain, st, ret_steps, ret_n);
        if (r == -EBADMSG)
                error_setf(ret_error, r, "the journal names a step this version does not know");
        if (r >= 0)
                r = journal_state_pending_reverts(st, &pending, &n_pending);
        if (r >= 0)
                r = journal_phase(j, phase, self, command);
        if (r < 0)
                return r; /* nothing changed */
        r = engine_revert(ctx, t->domain, j, *ret_steps, *ret_n, pending, n_pending, ret_run);
        if (r < 0)
                return r;
        r = journal_end(j, outcome);
        if (r >= 0)
                r = journal_remove(t->spec, ctx->sr);
        if (r < 0 && *ret_run && !(*ret_run)->journal_error)
                (*ret_run)->journal_error = r;
        /* Everything was undone, but the journal still says otherwise: recover must clear it. */
        return r < 0 ? -EIO : 0;
}
