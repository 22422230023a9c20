/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the transition journal: the exact file format, round trips of hostile strings,
 * replay of clean, failed and crashed transitions, refusal of symlinks and foreign files,
 * every kind of corruption with its message, and recovery from a journal cut at every byte. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/sysroot.h"
#include "change/journal.h"
#include "handoff/transition.h"
#include "tree-remove.h"

static char root[PATH_MAX];
static struct sysroot *sr;

static const struct process_id owner = { .pid = 4242, .start_time = 81234 };
static const struct process_id owner2 = { .pid = 5151, .start_time = 99120 };

/* Hostile strings: every one must come back byte for byte. */
static const char *const hostile[] = {
        "",
        " ",
        "a b",
        "  two  spaces  ",
        "line\nbreak\n",
        "back\\slash\\",
        "\\x20",
        "Grafikkarte \xc3\xa4 \xe6\x98\xbe\xe5\x8d\xa1",
        "\t\x01\x1f\x7f\x80\xff",
        "-",
        "end attached",
        "0000:01:00.1 snd_hda_intel",
};

static char *path_of(const char *rel)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        return p;
}

static void write_rel(const char *rel, const char *content, size_t len)
{
        _cleanup_free_ char *p = path_of(rel);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
}

static void write_journal(const char *content, size_t len)
{
        _cleanup_free_ char *p = path_of(HANDOFF_RUN_DIR);

        if (mkdir(p, 0700) < 0)
                assert_int_equal(errno, EEXIST);
        write_rel(HANDOFF_JOURNAL_PATH, content, len);
}

/* The journal file's content, or NULL when there is none. */
static char *read_journal_text(size_t *ret_len)
{
        _cleanup_free_ char *p = path_of(HANDOFF_JOURNAL_PATH);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;

        if (fd < 0)
                return NULL;
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t)st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
        buf[st.st_size] = '\0';
        if (ret_len)
                *ret_len = (size_t)st.st_size;
        return buf;
}

static int setup(void **state)
{
        const char *tmp = getenv("TMPDIR");
        char rel[PATH_MAX + 8];

        snprintf(root, sizeof(root), "%s/test-journal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(root))
                return -1;
        snprintf(rel, sizeof(rel), "%s/run", root);
        if (mkdir(rel, 0755) < 0)
                return -1;
        return sysroot_open(root, &sr);
}

static int teardown(void **state)
{
        sysroot_free(sr);
        sr = NULL;
        return tree_remove(root);
}

static struct journal_state *parse_ok(const char *text)
{
        struct journal_state *st = NULL;
        char *error = NULL;
        int r = journal_parse(&handoff_journal, text, strlen(text), NULL, &st, &error);

        if (r < 0)
                print_error("unexpected parse error: %s\n", error ? error : "(none)");
        assert_int_equal(r, 0);
        assert_null(error);
        assert_non_null(st);
        return st;
}

static void assert_pending(const struct journal_state *st, const size_t *want, size_t n_want)
{
        _cleanup_free_ size_t *v = NULL;
        size_t n = 99;

        assert_int_equal(journal_state_pending_reverts(st, &v, &n), 0);
        assert_int_equal(n, n_want);
        if (n_want == 0)
                assert_null(v);
        for (size_t i = 0; i < n_want; i++)
                assert_int_equal(v[i], want[i]);
}

static void assert_step(const struct journal_state *st, size_t i, const char *kind, enum journal_step_state s)
{
        assert_true(i < st->n_steps);
        assert_string_equal(st->steps[i].kind, kind);
        assert_int_equal(st->steps[i].state, s);
}

#define HEADER "gpu-handoff journal 1\nphase attach 4242 81234 1718000000123456 0000:01:00.0 gpu-handoff\\x20attach\n"

/* Escaping */

static void test_escape(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "", "" },
                { "plain-0000:01:00.0", "plain-0000:01:00.0" },
                { "a b", "a\\x20b" },
                { "\\", "\\\\" },
                { "\n", "\\x0a" },
                { "\xc3\xa4", "\\xc3\\xa4" },
                { "\x7f~!", "\\x7f~!" },
        };
        char all[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = journal_escape(cases[i].in);
                assert_string_equal(e, cases[i].out);
        }
        for (int c = 1; c < 256; c++)
                all[c - 1] = (char)c;
        all[255] = '\0';
        for (size_t i = 0; i <= ELEMENTSOF(hostile); i++) {
                const char *s = i < ELEMENTSOF(hostile) ? hostile[i] : all;
                _cleanup_free_ char *e = journal_escape(s), *u = NULL;

                assert_non_null(e);
                assert_int_equal(strcspn(e, " \n"), strlen(e));
                assert_int_equal(journal_unescape(e, strlen(e), &u), 0);
                assert_string_equal(u, s);
        }
}

static void test_unescape(void **state)
{
        static const char *const bad[] = { "\\", "\\q", "\\x4", "\\x00", "\\xg0", "\\X41", "a b", "\x01", "\xc3",
                                           "tab\there" };
        char *u = (char *)0x1;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(journal_unescape(bad[i], strlen(bad[i]), &u), -EINVAL);
                assert_ptr_equal(u, (char *)0x1);
        }
        /* Needless escapes and upper-case hex are read, though never written. */
        assert_int_equal(journal_unescape("\\x41\\x4A\\\\z", 11, &u), 0);
        assert_string_equal(u, "AJ\\z");
        free(u);
        /* len is honoured: the escape past it is not read */
        assert_int_equal(journal_unescape("ab\\x20", 2, &u), 0);
        assert_string_equal(u, "ab");
        free(u);
}

/* Writing */

static void test_create_exact_format(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *text = NULL, *expected = NULL, *dir = path_of(HANDOFF_RUN_DIR);
        const char *args1[] = { "0000:01:00.1", "snd_hda_intel" };
        const char *args2[] = { "0000:01:00.0" };
        const char *args0[] = { "nvidia-persistenced.service" };
        const struct journal_state *st;
        char *error = NULL;
        struct timespec ts;
        uint64_t before, after;
        struct stat sb;

        assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
        before = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "0000:01:00.0 0000:01:00.1", "gpu-handoff attach win11",
                                        &j, &error),
                         0);
        assert_null(error);
        assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
        after = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        assert_int_equal(stat(dir, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0700);

        assert_int_equal(journal_step_begin(j, 0, "stop-unit", args0, 1), 0);
        assert_int_equal(journal_step_done(j, 0, 120000), 0);
        assert_int_equal(journal_step_begin(j, 1, "unbind-driver", args1, 2), 0);
        assert_int_equal(journal_step_done(j, 1, 5300), 0);
        assert_int_equal(journal_step_begin(j, 2, "bind-vfio", args2, 1), 0);
        assert_int_equal(journal_step_failed(j, 2, -EBUSY), 0);
        assert_int_equal(journal_revert_begin(j, 2), 0);
        assert_int_equal(journal_reverted(j, 2), 0);
        assert_int_equal(journal_revert_begin(j, 1), 0);
        assert_int_equal(journal_revert_failed(j, 1, -EIO), 0);
        assert_int_equal(journal_revert_begin(j, 1), 0);
        assert_int_equal(journal_reverted(j, 1), 0);
        assert_int_equal(journal_revert_begin(j, 0), 0);
        assert_int_equal(journal_reverted(j, 0), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), 0);

        st = journal_get_state(j);
        assert_int_equal(st->n_phases, 1);
        assert_true(st->phases[0].realtime_usec >= before && st->phases[0].realtime_usec <= after);
        assert_true(asprintf(&expected,
                             "gpu-handoff journal 1\n"
                             "phase attach 4242 81234 %ju 0000:01:00.0\\x200000:01:00.1 gpu-handoff\\x20attach\\x20win11\n"
                             "begin 0 stop-unit nvidia-persistenced.service\n"
                             "done 0 120000\n"
                             "begin 1 unbind-driver 0000:01:00.1 snd_hda_intel\n"
                             "done 1 5300\n"
                             "begin 2 bind-vfio 0000:01:00.0\n"
                             "failed 2 %d\n"
                             "revert 2\n"
                             "reverted 2\n"
                             "revert 1\n"
                             "revert-failed 1 %d\n"
                             "revert 1\n"
                             "reverted 1\n"
                             "revert 0\n"
                             "reverted 0\n"
                             "end rolled-back\n",
                             (uintmax_t)st->phases[0].realtime_usec, EBUSY, EIO) > 0);
        text = read_journal_text(NULL);
        assert_string_equal(text, expected);

        /* The in-memory state is what a reader replays. */
        assert_int_equal(st->n_steps, 3);
        assert_step(st, 2, "bind-vfio", JOURNAL_STEP_REVERTED);
        assert_int_equal(st->steps[2].error, -EBUSY);
        assert_int_equal(st->steps[1].error, -EIO);
        assert_int_equal(st->steps[0].duration_usec, 120000);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
        assert_null(journal_close(TAKE_PTR(j)));
}

static void assert_args(const struct journal_step *s, const char *const *args, size_t n)
{
        assert_int_equal(s->n_args, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(s->args[i], args[i]);
        assert_null(s->args[n]);
}

static void test_roundtrip_hostile(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_journal_state_ struct journal_state *st = NULL;
        const char *empty[] = { "" };
        char *error = NULL;

        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, hostile[4], hostile[7], &j, &error), 0);
        assert_int_equal(journal_step_begin(j, 0, "stop-unit", hostile, ELEMENTSOF(hostile)), 0);
        assert_int_equal(journal_step_done(j, 0, UINT64_MAX), 0);
        assert_int_equal(journal_step_begin(j, 1, "inhibit-sleep", NULL, 0), 0);
        assert_int_equal(journal_step_done(j, 1, 0), 0);
        assert_int_equal(journal_step_begin(j, 2, "x", empty, 1), 0);
        assert_int_equal(journal_step_done(j, 2, 1), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_APPLIED), 0);
        j = journal_close(j);

        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), 0);
        assert_null(error);
        assert_int_equal(st->n_phases, 1);
        assert_string_equal(st->phases[0].name, "attach");
        assert_int_equal(st->phases[0].owner.pid, 4242);
        assert_int_equal(st->phases[0].owner.start_time, 81234);
        assert_string_equal(st->phases[0].devices, hostile[4]);
        assert_string_equal(st->phases[0].command, hostile[7]);
        assert_int_equal(st->phases[0].outcome, JOURNAL_OUTCOME_APPLIED);
        assert_int_equal(st->n_steps, 3);
        assert_args(&st->steps[0], hostile, ELEMENTSOF(hostile));
        assert_int_equal(st->steps[0].duration_usec, UINT64_MAX);
        assert_args(&st->steps[1], NULL, 0);
        assert_args(&st->steps[2], empty, 1);
        assert_int_equal(st->ignored_bytes, 0);
}


/* Each record the rules refuse is refused before anything is written. */
static void test_writer_refuses(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL, *after2 = NULL;
        char *error = NULL;
        const char *args[] = { "a" };
        const struct process_id no_pid = { .pid = 0, .start_time = 1 };

        assert_int_equal(journal_create(&handoff_journal, sr, "Attach", &owner, "", "", &j, &error), -EINVAL);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &no_pid, "", "", &j, &error), -EINVAL);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", NULL, "", "", &j, &error), -EINVAL);
        assert_null(read_journal_text(NULL)); /* nothing was created */
        assert_null(j);
        assert_null(error);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, NULL, NULL, &j, &error), 0);
        before = read_journal_text(NULL);

        assert_int_equal(journal_step_done(j, 0, 1), -EPROTO);             /* done without begin */
        assert_int_equal(journal_step_begin(j, 1, "k", args, 1), -EPROTO); /* out of order */
        assert_int_equal(journal_step_begin(j, 0, "Bad Kind", args, 1), -EINVAL);
        assert_int_equal(journal_step_begin(j, 0, "-k", args, 1), -EINVAL);
        assert_int_equal(journal_step_begin(j, 0, "k", NULL, 1), -EINVAL);
        assert_int_equal(journal_revert_begin(j, 0), -EPROTO); /* no such step */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_NONE), -EINVAL);
        assert_int_equal(journal_end(j, _JOURNAL_OUTCOME_MAX), -EINVAL);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_UNDONE), -EPROTO); /* never attached */
        after = read_journal_text(NULL);
        assert_string_equal(after, before);

        assert_int_equal(journal_step_begin(j, 0, "k", args, 1), 0);
        assert_int_equal(journal_step_begin(j, 1, "k", args, 1), -EPROTO); /* 0 still in progress */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_APPLIED), -EPROTO);
        assert_int_equal(journal_reverted(j, 0), -EPROTO); /* no revert in progress */
        assert_int_equal(journal_revert_begin(j, 1), -EPROTO); /* no step 1 */
        assert_int_equal(journal_step_failed(j, 0, 0), -EINVAL);
        assert_int_equal(journal_step_failed(j, 0, EBUSY), -EINVAL);
        assert_int_equal(journal_step_failed(j, 0, -4096), -EINVAL);
        assert_int_equal(journal_step_failed(j, 0, -EBUSY), 0);
        assert_int_equal(journal_step_done(j, 0, 1), -EPROTO); /* concluded already */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_APPLIED), -EPROTO); /* step 0 failed */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), -EPROTO); /* not reverted */
        assert_int_equal(journal_revert_begin(j, 0), 0);
        assert_int_equal(journal_step_begin(j, 1, "k", args, 1), -EPROTO); /* after a revert */
        assert_int_equal(journal_reverted(j, 0), 0);
        assert_int_equal(journal_revert_begin(j, 0), -EPROTO); /* reverted already */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), 0);
        assert_int_equal(journal_phase(j, "release", &owner2, "x"), -EPROTO); /* ended for good */
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), -EPROTO);
        after2 = read_journal_text(NULL);
        assert_string_equal(after2 + strlen(before),
                            "begin 0 k a\nfailed 0 16\nrevert 0\nreverted 0\nend rolled-back\n");
}

/* A write cut short (here by RLIMIT_FSIZE, as a full disk would) is cut back off the file, so
 * the journal stays readable and the next record starts on a line of its own. */
static void test_write_failure_cut_back(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *before = NULL, *after = NULL;
        const char *args[] = { "0000:01:00.0", "nvidia" };
        struct rlimit old, lim;
        char *error = NULL;
        size_t len = 0, len2 = 0;
        void (*old_handler)(int);

        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), 0);
        before = read_journal_text(&len);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = (struct rlimit){ .rlim_cur = len + 5, .rlim_max = old.rlim_max };
        old_handler = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        assert_int_equal(journal_step_begin(j, 0, "unbind-driver", args, 2), -EFBIG);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, old_handler);

        after = read_journal_text(&len2);
        assert_int_equal(len2, len);
        assert_string_equal(after, before);
        assert_int_equal(journal_get_state(j)->n_steps, 0);
        assert_int_equal(journal_step_begin(j, 0, "unbind-driver", args, 2), 0);

        /* Now "done" cannot be written: the engine undoes the step it cannot record. */
        before = (free(before), read_journal_text(&len));
        lim.rlim_cur = len + 3;
        old_handler = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        assert_int_equal(journal_step_done(j, 0, 5), -EFBIG);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, old_handler);
        assert_int_equal(journal_revert_begin(j, 0), 0);
        assert_int_equal(journal_reverted(j, 0), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), 0);
        j = journal_close(j);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), 0);
        assert_int_equal(st->n_steps, 1);
        assert_step(st, 0, "unbind-driver", JOURNAL_STEP_REVERTED);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
        assert_int_equal(st->ignored_bytes, 0);
}

/* A journal that would outgrow what the reader accepts is refused, and the file stays as it was. */
static void test_writer_size_limit(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *big = malloc(600 * 1024 + 1);
        const char *args[1];
        char *error = NULL;
        size_t len1 = 0, len2 = 0;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;

        assert_non_null(big);
        memset(big, 'a', 600 * 1024);
        big[600 * 1024] = '\0';
        args[0] = big;
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "", "", &j, &error), 0);
        assert_int_equal(journal_step_begin(j, 0, "k", args, 1), 0);
        assert_int_equal(journal_step_done(j, 0, 1), 0);
        t1 = read_journal_text(&len1);
        assert_int_equal(journal_step_begin(j, 1, "k", args, 1), -EFBIG);
        t2 = read_journal_text(&len2);
        assert_int_equal(len1, len2);
        assert_int_equal(journal_get_state(j)->n_steps, 1);
        assert_int_equal(journal_step_begin(j, 1, "k", NULL, 0), 0);
}

/* The sizes attach plans with are upper bounds of what the records take, and a reservation
 * changes nothing a reader sees. */
static void test_sizes_and_reserve(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;
        const char *args[] = { "0000:01:00.0", "snd hda\\intel\n" };
        char *error = NULL;
        size_t len1 = 0, len2 = 0, len3 = 0;

        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "0000:01:00.0", "gpu-handoff attach --yes", &j, &error),
                         0);
        t1 = read_journal_text(&len1);
        assert_true(len1 <= strlen("gpu-handoff journal 1\n") +
                                    journal_phase_bytes("attach", "0000:01:00.0", "gpu-handoff attach --yes"));
        assert_int_equal(journal_reserve(j, JOURNAL_SIZE_MAX + 1), -EFBIG);
        assert_int_equal(journal_reserve(j, 64 * 1024), 0);
        t2 = read_journal_text(&len2);
        assert_int_equal(len2, len1); /* blocks reserved, the file's length unchanged */
        assert_int_equal(journal_step_begin(j, 0, "unbind-driver", args, 2), 0);
        assert_int_equal(journal_step_done(j, 0, UINT64_MAX / 2), 0);
        for (int round = 0; round < JOURNAL_REVERT_ROUNDS; round++) {
                assert_int_equal(journal_revert_begin(j, 0), 0);
                assert_int_equal(journal_revert_failed(j, 0, -4095), 0); /* the largest errno the journal takes */
        }
        t3 = read_journal_text(&len3);
        assert_true(len3 - len2 <= journal_step_bytes(0, "unbind-driver", args, 2, 0));
}

static void test_exists(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        struct journal *j2 = (struct journal *)0x1;
        _cleanup_free_ char *before = NULL, *after = NULL;
        char *error = NULL;

        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), 0);
        before = read_journal_text(NULL);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner2, "d", "c", &j2, &error), -EEXIST);
        assert_ptr_equal(j2, (struct journal *)0x1);
        assert_string_equal(error, "run/gpu-handoff/journal exists already; recover or discard it first");
        free(error);
        after = read_journal_text(NULL);
        assert_string_equal(after, before);
}

static void test_missing(void **state)
{
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;
        _cleanup_free_ char *run = path_of("run");

        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ENOENT); /* no run/gpu-handoff */
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -ENOENT);
        assert_int_equal(journal_remove(&handoff_journal, sr), -ENOENT);
        write_journal("", 0);
        assert_int_equal(journal_remove(&handoff_journal, sr), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ENOENT); /* the directory, no journal */
        assert_int_equal(journal_remove(&handoff_journal, sr), -ENOENT);
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
        assert_null(error);

        /* A root without run/ at all: create makes run/ and run/gpu-handoff/. */
        {
                _cleanup_free_ char *dir = path_of(HANDOFF_RUN_DIR);
                assert_int_equal(rmdir(dir), 0);
                assert_int_equal(rmdir(run), 0);
        }
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ENOENT);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), 0);
        j = journal_close(j);
        assert_int_equal(journal_remove(&handoff_journal, sr), 0);
}

/* Refusals */

static void test_symlink_dir(void **state)
{
        _cleanup_free_ char *dir = path_of(HANDOFF_RUN_DIR), *elsewhere = path_of("elsewhere"), *planted = NULL;
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;

        assert_int_equal(mkdir(elsewhere, 0700), 0);
        assert_int_equal(symlink("../elsewhere", dir), 0);
        write_rel("elsewhere/journal", HEADER, strlen(HEADER));

        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff is a symlink; refusing to follow it");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff is a symlink; refusing to follow it");
        error = (free(error), NULL);
        assert_int_equal(journal_remove(&handoff_journal, sr), -ELOOP);
        assert_int_equal(unlink((planted = path_of("elsewhere/journal"))), 0);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff is a symlink; refusing to follow it");
        free(error);
        assert_int_equal(access(planted, F_OK), -1); /* nothing was created through the link */
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
}

static void test_symlink_file(void **state)
{
        _cleanup_free_ char *file = path_of(HANDOFF_JOURNAL_PATH);
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;

        write_journal("", 0);
        assert_int_equal(unlink(file), 0);
        write_rel("run/target", HEADER, strlen(HEADER));
        assert_int_equal(symlink("../target", file), 0);

        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff/journal is a symlink; refusing to follow it");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff/journal is a symlink; refusing to follow it");
        error = (free(error), NULL);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), -ELOOP);
        assert_string_equal(error, "run/gpu-handoff/journal is a symlink; refusing to follow it");
        error = (free(error), NULL);
        /* dangling: still a symlink, still refused */
        assert_int_equal(unlink(file), 0);
        assert_int_equal(symlink("../nowhere", file), 0);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), -ELOOP);
        error = (free(error), NULL);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ELOOP);
        free(error);
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
        /* discarding removes the link, not its target */
        assert_int_equal(journal_remove(&handoff_journal, sr), 0);
        assert_int_equal(journal_remove(&handoff_journal, sr), -ENOENT);
}

static void test_not_regular(void **state)
{
        _cleanup_free_ char *file = path_of(HANDOFF_JOURNAL_PATH), *dir = path_of(HANDOFF_RUN_DIR);
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;

        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(mkdir(file, 0700), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EBADFD);
        assert_string_equal(error, "run/gpu-handoff/journal is not a regular file");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -EBADFD);
        assert_string_equal(error, "run/gpu-handoff/journal is not a regular file");
        error = (free(error), NULL);
        assert_int_equal(rmdir(file), 0);

        /* A FIFO must be refused, not waited on. */
        assert_int_equal(mkfifo(file, 0600), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EBADFD);
        assert_string_equal(error, "run/gpu-handoff/journal is not a regular file");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -EBADFD);
        error = (free(error), NULL);
        assert_int_equal(unlink(file), 0);

        /* run/gpu-handoff itself a file */
        assert_int_equal(rmdir(dir), 0);
        write_rel(HANDOFF_RUN_DIR, "x", 1);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -ENOTDIR);
        assert_string_equal(error, "run/gpu-handoff is not a directory");
        error = (free(error), NULL);
        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "d", "c", &j, &error), -ENOTDIR);
        free(error);
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
}

static void test_foreign(void **state)
{
        _cleanup_free_ char *file = path_of(HANDOFF_JOURNAL_PATH), *dir = path_of(HANDOFF_RUN_DIR);
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;

        write_journal(HEADER, strlen(HEADER));
        assert_int_equal(chmod(dir, 0777), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EPERM);
        assert_string_equal(error, "run/gpu-handoff is writable by other users (mode 0777)");
        error = (free(error), NULL);
        assert_int_equal(chmod(dir, 0720), 0);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -EPERM);
        assert_string_equal(error, "run/gpu-handoff is writable by other users (mode 0720)");
        error = (free(error), NULL);
        assert_int_equal(chmod(dir, 0755), 0); /* readable by others is fine */
        {
                _cleanup_journal_state_ struct journal_state *ok = NULL;
                assert_int_equal(journal_load(&handoff_journal, sr, &ok, &error), 0);
        }

        if (geteuid() != 0) {
                assert_ptr_equal(st, (struct journal_state *)0x1);
                skip(); /* chown needs root */
        }
        assert_int_equal(chown(file, 65534, 65534), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EPERM);
        assert_string_equal(error, "run/gpu-handoff/journal is owned by uid 65534, not by uid 0");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -EPERM);
        error = (free(error), NULL);
        assert_int_equal(chown(file, 0, 0), 0);
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EPERM);
        assert_string_equal(error, "run/gpu-handoff is owned by uid 65534, not by uid 0");
        free(error);
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
}

/* Replay */

static void test_replay_clean_attach(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                                                           "done 1 20\n"
                                                                           "begin 2 bind-vfio 0000:01:00.0\n"
                                                                           "done 2 30\n"
                                                                           "end attached\n");
        const size_t pending[] = { 2, 1, 0 };

        assert_true(st->have_magic);
        assert_int_equal(st->n_phases, 1);
        assert_string_equal(st->phases[0].name, "attach");
        assert_string_equal(st->phases[0].devices, "0000:01:00.0");
        assert_string_equal(st->phases[0].command, "gpu-handoff attach");
        assert_int_equal(st->phases[0].realtime_usec, 1718000000123456);
        assert_int_equal(st->n_steps, 3);
        assert_step(st, 0, "stop-unit", JOURNAL_STEP_DONE);
        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_DONE);
        assert_step(st, 2, "bind-vfio", JOURNAL_STEP_DONE);
        assert_string_equal(st->steps[1].args[1], "nvidia");
        assert_int_equal(st->steps[2].duration_usec, 30);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_APPLIED);
        assert_false(journal_state_needs_recovery(st, false));
        assert_false(journal_state_needs_recovery(st, true));
        assert_int_equal(journal_state_undo_outcome(st), JOURNAL_OUTCOME_UNDONE);
        assert_int_equal(journal_state_owner(st)->pid, 4242);
        assert_pending(st, pending, 3); /* what a release gives back */
}

static void test_replay_failure_rollback(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                                                           "failed 1 16\n"
                                                                           "revert 1\n"
                                                                           "reverted 1\n"
                                                                           "revert 0\n"
                                                                           "reverted 0\n"
                                                                           "end rolled-back\n");

        assert_int_equal(st->n_steps, 2);
        assert_step(st, 0, "stop-unit", JOURNAL_STEP_REVERTED);
        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_REVERTED);
        assert_int_equal(st->steps[1].error, -EBUSY);
        assert_int_equal(st->steps[0].error, 0);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
        assert_false(journal_state_needs_recovery(st, false));
        assert_pending(st, NULL, 0);
}

static void test_replay_failed_not_yet_reverted(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                                                           "failed 1 16\n");
        const size_t pending[] = { 1, 0 }; /* the failed step may have changed something */

        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_FAILED);
        assert_pending(st, pending, 2);
        assert_true(journal_state_needs_recovery(st, false));
        assert_int_equal(journal_state_undo_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
}

static void test_replay_crash_after_begin(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                                                           "done 1 20\n"
                                                                           "begin 2 bind-vfio 0000:01:00.0\n");
        const size_t pending[] = { 2, 1, 0 };

        assert_int_equal(st->n_steps, 3);
        assert_step(st, 2, "bind-vfio", JOURNAL_STEP_BEGUN);
        assert_true(st->in_progress);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_NONE);
        assert_true(journal_state_needs_recovery(st, false));
        assert_false(journal_state_needs_recovery(st, true)); /* its owner is still at work */
        assert_pending(st, pending, 3);
        assert_int_equal(journal_state_undo_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
}

static void test_replay_torn(void **state)
{
        /* A torn "done": the step stays BEGUN, maybe applied. */
        _cleanup_journal_state_ struct journal_state *a = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                          "done 0 1");
        /* A torn "begin": never acted upon, so no step at all. */
        _cleanup_journal_state_ struct journal_state *b = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                          "done 0 10\n"
                                                                          "begin 1 unbind-dri");
        /* Only a part of the magic line: a crash right after creation. */
        _cleanup_journal_state_ struct journal_state *c = parse_ok("gpu-hand");
        _cleanup_journal_state_ struct journal_state *d = parse_ok("");
        const size_t pending_a[] = { 0 };
        const size_t pending_b[] = { 0 };

        assert_int_equal(a->n_steps, 1);
        assert_step(a, 0, "stop-unit", JOURNAL_STEP_BEGUN);
        assert_int_equal(a->ignored_bytes, 8);
        assert_pending(a, pending_a, 1);
        assert_true(journal_state_needs_recovery(a, false));

        assert_int_equal(b->n_steps, 1);
        assert_step(b, 0, "stop-unit", JOURNAL_STEP_DONE);
        assert_int_equal(b->ignored_bytes, strlen("begin 1 unbind-dri"));
        assert_pending(b, pending_b, 1);
        assert_true(journal_state_needs_recovery(b, false));

        assert_false(c->have_magic);
        assert_int_equal(c->n_phases, 0);
        assert_int_equal(c->ignored_bytes, 8);
        assert_false(journal_state_needs_recovery(c, false));
        assert_null(journal_state_owner(c));
        assert_pending(c, NULL, 0);

        assert_false(d->have_magic);
        assert_int_equal(d->ignored_bytes, 0);
        assert_false(journal_state_needs_recovery(d, false));
}

static void test_replay_release_partly_done(void **state)
{
        _cleanup_journal_state_ struct journal_state *st =
                parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                "done 0 10\n"
                                "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                "done 1 20\n"
                                "begin 2 bind-vfio 0000:01:00.0\n"
                                "done 2 30\n"
                                "end attached\n"
                                "phase release 5151 99120 1718003600000000 0000:01:00.0 gpu-handoff\\x20release\n"
                                "revert 2\n"
                                "reverted 2\n"
                                "revert 1\n");
        const size_t pending[] = { 1, 0 };

        assert_int_equal(st->n_phases, 2);
        assert_string_equal(st->phases[1].name, "release");
        assert_int_equal(st->phases[0].outcome, JOURNAL_OUTCOME_APPLIED);
        assert_int_equal(st->phases[1].outcome, JOURNAL_OUTCOME_NONE);
        assert_int_equal(journal_state_owner(st)->pid, 5151);
        assert_int_equal(journal_state_owner(st)->start_time, 99120);
        assert_step(st, 0, "stop-unit", JOURNAL_STEP_DONE);
        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_REVERTING);
        assert_step(st, 2, "bind-vfio", JOURNAL_STEP_REVERTED);
        assert_int_equal(st->steps[2].phase, 0);
        assert_pending(st, pending, 2);
        assert_true(journal_state_needs_recovery(st, false));
        assert_false(journal_state_needs_recovery(st, true));
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_NONE);
        assert_int_equal(journal_state_undo_outcome(st), JOURNAL_OUTCOME_UNDONE);
}

static void test_replay_recover_takes_over(void **state)
{
        /* The attach died during step 1 and again a recover died during its revert of step 1;
         * a second recover finishes. A phase record ends whatever the dead owner had in progress. */
        _cleanup_journal_state_ struct journal_state *st =
                parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                "done 0 10\n"
                                "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                "phase recover 6000 7000 1718000000999999 0000:01:00.0 gpu-handoff\\x20recover\n"
                                "revert 1\n"
                                "phase recover 6001 7001 1718000001999999 0000:01:00.0 gpu-handoff\\x20recover\n"
                                "revert 1\n"
                                "revert-failed 1 5\n"
                                "revert 0\n"
                                "reverted 0\n"
                                "revert 1\n"
                                "reverted 1\n"
                                "end rolled-back\n");

        assert_int_equal(st->n_phases, 3);
        assert_int_equal(st->phases[0].outcome, JOURNAL_OUTCOME_NONE);
        assert_int_equal(st->phases[1].outcome, JOURNAL_OUTCOME_NONE);
        assert_int_equal(st->phases[2].outcome, JOURNAL_OUTCOME_ROLLED_BACK);
        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_REVERTED);
        assert_int_equal(st->steps[1].error, -EIO);
        assert_pending(st, NULL, 0);
        assert_false(journal_state_needs_recovery(st, false));
}

static void test_replay_revert_failed(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "revert 0\n"
                                                                           "revert-failed 0 110\n");
        const size_t pending[] = { 0 };

        assert_step(st, 0, "stop-unit", JOURNAL_STEP_REVERTING);
        assert_int_equal(st->steps[0].error, -ETIMEDOUT);
        assert_false(st->in_progress);
        assert_pending(st, pending, 1);
}

/* The owner could not write "done" (or "failed") and undoes the step in progress instead; a
 * revert whose outcome it could not write is retried the same way. */
static void test_replay_revert_in_progress(void **state)
{
        _cleanup_journal_state_ struct journal_state *st = parse_ok(HEADER "begin 0 stop-unit a.service\n"
                                                                           "done 0 10\n"
                                                                           "begin 1 unbind-driver 0000:01:00.0 nvidia\n"
                                                                           "revert 1\n"
                                                                           "revert 1\n"
                                                                           "reverted 1\n"
                                                                           "revert 0\n");
        const size_t pending[] = { 0 };

        assert_step(st, 1, "unbind-driver", JOURNAL_STEP_REVERTED);
        assert_step(st, 0, "stop-unit", JOURNAL_STEP_REVERTING);
        assert_true(st->in_progress);
        assert_true(st->in_progress_revert);
        assert_int_equal(st->in_progress_step, 0);
        assert_pending(st, pending, 1);
}

static void test_strings(void **state)
{
        assert_string_equal(journal_outcome_to_string(&handoff_journal, JOURNAL_OUTCOME_ROLLED_BACK), "rolled-back");
        assert_string_equal(journal_outcome_to_string(&handoff_journal, JOURNAL_OUTCOME_NONE), "none");
        assert_null(journal_outcome_to_string(&handoff_journal, _JOURNAL_OUTCOME_MAX));
        assert_int_equal(journal_outcome_from_string(&handoff_journal, "released"), JOURNAL_OUTCOME_UNDONE);
        assert_int_equal(journal_outcome_from_string(&handoff_journal, "none"), _JOURNAL_OUTCOME_MAX);
        assert_int_equal(journal_outcome_from_string(&handoff_journal, NULL), _JOURNAL_OUTCOME_MAX);
        assert_string_equal(journal_step_state_to_string(JOURNAL_STEP_REVERTING), "reverting");
        assert_null(journal_step_state_to_string(_JOURNAL_STEP_STATE_MAX));
}

/* Corruption */

static const struct {
        const char *text;
        const char *error;
} corrupt[] = {
        { "hello\n", "1: not a gpu-handoff journal (the first line is 'hello')" },
        { "hello", "1: not a gpu-handoff journal (the first line is 'hello')" },
        { "gpu-handoff journal 1 \n", "1: not a gpu-handoff journal (the first line is 'gpu-handoff journal 1 ')" },
        { "gpu-handoff journal 2\n", "1: journal format version 2 is not supported (this tool reads version 1)" },
        { "\n", "1: not a gpu-handoff journal (the first line is '')" },
        { HEADER "bogus 1\n", "3: unknown record 'bogus'" },
        { HEADER "\n", "3: empty line" },
        { HEADER "done 0 5\n", "3: 'done' for step 0, which was never begun" },
        { HEADER "begin 1 k\n", "3: step 1 out of order; expected step 0" },
        { HEADER "begin 0 k\nbegin 1 k\n", "4: begin of step 1 while step 0 is in progress" },
        { HEADER "begin 0 k\ndone 0 1\ndone 0 1\n", "5: 'done' for step 0 without its 'begin' (the step is done)" },
        { HEADER "begin 0 k\ndone 1 1\n", "4: 'done' for step 1, which was never begun" },
        { HEADER "begin 0 k\nfailed 0 0\n", "4: bad errno '0'" },
        { HEADER "begin 0 k\nfailed 0 4096\n", "4: bad errno '4096'" },
        { HEADER "begin 0 k\nfailed 0 -5\n", "4: bad errno '-5'" },
        { HEADER "begin 0 k\ndone 0 05\n", "4: bad duration '05'" },
        { HEADER "begin 0 k\ndone 0 18446744073709551616\n", "4: bad duration '18446744073709551616'" },
        { HEADER "begin x k\n", "3: bad step index 'x'" },
        { HEADER "begin 00 k\n", "3: bad step index '00'" },
        { HEADER "begin 0 Unbind\n", "3: bad step kind 'Unbind'; expected [a-z0-9-]" },
        { HEADER "begin 0 \n", "3: bad step kind ''; expected [a-z0-9-]" },
        { HEADER "begin 0 k a\\q\n", "3: bad escape in argument 1 'a\\q'" },
        { HEADER "begin 0 k a \\x00\n", "3: bad escape in argument 2 '\\x00'" },
        { HEADER "begin 0\n", "3: expected 'begin INDEX KIND ARG...'" },
        { HEADER "done 0\n", "3: expected 'done INDEX USEC'" },
        { HEADER "end attached now\n", "3: expected 'end OUTCOME'" },
        { HEADER "end done\n", "3: unknown outcome 'done'; expected attached, rolled-back or released" },
        { HEADER "end none\n", "3: unknown outcome 'none'; expected attached, rolled-back or released" },
        { HEADER "begin 0 k\nend attached\n", "4: end while step 0 is in progress" },
        { HEADER "begin 0 k\nfailed 0 16\nend attached\n", "5: 'attached' but step 0 is failed, not done" },
        { HEADER "begin 0 k\ndone 0 1\nend rolled-back\n", "5: 'rolled-back' but step 0 is done, not reverted" },
        { HEADER "end released\n", "3: 'released' but the GPU was never attached; expected 'rolled-back'" },
        { HEADER "end attached\nphase release 1 1 1  \nend rolled-back\n",
          "5: 'rolled-back' after the GPU was attached; expected 'released'" },
        { HEADER "end attached\nbegin 0 k\n", "4: 'begin' after the phase ended (attached)" },
        { HEADER "end rolled-back\nphase recover 1 1 1  \n", "4: phase after the transition ended (rolled-back)" },
        { HEADER "begin 0 k\ndone 0 1\nrevert 0\nreverted 0\nbegin 1 k\n", "7: begin of step 1 after steps were reverted" },
        { HEADER "begin 0 k\ndone 0 1\nrevert 0\nreverted 0\nrevert 0\n", "7: revert of step 0, which is reverted already" },
        { HEADER "begin 0 k\ndone 0 1\nbegin 1 k\nrevert 0\n", "6: revert of step 0 while step 1 is in progress" },
        { HEADER "begin 0 k\ndone 0 1\nrevert 0\nrevert 0\nrevert 1\n", "7: revert of step 1 while step 0 is in progress" },
        { HEADER "revert 0\n", "3: revert of step 0, which was never begun" },
        { HEADER "begin 0 k\ndone 0 1\nreverted 0\n", "5: 'reverted' for step 0 without its 'revert' (the step is done)" },
        { HEADER "begin 0 k\ndone 0 1\nrevert 0\ndone 0 1\n", "6: 'done' for step 0 without its 'begin' (the step is reverting)" },
        { "gpu-handoff journal 1\nbegin 0 k\n", "2: 'begin' before the first phase" },
        { "gpu-handoff journal 1\nphase attach 0 1 1 d c\n", "2: bad pid '0'" },
        { "gpu-handoff journal 1\nphase attach 2147483648 1 1 d c\n", "2: bad pid '2147483648'" },
        { "gpu-handoff journal 1\nphase Attach 1 1 1 d c\n", "2: bad phase name 'Attach'; expected [a-z0-9-]" },
        { "gpu-handoff journal 1\nphase attach 1 x 1 d c\n", "2: bad start time 'x'" },
        { "gpu-handoff journal 1\nphase attach 1 1 -1 d c\n", "2: bad timestamp '-1'" },
        { "gpu-handoff journal 1\nphase attach 1 1 1 d\\ c\n", "2: bad escape in devices 'd\\'" },
        { "gpu-handoff journal 1\nphase attach 1 1 1 d c c\n", "2: expected 'phase NAME PID START USEC DEVICES COMMAND'" },
        { HEADER "done 0 1\r\n", "3: byte 0x0d at column 9; a journal is printable ASCII" },
        { HEADER "begin 0 k \xc3\xa4\n", "3: byte 0xc3 at column 11; a journal is printable ASCII" },
        { HEADER "begin 0 k\tx\n", "3: byte 0x09 at column 10; a journal is printable ASCII" },
        { HEADER "zzz", "3: incomplete last line 'zzz' is not the start of a record" },
        { HEADER "do 1", "3: incomplete last line 'do 1' is not the start of a record" },
        { HEADER "\x01", "3: byte 0x01 at column 1; a journal is printable ASCII" },
        { HEADER "0123456789012345678901234567890123456789xyz\n",
          "3: unknown record '0123456789012345678901234567890123456789...'" },
};

static void test_corrupt(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(corrupt); i++) {
                struct journal_state *st = (struct journal_state *)0x1;
                _cleanup_free_ char *error = NULL, *expected = NULL;
                int r = journal_parse(&handoff_journal, corrupt[i].text, strlen(corrupt[i].text), HANDOFF_JOURNAL_PATH, &st, &error);

                if (r != -EBADMSG || !error || !strstr(error, corrupt[i].error))
                        print_error("case %zu: r=%d error=%s\n", i, r, error ? error : "(null)");
                assert_int_equal(r, -EBADMSG);
                assert_true(asprintf(&expected, "run/gpu-handoff/journal:%s", corrupt[i].error) > 0);
                assert_string_equal(error, expected);
                assert_ptr_equal(st, (struct journal_state *)0x1);
        }
}

static void test_corrupt_nul_and_size(void **state)
{
        static const char with_nul[] = HEADER "begin 0 k\0x\n";
        struct journal_state *st = (struct journal_state *)0x1;
        struct journal *j = (struct journal *)0x1;
        char *error = NULL;
        _cleanup_free_ char *big = malloc(JOURNAL_SIZE_MAX + 1);

        assert_int_equal(journal_parse(&handoff_journal, with_nul, sizeof(with_nul) - 1, NULL, &st, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal:3: NUL byte at column 10");
        error = (free(error), NULL);
        /* also in an incomplete last line */
        assert_int_equal(journal_parse(&handoff_journal, with_nul, sizeof(with_nul) - 3, "x", &st, &error), -EBADMSG);
        assert_string_equal(error, "x:3: NUL byte at column 10");
        error = (free(error), NULL);

        write_journal(with_nul, sizeof(with_nul) - 1);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal:3: NUL byte at column 10");
        error = (free(error), NULL);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal:3: NUL byte at column 10");
        error = (free(error), NULL);

        /* Oversized: a valid header padded with valid records past 1 MiB. */
        assert_non_null(big);
        memcpy(big, HEADER, strlen(HEADER));
        memset(big + strlen(HEADER), '\n', JOURNAL_SIZE_MAX + 1 - strlen(HEADER));
        assert_int_equal(journal_parse(&handoff_journal, big, JOURNAL_SIZE_MAX + 1, NULL, &st, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal: larger than 1 MiB (1048577 bytes); not a journal this tool wrote");
        error = (free(error), NULL);
        write_journal(big, JOURNAL_SIZE_MAX + 1);
        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal: larger than 1 MiB (1048577 bytes); not a journal this tool wrote");
        error = (free(error), NULL);
        {
                /* far larger: read no further than the limit, and said with its size */
                _cleanup_free_ char *huge = calloc(3, JOURNAL_SIZE_MAX);
                assert_non_null(huge);
                memcpy(huge, big, JOURNAL_SIZE_MAX + 1);
                write_journal(huge, 3 * JOURNAL_SIZE_MAX);
                assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), -EBADMSG);
                assert_string_equal(error, "run/gpu-handoff/journal: larger than 1 MiB (3145728 bytes); not a journal "
                                           "this tool wrote");
                error = (free(error), NULL);
        }
        /* exactly at the limit is read (and here fails on its first empty line) */
        assert_int_equal(journal_parse(&handoff_journal, big, JOURNAL_SIZE_MAX, NULL, &st, &error), -EBADMSG);
        assert_string_equal(error, "run/gpu-handoff/journal:3: empty line");
        free(error);
        assert_ptr_equal(st, (struct journal_state *)0x1);
        assert_ptr_equal(j, (struct journal *)0x1);
}

/* Crash at any point */

/* Every record type, hostile text, and a release phase. */
static const char full[] =
        "gpu-handoff journal 1\n"
        "phase attach 4242 81234 1718000000123456 0000:01:00.0\\x200000:01:00.1 a\\\\b\\x0a\n"
        "begin 0 stop-unit nvidia-persistenced.service\n"
        "done 0 120000\n"
        "begin 1 unbind-driver 0000:01:00.1 snd_hda_intel  \\xc3\\xa4\n"
        "done 1 5300\n"
        "begin 2 bind-vfio 0000:01:00.0\n"
        "failed 2 16\n"
        "phase recover 6000 7000 1718000000999999 0000:01:00.0\\x200000:01:00.1 gpu-handoff\\x20recover\n"
        "revert 2\n"
        "reverted 2\n"
        "revert 1\n"
        "revert-failed 1 5\n"
        "revert 1\n"
        "reverted 1\n"
        "revert 0\n"
        "reverted 0\n"
        "end rolled-back\n";

static void assert_same_state(const struct journal_state *a, const struct journal_state *b)
{
        assert_int_equal(a->have_magic, b->have_magic);
        assert_int_equal(a->n_phases, b->n_phases);
        assert_int_equal(a->n_steps, b->n_steps);
        assert_int_equal(a->in_progress, b->in_progress);
        for (size_t i = 0; i < a->n_phases; i++) {
                assert_string_equal(a->phases[i].name, b->phases[i].name);
                assert_string_equal(a->phases[i].devices, b->phases[i].devices);
                assert_string_equal(a->phases[i].command, b->phases[i].command);
                assert_int_equal(a->phases[i].outcome, b->phases[i].outcome);
                assert_int_equal(a->phases[i].owner.pid, b->phases[i].owner.pid);
        }
        for (size_t i = 0; i < a->n_steps; i++) {
                assert_string_equal(a->steps[i].kind, b->steps[i].kind);
                assert_int_equal(a->steps[i].state, b->steps[i].state);
                assert_int_equal(a->steps[i].error, b->steps[i].error);
                assert_int_equal(a->steps[i].n_args, b->steps[i].n_args);
                for (size_t k = 0; k < a->steps[i].n_args; k++)
                        assert_string_equal(a->steps[i].args[k], b->steps[i].args[k]);
        }
}

static void assert_consistent(const struct journal_state *st)
{
        size_t sum = 0, n = 0;
        _cleanup_free_ size_t *v = NULL;

        for (int s = 0; s < _JOURNAL_STEP_STATE_MAX; s++)
                sum += st->n_in_state[s];
        assert_int_equal(sum, st->n_steps);
        assert_int_equal(journal_state_pending_reverts(st, &v, &n), 0);
        for (size_t i = 0; i < n; i++) {
                assert_true(v[i] < st->n_steps);
                assert_int_not_equal(st->steps[v[i]].state, JOURNAL_STEP_REVERTED);
                if (i > 0)
                        assert_true(v[i] < v[i - 1]);
        }
        assert_int_equal(n, st->n_steps - st->n_in_state[JOURNAL_STEP_REVERTED]);
        if (st->n_phases == 0)
                assert_int_equal(st->n_steps, 0);
}

static void test_truncated_every_offset(void **state)
{
        size_t len = sizeof(full) - 1, prev_steps = 0;
        _cleanup_journal_state_ struct journal_state *whole = parse_ok(full);

        assert_int_equal(whole->n_steps, 3);
        assert_int_equal(whole->n_phases, 2);
        assert_string_equal(whole->phases[0].command, "a\\b\n");
        assert_string_equal(whole->steps[1].args[2], "");
        assert_string_equal(whole->steps[1].args[3], "\xc3\xa4");

        for (size_t k = 0; k <= len; k++) {
                _cleanup_journal_state_ struct journal_state *st = NULL, *complete = NULL;
                char *error = NULL;
                size_t nl = k;
                int r;

                while (nl > 0 && full[nl - 1] != '\n')
                        nl--;
                r = journal_parse(&handoff_journal, full, k, NULL, &st, &error);
                if (r < 0)
                        print_error("offset %zu: %s\n", k, error ? error : "?");
                assert_int_equal(r, 0);
                assert_int_equal(st->ignored_bytes, k - nl);
                assert_int_equal(journal_parse(&handoff_journal, full, nl, NULL, &complete, &error), 0);
                assert_same_state(st, complete);
                assert_consistent(st);
                assert_true(st->n_steps >= prev_steps);
                prev_steps = st->n_steps;
        }
}

/* A journal cut at any byte (a crash anywhere) can be taken over and rolled back to the end. */
static void test_recover_every_offset(void **state)
{
        size_t len = sizeof(full) - 1;

        for (size_t k = 0; k <= len; k++) {
                _cleanup_journal_ struct journal *j = NULL;
                _cleanup_journal_state_ struct journal_state *st = NULL;
                _cleanup_free_ size_t *pending = NULL;
                _cleanup_free_ char *text = NULL;
                char *error = NULL;
                size_t n = 0, nl = k, size = 0;
                enum journal_outcome outcome;

                while (nl > 0 && full[nl - 1] != '\n')
                        nl--;
                write_journal(full, k);
                assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), 0);
                st = (journal_state_free(st), NULL);

                assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), 0);
                text = read_journal_text(&size);
                assert_int_equal(size, nl); /* the incomplete line is cut off */
                assert_memory_equal(text, full, nl);
                assert_int_equal(journal_get_state(j)->ignored_bytes, 0);

                outcome = journal_state_outcome(journal_get_state(j));
                if (outcome == JOURNAL_OUTCOME_ROLLED_BACK || outcome == JOURNAL_OUTCOME_UNDONE) {
                        assert_int_equal(journal_phase(j, "recover", &owner2, "x"), -EPROTO);
                        assert_int_equal(journal_remove(&handoff_journal, sr), 0);
                        continue;
                }
                assert_int_equal(journal_phase(j, "recover", &owner2, "gpu-handoff recover"), 0);
                assert_int_equal(journal_state_pending_reverts(journal_get_state(j), &pending, &n), 0);
                for (size_t i = 0; i < n; i++) {
                        assert_int_equal(journal_revert_begin(j, pending[i]), 0);
                        assert_int_equal(journal_reverted(j, pending[i]), 0);
                }
                assert_int_equal(journal_end(j, journal_state_undo_outcome(journal_get_state(j))), 0);
                j = journal_close(j);

                assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), 0);
                assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_ROLLED_BACK);
                assert_int_equal(st->n_in_state[JOURNAL_STEP_REVERTED], st->n_steps);
                assert_string_equal(st->phases[st->n_phases - 1].name, "recover");
                /* a later phase repeats the transition's devices */
                if (st->n_phases > 1)
                        assert_string_equal(st->phases[st->n_phases - 1].devices, "0000:01:00.0 0000:01:00.1");
                assert_int_equal(journal_remove(&handoff_journal, sr), 0);
        }
}

/* A release appends to the same journal, in another process: journal_open(&handoff_journal, ). */
static void test_release_appends(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_journal_state_ struct journal_state *st = NULL;
        const char *args[] = { "0000:01:00.0" };
        char *error = NULL;

        assert_int_equal(journal_create(&handoff_journal, sr, "attach", &owner, "0000:01:00.0", "gpu-handoff attach", &j, &error), 0);
        assert_int_equal(journal_step_begin(j, 0, "bind-vfio", args, 1), 0);
        assert_int_equal(journal_step_done(j, 0, 7), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_APPLIED), 0);
        j = journal_close(j);

        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), 0);
        assert_int_equal(journal_get_state(j)->n_steps, 1);
        assert_int_equal(journal_phase(j, "release", &owner2, "gpu-handoff release"), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_UNDONE), -EPROTO); /* step 0 still lent */
        assert_int_equal(journal_revert_begin(j, 0), 0);
        assert_int_equal(journal_reverted(j, 0), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), -EPROTO);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_UNDONE), 0);
        j = journal_close(j);

        assert_int_equal(journal_load(&handoff_journal, sr, &st, &error), 0);
        assert_int_equal(st->n_phases, 2);
        assert_string_equal(st->phases[1].name, "release");
        assert_string_equal(st->phases[1].devices, "0000:01:00.0");
        assert_string_equal(st->phases[1].command, "gpu-handoff release");
        assert_int_equal(st->phases[1].owner.pid, 5151);
        assert_int_equal(journal_state_outcome(st), JOURNAL_OUTCOME_UNDONE);
        assert_int_equal(journal_remove(&handoff_journal, sr), 0);
        assert_int_equal(journal_remove(&handoff_journal, sr), -ENOENT);
}

/* After an empty or half-created journal, the next phase writes the magic line first. */
static void test_open_empty(void **state)
{
        _cleanup_journal_ struct journal *j = NULL;
        _cleanup_free_ char *text = NULL;
        char *error = NULL;

        write_journal("gpu-handoff jour", 16);
        assert_int_equal(journal_open(&handoff_journal, sr, &j, &error), 0);
        assert_false(journal_get_state(j)->have_magic);
        assert_int_equal(journal_phase(j, "recover", &owner2, ""), 0);
        assert_int_equal(journal_end(j, JOURNAL_OUTCOME_ROLLED_BACK), 0);
        text = read_journal_text(NULL);
        assert_true(strncmp(text, "gpu-handoff journal 1\nphase recover 5151 99120 ", 47) == 0);
        assert_string_equal(text + strlen(text) - 19, "  \nend rolled-back\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_unescape),
                cmocka_unit_test(test_strings),
                cmocka_unit_test_setup_teardown(test_create_exact_format, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roundtrip_hostile, setup, teardown),
                cmocka_unit_test_setup_teardown(test_writer_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_writer_size_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_failure_cut_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sizes_and_reserve, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
                cmocka_unit_test(test_replay_clean_attach),
                cmocka_unit_test(test_replay_failure_rollback),
                cmocka_unit_test(test_replay_failed_not_yet_reverted),
                cmocka_unit_test(test_replay_crash_after_begin),
                cmocka_unit_test(test_replay_torn),
                cmocka_unit_test(test_replay_release_partly_done),
                cmocka_unit_test(test_replay_recover_takes_over),
                cmocka_unit_test(test_replay_revert_failed),
                cmocka_unit_test(test_replay_revert_in_progress),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test_setup_teardown(test_corrupt_nul_and_size, setup, teardown),
                cmocka_unit_test(test_truncated_every_offset),
                cmocka_unit_test_setup_teardown(test_recover_every_offset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_release_appends, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_empty, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
