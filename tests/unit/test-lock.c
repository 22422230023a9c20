/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the transition lock on fake roots: the holder's identity in the file, a second
 * taker waiting on a fake clock and then naming the holder, and refusing symlinks. Two takes
 * in this one process conflict because each opens the file anew (flock belongs to the open
 * file description, not to the process). */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "change/dir.h"
#include "change/lock.h"
#include "tree-remove.h"

/* The hand-over's directory: what the lock guards is the same wherever it is. */
#define RUN_DIR "run/gpu-handoff"

#define FIELDS_4_TO_21 "1 2211 2211 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0"

struct tree {
        char dir[256];
        struct sysroot *sr;
};

static void tree_path(struct tree *t, const char *rel, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", t->dir, rel);
}

static void tree_mkdir(struct tree *t, const char *rel, mode_t mode)
{
        char path[512];

        tree_path(t, rel, path, sizeof(path));
        assert_int_equal(mkdir(path, mode), 0);
        assert_int_equal(chmod(path, mode), 0); /* past the umask */
}

static void tree_write(struct tree *t, const char *rel, const char *content)
{
        char path[512];
        FILE *f;

        tree_path(t, rel, path, sizeof(path));
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static char *tree_read(struct tree *t, const char *rel)
{
        char path[512], *s = calloc(1, 4096);
        FILE *f;

        assert_non_null(s);
        tree_path(t, rel, path, sizeof(path));
        f = fopen(path, "r");
        assert_non_null(f);
        (void)!fread(s, 1, 4095, f);
        assert_false(ferror(f));
        fclose(f);
        return s;
}

static void tree_unlink(struct tree *t, const char *rel)
{
        char path[512];

        tree_path(t, rel, path, sizeof(path));
        assert_int_equal(unlink(path), 0);
}

static void tree_link(struct tree *t, const char *target, const char *rel)
{
        char path[512];

        tree_path(t, rel, path, sizeof(path));
        assert_int_equal(symlink(target, path), 0);
}

static bool tree_exists(struct tree *t, const char *rel)
{
        char path[512];
        struct stat st;

        tree_path(t, rel, path, sizeof(path));
        return lstat(path, &st) == 0;
}

/* A root whose proc/self is pid 4242, "gpu-handoff", started at tick 777; no run/ yet. */
static struct tree *tree_new(bool with_self)
{
        struct tree *t = calloc(1, sizeof(*t));
        const char *tmp = getenv("TMPDIR");

        assert_non_null(t);
        snprintf(t->dir, sizeof(t->dir), "%s/test-lock.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(t->dir));
        tree_mkdir(t, "proc", 0755);
        if (with_self) {
                tree_mkdir(t, "proc/4242", 0755);
                tree_write(t, "proc/4242/stat", "4242 (gpu-handoff) R " FIELDS_4_TO_21 " 777 0 0\n");
                tree_link(t, "4242", "proc/self");
        }
        assert_int_equal(sysroot_open(t->dir, &t->sr), 0);
        return t;
}

static void tree_free(struct tree *t)
{
        sysroot_free(t->sr);
        tree_remove(t->dir);
        free(t);
}

struct fake_clock {
        uint64_t now;
        unsigned pauses;
        struct change_lock **release_at_100ms;
};

static uint64_t fake_now(void *userdata)
{
        return ((struct fake_clock *)userdata)->now;
}

static int fake_pause(void *userdata, uint64_t usec)
{
        struct fake_clock *c = userdata;

        c->now += usec;
        c->pauses++;
        if (c->release_at_100ms && *c->release_at_100ms && c->now >= 100 * USEC_PER_MSEC) {
                change_lock_release(*c->release_at_100ms);
                *c->release_at_100ms = NULL;
        }
        return 0;
}

#define FAKE_CLOCK(c) { .now_usec = fake_now, .pause_usec = fake_pause, .userdata = (c) }

/* Each directory has its own lock: another domain's (host setup below var/lib) neither waits for
 * the hand-over's nor lets a second taker in; its directory is made like the hand-over's. */
static void test_lock_per_directory(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *run = NULL, *setup = NULL, *again = (struct change_lock *)0x1;
        struct process_id holder;
        char path[512], what[CHANGE_LOCK_WHAT_MAX], *s;
        struct stat st;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &run, NULL, NULL, 0), 0);
        assert_int_equal(change_lock_take(t->sr, "var/lib/gpu-handoff", NULL, 0, "setup", &setup, NULL, NULL, 0), 0);
        tree_path(t, "var/lib/gpu-handoff", path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        s = tree_read(t, "var/lib/gpu-handoff/lock");
        assert_string_equal(s, "4242 777 setup\n");
        free(s);
        assert_int_equal(change_lock_take(t->sr, "var/lib/gpu-handoff", NULL, 0, "setup", &again, &holder, what,
                                          sizeof(what)),
                         -EBUSY);
        assert_ptr_equal(again, (struct change_lock *)0x1);
        assert_string_equal(what, "setup");
        change_lock_release(setup);
        change_lock_release(run);
        tree_free(t);
}

static void test_take_and_release(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *l = NULL, *l2 = NULL;
        struct fake_clock c = {};
        struct clock_ops clk = FAKE_CLOCK(&c);
        char path[512], *s;
        struct stat st;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, USEC_PER_SEC, "attach", &l, NULL, NULL, 0), 0);
        assert_non_null(l);
        assert_int_equal(c.pauses, 0);
        tree_path(t, "run/gpu-handoff", path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        s = tree_read(t, RUN_DIR "/lock");
        assert_string_equal(s, "4242 777 attach\n");
        free(s);

        /* flock is per open file description: another open of the same file in this same
         * process does not get it either */
        tree_path(t, RUN_DIR "/lock", path, sizeof(path));
        {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
                assert_int_equal(errno, EWOULDBLOCK);
        }

        change_lock_release(l);
        s = tree_read(t, RUN_DIR "/lock");
        assert_string_equal(s, ""); /* no stale identity left behind */
        free(s);

        /* what NULL records the comm; the existing directory is reused */
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, NULL, &l2, NULL, NULL, 0), 0);
        s = tree_read(t, RUN_DIR "/lock");
        assert_string_equal(s, "4242 777 gpu-handoff\n");
        free(s);
        change_lock_release(l2);
        change_lock_release(NULL);
        tree_free(t);
}

static void test_busy_names_holder(void **state)
{
        struct tree *t = tree_new(true);
        _cleanup_change_lock_ struct change_lock *l = NULL;
        struct change_lock *l2 = (struct change_lock *)0x1;
        struct fake_clock c = { .now = 10 * USEC_PER_SEC };
        struct clock_ops clk = FAKE_CLOCK(&c);
        struct process_id holder = { .pid = -1 };
        char what[CHANGE_LOCK_WHAT_MAX] = "x";

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, "attach", &l, NULL, NULL, 0), 0);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 2 * USEC_PER_SEC, "release", &l2, &holder, what,
                                           sizeof(what)),
                         -EBUSY);
        assert_ptr_equal(l2, (struct change_lock *)0x1);
        assert_int_equal(holder.pid, 4242);
        assert_int_equal(holder.start_time, 777);
        assert_string_equal(what, "attach");
        /* it waited until the deadline, on the fake clock, retrying */
        assert_true(c.now == 12 * USEC_PER_SEC);
        assert_true(c.pauses > 10);

        /* timeout 0: one try, no pause; a short buffer gets a cut WHAT */
        c.pauses = 0;
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, "release", &l2, NULL, what, 4), -EBUSY);
        assert_string_equal(what, "att");
        assert_int_equal(c.pauses, 0);
        tree_free(t);
}

/* The file names no live transition: an earlier run's write child (blocked in the kernel while a
 * VM holds the device) is named at once, a process nobody can see is waited for, then reported
 * as unknown. */
static void test_busy_without_identity(void **state)
{
        struct tree *t = tree_new(true);
        _cleanup_change_lock_ struct change_lock *l = NULL;
        struct change_lock *l2 = (struct change_lock *)0x1;
        struct fake_clock c = { .now = 10 * USEC_PER_SEC };
        struct clock_ops clk = FAKE_CLOCK(&c);
        struct change_lock_busy busy;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, "release", &l, NULL, NULL, 0), 0);
        tree_write(t, "run/gpu-handoff/lock", ""); /* its parent released it; the child keeps the flock */

        /* nobody seen with the file open: the whole wait, then nothing known */
        memset(&busy, 0xff, sizeof(busy));
        assert_int_equal(change_lock_take_or_explain(t->sr, RUN_DIR, &clk, 15 * USEC_PER_SEC, "recover", &l2, &busy), -EBUSY);
        assert_true(c.now == 25 * USEC_PER_SEC);
        assert_int_equal(busy.holder.pid, 0);
        assert_int_equal(busy.opener, 0);
        assert_false(busy.opener_is_gpu_handoff);

        /* the write child, pid 5151, seen holding it: at once */
        tree_mkdir(t, "proc/5151", 0755);
        tree_write(t, "proc/5151/stat", "5151 (gpu-handoff) D " FIELDS_4_TO_21 " 900 0 0\n");
        tree_mkdir(t, "proc/5151/fd", 0755);
        tree_link(t, "/run/gpu-handoff/lock", "proc/5151/fd/4");
        c.pauses = 0;
        assert_int_equal(change_lock_take_or_explain(t->sr, RUN_DIR, &clk, 15 * USEC_PER_SEC, "recover", &l2, &busy), -EBUSY);
        assert_int_equal(c.pauses, 0);
        assert_int_equal(busy.holder.pid, 0);
        assert_int_equal(busy.opener, 5151);
        assert_string_equal(busy.opener_comm, "gpu-handoff");
        assert_true(busy.opener_is_gpu_handoff);

        /* another tool's process: at once too, and not taken for ours */
        tree_write(t, "proc/5151/stat", "5151 (flock) S " FIELDS_4_TO_21 " 900 0 0\n");
        assert_int_equal(change_lock_take_or_explain(t->sr, RUN_DIR, &clk, 15 * USEC_PER_SEC, "recover", &l2, &busy), -EBUSY);
        assert_int_equal(c.pauses, 0);
        assert_int_equal(busy.opener, 5151);
        assert_false(busy.opener_is_gpu_handoff);
        assert_ptr_equal(l2, (struct change_lock *)0x1);

        /* a transition the file names is waited for, whoever else has it open */
        l = (change_lock_release(l), NULL);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, "attach", &l, NULL, NULL, 0), 0);
        assert_int_equal(change_lock_take_or_explain(t->sr, RUN_DIR, &clk, 2 * USEC_PER_SEC, "recover", &l2, &busy), -EBUSY);
        assert_true(c.pauses > 0);
        assert_int_equal(busy.holder.pid, 4242);
        assert_string_equal(busy.what, "attach");
        assert_int_equal(busy.opener, 0);
        tree_free(t);
}

static void test_acquired_while_waiting(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *first = NULL, *second = NULL;
        struct fake_clock c = { .release_at_100ms = &first };
        struct clock_ops clk = FAKE_CLOCK(&c);
        char *s;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 0, "attach", &first, NULL, NULL, 0), 0);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, &clk, 5 * USEC_PER_SEC, "release", &second, NULL, NULL, 0),
                         0);
        assert_null(first);
        /* released during the pause that ended at 113 ms (checks at 63 and 113 ms) */
        assert_true(c.now == 113 * USEC_PER_MSEC);
        s = tree_read(t, RUN_DIR "/lock");
        assert_string_equal(s, "4242 777 release\n");
        free(s);
        change_lock_release(second);
        tree_free(t);
}

/* The file does not name a live process: a holder that has not written yet, a stale or
 * foreign text. The holder is then unknown (pid 0), not a guess. */
static void test_unknown_holder(void **state)
{
        static const char *const texts[] = {
                "",
                "999 5 attach\n",         /* no such process */
                "4242 778 attach\n",      /* pid recycled: other start time */
                "garbage\n",
                "4242 777\n",
                "4242 777 attach",        /* cut short */
                "4242 777 attach\nmore\n",
        };
        struct tree *t = tree_new(true);
        _cleanup_change_lock_ struct change_lock *l = NULL;
        struct change_lock *l2 = NULL;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), 0);
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                struct process_id holder = { .pid = -1, .start_time = 1 };
                char what[16] = "x";

                tree_write(t, RUN_DIR "/lock", texts[i]);
                assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "release", &l2, &holder, what,
                                                   sizeof(what)),
                                 -EBUSY);
                if (holder.pid != 0)
                        fail_msg("\"%s\" gave holder %d", texts[i], (int)holder.pid);
                assert_int_equal(holder.start_time, 0);
                assert_string_equal(what, "");
        }
        /* the text is trusted only when it names a live process */
        tree_write(t, RUN_DIR "/lock", "4242 777 attach --yes\n");
        {
                struct process_id holder = {};
                char what[CHANGE_LOCK_WHAT_MAX];
                assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "release", &l2, &holder, what,
                                                   sizeof(what)),
                                 -EBUSY);
                assert_int_equal(holder.pid, 4242);
                assert_string_equal(what, "attach --yes");
        }
        tree_free(t);
}

static void test_refuses_symlinks(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *l = (struct change_lock *)0x1;

        /* run/gpu-handoff a symlink to a directory elsewhere in the tree */
        tree_mkdir(t, "run", 0755);
        tree_mkdir(t, "elsewhere", 0700);
        tree_link(t, "../elsewhere", "run/gpu-handoff");
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -ELOOP);
        assert_int_equal(change_dir_open(t->sr, RUN_DIR, true, NULL), -ELOOP);
        assert_false(tree_exists(t, "elsewhere/lock"));
        /* dangling, too */
        tree_unlink(t, "run/gpu-handoff");
        tree_link(t, "/nowhere", "run/gpu-handoff");
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -ELOOP);
        assert_false(tree_exists(t, "nowhere"));
        tree_unlink(t, "run/gpu-handoff");

        /* the lock file a symlink */
        tree_mkdir(t, "run/gpu-handoff", 0700);
        tree_write(t, "elsewhere/victim", "precious\n");
        tree_link(t, "../../elsewhere/victim", "run/gpu-handoff/lock");
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -ELOOP);
        {
                char *s = tree_read(t, "elsewhere/victim");
                assert_string_equal(s, "precious\n"); /* not truncated, not written */
                free(s);
        }
        assert_ptr_equal(l, (struct change_lock *)0x1);
        tree_free(t);
}

static void test_refuses_unsafe_places(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *l = (struct change_lock *)0x1;
        char path[512];

        tree_mkdir(t, "run", 0755);
        tree_write(t, "run/gpu-handoff", "a file\n");
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -ENOTDIR);
        tree_path(t, "run/gpu-handoff", path, sizeof(path));
        assert_int_equal(unlink(path), 0);

        /* writable by others: whoever can write there could swap the lock file */
        tree_mkdir(t, "run/gpu-handoff", 0777);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -EPERM);
        assert_int_equal(chmod(path, 0700), 0);

        /* a FIFO as the lock file must neither block nor be used */
        tree_path(t, RUN_DIR "/lock", path, sizeof(path));
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -EPERM);
        assert_ptr_equal(l, (struct change_lock *)0x1);
        tree_free(t);
}

static void test_bad_what_and_no_self(void **state)
{
        struct tree *t = tree_new(true);
        struct change_lock *l = (struct change_lock *)0x1, *l2 = (struct change_lock *)0x1;
        char what[CHANGE_LOCK_WHAT_MAX], vm[251], hook[300];
        struct process_id holder;
        char *text;

        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "", &l, NULL, NULL, 0), -EINVAL);
        assert_ptr_equal(l, (struct change_lock *)0x1);
        assert_false(tree_exists(t, "run"));

        /* control characters are recorded as '?', so the record stays one line */
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "a\nb\tc\x1b", &l, NULL, NULL, 0), 0);
        text = tree_read(t, "run/gpu-handoff/lock");
        assert_string_equal(text, "4242 777 a?b?c?\n");
        free(text);
        change_lock_release(l);

        /* the hook's description for a 250-byte VM name (libvirt accepts it) is cut, not refused,
         * and a waiting caller still reads who holds the lock */
        memset(vm, 'v', 250);
        vm[250] = '\0';
        snprintf(hook, sizeof(hook), "hook prepare %s", vm);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, hook, &l, NULL, NULL, 0), 0);
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "release", &l2, &holder, what, sizeof(what)), -EBUSY);
        assert_int_equal(holder.pid, 4242);
        assert_int_equal(strlen(what), CHANGE_LOCK_WHAT_MAX - 1);
        assert_memory_equal(what, "hook prepare vvv", 16);
        assert_string_equal(what + CHANGE_LOCK_WHAT_MAX - 4, "...");
        change_lock_release(l);

        /* a cut never splits a UTF-8 character */
        memset(hook, 'a', CHANGE_LOCK_WHAT_MAX - 5);
        strcpy(hook + CHANGE_LOCK_WHAT_MAX - 5, "\xc3\xa9\xc3\xa9\xc3\xa9");
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, hook, &l, NULL, NULL, 0), 0);
        text = tree_read(t, "run/gpu-handoff/lock");
        assert_non_null(strstr(text, "a...\n")); /* the cut fell inside the first one: it goes whole */
        assert_null(strchr(text, '\xc3'));
        free(text);
        change_lock_release(l);
        tree_free(t);

        /* no proc/self: refused before anything is created */
        t = tree_new(false);
        l = (struct change_lock *)0x1;
        assert_int_equal(change_lock_take(t->sr, RUN_DIR, NULL, 0, "attach", &l, NULL, NULL, 0), -ENOENT);
        assert_false(tree_exists(t, "run"));
        assert_ptr_equal(l, (struct change_lock *)0x1);
        tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_take_and_release),  cmocka_unit_test(test_busy_names_holder),
                cmocka_unit_test(test_acquired_while_waiting), cmocka_unit_test(test_unknown_holder),
                cmocka_unit_test(test_busy_without_identity),
                cmocka_unit_test(test_refuses_symlinks),  cmocka_unit_test(test_refuses_unsafe_places),
                cmocka_unit_test(test_bad_what_and_no_self),
                cmocka_unit_test(test_lock_per_directory),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
