/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
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

/* What the journal of this plan can grow to: the attach phase and a release and two recovers
 * after it (their commands are not known yet: as long as attach's, with room to spare), every
 * step with its revert rounds, the end records. */
static size_t journal_bytes_for(const struct plan *p, const char *devices, const char *command)
{
        size_t phase = journal_phase_bytes("recover", devices, command) + 1024;
        size_t bytes = strlen(JOURNAL_MAGIC "\n") + journal_phase_bytes("attach", devices, command) + 3 * phase +
                       2 * strlen("end rolled-back\n");

        for (size_t i = 0, journaled = 0; i < p->n_steps; i++)
                if (!p->steps[i].skip)
                        bytes += journal_step_bytes(journaled++, step_kind_to_string(p->steps[i].kind),
                                                    (const char *const *)p->steps[i].args, p->steps[i].n_args);
        return bytes;
}

static void set_error(char **ret_error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (!ret_error)
                return;
        free(*ret_error);
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
}

int transition_attach(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                      const struct plan *p, struct engine_run **ret_run, char **ret_error)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *devices = join_devices(p);
        struct engine_run *run = NULL;
        size_t bytes;
        int r;

        *ret_run = NULL;
        if (!devices)
                return -ENOMEM;
        /* Refused before the first change: a journal that cannot record the reverts could not
         * record what a rollback, release or recover did either. */
        bytes = journal_bytes_for(p, devices, command);
        if (bytes > JOURNAL_SIZE_MAX) {
                set_error(ret_error,
                          "the plan's %zu steps need up to %zu KiB of journal, more than its limit of %u KiB; lend "
                          "fewer devices at once, or set IRQAffinity=no",
                          p->n_steps, (bytes + 1023) / 1024, JOURNAL_SIZE_MAX / 1024);
                return -EFBIG;
        }
        r = journal_create(ctx->sr, "attach", self, devices, command, &j, ret_error);
        if (r < 0)
                return r;
        r = journal_reserve(j, bytes);
        if (r < 0) {
                /* Nothing was done under it yet: no trace. */
                j = journal_close(j);
                (void)journal_remove(ctx->sr);
                set_error(ret_error, "no room for the journal (%zu KiB) in run/gpu-handoff: %s", (bytes + 1023) / 1024,
                          strerror(-r));
                return r;
        }
        r = engine_apply(ctx, j, p->steps, p->n_steps, &run);
        *ret_run = run;
        if (!run)
                return r;
        if (r == 0)
                return 0;
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
        if (r < 0)
                return r; /* nothing changed */
        r = engine_revert(ctx, j, *ret_steps, *ret_n, pending, n_pending, ret_run);
        if (r < 0)
                return r;
        r = journal_end(j, outcome);
        if (r >= 0)
                r = journal_remove(ctx->sr);
        if (r < 0 && *ret_run && !(*ret_run)->journal_error)
                (*ret_run)->journal_error = r;
        /* Everything was undone, but the journal still says otherwise: recover must clear it. */
        return r < 0 ? -EIO : 0;
}

int transition_settle(const struct handoff_ctx *ctx, const struct journal_state *st, const char *command,
                      struct transition_settlement *ret, char **ret_error)
{
        const struct journal_phase *lender = st->n_phases ? &st->phases[0] : NULL;
        const struct process_id *owner = journal_state_owner(st);
        int r;

        *ret = (struct transition_settlement){0};
        switch (lender ? journal_state_outcome(st) : JOURNAL_OUTCOME_NONE) {
        case JOURNAL_OUTCOME_ATTACHED:
                ret->devices = lender->devices;
                ret->command = lender->command;
                ret->outcome = command && lender->command && strcmp(lender->command, command) == 0
                                       ? TRANSITION_SETTLE_OWN
                                       : TRANSITION_SETTLE_LENT;
                return 0;
        case JOURNAL_OUTCOME_ROLLED_BACK:
        case JOURNAL_OUTCOME_RELEASED:
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
        r = journal_remove(ctx->sr);
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
