/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for what a killed setup leaves running (src/setup/steps.c on the real commands seam), with
 * real processes in a temporary tree, no privilege needed:
 *   - an owner applying a run step whose command starts a child that keeps running is killed
 *     (SIGKILL, a real one: the process that applies is a child of the test); PR_SET_PDEATHSIG
 *     ends the command, not its child, which goes on in the command's process group. Recover
 *     stops that child before the step's own undo command runs (the undo command looks for it
 *     and fails if it still runs), and nothing of the group is left when recover returns;
 *   - a journaled group whose number belongs to a process that started at another time is not
 *     signalled by recover, while one that names the running leader is stopped. */

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "change/commands.h"
#include "change/engine.h"
#include "change/journal.h"
#include "change/transaction.h"
#include "proc-group.h"
#include "setup/steps.h"
#include "testtree.h"

static const struct transaction setup_transaction = {.domain = &setup_domain, .spec = &setup_journal};

/* Recover as `gpu-handoff recover` runs it, on the real seam. */
static int recover(struct test_tree *t)
{
        struct change_ctx ctx = {.sr = t->sr}; /* commands NULL: the real seam */
        struct process_id self = {.pid = getpid(), .start_time = 1};
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        char *error = NULL;
        size_t n = 0;
        int r = transaction_undo(&ctx, &setup_transaction, &self, "recover", "recover", &run, &steps, &n,
                                 &error);

        if (r < 0)
                print_message("recover: %s\n", error ? error : strerror(-r));
        for (size_t i = 0; r < 0 && run && i < run->n_steps; i++)
                if (run->outcomes[i].message)
                        print_message("step %zu: %s\n", i, run->outcomes[i].message);
        engine_run_free(run);
        steps_free(steps, n);
        free(error);
        return r;
}

static char *sh(const char *script)
{
        char *const argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)script, NULL};
        char *joined = setup_argv_join(argv);

        assert_non_null(joined);
        return joined;
}

/* Reads what the command said on fd 9, within a deadline. */
static void wait_started(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[16] = "";

        assert_int_equal(poll(&p, 1, 60 * 1000), 1);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), strlen("started\n"));
        assert_string_equal(buf, "started\n");
}

/* Whether a process still holds the pipe's write end: no EOF yet. */
static bool writer_left(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;

        assert_true(poll(&p, 1, 0) >= 0);
        return !p.revents || read(fd, &c, 1) != 0;
}

static void test_killed_owner_leaves_no_orphan(void **state)
{
        struct test_tree *t = test_tree_new("setup-leftovers");
        _cleanup_free_ char *apply_script = NULL, *undo_script = NULL, *text = NULL;
        struct step step = {.kind = SETUP_STEP_RUN, .n_args = 2};
        int pipefd[2], status;
        pid_t owner;

        test_tree_mkdir(t, "var/lib");
        /* The generator: a child that keeps working (sleep, holding fd 9 too), and its pid. */
        assert_true(asprintf(&apply_script,
                             "sleep 60 >/dev/null 2>&1 & echo $! > %s/grandchild; echo started >&9; wait",
                             t->dir) > 0);
        /* The undo command fails when that child still runs (and is not a zombie). */
        assert_true(
            asprintf(&undo_script,
                     "if grep -qs '^[0-9]* (sleep) [^Z]' /proc/$(cat %s/grandchild)/stat; then exit 1; fi; "
                     "echo gone > %s/checked",
                     t->dir, t->dir) > 0);
        step.args[0] = sh(apply_script);
        step.args[1] = sh(undo_script);
        assert_int_equal(pipe(pipefd), 0);

        owner = fork();
        assert_true(owner >= 0);
        if (owner == 0) {
                struct change_ctx ctx = {.sr = t->sr};
                struct process_id self = {.pid = getpid(), .start_time = 1};
                struct engine_run *run = NULL;
                char *error = NULL;

                close(pipefd[0]);
                if (dup2(pipefd[1], 9) < 0) /* without close-on-exec: the command inherits it */
                        _exit(1);
                (void)transaction_apply(&ctx, &setup_transaction, &self, "setup", "test",
                                        "gpu-handoff setup", &step, 1, &run, &error);
                _exit(2); /* not reached: killed while the command runs */
        }
        close(pipefd[1]);
        wait_started(pipefd[0]);
        assert_int_equal(kill(owner, SIGKILL), 0);
        assert_int_equal(waitpid(owner, &status, 0), owner);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_true(writer_left(pipefd[0])); /* the orphan the real boot found */

        assert_int_equal(recover(t), 0);
        assert_false(writer_left(pipefd[0])); /* neither the command nor its child runs */
        assert_int_equal(sysroot_read_file(t->sr, "checked", 64, &text, NULL), 0);
        assert_string_equal(text, "gone\n"); /* already when the undo command ran */
        assert_false(sysroot_exists(t->sr, "var/lib/gpu-handoff/setup/journal"));
        close(pipefd[0]);
        step_done(&step);
        test_tree_free(t);
}

/* A journal whose run step (no undo command) noted the group g, left by an owner killed before
 * the step was done. */
static void write_journal(struct test_tree *t, const struct command_group *g)
{
        const char *const args[] = {"/bin/true", ""};
        struct process_id owner = {.pid = 4242, .start_time = 1};
        struct journal *j = NULL;
        char *error = NULL, value[COMMAND_GROUP_STRING_MAX];

        command_group_format(g, value);
        assert_int_equal(
            journal_create(&setup_journal, t->sr, "setup", &owner, "test", "gpu-handoff setup", &j, &error),
            0);
        assert_int_equal(journal_step_begin(j, 0, "run", args, 2), 0);
        assert_int_equal(journal_note(j, 0, "pgid", value), 0);
        journal_close(j);
        free(error);
}

static void test_reused_number_not_signalled(void **state)
{
        struct test_tree *t = test_tree_new("setup-leftovers");
        struct proc_group pg;
        struct command_group other;
        int status;

        test_tree_mkdir(t, "var/lib");
        proc_group_spawn(&pg, false);
        other = pg.g;
        other.start_time++; /* the number went to another process since */
        write_journal(t, &other);
        assert_int_equal(recover(t), 0);
        assert_true(proc_group_running(&pg));
        assert_int_equal(waitpid(pg.leader, &status, WNOHANG), 0);

        /* the same group noted with its leader's start time: stopped */
        write_journal(t, &pg.g);
        assert_int_equal(recover(t), 0);
        assert_false(proc_group_running(&pg));
        assert_int_equal(waitpid(pg.leader, &status, 0), pg.leader);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pg.leader = 0;
        proc_group_end(&pg);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_killed_owner_leaves_no_orphan),
            cmocka_unit_test(test_reused_number_not_signalled),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
