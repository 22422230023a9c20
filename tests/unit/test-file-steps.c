/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the file steps (src/change/step-file.c), run as the core runs them: a transaction
 * under a journal of a test domain in var/lib/gpu-handoff/test. What they prove:
 *   - replace-file and remove-file put back the bytes, the mode and the owner exactly (as root: a
 *     file of another uid and gid), and the SELinux label where the file system keeps one; the
 *     before-image lives next to the journal while the change is applied, and is gone after;
 *   - create-file, symlink and make-dir, where there was nothing before: undo removes what they
 *     made, and a symlink replaced in place points where it did before;
 *   - drift: a file edited after the step wrote it is not put back (revert refuses, naming the path
 *     and what differs, and the edit stays); a file that changed after the plan was read is not
 *     overwritten (apply refuses before any change);
 *   - a make-dir whose directory someone put a file into is kept by the undo, which still ends;
 *   - the host's directories above what a transaction makes may be symlinks inside the root (a
 *     /etc that is one): steps work through them and the undo leaves the tree as it was; a
 *     directory the transaction made that is a symlink by the time of the undo is refused (-ELOOP)
 *     and nothing below it is touched;
 *   - failing any one operation (a file-system change, or a journal record) of a transaction of
 *     every kind leaves the tree byte-identical, after the rollback or a recover;
 *   - killing the process at any operation of the transaction or of its undo, then recovering,
 *     leaves the tree byte-identical to how it was before. */

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
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "change/step-file.h"
#include "change/transaction.h"
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

enum { K_CREATE, K_REPLACE, K_REMOVE, K_SYMLINK, K_MKDIR, _K_MAX };

static const struct change_kind kinds[_K_MAX] = {
        [K_CREATE] = STEP_KIND_CREATE_FILE, [K_REPLACE] = STEP_KIND_REPLACE_FILE,
        [K_REMOVE] = STEP_KIND_REMOVE_FILE, [K_SYMLINK] = STEP_KIND_SYMLINK,
        [K_MKDIR] = STEP_KIND_MAKE_DIR,
};
static const struct change_domain domain = {.name = "test", .kinds = kinds, .n_kinds = _K_MAX};
static const struct journal_spec spec = {
        .dir = "var/lib/gpu-handoff/test",
        .magic = "gpu-handoff test-journal 1",
        .outcomes = {[JOURNAL_OUTCOME_APPLIED] = "applied", [JOURNAL_OUTCOME_ROLLED_BACK] = "rolled-back",
                     [JOURNAL_OUTCOME_UNDONE] = "undone"},
};
static const struct transaction transaction = {.domain = &domain, .spec = &spec};
static const struct process_id self = {.pid = 4242, .start_time = 81234}; /* not alive in the tree */
/* The journal's directory is the core's, not what the steps changed. */
static const char *const not_host[] = {"var/lib/gpu-handoff", NULL};

/* A tree with the parents of the journal's directory, which the core makes and leaves. */
static struct test_tree *tree_new(void)
{
        struct test_tree *t = test_tree_new("file-steps");

        test_tree_mkdir(t, "var/lib");
        return t;
}

static void path_of(struct test_tree *t, const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", t->dir, rel);
}

static char *snap(struct test_tree *t)
{
        char *s = tree_snapshot(t->dir, not_host);
        assert_non_null(s);
        return s;
}

static void assert_same_tree(const char *before, struct test_tree *t, const char *when)
{
        _cleanup_free_ char *after = snap(t);

        if (strcmp(before, after) != 0)
                fail_msg("%s: the tree differs:\n%s", when, snapshot_diff(before, after));
}

static bool journal_exists(struct test_tree *t)
{
        char path[512];

        path_of(t, "var/lib/gpu-handoff/test/journal", path, sizeof(path));
        return access(path, F_OK) == 0;
}

static void set_step(struct step *s, unsigned kind, const char *a0, const char *a1, const char *a2, const char *a3)
{
        const char *args[] = {a0, a1, a2, a3};

        *s = (struct step){.kind = kind};
        for (size_t i = 0; i < ELEMENTSOF(args) && args[i]; i++) {
                s->args[i] = strdup(args[i]);
                assert_non_null(s->args[i]);
                s->n_args++;
        }
}

static void free_steps(struct step *steps, size_t n)
{
        for (size_t i = 0; i < n; i++)
                step_done(&steps[i]);
}

static int apply(struct test_tree *t, const struct step *steps, size_t n, char **ret_message)
{
        struct change_ctx ctx = {.sr = t->sr};
        struct engine_run *run = NULL;
        char *error = NULL;
        int r = transaction_apply(&ctx, &transaction, &self, "apply", "", "test", steps, n, &run, &error);

        if (run && run->failed >= 0 && ret_message && run->outcomes[run->failed].message)
                *ret_message = strdup(run->outcomes[run->failed].message);
        else if (ret_message)
                *ret_message = TAKE_PTR(error);
        free(error);
        engine_run_free(run);
        return r;
}

static int undo(struct test_tree *t, const char *phase, char **ret_message)
{
        struct change_ctx ctx = {.sr = t->sr};
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        char *error = NULL;
        int r = transaction_undo(&ctx, &transaction, &self, "test", phase, &run, &steps, &n, &error);

        if (run && ret_message)
                for (size_t i = 0; i < run->n_steps && !*ret_message; i++)
                        if (run->outcomes[i].state == OUTCOME_REVERT_FAILED && run->outcomes[i].message)
                                *ret_message = strdup(run->outcomes[i].message);
        if (ret_message && !*ret_message)
                *ret_message = TAKE_PTR(error);
        free(error);
        engine_run_free(run);
        steps_free(steps, n);
        return r;
}

static char *digest_of(const char *content)
{
        char *d = file_digest(content, strlen(content));
        assert_non_null(d);
        return d;
}

static void write_file(struct test_tree *t, const char *rel, const char *content, mode_t mode)
{
        char path[512];

        test_tree_write(t, rel, content);
        path_of(t, rel, path, sizeof(path));
        assert_int_equal(chmod(path, mode), 0);
}

static struct stat stat_of(struct test_tree *t, const char *rel)
{
        char path[512];
        struct stat st;

        path_of(t, rel, path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        return st;
}

static bool exists(struct test_tree *t, const char *rel)
{
        char path[512];
        struct stat st;

        path_of(t, rel, path, sizeof(path));
        return lstat(path, &st) == 0;
}

/* ---- before-images put back exactly ---- */

static void test_replace_and_remove_restore_exactly(void **state)
{
        struct test_tree *t = tree_new();
        bool root = geteuid() == 0, labelled = false;
        _cleanup_free_ char *before = NULL, *dx = NULL, *dy = NULL;
        char path[512], label[64];
        struct step steps[2];
        struct stat st;

        write_file(t, "etc/x.conf", "options x=1\n", 0640);
        write_file(t, "etc/y.conf", "blacklist nouveau\n", 0600);
        path_of(t, "etc/x.conf", path, sizeof(path));
        if (root)
                assert_int_equal(chown(path, 4242, 4343), 0);
        /* Where the file system keeps security labels (tmpfs does for root), one to put back. */
        labelled = setxattr(path, "security.selinux", "system_u:object_r:etc_t:s0", 26, 0) == 0;
        before = snap(t);
        dx = digest_of("options x=1\n");
        dy = digest_of("blacklist nouveau\n");
        set_step(&steps[0], K_REPLACE, "/etc/x.conf", "0644", dx, "options x=2\n");
        set_step(&steps[1], K_REMOVE, "/etc/y.conf", dy, NULL, NULL);
        assert_int_equal(apply(t, steps, 2, NULL), 0);

        st = stat_of(t, "etc/x.conf");
        assert_int_equal(st.st_mode & 07777, 0644);
        if (root) { /* the owner stays with the new content */
                assert_int_equal(st.st_uid, 4242);
                assert_int_equal(st.st_gid, 4343);
        }
        assert_false(exists(t, "etc/y.conf"));
        assert_true(exists(t, "var/lib/gpu-handoff/test/before-0"));
        assert_true(exists(t, "var/lib/gpu-handoff/test/before-1"));

        assert_int_equal(undo(t, "undo", NULL), 0);
        assert_same_tree(before, t, "after undo"); /* bytes and modes */
        st = stat_of(t, "etc/x.conf");
        if (root) {
                assert_int_equal(st.st_uid, 4242);
                assert_int_equal(st.st_gid, 4343);
        }
        if (labelled) {
                ssize_t n = getxattr(path, "security.selinux", label, sizeof(label));
                assert_int_equal(n, 26);
                assert_memory_equal(label, "system_u:object_r:etc_t:s0", 26);
        }
        assert_false(journal_exists(t));
        assert_false(exists(t, "var/lib/gpu-handoff/test/before-0"));
        assert_false(exists(t, "var/lib/gpu-handoff/test/before-1"));
        free_steps(steps, 2);
        test_tree_free(t);
}

static void test_absent_before(void **state)
{
        struct test_tree *t = tree_new();
        _cleanup_free_ char *before = NULL;
        struct step steps[5];
        mode_t mask;
        char target[64];
        ssize_t n;

        test_tree_mkdir(t, "etc");
        test_tree_link(t, "/usr/sbin/old", "etc/relink");
        before = snap(t);
        set_step(&steps[0], K_MKDIR, "/etc/new.d", "0755", NULL, NULL);
        set_step(&steps[1], K_CREATE, "/etc/new.d/a.conf", "0644", "options a=1\n", NULL);
        set_step(&steps[2], K_SYMLINK, "/etc/link", "/usr/sbin/gpu-handoff", "", NULL);
        set_step(&steps[3], K_SYMLINK, "/etc/relink", "/usr/sbin/new", "/usr/sbin/old", NULL);
        set_step(&steps[4], K_CREATE, "/etc/secret", "0600", "", NULL);
        mask = umask(077);
        assert_int_equal(apply(t, steps, 5, NULL), 0);
        umask(mask);
        assert_int_equal(stat_of(t, "etc/new.d").st_mode & 07777, 0755);
        assert_int_equal(stat_of(t, "etc/new.d/a.conf").st_mode & 07777, 0644);
        assert_int_equal(stat_of(t, "etc/secret").st_mode & 07777, 0600);
        {
                char path[512];
                path_of(t, "etc/relink", path, sizeof(path));
                n = readlink(path, target, sizeof(target) - 1);
                assert_true(n > 0);
                target[n] = '\0';
                assert_string_equal(target, "/usr/sbin/new");
        }
        assert_int_equal(undo(t, "undo", NULL), 0);
        assert_same_tree(before, t, "after undo");
        free_steps(steps, 5);
        test_tree_free(t);
}

/* ---- drift ---- */

static void test_drift_on_revert(void **state)
{
        struct test_tree *t = tree_new();
        _cleanup_free_ char *d = NULL, *message = NULL, *message2 = NULL;
        struct step steps[2];
        char *text;

        write_file(t, "etc/x.conf", "options x=1\n", 0644);
        d = digest_of("options x=1\n");
        set_step(&steps[0], K_REPLACE, "/etc/x.conf", "-", d, "options x=2\n");
        set_step(&steps[1], K_CREATE, "/etc/y.conf", "0644", "new\n", NULL);
        assert_int_equal(apply(t, steps, 2, NULL), 0);
        /* someone edits both files after the change */
        write_file(t, "etc/x.conf", "options x=3 # mine\n", 0644);
        write_file(t, "etc/y.conf", "new\n", 0600);
        assert_int_equal(undo(t, "undo", &message), -ESTALE);
        assert_non_null(message);
        /* last first: y.conf is refused, and the undo stops there */
        assert_string_equal(message, "/etc/y.conf was changed since gpu-handoff wrote it (its mode): left as it "
                                     "is, not put back");
        assert_true(journal_exists(t));
        write_file(t, "etc/y.conf", "new\n", 0644); /* as it was written: can go */
        assert_int_equal(undo(t, "recover", &message2), -ESTALE);
        assert_non_null(strstr(message2, "/etc/x.conf was changed since gpu-handoff wrote it (its content)"));
        assert_false(exists(t, "etc/y.conf"));
        text = NULL;
        {
                char path[512];
                size_t len;
                int fd;
                path_of(t, "etc/x.conf", path, sizeof(path));
                fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(read_fd_full(fd, 4096, &text, &len), 0);
                close(fd);
        }
        assert_string_equal(text, "options x=3 # mine\n"); /* the edit stays */
        free(text);
        free_steps(steps, 2);
        test_tree_free(t);
}

static void test_drift_on_apply(void **state)
{
        struct test_tree *t = tree_new();
        _cleanup_free_ char *d = NULL, *before = NULL, *message = NULL, *m2 = NULL, *m3 = NULL;
        struct step steps[2], one;

        write_file(t, "etc/x.conf", "options x=1\n", 0644);
        d = digest_of("options x=1\n");
        set_step(&steps[0], K_MKDIR, "/etc/new.d", "0755", NULL, NULL);
        set_step(&steps[1], K_REPLACE, "/etc/x.conf", "-", d, "options x=2\n");
        write_file(t, "etc/x.conf", "options x=1 # edited since the plan\n", 0644);
        before = snap(t);
        assert_int_equal(apply(t, steps, 2, &message), -ESTALE);
        assert_non_null(strstr(message, "/etc/x.conf changed since the plan was made (its content differs)"));
        assert_same_tree(before, t, "after a refused apply"); /* the directory made first is gone again */
        assert_false(journal_exists(t));

        /* create-file where a file appeared, make-dir where a directory appeared (both kept as
         * they are, the rollback of the refused step included), symlink where the link moved */
        set_step(&one, K_CREATE, "/etc/x.conf", "0644", "x\n", NULL);
        assert_int_equal(apply(t, &one, 1, &m2), -ESTALE);
        assert_non_null(strstr(m2, "it is there now"));
        step_done(&one);
        assert_same_tree(before, t, "after a refused create-file");
        test_tree_mkdir(t, "etc/theirs.d");
        free(before);
        before = snap(t);
        set_step(&one, K_MKDIR, "/etc/theirs.d", "0755", NULL, NULL);
        free(m2);
        m2 = NULL;
        assert_int_equal(apply(t, &one, 1, &m2), -ESTALE);
        step_done(&one);
        assert_same_tree(before, t, "after a refused make-dir");
        test_tree_link(t, "/usr/sbin/elsewhere", "etc/link");
        set_step(&one, K_SYMLINK, "/etc/link", "/usr/sbin/new", "/usr/sbin/old", NULL);
        if (apply(t, &one, 1, &m3) != -ESTALE)
                fail_msg("symlink: %s", m3 ? m3 : "?");
        assert_non_null(strstr(m3, "it no longer points at the old target"));
        step_done(&one);
        free_steps(steps, 2);
        test_tree_free(t);
}

/* ---- symlinks on the way ---- */

static void test_symlinked_ancestors(void **state)
{
        struct test_tree *t = tree_new();
        _cleanup_free_ char *before = NULL, *d = NULL, *message = NULL;
        struct step steps[3];

        /* /etc is a link to /srv/etc, resolved inside the root */
        write_file(t, "srv/etc/x.conf", "options x=1\n", 0644);
        test_tree_link(t, "/srv/etc", "etc");
        before = snap(t);
        d = digest_of("options x=1\n");
        set_step(&steps[0], K_MKDIR, "/etc/new.d", "0755", NULL, NULL);
        set_step(&steps[1], K_CREATE, "/etc/new.d/a.conf", "0644", "options a=1\n", NULL);
        set_step(&steps[2], K_REPLACE, "/etc/x.conf", "-", d, "options x=2\n");
        assert_int_equal(apply(t, steps, 3, NULL), 0);
        assert_true(exists(t, "srv/etc/new.d/a.conf"));
        assert_int_equal(undo(t, "undo", NULL), 0);
        assert_same_tree(before, t, "after undo through a symlinked /etc");

        /* the directory the transaction made is swapped for a link to one with the same file */
        assert_int_equal(apply(t, steps, 2, NULL), 0);
        {
                char from[512], to[512];
                path_of(t, "srv/etc/new.d", from, sizeof(from));
                path_of(t, "srv/theirs.d", to, sizeof(to));
                assert_int_equal(rename(from, to), 0);
        }
        test_tree_link(t, "/srv/theirs.d", "srv/etc/new.d");
        assert_int_equal(undo(t, "undo", &message), -ELOOP);
        assert_non_null(strstr(message, "/etc/new.d/a.conf"));
        assert_true(exists(t, "srv/theirs.d/a.conf")); /* not followed */
        assert_true(journal_exists(t));
        free_steps(steps, 3);
        test_tree_free(t);
}

static void test_make_dir_kept_when_not_empty(void **state)
{
        struct test_tree *t = tree_new();
        struct step step;

        test_tree_mkdir(t, "etc");
        set_step(&step, K_MKDIR, "/etc/new.d", "0755", NULL, NULL);
        assert_int_equal(apply(t, &step, 1, NULL), 0);
        test_tree_write(t, "etc/new.d/theirs.conf", "x\n");
        assert_int_equal(undo(t, "undo", NULL), 0);
        assert_true(exists(t, "etc/new.d/theirs.conf"));
        assert_false(journal_exists(t));
        step_done(&step);
        test_tree_free(t);
}

/* ---- every operation failing, or the process killed there ---- */

/* A tree and a transaction of every kind on it. */
static struct test_tree *every_kind(struct step steps[static 6])
{
        struct test_tree *t = tree_new();
        _cleanup_free_ char *dx = NULL, *dy = NULL;

        write_file(t, "etc/x.conf", "options x=1\n", 0640);
        write_file(t, "etc/y.conf", "blacklist nouveau\n", 0600);
        test_tree_link(t, "/usr/sbin/old", "etc/relink");
        dx = digest_of("options x=1\n");
        dy = digest_of("blacklist nouveau\n");
        set_step(&steps[0], K_MKDIR, "/etc/new.d", "0755", NULL, NULL);
        set_step(&steps[1], K_CREATE, "/etc/new.d/a.conf", "0644", "options a=1\n", NULL);
        set_step(&steps[2], K_REPLACE, "/etc/x.conf", "0644", dx, "options x=2\n");
        set_step(&steps[3], K_REMOVE, "/etc/y.conf", dy, NULL, NULL);
        set_step(&steps[4], K_SYMLINK, "/etc/link", "/usr/sbin/gpu-handoff", "", NULL);
        set_step(&steps[5], K_SYMLINK, "/etc/relink", "/usr/sbin/new", "/usr/sbin/old", NULL);
        return t;
}

static void count_operations(unsigned *ret_apply, unsigned *ret_undo)
{
        struct step steps[6];
        struct test_tree *t = every_kind(steps);

        faults_on(0, 0);
        assert_int_equal(apply(t, steps, 6, NULL), 0);
        *ret_apply = faults_seen();
        faults_on(0, 0);
        assert_int_equal(undo(t, "undo", NULL), 0);
        *ret_undo = faults_seen();
        faults_off();
        free_steps(steps, 6);
        test_tree_free(t);
}

/* Whatever is left after a failure or a kill: a journal means a recover (without faults) puts
 * the rest back. */
static void recover_and_compare(struct test_tree *t, const char *before, const char *when)
{
        _cleanup_free_ char *message = NULL;

        if (journal_exists(t) && undo(t, "recover", &message) != 0)
                fail_msg("%s: recover failed: %s", when, message ? message : "?");
        assert_false(journal_exists(t));
        assert_same_tree(before, t, when);
        assert_false(exists(t, "var/lib/gpu-handoff/test/before-2"));
        assert_false(exists(t, "var/lib/gpu-handoff/test/before-3"));
}

static void test_fail_at_every_operation(void **state)
{
        unsigned n_apply, n_undo;

        count_operations(&n_apply, &n_undo);
        assert_true(n_apply >= 20);
        for (unsigned k = 1; k <= n_apply + n_undo; k++) {
                struct step steps[6];
                struct test_tree *t = every_kind(steps);
                _cleanup_free_ char *before = snap(t);
                char when[64];
                int r;

                snprintf(when, sizeof(when), "operation %u of %u failing", k, n_apply + n_undo);
                faults_on(k, 0);
                r = apply(t, steps, 6, NULL);
                if (k <= n_apply && r == 0)
                        fail_msg("%s: apply succeeded", when);
                if (r == 0)
                        (void)undo(t, "undo", NULL); /* the failure hits the undo: recover finishes it */
                faults_off();
                recover_and_compare(t, before, when);
                free_steps(steps, 6);
                test_tree_free(t);
        }
}

static void test_kill_at_every_operation(void **state)
{
        unsigned n_apply, n_undo;

        count_operations(&n_apply, &n_undo);
        for (unsigned k = 1; k <= n_apply + n_undo; k++) {
                struct step steps[6];
                struct test_tree *volatile t = every_kind(steps);
                _cleanup_free_ char *before = snap(t);
                char when[64];

                snprintf(when, sizeof(when), "killed before operation %u of %u", k, n_apply + n_undo);
                /* The abandoned frames' memory and descriptors are what a killed process loses. */
                __lsan_disable();
                faults_on(0, k);
                if (setjmp(faults_killed) == 0) {
                        assert_int_equal(apply(t, steps, 6, NULL), 0);
                        assert_int_equal(undo(t, "undo", NULL), 0);
                        fail_msg("%s: no such operation", when);
                }
                faults_off();
                __lsan_enable();
                recover_and_compare(t, before, when);
                free_steps(steps, 6);
                test_tree_free(t);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replace_and_remove_restore_exactly),
                cmocka_unit_test(test_absent_before),
                cmocka_unit_test(test_drift_on_revert),
                cmocka_unit_test(test_drift_on_apply),
                cmocka_unit_test(test_symlinked_ancestors),
                cmocka_unit_test(test_make_dir_kept_when_not_empty),
                cmocka_unit_test(test_fail_at_every_operation),
                cmocka_unit_test(test_kill_at_every_operation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
