/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine: steps journaled before they change anything, rolled back on failure (engine.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "change/engine.h"
#include "change/interrupt.h"

static struct engine_run *run_new(const struct step *steps, size_t n)
{
        struct engine_run *run = calloc(1, sizeof(*run));

        if (!run)
                return NULL;
        run->outcomes = calloc(n ? n : 1, sizeof(*run->outcomes));
        if (!run->outcomes) {
                free(run);
                return NULL;
        }
        run->steps = steps;
        run->n_steps = n;
        run->failed = -1;
        run->host_intact = true;
        return run;
}

void engine_run_free(struct engine_run *run)
{
        if (!run)
                return;
        for (size_t i = 0; i < run->n_steps; i++)
                free(run->outcomes[i].message);
        free(run->outcomes);
        free(run);
}

const char *outcome_to_string(enum outcome o)
{
        static const char *const names[] = {
                [OUTCOME_PENDING] = "pending",   [OUTCOME_SKIPPED] = "skipped",
                [OUTCOME_DONE] = "done",         [OUTCOME_FAILED] = "failed",
                [OUTCOME_REVERTED] = "reverted", [OUTCOME_REVERT_FAILED] = "revert-failed",
        };
        return names[o];
}

static uint64_t now(const struct change_ctx *ctx)
{
        return clock_now(ctx->clock);
}

/* The context a step runs in: the caller's, and where the step stands in the journal. */
static struct change_ctx step_ctx(const struct change_ctx *ctx, struct journal *j, const struct change_kind *kind,
                                  size_t jindex, bool applying)
{
        struct change_ctx c = *ctx;

        c.journal = j;
        c.index = jindex;
        c.applying = applying;
        c.note_room = kind ? kind->note_room : 0;
        return c;
}

static void journal_failed(struct engine_run *run, int r)
{
        if (r < 0 && !run->journal_error)
                run->journal_error = r;
}

/* Reverts one step, journaled around the change. A revert is idempotent, so it runs even when
 * its record cannot be written (a full /run): the journal then still says the step may be
 * applied, and undoing it again later is harmless, while not undoing it now would leave the
 * machine half-changed (a GPU half-lent) until someone frees space. */
static int revert_one(const struct change_ctx *ctx, const struct change_domain *d, struct journal *j,
                      struct engine_run *run, size_t jindex, const struct step *s, struct step_outcome *o)
{
        const struct change_kind *kind = change_domain_kind(d, s->kind);
        const struct step_ops *ops = kind ? kind->ops : NULL;
        struct change_ctx sctx = step_ctx(ctx, j, kind, jindex, false);
        uint64_t t0 = now(ctx);
        char *message = NULL;
        bool recorded;
        int r;

        r = journal_revert_begin(j, jindex);
        recorded = r >= 0;
        journal_failed(run, r);
        r = ops && ops->revert ? ops->revert(&sctx, s, &message) : 0;
        o->usec = now(ctx) - t0;
        if (r < 0) {
                if (recorded)
                        journal_failed(run, journal_revert_failed(j, jindex, r));
                o->state = OUTCOME_REVERT_FAILED;
                o->error = r;
                free(o->message);
                o->message = message;
                return r;
        }
        free(message);
        if (recorded)
                journal_failed(run, journal_reverted(j, jindex));
        o->state = OUTCOME_REVERTED;
        o->error = 0;
        return 0;
}

int engine_apply(const struct change_ctx *ctx, const struct change_domain *d, struct journal *j,
                 const struct step *steps, size_t n, struct engine_run **ret)
{
        struct engine_run *run = run_new(steps, n);
        _cleanup_free_ size_t *jindex = calloc(n ? n : 1, sizeof(size_t)); /* plan index -> journal index */
        size_t next = 0;
        int failure = 0;

        if (!run || !jindex) {
                engine_run_free(run);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n && !failure; i++) {
                const struct step *s = &steps[i];
                const struct change_kind *kind = change_domain_kind(d, s->kind);
                const struct step_ops *ops = kind ? kind->ops : NULL;
                struct step_outcome *o = &run->outcomes[i];
                struct change_ctx sctx;
                uint64_t t0;
                int r;

                if (s->skip || !ops) {
                        o->state = OUTCOME_SKIPPED;
                        continue;
                }
                /* Between two steps: an interrupted attach goes back, nothing is half-done. */
                if ((run->interrupted = interrupt_pending())) {
                        failure = -EINTR;
                        break;
                }
                /* Durable before the change: a crash from here on is recoverable. */
                jindex[i] = next;
                r = journal_step_begin(j, next, kind->name, (const char *const *)s->args, s->n_args);
                if (r < 0) {
                        journal_failed(run, r);
                        o->state = OUTCOME_FAILED;
                        o->error = failure = r;
                        o->message = strdup("cannot write the journal, so nothing was changed for this step");
                        run->failed = (long)i;
                        break;
                }
                next++;
                t0 = now(ctx);
                sctx = step_ctx(ctx, j, kind, jindex[i], true);
                r = ops->apply(&sctx, s, &o->message);
                o->usec = now(ctx) - t0;
                if (r < 0) {
                        journal_failed(run, journal_step_failed(j, jindex[i], r));
                        o->state = OUTCOME_FAILED;
                        o->error = failure = r;
                        run->failed = (long)i;
                        break;
                }
                o->state = OUTCOME_DONE;
                r = journal_step_done(j, jindex[i], o->usec);
                if (r < 0) {
                        journal_failed(run, r);
                        o->error = failure = r;
                        o->message = strdup("cannot write the journal");
                        run->failed = (long)i;
                }
        }
        /* A signal during the last step: the change is not wanted any more either. */
        if (!failure && (run->interrupted = interrupt_pending()))
                failure = -EINTR;
        /* A change whose journal does not say it is applied would be taken for an interrupted
         * one (a lent GPU for an interrupted attach). */
        if (!failure && (failure = journal_end(j, JOURNAL_OUTCOME_APPLIED)) < 0)
                journal_failed(run, failure);
        if (failure) {
                /* The failed step may have changed something before failing: revert it too. */
                for (long i = (long)n - 1; i >= 0; i--) {
                        struct step_outcome *o = &run->outcomes[i];
                        struct step_outcome undo = {0};
                        if (o->state != OUTCOME_DONE && !(i == run->failed && jindex[i] < next))
                                continue;
                        if (revert_one(ctx, d, j, run, jindex[i], &steps[i], i == run->failed ? &undo : o) < 0)
                                run->host_intact = false;
                        if (i == run->failed)
                                free(undo.message);
                }
        }
        *ret = run;
        return failure;
}

int engine_revert(const struct change_ctx *ctx, const struct change_domain *d, struct journal *j,
                  const struct step *steps, size_t n, const size_t *indices, size_t n_indices,
                  struct engine_run **ret)
{
        struct engine_run *run = run_new(steps, n);
        int r = 0;

        if (!run)
                return -ENOMEM;
        for (size_t k = 0; k < n_indices; k++) {
                size_t i = indices[k];
                if (i >= n) {
                        r = -EBADMSG;
                        break;
                }
                r = revert_one(ctx, d, j, run, i, &steps[i], &run->outcomes[i]);
                if (r < 0) {
                        run->failed = (long)i;
                        run->host_intact = false;
                        break;
                }
        }
        *ret = run;
        return r;
}

void steps_free(struct step *steps, size_t n)
{
        for (size_t i = 0; steps && i < n; i++)
                step_done(&steps[i]);
        free(steps);
}

int steps_from_journal(const struct change_domain *d, const struct journal_state *st, struct step **ret,
                       size_t *ret_n)
{
        struct step *steps = calloc(st->n_steps ? st->n_steps : 1, sizeof(*steps));

        if (!steps)
                return -ENOMEM;
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *js = &st->steps[i];
                struct step *s = &steps[i];

                int kind = change_domain_find_kind(d, js->kind);

                if (kind < 0 || js->n_args > STEP_MAX_ARGS) {
                        steps_free(steps, i);
                        return -EBADMSG;
                }
                s->kind = (unsigned)kind;
                for (size_t a = 0; a < js->n_args; a++)
                        if (!(s->args[s->n_args++] = strdup(js->args[a]))) {
                                steps_free(steps, i + 1);
                                return -ENOMEM;
                        }
        }
        *ret = steps;
        *ret_n = st->n_steps;
        return 0;
}
