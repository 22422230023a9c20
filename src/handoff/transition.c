/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hand-over on the core's transactions: its domain, its journal, its words (transition.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "change/transaction.h"
#include "handoff/lend-once.h"
#include "handoff/transition.h"

const struct journal_spec handoff_journal = {
        .dir = HANDOFF_RUN_DIR,
        .magic = "gpu-handoff journal 1",
        .subject = "the GPU",
        .outcomes = {
                [JOURNAL_OUTCOME_APPLIED] = "attached",
                [JOURNAL_OUTCOME_ROLLED_BACK] = "rolled-back",
                [JOURNAL_OUTCOME_UNDONE] = "released",
        },
};

static const struct transaction handoff_transaction = {
        .domain = &handoff_domain,
        .spec = &handoff_journal,
};

static char *join_devices(const struct plan *p)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < p->n_devices; i++)
                fprintf(f, "%s%s", i ? "," : "", p->devices[i]->address);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

int transition_attach(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                      const struct plan *p, struct engine_run **ret_run, char **ret_error)
{
        struct change_ctx change = handoff_change_ctx(ctx);
        _cleanup_free_ char *devices = join_devices(p), *error = NULL;
        int r;

        *ret_run = NULL;
        if (!devices)
                return -ENOMEM;
        r = transaction_apply(&change, &handoff_transaction, self, "attach", devices, command, p->steps, p->n_steps,
                              ret_run, ret_error ? &error : NULL);
        /* What the hand-over can do about a plan too large for its journal. */
        if (r == -EFBIG && !*ret_run && error)
                return error_setf(ret_error, r, "%s; lend fewer devices at once, or set IRQAffinity=no", error);
        if (ret_error && !*ret_error)
                *ret_error = TAKE_PTR(error);
        /* A card that cannot reset is lent once per boot: the next attach reads this. A record
         * that cannot be written loses only that refusal, never the lend. */
        if (r == 0)
                (void)lend_once_record(ctx->sr, p->gpu);
        return r;
}

int transition_undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                    const char *phase, struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n,
                    char **ret_error)
{
        struct change_ctx change = handoff_change_ctx(ctx);

        return transaction_undo(&change, &handoff_transaction, self, command, phase, ret_run, ret_steps, ret_n,
                                ret_error);
}

int transition_settle(const struct handoff_ctx *ctx, const struct journal_state *st, const char *command,
                      struct transition_settlement *ret, char **ret_error)
{
        const struct journal_phase *lender = st->n_phases ? &st->phases[0] : NULL;
        const struct process_id *owner = journal_state_owner(st);
        int r;

        *ret = (struct transition_settlement){0};
        switch (lender ? journal_state_outcome(st) : JOURNAL_OUTCOME_NONE) {
        case JOURNAL_OUTCOME_APPLIED:
                ret->devices = lender->devices;
                ret->command = lender->command;
                ret->outcome = command && lender->command && strcmp(lender->command, command) == 0
                                       ? TRANSITION_SETTLE_OWN
                                       : TRANSITION_SETTLE_LENT;
                return 0;
        case JOURNAL_OUTCOME_ROLLED_BACK:
        case JOURNAL_OUTCOME_UNDONE:
                ret->outcome = TRANSITION_SETTLE_FINISHED;
                break;
        default:
                if (lender) {
                        ret->outcome = TRANSITION_SETTLE_INTERRUPTED;
                        ret->owner = owner ? owner->pid : 0;
                        return 0;
                }
                ret->outcome = TRANSITION_SETTLE_EMPTY;
        }
        r = journal_remove(&handoff_journal, ctx->sr);
        return r < 0 ? error_setf(ret_error, r, "cannot remove the old journal") : 0;
}

char *transition_journal_trouble(const char *run_dir, const char *phase, int r, const struct engine_run *run)
{
        char *s = NULL;
        int k;

        if (!run && (r == -ENOSPC || r == -EDQUOT))
                k = asprintf(&s, "cannot write the journal (%s), so nothing was changed: free space in %s, then run "
                                 "gpu-handoff %s again",
                             strerror(-r), run_dir, phase);
        else if (run && run->journal_error && run->host_intact)
                k = asprintf(&s, "the GPU is back with the host, but the journal could not record it (%s): free space "
                                 "in %s, then run gpu-handoff recover (it finds nothing left to undo)",
                             strerror(-run->journal_error), run_dir);
        else if (run && run->journal_error)
                k = asprintf(&s, "cannot give the GPU back: %s; the journal could not record everything (%s): free "
                                 "space in %s and fix that, then run gpu-handoff recover",
                             run->failed >= 0 && run->outcomes[run->failed].message ? run->outcomes[run->failed].message
                                                                                     : strerror(-r),
                             strerror(-run->journal_error), run_dir);
        else
                return NULL;
        return k < 0 ? NULL : s;
}
