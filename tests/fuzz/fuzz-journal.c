/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal_parse() on arbitrary bytes, in the hand-over's words (handoff_journal). Invariants: it
 * returns 0, -EBADMSG or -ENOMEM; an error leaves *ret alone and comes with a short
 * "fuzz:LINE: ..." message (or "fuzz: larger than 1 MiB ..."); a success yields a state that
 * obeys the replay rules of journal.h (step counts, names, in-progress step, outcome of the last
 * phase, revert order, notes with distinct keys and their bytes), whose ignored incomplete
 * line is exactly the text after the last newline, and every prefix of the input parses too: a
 * crash at any byte leaves a journal that recovery can read. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic/macro.h"
#include "change/journal.h"
#include "fuzz.h"
#include "handoff/transition.h"

/* Prefixes checked per input: enough to catch a rule that is not prefix-closed, few enough to
 * keep the fuzzer fast on long inputs. */
#define N_CUTS 16

static void check_name(const char *s)
{
        fuzz_check(s && s[0] && s[0] != '-');
        fuzz_check(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s));
}

static void check_text(const char *s)
{
        _cleanup_free_ char *e = NULL, *u = NULL;

        fuzz_check(s);
        e = journal_escape(s);
        fuzz_check(e);
        fuzz_check(strcspn(e, " \n") == strlen(e));
        fuzz_check(journal_unescape(e, strlen(e), &u) == 0);
        fuzz_check(strcmp(u, s) == 0);
}

static void check_state(const struct journal_state *st, const uint8_t *data, size_t size)
{
        _cleanup_free_ size_t *pending = NULL;
        size_t counts[_JOURNAL_STEP_STATE_MAX] = {}, n_pending = 0;
        enum journal_outcome last;

        fuzz_check(st->ignored_bytes <= size);
        fuzz_check(!memchr(data + size - st->ignored_bytes, '\n', st->ignored_bytes));
        fuzz_check(size == st->ignored_bytes || data[size - st->ignored_bytes - 1] == '\n');
        fuzz_check(st->have_magic || (st->n_phases == 0 && size == st->ignored_bytes));
        fuzz_check(st->n_phases > 0 || st->n_steps == 0);

        for (size_t i = 0; i < st->n_phases; i++) {
                const struct journal_phase *p = &st->phases[i];
                check_name(p->name);
                fuzz_check(p->owner.pid > 0);
                check_text(p->devices);
                check_text(p->command);
                fuzz_check((unsigned)p->outcome < _JOURNAL_OUTCOME_MAX);
                /* only the last phase may have ended for good */
                if (i + 1 < st->n_phases)
                        fuzz_check(p->outcome == JOURNAL_OUTCOME_NONE || p->outcome == JOURNAL_OUTCOME_APPLIED);
        }
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *s = &st->steps[i];
                check_name(s->kind);
                fuzz_check(s->args && !s->args[s->n_args]);
                for (size_t k = 0; k < s->n_args; k++)
                        check_text(s->args[k]);
                fuzz_check((unsigned)s->state < _JOURNAL_STEP_STATE_MAX);
                fuzz_check(s->phase < st->n_phases);
                fuzz_check(i == 0 || s->phase >= st->steps[i - 1].phase);
                fuzz_check(s->error <= 0 && s->error >= -4095);
                fuzz_check(s->state != JOURNAL_STEP_FAILED || s->error < 0);
                fuzz_check(s->n_notes == 0 || s->notes);
                fuzz_check(s->note_bytes >= s->n_notes * strlen("note 0 k \n"));
                for (size_t k = 0; k < s->n_notes; k++) {
                        check_name(s->notes[2 * k]);
                        check_text(s->notes[2 * k + 1]);
                        fuzz_check(journal_state_note(st, i, s->notes[2 * k]) == s->notes[2 * k + 1]);
                }
                counts[s->state]++;
        }
        fuzz_check(memcmp(counts, st->n_in_state, sizeof(counts)) == 0);

        if (st->in_progress) {
                fuzz_check(st->in_progress_step < st->n_steps);
                fuzz_check(st->steps[st->in_progress_step].state ==
                           (st->in_progress_revert ? JOURNAL_STEP_REVERTING : JOURNAL_STEP_BEGUN));
                /* a begin in progress is always the newest step */
                fuzz_check(st->in_progress_revert || st->in_progress_step == st->n_steps - 1);
        }

        last = journal_state_outcome(st);
        if (last == JOURNAL_OUTCOME_APPLIED)
                fuzz_check(counts[JOURNAL_STEP_DONE] == st->n_steps);
        if (last == JOURNAL_OUTCOME_ROLLED_BACK || last == JOURNAL_OUTCOME_UNDONE) {
                fuzz_check(counts[JOURNAL_STEP_REVERTED] == st->n_steps);
                fuzz_check(journal_state_undo_outcome(st) == last);
        }
        fuzz_check(!journal_state_needs_recovery(st, true));
        fuzz_check(journal_state_needs_recovery(st, false) == (st->n_phases > 0 && last == JOURNAL_OUTCOME_NONE));

        if (journal_state_pending_reverts(st, &pending, &n_pending) == -ENOMEM)
                return;
        fuzz_check(n_pending == st->n_steps - counts[JOURNAL_STEP_REVERTED]);
        fuzz_check(n_pending > 0 || !pending);
        for (size_t i = 0; i < n_pending; i++) {
                fuzz_check(pending[i] < st->n_steps);
                fuzz_check(st->steps[pending[i]].state != JOURNAL_STEP_REVERTED);
                fuzz_check(i == 0 || pending[i] < pending[i - 1]);
        }
}

static void check_error(const char *error)
{
        size_t digits;

        fuzz_check(error && strncmp(error, "fuzz:", 5) == 0);
        fuzz_check(strlen(error) < 512);
        if (strncmp(error, "fuzz: larger than 1 MiB", 23) == 0)
                return;
        digits = strspn(error + 5, "0123456789");
        fuzz_check(digits > 0 && error[5 + digits] == ':' && error[5 + digits + 1] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct journal_state *const poison = (struct journal_state *)(uintptr_t)0x10;
        struct journal_state *st = poison;
        _cleanup_free_ char *error = NULL;
        int r;

        r = journal_parse(&handoff_journal, (const char *)data, size, "fuzz", &st, &error);
        fuzz_check(r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r < 0) {
                fuzz_check(st == poison);
                if (r == -EBADMSG)
                        check_error(error);
                return 0;
        }
        fuzz_check(st && st != poison && !error);
        check_state(st, data, size);

        /* Every prefix of a readable journal is readable: a crash can stop the writer anywhere. */
        for (size_t c = 0; c < N_CUTS && size > 0; c++) {
                size_t k = size * c / N_CUTS;
                struct journal_state *p = NULL;
                _cleanup_free_ char *e = NULL;

                r = journal_parse(&handoff_journal, (const char *)data, k, "fuzz", &p, &e);
                if (r == -ENOMEM)
                        continue;
                if (r < 0)
                        fprintf(stderr, "prefix of %zu bytes refused: %s\n", k, e ? e : "?");
                fuzz_check(r == 0);
                fuzz_check(p->n_steps <= st->n_steps && p->n_phases <= st->n_phases);
                check_state(p, data, k);
                journal_state_free(p);
        }
        journal_state_free(st);
        return 0;
}
