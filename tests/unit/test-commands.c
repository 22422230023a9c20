/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the commands seam (src/change/commands.c) and its recorder (fake-commands.c). What
 * they prove:
 *   - the real seam runs /bin/true (0) and /bin/false (-EPROTO, "failed (exit status 1)"), finds a
 *     bare name in its own PATH, and says that a missing program is missing (-ENOENT) and that a
 *     file that is not executable cannot be run (-EACCES);
 *   - the command gets exactly PATH and LC_ALL in its environment, /dev/null as stdin, and its
 *     stdout and stderr come back together; a failure's message quotes the last line, and one
 *     killed by a signal names the signal;
 *   - the output kept is bounded: the last COMMAND_OUTPUT_MAX bytes of a longer one;
 *   - a command still running at the deadline is stopped and reported (-ETIMEDOUT) soon after the
 *     deadline, not when it would have ended;
 *   - the recorder keeps every argv in order, answers its output, and fails exactly the k-th call. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "basic/wait.h"
#include "change/commands.h"
#include "fake-commands.h"
#include "testtree.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static int run(const char *const *argv, uint64_t timeout, char **output, char **error)
{
        uint64_t deadline = timeout == USEC_INFINITY ? USEC_INFINITY : clock_now(NULL) + timeout;

        return command_run(NULL, argv, deadline, output, error);
}

static void test_true_false(void **state)
{
        _cleanup_free_ char *out = NULL, *error = NULL, *out2 = NULL;

        assert_int_equal(run(ARGV("/bin/true"), USEC_INFINITY, &out, &error), 0);
        assert_string_equal(out, "");
        assert_null(error);
        assert_int_equal(run(ARGV("true"), 10 * USEC_PER_SEC, NULL, &error), 0); /* found in COMMAND_PATH */
        assert_int_equal(run(ARGV("/bin/false"), USEC_INFINITY, &out2, &error), -EPROTO);
        assert_non_null(error);
        assert_string_equal(error, "/bin/false failed (exit status 1)");
        assert_string_equal(out2, "");
}

static void test_missing_and_not_executable(void **state)
{
        struct test_tree *t = test_tree_new("commands");
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *out = NULL;
        char path[512];

        assert_int_equal(run(ARGV("/nonexistent/gpu-handoff-test"), USEC_INFINITY, &out, &e1), -ENOENT);
        assert_null(out);
        assert_string_equal(e1, "cannot run /nonexistent/gpu-handoff-test: No such file or directory");
        assert_int_equal(run(ARGV("gpu-handoff-no-such-program"), USEC_INFINITY, NULL, &e2), -ENOENT);
        assert_non_null(strstr(e2, "(looked in " COMMAND_PATH ")"));
        test_tree_write(t, "script", "#!/bin/true\n"); /* mode 0644 */
        snprintf(path, sizeof(path), "%s/script", t->dir);
        assert_int_equal(run(ARGV(path), USEC_INFINITY, NULL, &e3), -EACCES);
        assert_non_null(strstr(e3, "Permission denied"));
        test_tree_free(t);
}

static void test_environment_and_output(void **state)
{
        _cleanup_free_ char *env = NULL, *cat = NULL, *ls = NULL, *error = NULL;

        assert_int_equal(run(ARGV("/usr/bin/env"), USEC_INFINITY, &env, NULL), 0);
        assert_string_equal(env, "PATH=" COMMAND_PATH "\nLC_ALL=C\n");
        assert_int_equal(run(ARGV("/bin/cat"), 10 * USEC_PER_SEC, &cat, NULL), 0); /* stdin: /dev/null */
        assert_string_equal(cat, "");
        /* stderr is captured, and the failure quotes its last line */
        assert_int_equal(run(ARGV("/bin/ls", "/nonexistent-gpu-handoff"), USEC_INFINITY, &ls, &error), -EPROTO);
        assert_non_null(strstr(ls, "/nonexistent-gpu-handoff"));
        assert_non_null(strstr(error, "/bin/ls failed (exit status 2): "));
        assert_non_null(strstr(error, "No such file or directory"));
}

static void test_killed_by_signal(void **state)
{
        _cleanup_free_ char *error = NULL;

        /* A shell only to have a program that kills itself; the seam itself never runs one. */
        assert_int_equal(run(ARGV("/bin/sh", "-c", "echo going; kill -KILL $$"), USEC_INFINITY, NULL, &error),
                         -EPROTO);
        assert_string_equal(error, "/bin/sh was killed by signal 9 (Killed): going");
}

static void test_output_bounded(void **state)
{
        _cleanup_free_ char *out = NULL;
        static const char end[] = "99999\n100000\n";

        assert_int_equal(run(ARGV("/usr/bin/seq", "1", "100000"), USEC_INFINITY, &out, NULL), 0);
        assert_int_equal(strlen(out), COMMAND_OUTPUT_MAX);
        assert_string_equal(out + COMMAND_OUTPUT_MAX - strlen(end), end);
}

static void test_deadline(void **state)
{
        _cleanup_free_ char *error = NULL, *out = NULL;
        uint64_t start = clock_now(NULL), took;

        assert_int_equal(run(ARGV("/bin/sleep", "600"), 200 * USEC_PER_MSEC, &out, &error), -ETIMEDOUT);
        took = clock_now(NULL) - start;
        assert_true(took >= 200 * USEC_PER_MSEC);
        assert_true(took < COMMAND_KILL_GRACE_USEC); /* sleep ends at SIGTERM */
        assert_null(out);
        assert_string_equal(error, "/bin/sleep did not finish within 0 s and was stopped");
}

static void test_fake(void **state)
{
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *out = NULL, *error = NULL;

        assert_non_null(f);
        fake_commands_set_output(f, "update-initramfs: Generating /boot/initrd.img\n");
        fake_commands_fail(f, 2, -EPROTO);
        assert_int_equal(command_run(&f->commands, ARGV("update-initramfs", "-u"), USEC_INFINITY, &out, &error), 0);
        assert_string_equal(out, "update-initramfs: Generating /boot/initrd.img\n");
        assert_null(error);
        assert_int_equal(command_run(&f->commands, ARGV("/usr/bin/systemctl", "reload", "libvirtd.service"),
                                     USEC_INFINITY, NULL, &error),
                         -EPROTO);
        assert_string_equal(error, "/usr/bin/systemctl failed (exit status 1)");
        assert_int_equal(command_run(&f->commands, ARGV("true"), USEC_INFINITY, NULL, NULL), 0);
        assert_int_equal(f->calls.n, 3);
        assert_string_equal(f->calls.v[0], "update-initramfs -u");
        assert_string_equal(f->calls.v[1], "/usr/bin/systemctl reload libvirtd.service");
        assert_string_equal(f->calls.v[2], "true");
        fake_commands_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_true_false),
                cmocka_unit_test(test_missing_and_not_executable),
                cmocka_unit_test(test_environment_and_output),
                cmocka_unit_test(test_killed_by_signal),
                cmocka_unit_test(test_output_bounded),
                cmocka_unit_test(test_deadline),
                cmocka_unit_test(test_fake),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
