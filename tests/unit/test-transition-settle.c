/* SPDX-License-Identifier: GPL-2.0-or-later */
/* transition_settle() (src/handoff/transition.h): what an old journal means before a new
 * transition, on a test tree that holds each kind of journal.
 *
 * Promises:
 *  - a journal with no phase is removed (nothing was done under it): EMPTY;
 *  - one whose transition rolled back or was released is removed: FINISHED;
 *  - one that says "attached" stays: LENT with the lending phase's devices and command, or OWN
 *    when that command is the caller's (never for a caller that passes none);
 *  - one that stopped half-way stays: INTERRUPTED, naming the process that last took it over;
 *  - an old journal that cannot be removed is an error that says so. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/transition.h"
#include "testtree.h"

#define MAGIC "gpu-handoff journal 1\n"
#define ATTACH "phase attach 999 5 1718000000123456 0000:01:00.0,0000:01:00.1 hook\\x20win11\n"
#define STEP "begin 0 unbind-driver 0000:01:00.0 nvidia\n"
#define ATTACHED ATTACH STEP "done 0 1000\nend attached\n"
#define RELEASE "phase release 1000 6 1718000000223456 0000:01:00.0,0000:01:00.1 release\n"

struct settled {
        struct test_tree *tree;
        struct journal_state *st; /* what old borrows from */
        struct transition_settlement old;
        int r;
        char *error;
};

/* Settles the journal text as command would; on disk the journal is that text (removable) or a
 * directory that cannot be removed. */
static struct settled settle(const char *text, const char *command, bool removable)
{
        struct settled s = {.tree = test_tree_new("test-transition-settle")};
        struct handoff_ctx ctx = {.sr = s.tree->sr};
        char *error = NULL;

        if (journal_parse(&handoff_journal, text, strlen(text), HANDOFF_JOURNAL_PATH, &s.st, &error) < 0)
                fail_msg("%s", error);
        if (removable)
                test_tree_write(s.tree, HANDOFF_JOURNAL_PATH, text);
        else
                test_tree_write(s.tree, HANDOFF_JOURNAL_PATH "/not-a-journal", "x");
        s.r = transition_settle(&ctx, s.st, command, &s.old, &s.error);
        return s;
}

static bool journal_kept(const struct settled *s)
{
        return sysroot_exists(s->tree->sr, HANDOFF_JOURNAL_PATH);
}

static void done(struct settled *s)
{
        free(s->error);
        journal_state_free(s->st);
        test_tree_free(s->tree);
}

static void test_empty(void **state)
{
        struct settled s = settle(MAGIC, "attach", true);

        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_EMPTY);
        assert_false(journal_kept(&s));
        done(&s);
        s = settle("", NULL, true); /* a crash while the magic line was written */
        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_EMPTY);
        assert_false(journal_kept(&s));
        done(&s);
}

static void test_finished(void **state)
{
        struct settled s = settle(MAGIC ATTACH STEP "failed 0 16\nrevert 0\nreverted 0\nend rolled-back\n", NULL, true);

        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_FINISHED);
        assert_false(journal_kept(&s));
        done(&s);
        s = settle(MAGIC ATTACHED RELEASE "revert 0\nreverted 0\nend released\n", "hook win11", true);
        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_FINISHED);
        assert_false(journal_kept(&s));
        done(&s);
}

static void test_lent(void **state)
{
        struct settled s = settle(MAGIC ATTACHED, NULL, true);

        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_LENT);
        assert_string_equal(s.old.devices, "0000:01:00.0,0000:01:00.1");
        assert_string_equal(s.old.command, "hook win11");
        assert_true(journal_kept(&s));
        done(&s);
        s = settle(MAGIC ATTACHED, "hook other", true);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_LENT);
        assert_true(journal_kept(&s));
        done(&s);
        s = settle(MAGIC ATTACHED, "hook win11", true); /* libvirt retried the start */
        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_OWN);
        assert_true(journal_kept(&s));
        done(&s);
}

static void test_interrupted(void **state)
{
        struct settled s = settle(MAGIC ATTACH STEP, "hook win11", true);

        assert_int_equal(s.r, 0);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_INTERRUPTED);
        assert_int_equal(s.old.owner, 999);
        assert_true(journal_kept(&s));
        done(&s);
        /* a release that stopped half-way: its owner is the one named */
        s = settle(MAGIC ATTACHED RELEASE "revert 0\n", NULL, true);
        assert_int_equal(s.old.outcome, TRANSITION_SETTLE_INTERRUPTED);
        assert_int_equal(s.old.owner, 1000);
        assert_true(journal_kept(&s));
        done(&s);
}

static void test_cannot_remove(void **state)
{
        struct settled s = settle(MAGIC ATTACHED RELEASE "revert 0\nreverted 0\nend released\n", NULL, false);

        assert_true(s.r < 0);
        assert_non_null(s.error);
        assert_string_equal(s.error, "cannot remove the old journal");
        assert_true(journal_kept(&s));
        done(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_finished),
                cmocka_unit_test(test_lent),
                cmocka_unit_test(test_interrupted),
                cmocka_unit_test(test_cannot_remove),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
