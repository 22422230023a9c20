/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for process identities (pid + start time), the /proc/PID/stat parser and the systemd
 * unit of a process, whether a process group still runs, on small procfs trees built by hand. */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testtree.h"

#include "basic/macro.h"
#include "basic/proc.h"

/* Fields 4 (ppid) to 21 of a stat line; field 22, the start time, follows. */
#define FIELDS_4_TO_21 "1 2211 2211 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0"

static void fake_process(struct test_tree *t, int pid, const char *comm, char state, uint64_t start,
                         const char *cgroup)
{
        char rel[64], stat[512];

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(stat, sizeof(stat), "%d (%s) %c " FIELDS_4_TO_21 " %" PRIu64 " 3133440 414 0 0\n", pid,
                 comm, state, start);
        test_tree_write(t, rel, stat);
        if (cgroup) {
                snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
                test_tree_write(t, rel, cgroup);
        }
}

#define PARSE(s) proc_stat_parse((s), comm, sizeof(comm), &id)

static struct test_tree *tree_new(void)
{
        struct test_tree *t = test_tree_new("test-proc");
        return t;
}

static void test_stat_parse(void **state)
{
        struct process_id id = {};
        char comm[PROC_COMM_MAX];

        assert_int_equal(PARSE("2211 (kwin_wayland) S " FIELDS_4_TO_21 " 4567 1234567 890 0\n"), 0);
        assert_int_equal(id.pid, 2211);
        assert_int_equal(id.start_time, 4567);
        assert_string_equal(comm, "kwin_wayland");

        /* The kernel does not escape comm: the LAST ')' ends it, whatever it holds. */
        assert_int_equal(PARSE("42 (a) b (c)) R " FIELDS_4_TO_21 " 99"), 0);
        assert_string_equal(comm, "a) b (c)");
        assert_int_equal(id.pid, 42);
        assert_int_equal(id.start_time, 99);
        /* a comm that imitates the fields after it does not move field 22 */
        assert_int_equal(PARSE("42 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 666) S "
                               FIELDS_4_TO_21 " 77\n"),
                         0);
        assert_string_equal(comm, "x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 666");
        assert_int_equal(id.start_time, 77);
        assert_int_equal(PARSE("42 (two\nlines) S " FIELDS_4_TO_21 " 5\n"), 0);
        assert_string_equal(comm, "two\nlines");
        assert_int_equal(PARSE("7 () S " FIELDS_4_TO_21 " 5\n"), 0);
        assert_string_equal(comm, "");
        assert_int_equal(id.pid, 7);

        /* the largest start time; a comm that does not fit is cut; no comm at all is fine */
        assert_int_equal(proc_stat_parse("3 (kwin_wayland) S " FIELDS_4_TO_21 " 18446744073709551615\n",
                                         comm, 4, &id),
                         0);
        assert_true(id.start_time == UINT64_MAX);
        assert_string_equal(comm, "kwi");
        assert_int_equal(proc_stat_parse("3 (kwin_wayland) S " FIELDS_4_TO_21 " 12\n", NULL, 0, &id), 0);
        assert_int_equal(id.pid, 3);
        assert_int_equal(id.start_time, 12);
}

static void test_stat_parse_malformed(void **state)
{
        static const char *const bad[] = {
                "",
                "garbage",
                "42",
                "42 (x",
                "42 (x)",
                "42 (x) S",
                "42 (x) S 1 0 0 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12\n", /* ends at field 20 */
                "42 (x) S " FIELDS_4_TO_21 "\n",                            /* ends at field 21 */
                "42 (x) S " FIELDS_4_TO_21 " ",
                "42 (x) S " FIELDS_4_TO_21 " 18446744073709551616\n", /* start time overflows */
                "42 (x) S " FIELDS_4_TO_21 " -5\n",
                "42 (x) S " FIELDS_4_TO_21 " 12a\n",
                "42 (x) S " FIELDS_4_TO_21 " +5\n",
                "42 (x)  " FIELDS_4_TO_21 " 5\n", /* no state */
                "42 (x) SS " FIELDS_4_TO_21 " 5\n",
                "42 (x) S  " FIELDS_4_TO_21 " 5\n",
                "42 (x) S 1 0 0 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 - 5\n",
                "42 (x) S 1 0 0 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 x 5\n",
                "0 (x) S " FIELDS_4_TO_21 " 5\n",
                "-1 (x) S " FIELDS_4_TO_21 " 5\n",
                "2147483648 (x) S " FIELDS_4_TO_21 " 5\n",
                " 42 (x) S " FIELDS_4_TO_21 " 5\n",
                "42(x) S " FIELDS_4_TO_21 " 5\n",
                "42 x) S " FIELDS_4_TO_21 " 5\n",
                "42 (x)S " FIELDS_4_TO_21 " 5\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct process_id id = { .pid = 99, .start_time = 98 };
                char comm[8] = "keep";

                if (proc_stat_parse(bad[i], comm, sizeof(comm), &id) != -EINVAL)
                        fail_msg("accepted: \"%s\"", bad[i]);
                assert_int_equal(id.pid, 99);
                assert_int_equal(id.start_time, 98);
                assert_string_equal(comm, "keep");
        }
        /* the largest pid is fine, one more is not (above) */
        struct process_id id;
        assert_int_equal(proc_stat_parse("2147483647 (x) S " FIELDS_4_TO_21 " 5\n", NULL, 0, &id), 0);
        assert_int_equal(id.pid, 2147483647);
}

static void test_process_id_read(void **state)
{
        struct test_tree *t = tree_new();
        struct process_id id = { .pid = 1, .start_time = 1 };
        char comm[64] = "keep";

        fake_process(t, 2211, "kwin_wayland", 'S', 4567, NULL);
        test_tree_write(t, "proc/5/stat", "6 (liar) S " FIELDS_4_TO_21 " 1\n");
        test_tree_write(t, "proc/8/stat", "8 (broken) S 1 2\n");

        assert_int_equal(process_id_read(t->sr, 2211, &id, comm, sizeof(comm)), 0);
        assert_int_equal(id.pid, 2211);
        assert_int_equal(id.start_time, 4567);
        assert_string_equal(comm, "kwin_wayland");
        assert_int_equal(process_id_read(t->sr, 2211, NULL, comm, 5), 0);
        assert_string_equal(comm, "kwin");

        id = (struct process_id){ .pid = 1, .start_time = 1 };
        strcpy(comm, "keep");
        assert_int_equal(process_id_read(t->sr, 3000, &id, comm, sizeof(comm)), -ESRCH);
        assert_int_equal(process_id_read(t->sr, 5, &id, comm, sizeof(comm)), -EINVAL); /* names pid 6 */
        assert_int_equal(process_id_read(t->sr, 8, &id, comm, sizeof(comm)), -EINVAL);
        assert_int_equal(process_id_read(t->sr, 0, &id, comm, sizeof(comm)), -EINVAL);
        assert_int_equal(process_id_read(t->sr, -4, &id, comm, sizeof(comm)), -EINVAL);
        assert_int_equal(id.pid, 1);
        assert_int_equal(id.start_time, 1);
        assert_string_equal(comm, "keep");
        test_tree_free(t);
}

static void test_process_id_self(void **state)
{
        struct test_tree *t = tree_new();
        struct process_id id = { .pid = 1, .start_time = 1 };
        char comm[64];

        /* no proc/self below the root: not this process's real identity instead */
        assert_int_equal(process_id_self(t->sr, &id, comm, sizeof(comm)), -ENOENT);
        assert_int_equal(id.pid, 1);

        fake_process(t, 4242, "gpu-handoff", 'R', 777, NULL);
        test_tree_link(t, "4242", "proc/self");
        assert_int_equal(process_id_self(t->sr, &id, comm, sizeof(comm)), 0);
        assert_int_equal(id.pid, 4242);
        assert_int_equal(id.start_time, 777);
        assert_string_equal(comm, "gpu-handoff");
        /* what is recorded as self is alive on the same root */
        assert_true(process_id_alive(t->sr, &id));
        test_tree_free(t);
}

/* On "/" self is this very process (read-only: our own stat, nothing else is touched). */
static void test_process_id_self_real(void **state)
{
        struct sysroot *sr = NULL;
        struct process_id id = {}, again = {};

        assert_int_equal(sysroot_open("/", &sr), 0);
        assert_int_equal(process_id_self(sr, &id, NULL, 0), 0);
        assert_int_equal(id.pid, getpid());
        assert_true(id.start_time > 0);
        assert_int_equal(process_id_read(sr, getpid(), &again, NULL, 0), 0);
        assert_true(again.start_time == id.start_time);
        assert_true(process_id_alive(sr, &id));
        id.start_time++;
        assert_false(process_id_alive(sr, &id));
        sysroot_free(sr);
}

static void test_alive(void **state)
{
        struct test_tree *t = tree_new();
        struct process_id id = { .pid = 2211, .start_time = 4567 };

        fake_process(t, 2211, "kwin_wayland", 'S', 4567, NULL);
        fake_process(t, 3000, "defunct", 'Z', 10, NULL);
        fake_process(t, 3001, "dead", 'X', 10, NULL);
        test_tree_write(t, "proc/3002/stat", "3002 (garbage");

        assert_true(process_id_alive(t->sr, &id));
        id.start_time = 4568; /* the pid was recycled */
        assert_false(process_id_alive(t->sr, &id));
        id = (struct process_id){ .pid = 2212, .start_time = 4567 }; /* gone */
        assert_false(process_id_alive(t->sr, &id));
        id = (struct process_id){ .pid = 3000, .start_time = 10 };
        assert_false(process_id_alive(t->sr, &id));
        id = (struct process_id){ .pid = 3001, .start_time = 10 };
        assert_false(process_id_alive(t->sr, &id));
        id = (struct process_id){ .pid = 3002, .start_time = 10 };
        assert_false(process_id_alive(t->sr, &id));
        id = (struct process_id){ .pid = 0, .start_time = 0 };
        assert_false(process_id_alive(t->sr, &id));
        assert_false(process_id_alive(t->sr, NULL));
        test_tree_free(t);
}

/* Field 5 of each line is the process group. */
static void test_group_running(void **state)
{
        struct test_tree *t = tree_new();

        test_tree_write(t, "proc/500/stat", "500 (leader) Z 1 500 500 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 77\n");
        test_tree_write(t, "proc/501/stat",
                        "501 (mkinitramfs) S 1 500 500 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 78\n");
        test_tree_write(t, "proc/600/stat", "600 (zombie) Z 1 600 600 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 79\n");
        test_tree_write(t, "proc/601/stat", "601 (garbage");
        test_tree_write(t, "proc/self/stat", "700 (self) S 1 600 600 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 80\n");
        test_tree_mkdir(t, "proc/sys");

        assert_int_equal(process_group_running(t->sr, 500), 1); /* its leader a zombie, a member runs */
        assert_int_equal(process_group_running(t->sr, 600), 0); /* zombies only; "self" is no pid */
        assert_int_equal(process_group_running(t->sr, 2211), 0);
        assert_int_equal(process_group_running(t->sr, 0), -EINVAL);
        test_tree_free(t);
        t = tree_new();
        assert_int_equal(process_group_running(t->sr, 500), -ENOENT); /* no proc/ */
        test_tree_free(t);
}

static void expect_path_unit(const char *path, const char *unit)
{
        char *u = NULL;
        int r = cgroup_path_unit(path, &u);

        if (!unit) {
                if (r != -ENODATA)
                        fail_msg("%s: %d, expected -ENODATA", path, r);
                assert_null(u);
                return;
        }
        if (r != 0)
                fail_msg("%s: %d, expected %s", path, r, unit);
        assert_string_equal(u, unit);
        free(u);
}

static void test_cgroup_path_unit(void **state)
{
        expect_path_unit("/system.slice/sddm.service", "sddm.service");
        /* the innermost unit: the app, not the user manager that runs it */
        expect_path_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.kde.kwin.slice/"
                         "plasma-kwin_wayland.service",
                         "plasma-kwin_wayland.service");
        expect_path_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.kde.kwin.slice",
                         "user@1000.service");
        expect_path_unit("/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope");
        expect_path_unit("/user.slice/user-1000.slice/session-2.scope", "session-2.scope");
        expect_path_unit("/init.scope", "init.scope");
        /* below a unit: a cgroup the service made for itself */
        expect_path_unit("/system.slice/libvirtd.service/payload", "libvirtd.service");
        expect_path_unit("/machine.slice/machine-qemu\\x2d1\\x2dwin11.scope/libvirt/vcpu0",
                         "machine-qemu\\x2d1\\x2dwin11.scope");
        expect_path_unit("/system.slice/gone.service (deleted)", "gone.service");
        expect_path_unit("/system.slice/getty@tty1.service", "getty@tty1.service");
        /* names that are not units: a bare suffix, odd characters in a delegated subtree */
        expect_path_unit("/system.slice/docker.service/.service", "docker.service");
        expect_path_unit("/system.slice/docker.service/evil name.scope", "docker.service");
        expect_path_unit("/", NULL);
        assert_int_equal(cgroup_path_unit("", &(char *){ NULL }), -EINVAL);
        assert_int_equal(cgroup_path_unit("system.slice/sddm.service", &(char *){ NULL }), -EINVAL);
        expect_path_unit("/user.slice/user-1000.slice", NULL);
        expect_path_unit("/system.slice/x.services", NULL);
        expect_path_unit("/scope/service", NULL);
}

static void expect_file_unit(const char *text, int error, const char *unit)
{
        char *u = NULL;
        int r = cgroup_file_unit(text, &u);

        if (r != error)
                fail_msg("\"%s\": %d, expected %d", text, r, error);
        if (error < 0) {
                assert_null(u);
                return;
        }
        assert_string_equal(u, unit);
        free(u);
}

static void test_cgroup_file_unit(void **state)
{
        expect_file_unit("0::/system.slice/sddm.service\n", 0, "sddm.service");
        expect_file_unit("0::/system.slice/sddm.service", 0, "sddm.service"); /* no newline */
        /* legacy v1: the systemd hierarchy, not a controller's; "0::/" names nothing */
        expect_file_unit("12:pids:/system.slice/other.service\n"
                         "11:memory:/\n"
                         "1:name=systemd:/system.slice/sddm.service\n"
                         "0::/\n",
                         0, "sddm.service");
        /* hybrid: the unified line wins */
        expect_file_unit("1:name=systemd:/system.slice/old.service\n"
                         "0::/user.slice/user-1000.slice/session-2.scope\n",
                         0, "session-2.scope");
        expect_file_unit("3:cpu,name=systemd,cpuacct:/system.slice/a.service\n", 0, "a.service");
        expect_file_unit("0::/\n", -ENODATA, NULL);
        expect_file_unit("1:name=systemd:/\n0::/\n", -ENODATA, NULL);
        expect_file_unit("", -ENOENT, NULL);
        expect_file_unit("12:pids:/system.slice/sddm.service\n", -ENOENT, NULL);
        expect_file_unit("1:name=systemdx:/system.slice/sddm.service\n", -ENOENT, NULL);
        expect_file_unit("10::/system.slice/sddm.service\n", -ENOENT, NULL); /* not hierarchy 0 */
        expect_file_unit("garbage\n::\n", -ENOENT, NULL);
        expect_file_unit("0::system.slice/sddm.service\n", -ENOENT, NULL); /* not absolute */
}

static void test_process_unit(void **state)
{
        struct test_tree *t = tree_new();
        char *unit = (char *)"keep";

        fake_process(t, 812, "sddm", 'S', 100, "0::/system.slice/sddm.service\n");
        fake_process(t, 2211, "kwin_wayland", 'S', 4567,
                     "0::/user.slice/user-1000.slice/user@1000.service/session.slice/"
                     "plasma-kwin_wayland.service\n");
        fake_process(t, 2, "kthreadd", 'S', 0, "0::/\n");
        fake_process(t, 900, "nocgroup", 'S', 100, NULL);

        assert_int_equal(process_unit(t->sr, 812, &unit), 0);
        assert_string_equal(unit, "sddm.service");
        free(unit);
        assert_int_equal(process_unit(t->sr, 2211, &unit), 0);
        assert_string_equal(unit, "plasma-kwin_wayland.service");
        free(unit);

        unit = (char *)"keep";
        assert_int_equal(process_unit(t->sr, 2, &unit), -ENODATA);
        assert_int_equal(process_unit(t->sr, 900, &unit), -ENOENT);
        assert_int_equal(process_unit(t->sr, 901, &unit), -ESRCH);
        assert_int_equal(process_unit(t->sr, 0, &unit), -EINVAL);
        assert_string_equal(unit, "keep");
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stat_parse),
                cmocka_unit_test(test_stat_parse_malformed),
                cmocka_unit_test(test_process_id_read),
                cmocka_unit_test(test_process_id_self),
                cmocka_unit_test(test_process_id_self_real),
                cmocka_unit_test(test_alive),
                cmocka_unit_test(test_group_running),
                cmocka_unit_test(test_cgroup_path_unit),
                cmocka_unit_test(test_cgroup_file_unit),
                cmocka_unit_test(test_process_unit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
