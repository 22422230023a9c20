/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The step contract's functions: a domain's kinds by index and by name, and what a running step
 * may ask the engine for (step.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "change/journal.h"
#include "change/step.h"

const struct change_kind *change_domain_kind(const struct change_domain *d, unsigned kind)
{
        return d && kind < d->n_kinds ? &d->kinds[kind] : NULL;
}

int change_domain_find_kind(const struct change_domain *d, const char *name)
{
        for (size_t k = 0; d && name && k < d->n_kinds; k++)
                if (strcmp(d->kinds[k].name, name) == 0)
                        return (int)k;
        return -ENOENT;
}

char *change_domain_describe(const struct change_domain *d, const struct step *s)
{
        const struct change_kind *kind = change_domain_kind(d, s->kind);

        return kind && kind->describe ? kind->describe(s) : NULL;
}

void step_done(struct step *s)
{
        for (size_t i = 0; i < s->n_args; i++)
                free(s->args[i]);
        free(s->skip);
        *s = (struct step){0};
}

int step_fail(char **message, int error, const char *fmt, ...)
{
        va_list ap;

        if (message) { /* the latest failure is the step's */
                free(*message);
                *message = NULL;
        }
        va_start(ap, fmt);
        error = verror_setf(message, error, fmt, ap);
        va_end(ap);
        return error;
}

size_t step_journal_index(const struct change_ctx *ctx)
{
        return ctx->index;
}

const char *step_journal_dir(const struct change_ctx *ctx)
{
        const struct journal_spec *spec = journal_get_spec(ctx->journal);

        return spec ? spec->dir : NULL;
}

int step_note(const struct change_ctx *ctx, const char *key, const char *value)
{
        const struct journal_state *st = journal_get_state(ctx->journal);

        if (!st || !ctx->applying || ctx->index >= st->n_steps)
                return -EPROTO;
        if (!key || !value)
                return -EINVAL;
        /* The room reserved for the step's notes is all it may take: a note beyond it could meet a
         * full file system where the reverts need the space. */
        if (st->steps[ctx->index].note_bytes + journal_note_bytes(ctx->index, key, value) > ctx->note_room)
                return -E2BIG;
        return journal_note(ctx->journal, ctx->index, key, value);
}

const char *step_note_get(const struct change_ctx *ctx, const char *key)
{
        return journal_state_note(journal_get_state(ctx->journal), ctx->index, key);
}
