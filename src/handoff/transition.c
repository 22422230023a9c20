/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "handoff/transition.h"

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
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *devices = join_devices(p);
        struct engine_run *run = NULL;
        int r;

        *ret_run = NULL;
        if (!devices)
                return -ENOMEM;
        r = journal_create(ctx->sr, "attach", self, devices, command, &j, ret_error);
        if (r < 0)
                return r;
        r = engine_apply(ctx, j, p->steps, p->n_steps, &run);
        *ret_run = run;
        if (!run)
                return r;
        if (r == 0)
                return journal_end(j, JOURNAL_OUTCOME_ATTACHED) < 0 ? -EIO : 0;
        if (run->host_intact && journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK) >= 0)
                journal_remove(ctx->sr);
        return r;
}

int transition_undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                    const char *phase, struct engine_run **ret_run, struct step **ret_steps, size_t *ret_n,
                    char **ret_error)
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
        r = journal_open(ctx->sr, &j, ret_error);
        if (r < 0)
                return r;
        st = journal_get_state(j);
        outcome = journal_state_undo_outcome(st);
        r = steps_from_journal(st, ret_steps, ret_n);
        if (r == -EBADMSG && ret_error)
                *ret_error = strdup("the journal names a step this version does not know");
        if (r >= 0)
                r = journal_state_pending_reverts(st, &pending, &n_pending);
        if (r >= 0)
                r = journal_phase(j, phase, self, command);
        if (r >= 0)
                r = engine_revert(ctx, j, *ret_steps, *ret_n, pending, n_pending, ret_run);
        if (r < 0)
                return r;
        r = journal_end(j, outcome);
        if (r >= 0)
                r = journal_remove(ctx->sr);
        return r < 0 ? -EIO : 0;
}
