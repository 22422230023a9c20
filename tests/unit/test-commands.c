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
 *   - the recorder keeps every argv in order, answers its output, and fails exactly the k-th call;
 *   - commands_in_root(): NULL and "/" are the plain seam; a root that is relative, missing or not
 *     a directory fails every run before anything starts; in a root, the command is looked up
 *     inside it (the host's /bin/true is not found there), a root without /proc fails at that
 *     mount with a line saying so, and nothing stays mounted on the host. Without the privilege
 *     to enter a root (not root), the first step fails with -EPERM and says which. Running a
 *     real program inside a real root is the chroot suite's part (tests/chroot). */

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

#include "basic/fileio.h"
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
        static const char end[] = "2999999\n3000000\n";

        /* 22.9 MB of output */
        assert_int_equal(run(ARGV("/usr/bin/seq", "1", "3000000"), USEC_INFINITY, &out, NULL), 0);
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

static void test_in_root_plain(void **state)
{
        struct commands c = commands_in_root(NULL), slash = commands_in_root("/"), slashes = commands_in_root("//");
        _cleanup_free_ char *error = NULL;

        assert_ptr_equal(c.ops, commands_real.ops);
        assert_ptr_equal(slash.ops, commands_real.ops);
        assert_ptr_equal(slashes.ops, commands_real.ops);
        assert_ptr_equal(slash.userdata, commands_real.userdata);
        assert_ptr_not_equal(commands_in_root("/mnt").ops, commands_real.ops);
        assert_int_equal(command_run(&slash, ARGV("/bin/true"), USEC_INFINITY, NULL, &error), 0);
        assert_null(error);
}

/* Runs argv in root; 'marker' must not exist afterwards: nothing was started. */
static int run_in(const char *root, const char *marker, char **error)
{
        struct commands c = commands_in_root(root);
        _cleanup_free_ char *out = NULL;
        int r = command_run(&c, ARGV("/usr/bin/touch", marker), USEC_INFINITY, &out, error);

        assert_null(out); /* it did not run, so it said nothing */
        assert_int_equal(access(marker, F_OK), -1);
        return r;
}

static void test_in_root_refused(void **state)
{
        struct test_tree *t = test_tree_new("commands-root");
        struct commands c;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *marker = NULL, *missing = NULL,
                            *file = NULL;

        assert_true(asprintf(&marker, "%s/marker", t->dir) > 0);
        assert_true(asprintf(&missing, "%s/missing", t->dir) > 0);
        assert_true(asprintf(&file, "%s/file", t->dir) > 0);
        test_tree_write(t, "file", "");
        assert_int_equal(run_in("mnt", marker, &e1), -EINVAL);
        assert_string_equal(e1, "the root to run commands in must be an absolute path, not mnt");
        assert_int_equal(run_in(missing, marker, &e2), -ENOENT);
        assert_non_null(strstr(e2, "No such file or directory"));
        assert_int_equal(run_in(file, marker, &e3), -ENOTDIR);
        assert_non_null(strstr(e3, ": not a directory"));
        c = commands_in_root(t->dir);
        assert_int_equal(command_run(&c, NULL, USEC_INFINITY, NULL, &e4), -EINVAL);
        assert_string_equal(e4, "no command to run");
        test_tree_free(t);
}

/* The host's mount table, to compare before and after. */
static char *mountinfo(void)
{
        _cleanup_close_ int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        char *s = NULL;

        assert_true(fd >= 0);
        assert_int_equal(read_fd_full(fd, 16u << 20, &s, NULL), 0);
        return s;
}

static void test_in_root_enters(void **state)
{
        struct test_tree *t = test_tree_new("commands-enter");
        _cleanup_free_ char *before = mountinfo(), *after = NULL, *e1 = NULL, *e2 = NULL, *expect = NULL,
                            *marker = NULL;

        assert_true(asprintf(&marker, "%s/marker", t->dir) > 0);
        /* Without /proc in it, entering stops at that mount (or, unprivileged, at the first step). */
        assert_int_equal(run_in(t->dir, marker, &e1), geteuid() == 0 ? -ENOENT : -EPERM);
        assert_true(asprintf(&expect, "cannot run /usr/bin/touch inside %s: %s", t->dir,
                             geteuid() == 0 ? "binding /proc: No such file or directory"
                                            : "entering a mount namespace of its own: Operation not permitted") >
                    0);
        assert_string_equal(e1, expect);
        free(TAKE_PTR(expect));
        /* With the mount points, a privileged run gets inside, where there is no touch; the host's
         * is not found from there. */
        test_tree_mkdir(t, "proc");
        test_tree_mkdir(t, "sys");
        test_tree_mkdir(t, "dev");
        test_tree_mkdir(t, "run");
        if (geteuid() == 0) {
                assert_int_equal(run_in(t->dir, marker, &e2), -ENOENT);
                assert_true(asprintf(&expect, "cannot run /usr/bin/touch inside %s: No such file or directory",
                                     t->dir) > 0);
                assert_string_equal(e2, expect);
        } else
                assert_int_equal(run_in(t->dir, marker, &e2), -EPERM);
        after = mountinfo();
        assert_string_equal(before, after);
        test_tree_free(t);
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
                cmocka_unit_test(test_in_root_plain),
                cmocka_unit_test(test_in_root_refused),
                cmocka_unit_test(test_in_root_enters),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
