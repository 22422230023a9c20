/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The transaction core (src/change) on a toy domain of its own, which knows nothing of GPUs: its
 * steps write files below a test tree. Promises:
 *   - the journal's directory, first line and outcome words are its spec's: two specs in two
 *     directories with other words both round-trip, and a journal of one is refused in the
 *     other's words; the directory is made (parents 0755 whatever the umask, itself 0700) and
 *     refused when it is a symlink or writable by others, wherever it is;
 *   - a step's notes are journaled before the change they describe: a note that cannot be
 *     written fails the step with nothing changed;
 *   - notes survive a crash: killed before any journal write of apply, a recover in a new
 *     "process" reverts with the notes and puts every file back byte for byte;
 *   - replay keeps the notes per step (the last value of a key) and refuses a note for a step
 *     not being applied; a step notes only within its kind's room, and only while applying;
 *   - a step knows its journal index and its journal's directory. */

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
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "change/dir.h"
#include "change/journal.h"
#include "change/transaction.h"
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

/* ---- the toy domain ------------------------------------------------------------------------- */

enum toy_kind {
        TOY_WRITE, /* path content: write the file; the revert puts back what the notes say was there */
        TOY_MKDIR, /* path: make a directory; notes nothing (its room is 0) */
        _TOY_KIND_MAX,
};

/* What the steps saw of the engine, for the tests to check. */
static struct {
        size_t index[8];
        char dir[8][64];
        size_t n;
        int mkdir_note, mkdir_revert_note;
} seen;

static int read_at(const struct change_ctx *ctx, const char *path, char **ret)
{
        size_t len = 0;

        return read_file_at(ctx->sr->fd, path, 4096, ret, &len);
}

static int write_at(const struct change_ctx *ctx, const char *path, const char *content)
{
        _cleanup_close_ int fd = openat(ctx->sr->fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t n = strlen(content);

        if (fd < 0)
                return -errno;
        return write(fd, content, n) == (ssize_t)n ? 0 : -EIO;
}

/* Notes what the file held and whether it existed, durably, then writes it. "FAIL" as the new
 * content: the write happens, then the step fails (a change half made). */
static int write_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        _cleanup_free_ char *before = NULL;
        int r;

        if (seen.n < ELEMENTSOF(seen.index)) {
                seen.index[seen.n] = step_journal_index(ctx);
                snprintf(seen.dir[seen.n++], sizeof(seen.dir[0]), "%s", step_journal_dir(ctx));
        }
        r = read_at(ctx, s->args[0], &before);
        if (r < 0 && r != -ENOENT)
                return step_fail(message, r, "cannot read %s", s->args[0]);
        /* "existed" last: with it, the revert has all it needs */
        r = before ? step_note(ctx, "before", before) : 0;
        if (r >= 0)
                r = step_note(ctx, "existed", before ? "yes" : "no");
        if (r < 0)
                return step_fail(message, r, "cannot journal what %s held", s->args[0]);
        r = write_at(ctx, s->args[0], s->args[1]);
        if (r >= 0 && strcmp(s->args[1], "FAIL") == 0)
                r = -EIO;
        return r < 0 ? step_fail(message, r, "cannot write %s", s->args[0]) : 0;
}

static int write_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *existed = step_note_get(ctx, "existed"), *before = step_note_get(ctx, "before");

        if (!existed)
                return 0; /* the note came first: without it, nothing was changed */
        if (strcmp(existed, "no") == 0)
                return unlinkat(ctx->sr->fd, s->args[0], 0) < 0 && errno != ENOENT ? -errno : 0;
        return write_at(ctx, s->args[0], before ? before : "");
}

static int mkdir_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        seen.mkdir_note = step_note(ctx, "made", "yes");
        return mkdirat(ctx->sr->fd, s->args[0], 0755) < 0 ? -errno : 0;
}

static int mkdir_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        seen.mkdir_revert_note = step_note(ctx, "made", "no");
        return unlinkat(ctx->sr->fd, s->args[0], AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

static char *describe_write(const struct step *s)
{
        char *out = NULL;

        return asprintf(&out, "write %s", s->args[0]) < 0 ? NULL : out;
}

static const struct step_ops write_ops = {write_apply, write_revert},
                             mkdir_ops = {mkdir_apply, mkdir_revert};

static const struct change_kind toy_kinds[_TOY_KIND_MAX] = {
    [TOY_WRITE] = {"write", describe_write, &write_ops, 4096},
    [TOY_MKDIR] = {"mkdir", NULL, &mkdir_ops, 0},
};

static const struct change_domain toy = {"toy", toy_kinds, _TOY_KIND_MAX};

static const struct journal_spec spec_run = {
    .dir = "run/toy",
    .magic = "toy journal 1",
    .subject = "the toy change",
    .outcomes = {"", "applied", "rolled-back", "undone"},
};

static const struct journal_spec spec_setup = {
    .dir = "var/lib/toy/setup",
    .magic = "toy setup journal 1",
    .subject = "the setup",
    .outcomes = {"", "installed", "abandoned", "uninstalled"},
};

static const struct transaction t_run = {&toy, &spec_run}, t_setup = {&toy, &spec_setup};

/* ---- helpers -------------------------------------------------------------------------------- */

static struct process_id self = {.pid = 4242, .start_time = 81234};

static struct change_ctx ctx_of(struct test_tree *t)
{
        return (struct change_ctx){.sr = t->sr};
}

static char *text_of(struct test_tree *t, const char *rel)
{
        char *text = NULL;
        size_t len = 0;

        return read_file_at(t->sr->fd, rel, 1024 * 1024, &text, &len) < 0 ? NULL : text;
}

static void assert_file(struct test_tree *t, const char *rel, const char *want)
{
        _cleanup_free_ char *text = text_of(t, rel);
        bool same = text && strcmp(text, want) == 0;

        if (!same)
                fail_msg("%s holds \"%s\"; expected \"%s\"", rel, text ? text : "(missing)", want);
}

static struct step toy_step(enum toy_kind kind, const char *a0, const char *a1)
{
        struct step s = {.kind = kind};

        s.args[s.n_args++] = strdup(a0);
        if (a1)
                s.args[s.n_args++] = strdup(a1);
        return s;
}

/* Three steps: replace etc/toy.conf, make etc/toy.d, create etc/toy.d/new. */
struct plan3 {
        struct step s[3];
};

static struct plan3 plan3(const char *last)
{
        return (struct plan3){{
            toy_step(TOY_WRITE, "etc/toy.conf", "new\n"),
            toy_step(TOY_MKDIR, "etc/toy.d", NULL),
            toy_step(TOY_WRITE, "etc/toy.d/new", last),
        }};
}

static void plan3_done(struct plan3 *p)
{
        for (size_t i = 0; i < ELEMENTSOF(p->s); i++)
                step_done(&p->s[i]);
}

static struct test_tree *toy_tree(void)
{
        struct test_tree *t = test_tree_new("test-change");

        test_tree_write(t, "etc/toy.conf", "old\n");
        return t;
}

static void assert_as_before(struct test_tree *t)
{
        assert_file(t, "etc/toy.conf", "old\n");
        assert_false(sysroot_exists(t->sr, "etc/toy.d"));
}

/* ---- the spec: where, which words ------------------------------------------------------------ */

static void apply_and_check(const struct transaction *t, struct test_tree *tree, const char *path,
                            const char *end_line)
{
        struct change_ctx ctx = ctx_of(tree);
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *text = NULL;
        struct plan3 p = plan3("made\n");
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        char *error = NULL;
        size_t n = 0;

        assert_int_equal(transaction_apply(&ctx, t, &self, "apply", "", "toy apply", p.s, 3, &run, &error),
                         0);
        assert_null(error);
        engine_run_free(run);
        assert_file(tree, "etc/toy.conf", "new\n");
        assert_file(tree, "etc/toy.d/new", "made\n");
        text = text_of(tree, path);
        assert_non_null(text);
        assert_true(strncmp(text, t->spec->magic, strlen(t->spec->magic)) == 0);
        assert_non_null(strstr(
            text, "begin 0 write etc/toy.conf new\\x0a\nnote 0 before old\\x0a\nnote 0 existed yes\n"));
        assert_non_null(strstr(text, end_line));
        /* read back in its own words */
        assert_int_equal(journal_load(t->spec, tree->sr, &st, &error), 0);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_APPLIED);
        assert_int_equal(st->n_steps, 3);
        assert_string_equal(journal_state_note(st, 0, "before"), "old\n");
        assert_string_equal(journal_state_note(st, 2, "existed"), "no");
        assert_null(journal_state_note(st, 1, "made")); /* its room is 0: refused */
        assert_int_equal(seen.mkdir_note, -E2BIG);
        assert_string_equal(journal_outcome_to_string(t->spec, JOURNAL_OUTCOME_APPLIED),
                            t->spec->outcomes[1]);

        assert_int_equal(transaction_undo(&ctx, t, &self, "toy undo", "undo", &run, &steps, &n, &error), 0);
        assert_null(error);
        assert_int_equal(seen.mkdir_revert_note, -EPROTO); /* no notes while reverting */
        engine_run_free(run);
        steps_free(steps, n);
        assert_false(sysroot_exists(tree->sr, path));
        assert_as_before(tree);
        plan3_done(&p);
}

static void test_spec_location_and_words(void **state)
{
        struct test_tree *tree = toy_tree();
        struct change_ctx ctx = ctx_of(tree);
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *text = NULL;
        struct plan3 p = plan3("made\n");
        struct engine_run *run = NULL;
        struct stat sb;
        char *error = NULL;

        seen.n = 0;
        apply_and_check(&t_run, tree, "run/toy/journal", "\nend applied\n");
        apply_and_check(&t_setup, tree, "var/lib/toy/setup/journal", "\nend installed\n");
        /* The steps knew where they stood: their journal index and directory. */
        assert_int_equal(seen.n, 4);
        assert_int_equal(seen.index[0], 0);
        assert_int_equal(seen.index[1], 2);
        assert_string_equal(seen.dir[1], "run/toy");
        assert_string_equal(seen.dir[3], "var/lib/toy/setup");
        /* Made where it was missing: the parents 0755, the journal's own directory 0700. */
        assert_int_equal(fstatat(tree->sr->fd, "var/lib/toy", &sb, 0), 0);
        assert_int_equal(sb.st_mode & 07777, 0755);
        assert_int_equal(fstatat(tree->sr->fd, "var/lib/toy/setup", &sb, 0), 0);
        assert_int_equal(sb.st_mode & 07777, 0700);

        /* One spec's journal in the other's words: refused, never acted on. */
        assert_int_equal(
            transaction_apply(&ctx, &t_run, &self, "apply", "", "toy apply", p.s, 3, &run, &error), 0);
        engine_run_free(run);
        assert_int_equal(symlinkat("../../../run/toy/journal", tree->sr->fd, "var/lib/toy/setup/journal"),
                         0);
        assert_int_equal(journal_load(&spec_setup, tree->sr, &st, &error), -ELOOP);
        free(error);
        error = NULL;
        assert_int_equal(unlinkat(tree->sr->fd, "var/lib/toy/setup/journal", 0), 0);
        text = text_of(tree, "run/toy/journal");
        test_tree_write(tree, "var/lib/toy/setup/journal", text);
        assert_int_equal(journal_load(&spec_setup, tree->sr, &st, &error), -EBADMSG);
        assert_string_equal(error,
                            "var/lib/toy/setup/journal:1: not a toy setup journal (the first line is 'toy "
                            "journal 1')");
        free(error);
        error = NULL;
        /* The words are the spec's: "applied" is no outcome of the setup's. */
        {
                static const char words[] = "toy setup journal 1\nphase apply 1 0 0  x\nend applied\n";
                assert_int_equal(journal_parse(&spec_setup, words, strlen(words), NULL, &st, &error),
                                 -EBADMSG);
                assert_string_equal(error,
                                    "var/lib/toy/setup/journal:3: unknown outcome 'applied'; expected "
                                    "installed, abandoned or uninstalled");
                free(error);
                error = NULL;
        }
        {
                static const char words[] = "toy setup journal 1\nphase apply 1 0 0  x\nend uninstalled\n";
                assert_int_equal(journal_parse(&spec_setup, words, strlen(words), NULL, &st, &error),
                                 -EBADMSG);
                assert_string_equal(error,
                                    "var/lib/toy/setup/journal:3: 'uninstalled' but the setup was never "
                                    "installed; expected 'abandoned'");
                free(error);
        }
        plan3_done(&p);
        test_tree_free(tree);
}

/* The same safety checks wherever the directory is. */
static void test_dir_refusals(void **state)
{
        struct test_tree *tree = test_tree_new("test-change");
        struct journal *j = NULL;
        char *error = NULL;

        test_tree_mkdir(tree, "var/lib/elsewhere");
        test_tree_mkdir(tree, "var/lib/toy");
        test_tree_link(tree, "../elsewhere", "var/lib/toy/setup");
        assert_int_equal(journal_create(&spec_setup, tree->sr, "apply", &self, "", "x", &j, &error), -ELOOP);
        assert_string_equal(error, "var/lib/toy/setup is a symlink; refusing to follow it");
        free(error);
        error = NULL;
        assert_int_equal(unlinkat(tree->sr->fd, "var/lib/toy/setup", 0), 0);
        assert_int_equal(mkdirat(tree->sr->fd, "var/lib/toy/setup", 0700), 0);
        assert_int_equal(fchmodat(tree->sr->fd, "var/lib/toy/setup", 0770, 0), 0);
        assert_int_equal(journal_create(&spec_setup, tree->sr, "apply", &self, "", "x", &j, &error), -EPERM);
        assert_string_equal(error, "var/lib/toy/setup is writable by other users (mode 0770)");
        free(error);
        assert_int_equal(change_dir_open(tree->sr, "var/lib/toy/setup", true, NULL), -EPERM);
        assert_false(sysroot_exists(tree->sr, "var/lib/toy/setup/journal"));
        assert_false(sysroot_exists(tree->sr, "var/lib/elsewhere/journal"));
        test_tree_free(tree);
}

/* Missing parents are 0755 under any umask (077 would make them unreadable to others), the
 * directory itself 0700; parents that are there keep their mode. */
static void test_dir_parents_mode(void **state)
{
        struct test_tree *tree = test_tree_new("test-change");
        struct stat st;
        mode_t mask;
        int fd;

        test_tree_mkdir(tree, "var");
        assert_int_equal(fchmodat(tree->sr->fd, "var", 0750, 0), 0);
        mask = umask(077);
        fd = change_dir_open(tree->sr, "var/lib/toy/setup", true, NULL);
        umask(mask);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(fstatat(tree->sr->fd, "var", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(fstatat(tree->sr->fd, "var/lib", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(fstatat(tree->sr->fd, "var/lib/toy", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(fstatat(tree->sr->fd, "var/lib/toy/setup", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        test_tree_free(tree);
}

/* ---- notes: before the change, across a crash ------------------------------------------------- */

static unsigned fail_write, writes;

static int fail_one_write(unsigned n, void *userdata)
{
        writes = n;
        return n == fail_write ? -ENOSPC : 0;
}

/* The notes of step 0 are the third and fourth writes (phase, begin 0, note before, note
 * existed): when one cannot be written, the file is untouched, and so for every note. */
static void test_note_before_change(void **state)
{
        /* phase, begin 0, note before, note existed, done 0, begin 1, done 1, begin 2, note existed */
        static const unsigned note_writes[] = {3, 4, 9};

        for (size_t k = 0; k < ELEMENTSOF(note_writes); k++) {
                struct test_tree *tree = toy_tree();
                struct change_ctx ctx = ctx_of(tree);
                struct plan3 p = plan3("made\n");
                struct engine_run *run = NULL;
                char *error = NULL;
                long failed = note_writes[k] == 9 ? 2 : 0;

                fail_write = note_writes[k];
                journal_set_write_hook(fail_one_write, NULL);
                assert_int_equal(
                    transaction_apply(&ctx, &t_run, &self, "apply", "", "toy", p.s, 3, &run, &error),
                    -ENOSPC);
                journal_set_write_hook(NULL, NULL);
                assert_non_null(run);
                assert_int_equal(run->failed, failed);
                assert_int_equal(run->outcomes[failed].state, OUTCOME_FAILED);
                assert_true(run->host_intact);
                if (failed == 2)
                        assert_false(sysroot_exists(tree->sr, "etc/toy.d/new")); /* never written */
                assert_as_before(tree);
                assert_false(sysroot_exists(tree->sr, "run/toy/journal")); /* rolled back, removed */
                engine_run_free(run);
                free(error);
                plan3_done(&p);
                test_tree_free(tree);
        }
}

static jmp_buf killed;
static unsigned kill_at;

static int kill_before_write(unsigned n, void *userdata)
{
        writes = n;
        if (n == kill_at)
                longjmp(killed, 1);
        return 0;
}

/* Killed before each journal write of apply in turn; a recover (a new process: the journal is
 * all it knows) reverts with the notes and leaves every file as before. Some kills come after a
 * note and the change it describes, before "done": the file is new then, and only the note can
 * say what it held. */
static void test_note_across_crash(void **state)
{
        unsigned n_writes;
        volatile unsigned changed_unfinished = 0;

        {
                struct test_tree *tree = toy_tree();
                struct change_ctx ctx = ctx_of(tree);
                struct plan3 p = plan3("made\n");
                struct engine_run *run = NULL;

                kill_at = 0;
                journal_set_write_hook(kill_before_write, NULL);
                assert_int_equal(
                    transaction_apply(&ctx, &t_run, &self, "apply", "", "toy", p.s, 3, &run, NULL), 0);
                journal_set_write_hook(NULL, NULL);
                n_writes = writes;
                engine_run_free(run);
                plan3_done(&p);
                test_tree_free(tree);
        }
        for (unsigned k = 1; k <= n_writes; k++) {
                struct test_tree *volatile tree = toy_tree();
                struct change_ctx ctx = ctx_of(tree);
                struct plan3 p = plan3("made\n");
                struct engine_run *run = NULL;
                struct step *steps = NULL;
                _cleanup_journal_state_ struct journal_state *st = NULL;
                _cleanup_free_ char *conf = NULL;
                size_t n = 0;
                int r;

                kill_at = k;
                journal_set_write_hook(kill_before_write, NULL);
                /* The abandoned frames' memory is what a killed process loses; not a leak here. */
                __lsan_disable();
                if (setjmp(killed) == 0) {
                        transaction_apply(&ctx, &t_run, &self, "apply", "", "toy", p.s, 3, &run, NULL);
                        fail_msg("no journal write %u", k);
                }
                __lsan_enable();
                journal_set_write_hook(NULL, NULL);
                conf = text_of(tree, "etc/toy.conf");
                if (journal_load(&spec_run, tree->sr, &st, NULL) >= 0 && st->n_steps > 0 &&
                    st->steps[0].state == JOURNAL_STEP_BEGUN && conf && strcmp(conf, "new\n") == 0)
                        changed_unfinished++;
                r = transaction_undo(&ctx, &t_run, &self, "toy recover", "recover", &run, &steps, &n, NULL);
                if (r < 0)
                        fail_msg("killed before journal write %u: recover returned %d", k, r);
                engine_run_free(run);
                steps_free(steps, n);
                assert_as_before(tree);
                assert_false(sysroot_exists(tree->sr, "run/toy/journal"));
                plan3_done(&p);
                test_tree_free(tree);
        }
        /* killed before "done 0": etc/toy.conf written, only the note knows "old" */
        assert_int_equal(changed_unfinished, 1);
}

/* ---- replay ------------------------------------------------------------------------------------ */

static void test_note_replay(void **state)
{
        static const char good[] = "toy journal 1\n"
                                   "phase apply 1 0 0  x\n"
                                   "begin 0 write a b\n"
                                   "note 0 key one\n"
                                   "note 0 other \\x20two\\\\\n"
                                   "note 0 key three\n"
                                   "done 0 5\n"
                                   "begin 1 write c d\n"
                                   "note 1 key four\n";
        static const struct {
                const char *text, *error;
        } bad[] = {
            {"toy journal 1\nphase apply 1 0 0  x\nbegin 0 write a b\ndone 0 5\nnote 0 key v\n",
             "5: 'note' for step 0 without its 'begin' (the step is done)"},
            {"toy journal 1\nphase apply 1 0 0  x\nbegin 0 write a b\nrevert 0\nnote 0 key v\n",
             "5: 'note' for step 0 without its 'begin' (the step is reverting)"},
            {"toy journal 1\nphase apply 1 0 0  x\nnote 0 key v\n",
             "3: 'note' for step 0, which was never begun"},
            {"toy journal 1\nphase apply 1 0 0  x\nbegin 0 write a b\nnote 0 Key v\n",
             "4: bad note key 'Key'; expected [a-z0-9-]"},
            {"toy journal 1\nphase apply 1 0 0  x\nbegin 0 write a b\nnote 0 key\n",
             "4: expected 'note INDEX KEY VALUE'"},
            {"toy journal 1\nphase apply 1 0 0  x\nbegin 0 write a b\nnote 0 key \\x0\n",
             "4: bad escape in note value '\\x0'"},
        };
        _cleanup_journal_state_ struct journal_state *st = NULL;
        char *error = NULL;

        assert_int_equal(journal_parse(&spec_run, good, strlen(good), NULL, &st, &error), 0);
        assert_int_equal(st->steps[0].n_notes, 2);
        assert_string_equal(journal_state_note(st, 0, "key"), "three"); /* the last value */
        assert_string_equal(journal_state_note(st, 0, "other"), " two\\");
        assert_string_equal(journal_state_note(st, 1, "key"), "four");
        assert_null(journal_state_note(st, 1, "other"));
        assert_null(journal_state_note(st, 2, "key"));
        assert_int_equal(st->steps[0].note_bytes,
                         strlen("note 0 key one\nnote 0 other \\x20two\\\\\nnote 0 key three\n"));
        assert_int_equal(journal_note_bytes(0, "other", " two\\"), strlen("note 0 other \\x20two\\\\\n"));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct journal_state *b = NULL;
                char want[256];

                assert_int_equal(
                    journal_parse(&spec_run, bad[i].text, strlen(bad[i].text), NULL, &b, &error), -EBADMSG);
                snprintf(want, sizeof(want), "run/toy/journal:%s", bad[i].error);
                assert_string_equal(error, want);
                free(error);
                error = NULL;
        }
        /* Sizing leaves the kind's note room. */
        assert_int_equal(journal_step_bytes(3, "write", NULL, 0, 100),
                         journal_step_bytes(3, "write", NULL, 0, 0) + 100);
}

/* The writer checks a note against the same rules before it writes anything. */
static void test_note_writer(void **state)
{
        struct test_tree *tree = test_tree_new("test-change");
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *text = NULL;
        const char *args[] = {"a", "b"};

        assert_int_equal(journal_create(&spec_run, tree->sr, "apply", &self, "", "x", &j, NULL), 0);
        assert_int_equal(journal_note(j, 0, "key", "v"), -EPROTO); /* no step */
        assert_int_equal(journal_step_begin(j, 0, "write", args, 2), 0);
        assert_int_equal(journal_note(j, 0, "Key", "v"), -EINVAL);
        assert_int_equal(journal_note(j, 1, "key", "v"), -EPROTO);
        assert_int_equal(journal_note(j, 0, "key", "a b\n"), 0);
        assert_int_equal(journal_step_done(j, 0, 7), 0);
        assert_int_equal(journal_note(j, 0, "key", "late"), -EPROTO); /* only while it is applied */
        assert_int_equal(journal_revert_begin(j, 0), 0);
        assert_int_equal(journal_note(j, 0, "key", "undoing"), -EPROTO);
        assert_string_equal(journal_state_note(journal_get_state(j), 0, "key"), "a b\n");
        text = text_of(tree, "run/toy/journal");
        assert_non_null(strstr(text, "\nbegin 0 write a b\nnote 0 key a\\x20b\\x0a\ndone 0 7\nrevert 0\n"));
        test_tree_free(tree);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spec_location_and_words),
            cmocka_unit_test(test_dir_refusals),
            cmocka_unit_test(test_dir_parents_mode),
            cmocka_unit_test(test_note_before_change),
            cmocka_unit_test(test_note_across_crash),
            cmocka_unit_test(test_note_replay),
            cmocka_unit_test(test_note_writer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
