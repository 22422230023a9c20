/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for hook install / uninstall and doctor's hook check (src/libvirt/hook-install.c) on
 * trees below a temporary root: which libvirt, every install branch (fresh, already installed, a
 * foreign qemu.d/gpu-handoff, a user's hooks/qemu kept, a VFIO-Tools dispatcher kept, libvirt
 * before 6.5 with and without hooks/qemu, a stale link, one that went stale after an install),
 * uninstall putting the tree back exactly as it was before install, uninstall without a journal
 * (an older version's install, its record file included), the daemon restart check, hostile
 * trees (a symlinked hooks directory, journals naming other changes, a symlinked journal), a
 * symlinked /etc/libvirt worked through and put back exactly, every
 * doctor finding, and install and uninstall failing at every operation or killed at every
 * operation (a file-system change or a journal record): the tree is as before afterwards, after
 * an uninstall; a killed install is finished by the next install, as a clean install leaves it. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "doctor/doctor.h"
#include "doctor/hook.h"
#include "libvirt/hook-install.h"
#include "snapshot.h"
#include "faults.h"
#include "testtree.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#else
static inline void __lsan_disable(void)
{
}
static inline void __lsan_enable(void)
{
}
#endif

#define BINARY "/usr/sbin/gpu-handoff"
#define FRONT "/usr/sbin/gpu-handoff-hook"
#define DEBIAN12 "usr/lib/x86_64-linux-gnu/libvirt.so.0.9000.0"
#define UBUNTU2004 "usr/lib/x86_64-linux-gnu/libvirt.so.0.6000.0"
#define USER_SCRIPT "#!/bin/sh\nif [ \"$2\" = prepare ]; then systemctl stop backup.timer; fi\n"
#define DISPATCHER                                                                                             \
        "#!/bin/bash\nGUEST_NAME=\"$1\"\nHOOK_NAME=\"$2\"\nSTATE_NAME=\"$3\"\nBASEDIR=\"$(dirname $0)\"\n"      \
        "HOOKPATH=\"$BASEDIR/qemu.d/$GUEST_NAME/$HOOK_NAME/$STATE_NAME\"\nset -e\n"                            \
        "if [ -f \"$HOOKPATH\" ] && [ -x \"$HOOKPATH\" ]; then\n    \"$HOOKPATH\" \"$@\"\nfi\n"

static void path_of(struct test_tree *t, const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", t->dir, rel);
}

static void set_mode(struct test_tree *t, const char *rel, mode_t mode)
{
        char path[512];

        path_of(t, rel, path, sizeof(path));
        assert_int_equal(chmod(path, mode), 0);
}

static void write_exec(struct test_tree *t, const char *rel, const char *content)
{
        test_tree_write(t, rel, content);
        set_mode(t, rel, 0755);
}

static bool exists(struct test_tree *t, const char *rel)
{
        char path[512];
        struct stat st;

        path_of(t, rel, path, sizeof(path));
        return lstat(path, &st) == 0;
}

static char *link_of(struct test_tree *t, const char *rel)
{
        char path[512], target[512];
        ssize_t n;

        path_of(t, rel, path, sizeof(path));
        n = readlink(path, target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = '\0';
        return strdup(target);
}

static char *read_text(struct test_tree *t, const char *rel)
{
        char path[512];
        char *s = NULL;
        size_t n = 0;
        FILE *f;

        path_of(t, rel, path, sizeof(path));
        f = fopen(path, "r");
        assert_non_null(f);
        assert_int_equal(getdelim(&s, &n, '\0', f) >= 0, 1);
        fclose(f);
        return s;
}

static mode_t mode_of(struct test_tree *t, const char *rel)
{
        char path[512];
        struct stat st;

        path_of(t, rel, path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode & 07777;
}

/* A host with libvirt (library file so, NULL: none), /etc/libvirt, /var/lib and an installed
 * gpu-handoff (with its front when front is set). */
static struct test_tree *host(const char *so, bool front)
{
        struct test_tree *t = test_tree_new("hook");

        if (so)
                test_tree_write(t, so, "");
        test_tree_mkdir(t, "etc/libvirt/qemu");
        test_tree_mkdir(t, "var/lib");
        write_exec(t, "usr/sbin/gpu-handoff", "");
        if (front)
                write_exec(t, "usr/sbin/gpu-handoff-hook", "");
        return t;
}

/* A libvirtd (pid 812) that started start_offset seconds after the epoch boot time btime. */
static void daemon_running(struct test_tree *t, const char *name, long long btime)
{
        char stat[256], pstat[128];

        test_tree_write(t, strcmp(name, "libvirtd") == 0 ? "run/libvirtd.pid" : "run/virtqemud.pid", "812\n");
        snprintf(stat, sizeof(stat), "812 (%s) S 1 812 812 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 18 0 1500 1000 100\n",
                 name);
        test_tree_write(t, "proc/812/stat", stat);
        snprintf(pstat, sizeof(pstat), "cpu  1 2 3 4\nbtime %lld\nprocesses 9000\n", btime);
        test_tree_write(t, "proc/stat", pstat);
}

static char *snap(struct test_tree *t)
{
        char *s = tree_snapshot(t->dir, NULL);
        assert_non_null(s);
        return s;
}

static void assert_same_tree(const char *before, const char *after, const char *when)
{
        if (strcmp(before, after) != 0)
                fail_msg("%s: the tree differs:\n%s", when, snapshot_diff(before, after));
}

static struct hook_report *install_ok(struct test_tree *t, enum hook_outcome expected)
{
        struct hook_report *rep = NULL;
        char *error = NULL;
        int r = hook_install(t->sr, BINARY, &rep, &error);

        if (r < 0)
                fail_msg("install: %s (%s)", strerror(-r), error ? error : "no message");
        assert_null(error);
        assert_non_null(rep);
        assert_int_equal(rep->outcome, expected);
        return rep;
}

static struct hook_report *uninstall_ok(struct test_tree *t, enum hook_outcome expected)
{
        struct hook_report *rep = NULL;
        char *error = NULL;
        int r = hook_uninstall(t->sr, &rep, &error);

        if (r < 0)
                fail_msg("uninstall: %s (%s)", strerror(-r), error ? error : "no message");
        assert_non_null(rep);
        assert_int_equal(rep->outcome, expected);
        return rep;
}

/* Expects a refusal r that leaves the tree as it was; returns the message. */
static char *install_refused(struct test_tree *t, int expected)
{
        _cleanup_free_ char *before = snap(t), *after = NULL;
        struct hook_report *rep = NULL;
        char *error = NULL;

        assert_int_equal(hook_install(t->sr, BINARY, &rep, &error), expected);
        assert_true(hook_refused(expected));
        assert_null(rep);
        assert_non_null(error);
        after = snap(t);
        assert_same_tree(before, after, "after a refused install");
        return error;
}

static bool has_change(const struct hook_report *rep, enum hook_change_kind kind, const char *path)
{
        for (size_t i = 0; i < rep->n_changes; i++)
                if (rep->changes[i].kind == kind && strcmp(rep->changes[i].path, path) == 0)
                        return true;
        return false;
}

static const struct hook_change *change_of(const struct hook_report *rep, enum hook_change_kind kind, const char *path)
{
        for (size_t i = 0; i < rep->n_changes; i++)
                if (rep->changes[i].kind == kind && strcmp(rep->changes[i].path, path) == 0)
                        return &rep->changes[i];
        fail_msg("no \"%s\" change of %s", hook_change_kind_to_string(kind), path);
        return NULL;
}

/* ---- libvirt's version ---- */

static void test_version(void **state)
{
        static const struct {
                const char *file;
                unsigned major, minor, micro;
        } cases[] = {
                {DEBIAN12, 9, 0, 0},
                {UBUNTU2004, 6, 0, 0},
                {"usr/lib64/libvirt.so.0.10000.0", 10, 0, 0},
                {"usr/lib/libvirt.so.0.11006.2", 11, 6, 2},
                {"usr/lib/aarch64-linux-gnu/libvirt.so.0.6005.0", 6, 5, 0},
        };
        struct libvirt_version v;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct test_tree *t = test_tree_new("version");
                test_tree_write(t, cases[i].file, "");
                assert_int_equal(libvirt_version_find(t->sr, &v), 0);
                assert_int_equal(v.major, cases[i].major);
                assert_int_equal(v.minor, cases[i].minor);
                assert_int_equal(v.micro, cases[i].micro);
                test_tree_free(t);
        }

        /* look-alikes are not libvirt's library */
        struct test_tree *t = test_tree_new("version");
        test_tree_write(t, "usr/lib/x86_64-linux-gnu/libvirt-qemu.so.0.9000.0", "");
        test_tree_write(t, "usr/lib/x86_64-linux-gnu/libvirt.so.0", "");
        test_tree_write(t, "usr/lib/x86_64-linux-gnu/libvirt.so.0.9000", "");
        test_tree_write(t, "usr/lib/x86_64-linux-gnu/libvirt.so.0.9000.0x", "");
        test_tree_write(t, "usr/lib/x86_64-linux-gnu/libvirt.so.0..0", "");
        test_tree_write(t, "usr/lib/libvirt/libvirt.so.0.9000.0", ""); /* not a library directory */
        test_tree_write(t, "usr/local/lib/libvirt.so.0.9000.0", "");
        assert_int_equal(libvirt_version_find(t->sr, &v), -ENOPKG);
        /* several: the newest */
        test_tree_write(t, "usr/lib/i386-linux-gnu/libvirt.so.0.6000.0", "");
        test_tree_write(t, DEBIAN12, "");
        assert_int_equal(libvirt_version_find(t->sr, &v), 0);
        assert_int_equal(v.major, 9);
        test_tree_free(t);

        assert_false(libvirt_runs_hook_dir(&(struct libvirt_version){6, 4, 99}));
        assert_true(libvirt_runs_hook_dir(&(struct libvirt_version){6, 5, 0}));
        assert_true(libvirt_runs_hook_dir(&(struct libvirt_version){10, 0, 0}));
        assert_false(libvirt_runs_hook_dir(&(struct libvirt_version){5, 10, 0}));
}

/* ---- the journal ---- */

#define JOURNAL "var/lib/gpu-handoff/hook/journal"
/* A journal's first lines, as an install writes them. */
#define JOURNAL_HEAD "gpu-handoff hook-journal 1\nphase install 4242 81234 1718000000123456  gpu-handoff\n"

/* ---- install and uninstall ---- */

static void test_fresh_install_and_back(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *before = snap(t), *after = NULL, *target = NULL, *record = NULL;
        struct hook_report *rep;
        mode_t mask = umask(077); /* created directories are 0755 whatever the umask */

        rep = install_ok(t, HOOK_INSTALLED);
        umask(mask);
        assert_string_equal(rep->hook, HOOK_LINK_PATH);
        assert_string_equal(rep->target, FRONT);
        assert_false(rep->restart);
        assert_true(rep->before->hook_dir);
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_LINKED, HOOK_LINK_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, "/var/lib/gpu-handoff"));
        assert_true(has_change(rep, HOOK_CHANGE_RECORDED, HOOK_JOURNAL_PATH));
        hook_report_free(rep);
        target = link_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_string_equal(target, FRONT);
        assert_int_equal(mode_of(t, "etc/libvirt/hooks"), 0755);
        assert_int_equal(mode_of(t, "etc/libvirt/hooks/qemu.d"), 0755);
        assert_int_equal(mode_of(t, "var/lib/gpu-handoff"), 0755);
        record = read_text(t, JOURNAL);
        assert_non_null(strstr(record, "\nbegin 0 make-dir /etc/libvirt/hooks 0755\n"));
        assert_non_null(strstr(record, "\nbegin 1 make-dir /etc/libvirt/hooks/qemu.d 0755\n"));
        assert_non_null(strstr(record, "\nbegin 2 hook-link /etc/libvirt/hooks/qemu.d/gpu-handoff " FRONT " \n"));
        assert_non_null(strstr(record, "\nend installed\n"));

        /* again: nothing to do, nothing touched */
        {
                _cleanup_free_ char *installed = snap(t), *now = NULL;
                rep = install_ok(t, HOOK_ALREADY_INSTALLED);
                assert_string_equal(rep->hook, HOOK_LINK_PATH);
                assert_string_equal(rep->target, FRONT);
                assert_int_equal(rep->n_changes, 0);
                hook_report_free(rep);
                now = snap(t);
                assert_same_tree(installed, now, "after installing twice");
        }

        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_string_equal(change_of(rep, HOOK_CHANGE_REMOVED, HOOK_LINK_PATH)->target, FRONT);
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_QEMU_D_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_DIR_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_JOURNAL_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, "/var/lib/gpu-handoff"));
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "after install and uninstall");

        rep = uninstall_ok(t, HOOK_NOT_INSTALLED);
        assert_int_equal(rep->n_changes, 0);
        hook_report_free(rep);
        test_tree_free(t);
}

static void test_without_front(void **state)
{
        struct test_tree *t = host(DEBIAN12, false);
        _cleanup_free_ char *target = NULL, *line = NULL;
        struct hook_report *rep = install_ok(t, HOOK_INSTALLED);

        assert_string_equal(rep->target, BINARY);
        target = link_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_string_equal(target, BINARY);
        line = hook_chain_line(t->sr, BINARY);
        assert_string_equal(line, BINARY " -- hook \"$@\" || exit $?");
        hook_report_free(rep);
        test_tree_free(t);
}

static void test_already_installed(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct hook_report *rep;

        /* a link of ours, relative, to a gpu-handoff somewhere else (another prefix): fine */
        write_exec(t, "usr/local/sbin/gpu-handoff", "");
        test_tree_link(t, "../../../../usr/local/sbin/gpu-handoff", "etc/libvirt/hooks/qemu.d/gpu-handoff");
        before = snap(t);
        rep = install_ok(t, HOOK_ALREADY_INSTALLED);
        assert_string_equal(rep->target, "../../../../usr/local/sbin/gpu-handoff");
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "already installed");

        /* without a journal, uninstall removes the link (it is ours) and keeps the directories */
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_int_equal(rep->n_changes, 1);
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_LINK_PATH));
        assert_false(rep->before->record);
        hook_report_free(rep);
        assert_false(exists(t, "etc/libvirt/hooks/qemu.d/gpu-handoff"));
        assert_true(exists(t, "etc/libvirt/hooks/qemu.d"));
        test_tree_free(t);
}

static void test_foreign_link(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        char *error;

        write_exec(t, "etc/libvirt/hooks/qemu.d/gpu-handoff", "#!/bin/sh\nlogger \"$1 $2\"\n");
        error = install_refused(t, -EEXIST);
        assert_non_null(strstr(error, HOOK_LINK_PATH " is there already and is not gpu-handoff's"));
        free(error);
        test_tree_free(t);

        /* a directory of that name (a dispatcher's VM called gpu-handoff), a symlink elsewhere */
        t = host(DEBIAN12, true);
        test_tree_mkdir(t, "etc/libvirt/hooks/qemu.d/gpu-handoff/prepare");
        free(install_refused(t, -EEXIST));
        test_tree_free(t);
        t = host(DEBIAN12, true);
        write_exec(t, "opt/x/run-me", "#!/bin/sh\n");
        test_tree_link(t, "/opt/x/run-me", "etc/libvirt/hooks/qemu.d/gpu-handoff");
        free(install_refused(t, -EEXIST));
        /* and uninstall leaves it alone */
        {
                _cleanup_free_ char *before = snap(t), *after = NULL;
                struct hook_report *rep = uninstall_ok(t, HOOK_NOT_INSTALLED);
                hook_report_free(rep);
                after = snap(t);
                assert_same_tree(before, after, "uninstall beside a foreign file");
        }
        test_tree_free(t);
}

static void test_user_script_kept(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *before = NULL, *after = NULL, *script = NULL;
        struct hook_report *rep;

        write_exec(t, "etc/libvirt/hooks/qemu", USER_SCRIPT);
        before = snap(t);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_int_equal(rep->before->qemu, HOOK_FILE_SCRIPT);
        assert_true(rep->before->qemu_executable);
        assert_false(has_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH));
        hook_report_free(rep);
        script = read_text(t, "etc/libvirt/hooks/qemu");
        assert_string_equal(script, USER_SCRIPT);
        assert_int_equal(mode_of(t, "etc/libvirt/hooks/qemu"), 0755);

        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_false(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_DIR_PATH)); /* it was there before */
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "user script: install and uninstall");
        test_tree_free(t);
}

static void test_dispatcher_kept(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct hook_report *rep;

        write_exec(t, "etc/libvirt/hooks/qemu", DISPATCHER);
        write_exec(t, "etc/libvirt/hooks/qemu.d/win10/prepare/begin/start.sh", "#!/bin/sh\nsystemctl stop sddm\n");
        write_exec(t, "etc/libvirt/hooks/qemu.d/linux/started/begin/x.sh", "#!/bin/sh\n");
        write_exec(t, "etc/libvirt/hooks/qemu.d/10-log", "#!/bin/sh\n");
        test_tree_write(t, "etc/libvirt/hooks/qemu.d/README", "not executable\n");
        before = snap(t);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_int_equal(rep->before->qemu, HOOK_FILE_DISPATCHER);
        assert_int_equal(rep->before->n_vm_dirs, 2);
        assert_string_equal(rep->before->vm_dirs[0], "linux");
        assert_string_equal(rep->before->vm_dirs[1], "win10");
        assert_true(rep->before->vm_scripts);
        assert_int_equal(rep->before->n_others, 1);
        assert_string_equal(rep->before->others[0], "10-log");
        assert_false(has_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH));
        hook_report_free(rep);
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "dispatcher: install and uninstall");
        test_tree_free(t);
}

static void test_old_libvirt(void **state)
{
        struct test_tree *t = host(UBUNTU2004, true);
        _cleanup_free_ char *before = snap(t), *after = NULL, *target = NULL;
        struct hook_report *rep = install_ok(t, HOOK_INSTALLED);
        char *error;

        assert_false(rep->before->hook_dir);
        assert_string_equal(rep->hook, HOOK_QEMU_PATH);
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH));
        assert_false(has_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH));
        hook_report_free(rep);
        target = link_of(t, "etc/libvirt/hooks/qemu");
        assert_string_equal(target, FRONT);
        assert_false(exists(t, "etc/libvirt/hooks/qemu.d"));
        rep = install_ok(t, HOOK_ALREADY_INSTALLED);
        assert_string_equal(rep->hook, HOOK_QEMU_PATH);
        hook_report_free(rep);
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "libvirt 6.0: install and uninstall");
        test_tree_free(t);

        /* a script of the user's: refused, with the line to add */
        t = host(UBUNTU2004, true);
        write_exec(t, "etc/libvirt/hooks/qemu", USER_SCRIPT);
        error = install_refused(t, -EEXIST);
        assert_non_null(
                strstr(error, "libvirt 6.0.0 runs only /etc/libvirt/hooks/qemu, and that is a hook script of yours"));
        assert_non_null(strstr(error, "\n    " FRONT " \"$@\" || exit $?"));
        free(error);
        test_tree_free(t);

        /* a dispatcher: the same, and why its directories do not help */
        t = host(UBUNTU2004, false);
        write_exec(t, "etc/libvirt/hooks/qemu", DISPATCHER);
        error = install_refused(t, -EEXIST);
        assert_non_null(strstr(error, "a VFIO-Tools style dispatcher"));
        assert_non_null(strstr(error, "\n    " BINARY " -- hook \"$@\" || exit $?"));
        assert_non_null(strstr(error, "which gpu-handoff is not"));
        free(error);
        test_tree_free(t);
}

static void test_chained(void **state)
{
        static const char chained[] = "#!/bin/sh\n# gpu-handoff.conf is read by it\n"
                                      "/usr/sbin/gpu-handoff-hook \"$@\" || exit $?\nlogger done\n";
        struct test_tree *t = host(UBUNTU2004, true);
        struct hook_report *rep;
        char *error;

        write_exec(t, "etc/libvirt/hooks/qemu", chained);
        rep = install_ok(t, HOOK_ALREADY_INSTALLED);
        assert_int_equal(rep->before->qemu, HOOK_FILE_CHAINS);
        assert_int_equal(rep->before->chain_line, 3);
        assert_null(rep->target);
        hook_report_free(rep);
        /* uninstall leaves the user's script, saying which line to remove */
        rep = uninstall_ok(t, HOOK_NOT_INSTALLED);
        assert_non_null(strstr(change_of(rep, HOOK_CHANGE_KEPT, HOOK_QEMU_PATH)->why, "line 3"));
        hook_report_free(rep);
        set_mode(t, "etc/libvirt/hooks/qemu", 0644);
        error = install_refused(t, -EEXIST);
        assert_non_null(strstr(error, "chmod 755 /etc/libvirt/hooks/qemu"));
        free(error);
        test_tree_free(t);

        /* on 6.5 and later, a chaining hooks/qemu is enough: no second run from qemu.d/ */
        t = host(DEBIAN12, true);
        write_exec(t, "etc/libvirt/hooks/qemu", "#!/bin/sh\nexec /usr/sbin/gpu-handoff -- hook \"$@\"\n");
        rep = install_ok(t, HOOK_ALREADY_INSTALLED);
        assert_false(exists(t, "etc/libvirt/hooks/qemu.d"));
        hook_report_free(rep);
        test_tree_free(t);

        /* words that only look like it */
        t = host(UBUNTU2004, true);
        write_exec(t, "etc/libvirt/hooks/qemu",
                   "#!/bin/sh\n# runs gpu-handoff\ncat /etc/gpu-handoff/gpu-handoff.conf\nmy-gpu-handoff x\n");
        free(install_refused(t, -EEXIST));
        test_tree_free(t);
}

static void test_stale_link(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *target = NULL, *record = NULL;
        struct hook_report *rep;

        test_tree_link(t, "/usr/local/sbin/gpu-handoff-hook", "etc/libvirt/hooks/qemu.d/gpu-handoff");
        rep = install_ok(t, HOOK_REPAIRED);
        assert_int_equal(rep->before->link, HOOK_FILE_OURS_STALE);
        assert_string_equal(change_of(rep, HOOK_CHANGE_RELINKED, HOOK_LINK_PATH)->why,
                            "/usr/local/sbin/gpu-handoff-hook");
        hook_report_free(rep);
        target = link_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_string_equal(target, FRONT);
        assert_false(exists(t, "etc/libvirt/hooks/qemu.d/.gpu-handoff.gpu-handoff-new"));
        record = read_text(t, JOURNAL);
        assert_non_null(strstr(record, "\nbegin 0 hook-link " HOOK_LINK_PATH " " FRONT " /usr/local/sbin/gpu-handoff-hook\n"));
        assert_null(strstr(record, "make-dir")); /* it did not make them */
        test_tree_free(t);
}

/* A complete install whose link went stale (the front it points at was removed): install undoes
 * that install and makes it afresh, told as a repair; uninstall then puts the tree back. */
static void test_stale_after_install(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        _cleanup_free_ char *before = NULL, *after = NULL, *target = NULL, *record = NULL;
        struct hook_report *rep;
        char path[512];

        path_of(t, "usr/sbin/gpu-handoff-hook", path, sizeof(path));
        hook_report_free(install_ok(t, HOOK_INSTALLED));
        assert_int_equal(unlink(path), 0);
        {
                struct test_tree *fresh = host(DEBIAN12, false);
                before = snap(fresh);
                test_tree_free(fresh);
        }
        rep = install_ok(t, HOOK_REPAIRED);
        assert_int_equal(rep->before->link, HOOK_FILE_OURS_STALE);
        assert_string_equal(change_of(rep, HOOK_CHANGE_RELINKED, HOOK_LINK_PATH)->why, FRONT);
        assert_false(has_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH)); /* they were there */
        assert_false(has_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH));
        hook_report_free(rep);
        target = link_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_string_equal(target, BINARY);
        record = read_text(t, JOURNAL);
        assert_non_null(strstr(record, "\nbegin 0 make-dir /etc/libvirt/hooks 0755\n")); /* still install's */
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "after the repair and uninstall");
        test_tree_free(t);
}

/* An install by an older version: its link and its record file go, its directories stay. */
static void test_older_version_install(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        struct hook_report *rep;

        test_tree_link(t, FRONT, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        test_tree_write(t, "var/lib/gpu-handoff/hook-install",
                        "dir /etc/libvirt/hooks\nlink /etc/libvirt/hooks/qemu.d/gpu-handoff " FRONT "\n");
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_false(rep->before->record);
        assert_string_equal(change_of(rep, HOOK_CHANGE_REMOVED, HOOK_LINK_PATH)->target, FRONT);
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, "/var/lib/gpu-handoff/hook-install"));
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, "/var/lib/gpu-handoff"));
        hook_report_free(rep);
        assert_false(exists(t, "etc/libvirt/hooks/qemu.d/gpu-handoff"));
        assert_true(exists(t, "etc/libvirt/hooks/qemu.d"));
        assert_false(exists(t, "var/lib/gpu-handoff"));
        test_tree_free(t);
}

static void test_uninstall_keeps_what_is_not_ours(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        struct hook_report *rep;

        rep = install_ok(t, HOOK_INSTALLED);
        hook_report_free(rep);
        /* after install, the user adds a hook of theirs to qemu.d/ */
        write_exec(t, "etc/libvirt/hooks/qemu.d/50-mine", "#!/bin/sh\n");
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_LINK_PATH));
        assert_string_equal(change_of(rep, HOOK_CHANGE_KEPT, HOOK_QEMU_D_PATH)->why, "not empty: 50-mine");
        assert_true(has_change(rep, HOOK_CHANGE_KEPT, HOOK_DIR_PATH));
        hook_report_free(rep);
        assert_true(exists(t, "etc/libvirt/hooks/qemu.d/50-mine"));
        assert_false(exists(t, "var/lib/gpu-handoff"));
        test_tree_free(t);

        /* the link replaced by a file of the user's: kept */
        t = host(DEBIAN12, true);
        rep = install_ok(t, HOOK_INSTALLED);
        hook_report_free(rep);
        {
                char path[512];
                path_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff", path, sizeof(path));
                assert_int_equal(unlink(path), 0);
        }
        write_exec(t, "etc/libvirt/hooks/qemu.d/gpu-handoff", "#!/bin/sh\n");
        rep = uninstall_ok(t, HOOK_UNINSTALLED); /* the record and what it made and can go */
        assert_non_null(strstr(change_of(rep, HOOK_CHANGE_KEPT, HOOK_LINK_PATH)->why, "no longer gpu-handoff's link"));
        hook_report_free(rep);
        assert_true(exists(t, "etc/libvirt/hooks/qemu.d/gpu-handoff"));
        test_tree_free(t);
}

static void test_refusals(void **state)
{
        struct test_tree *t = host(NULL, true);
        char *error;

        error = install_refused(t, -ENOPKG);
        assert_string_equal(error, "libvirt is not installed (no libvirt.so.0.* below /usr/lib); install "
                                   "libvirt-daemon-system first");
        free(error);
        test_tree_free(t);

        /* the client library without the daemon's /etc/libvirt */
        t = test_tree_new("hook");
        test_tree_write(t, DEBIAN12, "");
        test_tree_mkdir(t, "var/lib");
        write_exec(t, "usr/sbin/gpu-handoff", "");
        free(install_refused(t, -ENOPKG));
        test_tree_free(t);

        /* gpu-handoff not installed where the link would point, or not executable */
        t = host(DEBIAN12, true);
        set_mode(t, "usr/sbin/gpu-handoff", 0644);
        error = install_refused(t, -ENOEXEC);
        assert_non_null(strstr(error, "gpu-handoff is not installed as /usr/sbin/gpu-handoff"));
        free(error);
        test_tree_free(t);

        /* a binary path that is not gpu-handoff's */
        t = host(DEBIAN12, true);
        {
                struct hook_report *rep = NULL;
                char *e = NULL;
                assert_int_equal(hook_install(t->sr, "/bin/sh", &rep, &e), -EINVAL);
                assert_null(rep);
                free(e);
                e = NULL;
                assert_int_equal(hook_install(t->sr, "usr/sbin/gpu-handoff", &rep, &e), -EINVAL);
                free(e);
                e = NULL;
                assert_int_equal(hook_install(t->sr, "/usr/sbin/gpu-handoff-hook", &rep, &e), -EINVAL);
                free(e);
        }
        test_tree_free(t);
}

/* /etc/libvirt a symlink inside the root (a distribution that keeps /etc elsewhere): install and
 * uninstall work through it; a symlinked hooks/ below it is still refused. */
static void test_symlinked_etc_libvirt(void **state)
{
        struct test_tree *t = test_tree_new("hook");
        _cleanup_free_ char *before = NULL, *after = NULL, *target = NULL, *error = NULL;
        struct hook_report *rep;

        test_tree_write(t, DEBIAN12, "");
        test_tree_mkdir(t, "srv/libvirt/qemu");
        test_tree_link(t, "/srv/libvirt", "etc/libvirt");
        test_tree_mkdir(t, "var/lib");
        write_exec(t, "usr/sbin/gpu-handoff", "");
        write_exec(t, "usr/sbin/gpu-handoff-hook", "");
        before = snap(t);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_true(has_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH));
        assert_true(has_change(rep, HOOK_CHANGE_LINKED, HOOK_LINK_PATH));
        hook_report_free(rep);
        target = link_of(t, "srv/libvirt/hooks/qemu.d/gpu-handoff");
        assert_string_equal(target, FRONT);
        rep = uninstall_ok(t, HOOK_UNINSTALLED);
        assert_true(has_change(rep, HOOK_CHANGE_REMOVED, HOOK_DIR_PATH));
        hook_report_free(rep);
        after = snap(t);
        assert_same_tree(before, after, "after install and uninstall through a symlinked /etc/libvirt");

        /* below it, hooks/ a symlink: refused as anywhere */
        test_tree_mkdir(t, "tmp/elsewhere");
        test_tree_link(t, "/tmp/elsewhere", "srv/libvirt/hooks");
        error = install_refused(t, -ELOOP);
        assert_non_null(strstr(error, "/etc/libvirt/hooks is a symlink (to /tmp/elsewhere)"));
        assert_false(exists(t, "tmp/elsewhere/qemu.d"));
        test_tree_free(t);
}

static void test_hostile(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        struct hook_report *rep = NULL;
        char *error;

        /* etc/libvirt/hooks is a symlink to somewhere else: never worked through */
        test_tree_mkdir(t, "tmp/elsewhere");
        test_tree_link(t, "../../tmp/elsewhere", "etc/libvirt/hooks");
        error = install_refused(t, -ELOOP);
        assert_non_null(strstr(error, "/etc/libvirt/hooks is a symlink (to ../../tmp/elsewhere)"));
        free(error);
        error = NULL;
        assert_int_equal(hook_uninstall(t->sr, &rep, &error), -ELOOP);
        free(error);
        assert_false(exists(t, "tmp/elsewhere/qemu.d"));
        test_tree_free(t);

        /* ... or qemu.d is */
        t = host(DEBIAN12, true);
        test_tree_mkdir(t, "tmp/elsewhere");
        test_tree_link(t, "../../../tmp/elsewhere", "etc/libvirt/hooks/qemu.d");
        free(install_refused(t, -ELOOP));
        test_tree_free(t);

        /* ... or a file */
        t = host(DEBIAN12, true);
        test_tree_write(t, "etc/libvirt/hooks", "");
        free(install_refused(t, -ENOTDIR));
        test_tree_free(t);

        /* the state directory a symlink */
        t = host(DEBIAN12, true);
        test_tree_mkdir(t, "tmp/elsewhere");
        test_tree_link(t, "../../tmp/elsewhere", "var/lib/gpu-handoff");
        free(install_refused(t, -ELOOP));
        test_tree_free(t);

        /* a journal naming changes install does not make: uninstall acts on nothing */
        static const char *const bad[] = {
                JOURNAL_HEAD "begin 0 make-dir /etc 0755\ndone 0 5\nend installed\n",
                JOURNAL_HEAD "begin 0 make-dir /etc/libvirt/hooks 0755\ndone 0 5\n"
                             "begin 1 hook-link /etc/shadow /usr/sbin/gpu-handoff \ndone 1 5\nend installed\n",
                JOURNAL_HEAD "begin 0 make-dir /var/lib/gpu-handoff/../.. 0755\ndone 0 5\nend installed\n",
                JOURNAL_HEAD "begin 0 hook-link /etc/libvirt/hooks/qemu.d/gpu-handoff /bin/sh \ndone 0 5\nend installed\n",
                JOURNAL_HEAD "begin 0 create-file /etc/passwd 0644 x\ndone 0 5\nend installed\n",
                "rm -rf /\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *before = NULL, *after = NULL;

                t = host(DEBIAN12, true);
                rep = install_ok(t, HOOK_INSTALLED);
                hook_report_free(rep);
                test_tree_write(t, JOURNAL, bad[i]);
                before = snap(t);
                rep = NULL;
                error = NULL;
                assert_int_equal(hook_uninstall(t->sr, &rep, &error), -EBADMSG);
                assert_true(hook_refused(-EBADMSG));
                assert_null(rep);
                assert_non_null(error);
                if (i + 1 < ELEMENTSOF(bad) && !strstr(error, "refusing to act on this journal"))
                        fail_msg("journal %zu: \"%s\"", i, error);
                free(error);
                error = NULL;
                /* install reads it too, before anything else */
                assert_int_equal(hook_install(t->sr, BINARY, &rep, &error), -EBADMSG);
                assert_null(rep);
                free(error);
                after = snap(t);
                assert_same_tree(before, after, "a hostile journal");
                test_tree_free(t);
        }

        /* the journal itself a symlink */
        t = host(DEBIAN12, true);
        test_tree_write(t, "tmp/journal", JOURNAL_HEAD "begin 0 make-dir /etc/libvirt/hooks 0755\n");
        test_tree_mkdir(t, "var/lib/gpu-handoff/hook");
        set_mode(t, "var/lib/gpu-handoff/hook", 0700);
        test_tree_link(t, "../../../../tmp/journal", JOURNAL);
        rep = NULL;
        error = NULL;
        assert_int_equal(hook_uninstall(t->sr, &rep, &error), -ELOOP);
        assert_true(hook_refused(-ELOOP));
        assert_non_null(strstr(error, "symlink"));
        free(error);
        test_tree_free(t);

        /* a fifo where hooks/qemu should be: looked at without blocking */
        t = host(DEBIAN12, true);
        test_tree_mkdir(t, "etc/libvirt/hooks");
        {
                char path[512];
                path_of(t, "etc/libvirt/hooks/qemu", path, sizeof(path));
                assert_int_equal(mkfifo(path, 0644), 0);
        }
        rep = install_ok(t, HOOK_INSTALLED);
        assert_int_equal(rep->before->qemu, HOOK_FILE_OTHER);
        hook_report_free(rep);
        test_tree_free(t);
}

/* ---- the daemon ---- */

static void test_restart(void **state)
{
        struct test_tree *t = host(DEBIAN12, true);
        struct hook_report *rep;

        /* libvirtd since long before: it found no hook when it started */
        daemon_running(t, "libvirtd", 1700000000);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_true(rep->restart);
        assert_string_equal(rep->before->daemon, "libvirtd");
        assert_int_equal(rep->before->daemon_pid, 812);
        hook_report_free(rep);
        test_tree_free(t);

        /* virtqemud started after hooks/qemu (boot time in the future): it runs qemu.d/ at each call */
        t = host(DEBIAN12, true);
        write_exec(t, "etc/libvirt/hooks/qemu", USER_SCRIPT);
        daemon_running(t, "virtqemud", (long long)time(NULL) + 1000);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_false(rep->restart);
        assert_string_equal(rep->before->daemon, "virtqemud");
        hook_report_free(rep);
        test_tree_free(t);

        /* ... but not when hooks/qemu came after the daemon */
        t = host(DEBIAN12, true);
        write_exec(t, "etc/libvirt/hooks/qemu", USER_SCRIPT);
        daemon_running(t, "libvirtd", 1700000000);
        rep = install_ok(t, HOOK_INSTALLED);
        assert_true(rep->restart);
        hook_report_free(rep);
        test_tree_free(t);

        /* a stale pid file, or a pid now used by another program: no daemon */
        t = host(DEBIAN12, true);
        daemon_running(t, "libvirtd", 1700000000);
        test_tree_write(t, "proc/812/stat",
                        "812 (bash) S 1 812 812 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 1500 1 1\n");
        rep = install_ok(t, HOOK_INSTALLED);
        assert_false(rep->restart);
        assert_string_equal(rep->before->daemon, "");
        hook_report_free(rep);
        test_tree_free(t);

        /* no proc/stat: the start cannot be told, so no restart is asked for */
        t = host(DEBIAN12, true);
        daemon_running(t, "libvirtd", 1700000000);
        {
                char path[512];
                path_of(t, "proc/stat", path, sizeof(path));
                assert_int_equal(unlink(path), 0);
        }
        rep = install_ok(t, HOOK_INSTALLED);
        assert_false(rep->restart);
        assert_string_equal(rep->before->daemon, "libvirtd");
        hook_report_free(rep);
        test_tree_free(t);
}

/* ---- doctor ---- */

static struct doctor_report *doctor(struct test_tree *t)
{
        struct doctor_report *rep = calloc(1, sizeof(*rep));

        assert_non_null(rep);
        assert_int_equal(hook_doctor(t->sr, BINARY, rep), 0);
        return rep;
}

/* The ids of the findings, space-separated. */
static void assert_findings(struct test_tree *t, const char *expected, const char *in_message)
{
        struct doctor_report *rep = doctor(t);
        char ids[512] = "";
        bool found = !in_message;

        for (size_t i = 0; i < rep->n_findings; i++) {
                snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", i ? " " : "", rep->findings[i].id);
                if (in_message && (strstr(rep->findings[i].message, in_message) ||
                                   (rep->findings[i].fix && strstr(rep->findings[i].fix, in_message))))
                        found = true;
        }
        assert_string_equal(ids, expected);
        if (!found)
                fail_msg("no finding says \"%s\"", in_message);
        doctor_report_free(rep);
}

static void test_doctor(void **state)
{
        struct test_tree *t = host(NULL, true);
        struct hook_report *rep;

        assert_findings(t, "", NULL); /* no libvirt: nothing to say */
        test_tree_mkdir(t, "tmp/x");
        test_tree_link(t, "../../tmp/x", "etc/libvirt/hooks");
        assert_findings(t, "", NULL);
        test_tree_free(t);

        t = host(DEBIAN12, true);
        assert_findings(t, "hook-not-installed", "gpu-handoff hook install");
        daemon_running(t, "libvirtd", 1700000000);
        rep = install_ok(t, HOOK_INSTALLED);
        hook_report_free(rep);
        assert_findings(t, "hook-installed hook-restart-needed", "systemctl restart libvirtd");
        daemon_running(t, "libvirtd", (long long)time(NULL) + 1000); /* restarted */
        assert_findings(t, "hook-installed", HOOK_LINK_PATH " -> " FRONT);
        /* gpu-handoff chained from hooks/qemu as well: twice */
        write_exec(t, "etc/libvirt/hooks/qemu", "#!/bin/sh\n/usr/sbin/gpu-handoff -- hook \"$@\"\n");
        assert_findings(t, "hook-installed hook-runs-twice", "Remove line 2 from /etc/libvirt/hooks/qemu");
        /* a dispatcher with per-VM scripts beside it */
        write_exec(t, "etc/libvirt/hooks/qemu", DISPATCHER);
        write_exec(t, "etc/libvirt/hooks/qemu.d/win10/prepare/begin/start.sh", "#!/bin/sh\n");
        assert_findings(t, "hook-installed hook-vm-scripts", "(win10/)");
        test_tree_free(t);

        /* a stale link, with and without the binary to point it at */
        t = host(DEBIAN12, true);
        test_tree_link(t, "/usr/local/sbin/gpu-handoff", "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_findings(t, "hook-stale", "it points the link at " FRONT);
        set_mode(t, "usr/sbin/gpu-handoff", 0644);
        assert_findings(t, "hook-stale", "Install gpu-handoff again");
        test_tree_free(t);

        /* libvirt 6.0 and a script of the user's that does not run gpu-handoff */
        t = host(UBUNTU2004, true);
        write_exec(t, "etc/libvirt/hooks/qemu", USER_SCRIPT);
        assert_findings(t, "hook-not-run", FRONT " \"$@\" || exit $?");
        /* ... that does, but cannot be run */
        write_exec(t, "etc/libvirt/hooks/qemu", "#!/bin/sh\n" FRONT " \"$@\" || exit $?\n");
        set_mode(t, "etc/libvirt/hooks/qemu", 0644);
        assert_findings(t, "hook-not-run", "chmod 755 /etc/libvirt/hooks/qemu");
        set_mode(t, "etc/libvirt/hooks/qemu", 0755);
        assert_findings(t, "hook-installed", "runs gpu-handoff (line 2)");
        test_tree_free(t);

        /* libvirt 6.0 with the link in qemu.d/ (libvirt was downgraded): not run */
        t = host(UBUNTU2004, true);
        test_tree_link(t, FRONT, "etc/libvirt/hooks/qemu.d/gpu-handoff");
        assert_findings(t, "hook-not-installed", "qemu.d/ needs libvirt 6.5");
        test_tree_free(t);

        /* a foreign file in our place */
        t = host(DEBIAN12, true);
        write_exec(t, "etc/libvirt/hooks/qemu.d/gpu-handoff", "#!/bin/sh\n");
        assert_findings(t, "hook-not-installed", "Move /etc/libvirt/hooks/qemu.d/gpu-handoff away");
        test_tree_free(t);

        /* a hooks directory that is a symlink */
        t = host(DEBIAN12, true);
        test_tree_mkdir(t, "tmp/x");
        test_tree_link(t, "../../tmp/x", "etc/libvirt/hooks");
        assert_findings(t, "hook-unreadable", "is a symlink");
        test_tree_free(t);
}

/* ---- every operation failing, or the process killed there ---- */

static int install(struct test_tree *t)
{
        struct hook_report *rep = NULL;
        char *error = NULL;
        int r = hook_install(t->sr, BINARY, &rep, &error);

        hook_report_free(rep);
        free(error);
        return r;
}

static int uninstall(struct test_tree *t)
{
        struct hook_report *rep = NULL;
        char *error = NULL;
        int r = hook_uninstall(t->sr, &rep, &error);

        hook_report_free(rep);
        free(error);
        return r;
}

/* How many operations a fresh install, and then its uninstall, make. */
static void count_operations(unsigned *ret_install, unsigned *ret_uninstall)
{
        struct test_tree *t = host(DEBIAN12, true);

        faults_on(0, 0);
        assert_int_equal(install(t), 0);
        *ret_install = faults_seen();
        faults_on(0, 0);
        assert_int_equal(uninstall(t), 0);
        *ret_uninstall = faults_seen();
        faults_off();
        test_tree_free(t);
}

/* The tree as a clean install leaves it, but for the journal's bytes (times, pids). */
static char *installed_tree(void)
{
        static const char *const not_journal[] = {"var/lib/gpu-handoff/hook/journal", NULL};
        struct test_tree *t = host(DEBIAN12, true);
        char *s;

        assert_int_equal(install(t), 0);
        s = tree_snapshot(t->dir, not_journal);
        assert_non_null(s);
        test_tree_free(t);
        return s;
}

static void assert_installed(struct test_tree *t, const char *installed, const char *when)
{
        static const char *const not_journal[] = {"var/lib/gpu-handoff/hook/journal", NULL};
        _cleanup_free_ char *now = tree_snapshot(t->dir, not_journal);

        assert_non_null(now);
        if (strcmp(installed, now) != 0)
                fail_msg("%s: not as a clean install leaves it:\n%s", when, snapshot_diff(installed, now));
}

static void test_fail_at_every_operation(void **state)
{
        _cleanup_free_ char *installed = installed_tree();
        unsigned n_install, n_uninstall;

        count_operations(&n_install, &n_uninstall);
        assert_true(n_install >= 10);
        for (unsigned k = 1; k <= n_install + n_uninstall; k++) {
                struct test_tree *t = host(DEBIAN12, true);
                _cleanup_free_ char *before = snap(t), *after = NULL;
                char when[80];
                int r;

                snprintf(when, sizeof(when), "operation %u of %u failing", k, n_install + n_uninstall);
                faults_on(k, 0);
                r = install(t);
                if (k <= n_install && r == 0)
                        fail_msg("%s: install succeeded", when);
                if (k <= n_install) {
                        /* Rolled back: as before, unless the failure kept the journal from saying
                         * so; then the next install finishes the undo and installs. */
                        faults_off();
                        if (!exists(t, JOURNAL)) {
                                after = snap(t);
                                assert_same_tree(before, after, when);
                        }
                        assert_int_equal(install(t), 0);
                        assert_installed(t, installed, when);
                } else {
                        assert_int_equal(r, 0);
                        (void)uninstall(t); /* fails at operation k, or gets past it */
                        faults_off();
                }
                assert_int_equal(uninstall(t), 0);
                free(after);
                after = snap(t);
                assert_same_tree(before, after, when);
                test_tree_free(t);
        }
}

static void test_kill_at_every_operation(void **state)
{
        _cleanup_free_ char *installed = installed_tree();
        unsigned n_install, n_uninstall;

        count_operations(&n_install, &n_uninstall);
        for (unsigned k = 1; k <= n_install + n_uninstall; k++) {
                struct test_tree *volatile t = host(DEBIAN12, true);
                _cleanup_free_ char *before = snap(t), *after = NULL;
                char when[80];

                snprintf(when, sizeof(when), "killed before operation %u of %u", k, n_install + n_uninstall);
                /* The abandoned frames' memory and descriptors are what a killed process loses. */
                __lsan_disable();
                faults_on(0, k);
                if (setjmp(faults_killed) == 0) {
                        assert_int_equal(install(t), 0);
                        assert_int_equal(uninstall(t), 0);
                        fail_msg("%s: no such operation", when);
                }
                faults_off();
                __lsan_enable();
                if (k <= n_install) {
                        /* install again finishes what the killed one left: installed */
                        assert_int_equal(install(t), 0);
                        assert_installed(t, installed, when);
                }
                assert_int_equal(uninstall(t), 0);
                after = snap(t);
                assert_same_tree(before, after, when);
                test_tree_free(t);
        }
}

/* Relinking a stale link of ours, killed at any operation: uninstall leaves neither the link nor
 * anything beside it that libvirt would run too, and install then links the installed front. */
static void test_kill_relink_at_every_operation(void **state)
{
        unsigned n;

        {
                struct test_tree *t = host(DEBIAN12, true);
                test_tree_link(t, "/usr/local/sbin/gpu-handoff-hook", "etc/libvirt/hooks/qemu.d/gpu-handoff");
                faults_on(0, 0);
                assert_int_equal(install(t), 0);
                n = faults_seen();
                faults_off();
                test_tree_free(t);
        }
        for (unsigned k = 1; k <= n; k++) {
                struct test_tree *volatile t = host(DEBIAN12, true);
                _cleanup_free_ char *target = NULL;

                test_tree_link(t, "/usr/local/sbin/gpu-handoff-hook", "etc/libvirt/hooks/qemu.d/gpu-handoff");
                __lsan_disable();
                faults_on(0, k);
                if (setjmp(faults_killed) == 0) {
                        assert_int_equal(install(t), 0);
                        fail_msg("relink: no operation %u", k);
                }
                faults_off();
                __lsan_enable();
                assert_int_equal(uninstall(t), 0);
                assert_false(exists(t, "etc/libvirt/hooks/qemu.d/gpu-handoff"));
                assert_false(exists(t, "etc/libvirt/hooks/qemu.d/.gpu-handoff.gpu-handoff-new"));
                assert_int_equal(install(t), 0);
                target = link_of(t, "etc/libvirt/hooks/qemu.d/gpu-handoff");
                assert_string_equal(target, FRONT);
                test_tree_free(t);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version),
                cmocka_unit_test(test_fresh_install_and_back),
                cmocka_unit_test(test_without_front),
                cmocka_unit_test(test_already_installed),
                cmocka_unit_test(test_foreign_link),
                cmocka_unit_test(test_user_script_kept),
                cmocka_unit_test(test_dispatcher_kept),
                cmocka_unit_test(test_old_libvirt),
                cmocka_unit_test(test_chained),
                cmocka_unit_test(test_stale_link),
                cmocka_unit_test(test_stale_after_install),
                cmocka_unit_test(test_older_version_install),
                cmocka_unit_test(test_uninstall_keeps_what_is_not_ours),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_symlinked_etc_libvirt),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_restart),
                cmocka_unit_test(test_doctor),
                cmocka_unit_test(test_fail_at_every_operation),
                cmocka_unit_test(test_kill_at_every_operation),
                cmocka_unit_test(test_kill_relink_at_every_operation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
