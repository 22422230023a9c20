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
 *   - a watched run tells its watch the command's process group (the pid of the program it runs,
 *     with its start time) before the program runs, and a watch that fails runs nothing; the
 *     group's note round-trips and a group that is no command's (0, 1, garbage) is refused;
 *   - command_stop_group() kills what is left of a real group (the leader our child, or gone
 *     with its member orphaned) and returns once none of it runs; it signals nothing when the
 *     leader's number now belongs to a process that started at another time, or the group was
 *     another boot's; the recorder only records the number;
 *   - commands_in_root(): NULL and "/" are the plain seam; a root that is relative, missing or not
 *     a directory fails every run before anything starts; in a root, the command is looked up
 *     inside it (the host's /bin/true is not found there), a root without /proc fails at that
 *     mount with a line saying so, and nothing stays mounted on the host. Without the privilege
 *     to enter a root (not root), the first step fails with -EPERM and says which. Running a
 *     real program inside a real root is the chroot suite's part (tests/chroot). */

#include <errno.h>
#include <fcntl.h>
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

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "basic/wait.h"
#include "change/commands.h"
#include "basic/error.h"
#include "fake-commands.h"
#include "proc-group.h"
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

/* ---- process groups ---- */

struct seen {
        struct command_group g;
        char marker[300]; /* the file the command writes */
        bool ran_before;  /* it was there when the watch was told */
        int fail;
};

static int watch_started(void *userdata, const struct command_group *g, char **ret_error)
{
        struct seen *s = userdata;

        s->g = *g;
        s->ran_before = access(s->marker, F_OK) == 0;
        if (s->fail)
                return error_setf(ret_error, s->fail, "no room in the journal");
        return 0;
}

static void test_watch(void **state)
{
        struct test_tree *t = test_tree_new("commands-watch");
        struct seen s = {0};
        const struct command_watch w = {.started = watch_started, .userdata = &s};
        _cleanup_free_ char *script = NULL, *out = NULL, *error = NULL, *out2 = NULL;
        char expect[32], boot[40];

        snprintf(s.marker, sizeof(s.marker), "%s/ran", t->dir);
        assert_true(asprintf(&script, "echo ran > %s; echo $$", s.marker) > 0);
        assert_int_equal(command_run_watched(NULL, ARGV("/bin/sh", "-c", script), &w,
                                             clock_now(NULL) + 60 * USEC_PER_SEC, &out, &error),
                         0);
        assert_null(error);
        assert_false(s.ran_before);
        assert_int_equal(access(s.marker, F_OK), 0);
        snprintf(expect, sizeof(expect), "%d\n", (int)s.g.pgid); /* the shell is the group's leader */
        assert_string_equal(out, expect);
        assert_true(s.g.start_time > 0);
        proc_group_boot_id(boot);
        assert_string_equal(s.g.boot_id, boot);

        /* the watch fails: the program never runs */
        assert_int_equal(unlink(s.marker), 0);
        s.fail = -ENOSPC;
        assert_int_equal(command_run_watched(NULL, ARGV("/bin/sh", "-c", script), &w,
                                             clock_now(NULL) + 60 * USEC_PER_SEC, &out2, &error),
                         -ENOSPC);
        assert_string_equal(error, "no room in the journal");
        assert_null(out2);
        assert_false(s.ran_before);
        assert_int_not_equal(access(s.marker, F_OK), 0);
        test_tree_free(t);
}

static void test_group_note(void **state)
{
        struct command_group g = {.pgid = 4242, .start_time = 81234, .boot_id = "0f6e-42"}, back;
        char buf[COMMAND_GROUP_STRING_MAX];

        command_group_format(&g, buf);
        assert_string_equal(buf, "4242 81234 0f6e-42");
        assert_int_equal(command_group_parse(buf, &back), 0);
        assert_int_equal(back.pgid, 4242);
        assert_true(back.start_time == 81234);
        assert_string_equal(back.boot_id, "0f6e-42");
        assert_int_equal(command_group_parse("4242 81234 ", &back), 0); /* boot unknown */
        assert_string_equal(back.boot_id, "");
        assert_int_equal(command_group_parse("1 81234 ", &back), -EINVAL); /* init, or with kill(): everyone */
        assert_int_equal(command_group_parse("0 81234 ", &back), -EINVAL);
        assert_int_equal(command_group_parse("-5 81234 ", &back), -EINVAL);
        assert_int_equal(command_group_parse("4242 81234", &back), -EINVAL);
        assert_int_equal(command_group_parse("4242 x ", &back), -EINVAL);
        assert_int_equal(command_group_parse("4242 1 boot id", &back), -EINVAL);
        assert_int_equal(command_group_parse("4242 1 0123456789abcdef0123456789abcdef01234567", &back), -EINVAL);
        assert_int_equal(command_group_parse("", &back), -EINVAL);
}

static void test_stop_group(void **state)
{
        struct proc_group pg;
        _cleanup_free_ char *error = NULL;
        int status;

        /* the leader runs with the noted start time: both go, and it returns once they have */
        proc_group_spawn(&pg, false);
        assert_true(proc_group_running(&pg));
        assert_int_equal(command_stop_group(NULL, &pg.g, &error), 0);
        assert_null(error);
        assert_false(proc_group_running(&pg));
        assert_int_equal(waitpid(pg.leader, &status, 0), pg.leader);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pg.leader = 0;
        proc_group_end(&pg);

        /* the leader is gone, its child orphaned in the group: the group is still the command's */
        proc_group_spawn(&pg, true);
        assert_true(proc_group_running(&pg));
        pg.g.start_time++; /* no leader to compare with: the start time does not matter */
        assert_int_equal(command_stop_group(NULL, &pg.g, &error), 0);
        assert_false(proc_group_running(&pg));
        proc_group_end(&pg);
}

static void test_stop_group_not_ours(void **state)
{
        struct proc_group pg;
        struct command_group other;
        _cleanup_free_ char *error = NULL;
        int status;

        proc_group_spawn(&pg, false);
        /* a process has the number, but started at another time: the group ended, it is not ours */
        other = pg.g;
        other.start_time++;
        assert_int_equal(command_stop_group(NULL, &other, &error), 0);
        assert_true(proc_group_running(&pg));
        assert_int_equal(waitpid(pg.leader, &status, WNOHANG), 0);
        /* another boot's group: nothing of it runs */
        other = pg.g;
        snprintf(other.boot_id, sizeof(other.boot_id), "%s", strcmp(pg.g.boot_id, "0") == 0 ? "1" : "0");
        assert_int_equal(command_stop_group(NULL, &other, &error), 0);
        assert_true(proc_group_running(&pg));
        assert_null(error);
        proc_group_end(&pg);
}

static void test_stop_group_fake(void **state)
{
        struct fake_commands *f = fake_commands_new();
        struct command_group g = {.pgid = 4242, .start_time = 1};

        assert_int_equal(command_stop_group(&f->commands, &g, NULL), 0);
        assert_int_equal(f->stopped.n, 1);
        assert_string_equal(f->stopped.v[0], "4242");
        assert_int_equal(f->calls.n, 0);
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
                cmocka_unit_test(test_watch),
                cmocka_unit_test(test_group_note),
                cmocka_unit_test(test_stop_group),
                cmocka_unit_test(test_stop_group_not_ours),
                cmocka_unit_test(test_stop_group_fake),
                cmocka_unit_test(test_in_root_plain),
                cmocka_unit_test(test_in_root_refused),
                cmocka_unit_test(test_in_root_enters),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
