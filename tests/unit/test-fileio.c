/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for basic/fileio. What they prove:
 *   - write_all() delivers every byte, in order, through a pipe far smaller than the data and set
 *     non-blocking, so that nearly every write() is short or answers EAGAIN;
 *   - write_all() reports the error that stops a write halfway (a file size limit: one short write,
 *     then EFBIG) after writing what fitted;
 *   - read_fd_full() reads a file of exactly max bytes and refuses one of max + 1 (-EFBIG), and reads
 *     an empty one;
 *   - atomic_write_at() creates and replaces a file with exactly the bytes and mode asked (whatever
 *     the umask), the owner kept when asked (as root: another uid), through no symlink, and leaves
 *     no temporary file;
 *   - an atomic_write_at() failing at any of its operations leaves the old file byte for byte and
 *     no temporary file; the fault hook sees the operations in order;
 *   - mkdir_durable_at(), symlink_durable_at() (new and replacing) and unlink_durable_at() do what
 *     they say, mkdir with the exact mode;
 *   - opendir_at() lists a directory and refuses a symlink to one and a file (-ENOTDIR);
 *     dir_from_fd() takes the fd over, closing it when it fails. */

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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "testtree.h"

static int dir_of(struct test_tree *t)
{
        int fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static char *read_back(int dirfd, const char *name, size_t *len)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        char *text = NULL;

        assert_true(fd >= 0);
        assert_int_equal(read_fd_full(fd, 1 << 24, &text, len), 0);
        return text;
}

static bool entry_exists(int dirfd, const char *name)
{
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- write_all ---- */

static void test_write_all_short_writes(void **state)
{
        const size_t len = 1 << 20;
        _cleanup_free_ unsigned char *data = malloc(len);
        int p[2], status;
        pid_t pid;

        assert_non_null(data);
        for (size_t i = 0; i < len; i++)
                data[i] = (unsigned char)(i * 7 + i / 251);
        assert_int_equal(pipe(p), 0);
        (void)fcntl(p[1], F_SETPIPE_SZ, 4096); /* the smallest pipe: 1 MiB goes in many pieces */
        assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* the reader: exit 0 when it got exactly the bytes */
                char *got = NULL;
                size_t n = 0;
                close(p[1]);
                if (read_fd_full(p[0], len, &got, &n) < 0 || n != len || memcmp(got, data, len) != 0)
                        _exit(1);
                _exit(0);
        }
        close(p[0]);
        assert_int_equal(write_all(p[1], data, len), 0);
        close(p[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_write_all_error_halfway(void **state)
{
        struct test_tree *t = test_tree_new("fileio-efbig");
        _cleanup_close_ int dfd = dir_of(t);
        _cleanup_close_ int fd = openat(dfd, "f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct rlimit old, small = {.rlim_cur = 1000};
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        char data[3000];
        struct stat st;
        int r;

        memset(data, 'x', sizeof(data));
        assert_true(fd >= 0);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        small.rlim_max = old.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        r = write_all(fd, data, sizeof(data)); /* 1000 bytes, then EFBIG */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, old_handler);
        assert_int_equal(r, -EFBIG);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 1000);
        test_tree_free(t);
}

/* ---- read_fd_full ---- */

static void test_read_fd_full_limit(void **state)
{
        struct test_tree *t = test_tree_new("fileio-read");
        _cleanup_close_ int dfd = dir_of(t);
        char data[10000];

        memset(data, 'a', sizeof(data));
        assert_int_equal(atomic_write_at(dfd, "f", data, 9000, 0644, NULL), 0);
        assert_int_equal(atomic_write_at(dfd, "empty", "", 0, 0644, NULL), 0);
        for (int i = 0; i < 3; i++) {
                size_t max = i == 0 ? 9000 : i == 1 ? 8999 : 20000;
                _cleanup_close_ int fd = openat(dfd, "f", O_RDONLY | O_CLOEXEC);
                char *text = NULL;
                size_t len = 0;
                int r = read_fd_full(fd, max, &text, &len);

                if (max < 9000) {
                        assert_int_equal(r, -EFBIG);
                        assert_null(text);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(len, 9000);
                        assert_int_equal(text[len], '\0');
                        assert_memory_equal(text, data, len);
                        free(text);
                }
        }
        {
                size_t len = 1;
                _cleanup_free_ char *text = read_back(dfd, "empty", &len);
                assert_int_equal(len, 0);
                assert_string_equal(text, "");
        }
        test_tree_free(t);
}

/* ---- atomic_write_at ---- */

static void test_atomic_write(void **state)
{
        struct test_tree *t = test_tree_new("fileio-atomic");
        _cleanup_close_ int dfd = dir_of(t);
        _cleanup_free_ char *a = NULL, *b = NULL;
        mode_t mask = umask(077);
        struct stat st;
        size_t len;

        assert_int_equal(atomic_write_at(dfd, "conf", "one\n", 4, 0644, NULL), 0);
        a = read_back(dfd, "conf", &len);
        assert_int_equal(len, 4);
        assert_string_equal(a, "one\n");
        assert_int_equal(fstatat(dfd, "conf", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        assert_int_equal(atomic_write_at(dfd, "conf", "two\0bytes", 9, 0600, NULL), 0);
        b = read_back(dfd, "conf", &len);
        assert_int_equal(len, 9);
        assert_memory_equal(b, "two\0bytes", 9);
        assert_int_equal(fstatat(dfd, "conf", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_false(entry_exists(dfd, ".conf.gpu-handoff-new"));
        umask(mask);

        /* Owner kept: as root, another uid and gid; otherwise our own, asked explicitly. */
        {
                uid_t uid = geteuid() == 0 ? 4242 : geteuid();
                gid_t gid = geteuid() == 0 ? 4343 : getegid();
                struct file_keep keep = {.uid = uid, .gid = gid};

                assert_int_equal(atomic_write_at(dfd, "owned", "x", 1, 04755, &keep), 0);
                assert_int_equal(fstatat(dfd, "owned", &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_uid, uid);
                assert_int_equal(st.st_gid, gid);
                assert_int_equal(st.st_mode & 07777, 04755); /* set after the owner: kept */
        }

        /* The temporary file is never reached through a symlink planted in its place. */
        assert_int_equal(symlinkat("/nonexistent-target", dfd, ".planted.gpu-handoff-new"), 0);
        assert_int_equal(atomic_write_at(dfd, "planted", "x", 1, 0644, NULL), -ELOOP);
        assert_false(entry_exists(dfd, "planted"));
        test_tree_free(t);
}

static unsigned fail_at, ops_seen;
static char ops[32][16];

static int fail_op(const char *op, unsigned n, void *userdata)
{
        ops_seen = n;
        if (n <= ELEMENTSOF(ops))
                snprintf(ops[n - 1], sizeof(ops[0]), "%s", op);
        return n == fail_at ? -EIO : 0;
}

static void test_atomic_write_fail_at_every_operation(void **state)
{
        struct test_tree *t = test_tree_new("fileio-fail");
        _cleanup_close_ int dfd = dir_of(t);
        struct file_keep keep = {.uid = geteuid(), .gid = getegid()};
        unsigned n;

        assert_int_equal(atomic_write_at(dfd, "conf", "old\n", 4, 0640, NULL), 0);
        fail_at = 0;
        fileio_set_fault_hook(fail_op, NULL);
        assert_int_equal(atomic_write_at(dfd, "conf", "new\n", 4, 0644, &keep), 0);
        n = ops_seen;
        fileio_set_fault_hook(NULL, NULL);
        /* create, chown, chmod, write, fsync, rename, fsync of the directory */
        assert_int_equal(n, 7);
        assert_string_equal(ops[0], "create");
        assert_string_equal(ops[5], "rename");
        assert_string_equal(ops[6], "fsync");
        for (unsigned k = 1; k <= n; k++) {
                _cleanup_free_ char *text = NULL;
                struct stat st;
                size_t len;
                int r;

                assert_int_equal(atomic_write_at(dfd, "conf", "old\n", 4, 0640, NULL), 0);
                fail_at = k;
                fileio_set_fault_hook(fail_op, NULL);
                r = atomic_write_at(dfd, "conf", "new\n", 4, 0644, &keep);
                fileio_set_fault_hook(NULL, NULL);
                assert_int_equal(r, -EIO);
                text = read_back(dfd, "conf", &len);
                /* Failing the last sync comes after the rename: the new file, not yet durable. */
                assert_string_equal(text, k < n ? "old\n" : "new\n");
                assert_int_equal(fstatat(dfd, "conf", &st, 0), 0);
                assert_int_equal(st.st_mode & 07777, k < n ? 0640 : 0644);
                assert_false(entry_exists(dfd, ".conf.gpu-handoff-new"));
        }
        test_tree_free(t);
}

/* ---- directory entries ---- */

static void test_entries(void **state)
{
        struct test_tree *t = test_tree_new("fileio-entries");
        _cleanup_close_ int dfd = dir_of(t);
        mode_t mask = umask(077);
        char target[64];
        struct stat st;
        ssize_t n;

        assert_int_equal(mkdir_durable_at(dfd, "d", 0755), 0);
        umask(mask);
        assert_int_equal(fstatat(dfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(mkdir_durable_at(dfd, "d", 0755), -EEXIST);

        assert_int_equal(symlink_durable_at(dfd, "l", "/usr/sbin/one", false), 0);
        assert_int_equal(symlink_durable_at(dfd, "l", "/usr/sbin/two", false), -EEXIST);
        assert_int_equal(symlink_durable_at(dfd, "l", "/usr/sbin/two", true), 0);
        n = readlinkat(dfd, "l", target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = '\0';
        assert_string_equal(target, "/usr/sbin/two");
        assert_false(entry_exists(dfd, ".l.gpu-handoff-new"));

        assert_int_equal(unlink_durable_at(dfd, "d", false), -EISDIR);
        assert_int_equal(unlink_durable_at(dfd, "d", true), 0);
        assert_int_equal(unlink_durable_at(dfd, "l", false), 0);
        assert_false(entry_exists(dfd, "d"));
        assert_false(entry_exists(dfd, "l"));
        assert_int_equal(unlink_durable_at(dfd, "l", false), -ENOENT);
        test_tree_free(t);
}

static void test_opendir(void **state)
{
        struct test_tree *t = test_tree_new("fileio-opendir");
        _cleanup_close_ int dfd = dir_of(t);
        _cleanup_closedir_ DIR *d = NULL;
        DIR *none = NULL;
        struct dirent *de;
        bool seen = false;
        int fd;

        test_tree_write(t, "dir/file", "x");
        test_tree_link(t, "dir", "link");
        assert_int_equal(opendir_at(dfd, "dir", &d), 0);
        while ((de = readdir(d)))
                seen = seen || strcmp(de->d_name, "file") == 0;
        assert_true(seen);
        assert_int_equal(opendir_at(dfd, "link", &none), -ENOTDIR); /* never followed */
        assert_int_equal(opendir_at(dfd, "dir/file", &none), -ENOTDIR);
        assert_int_equal(opendir_at(dfd, "missing", &none), -ENOENT);
        assert_null(none);

        fd = openat(dfd, "dir/file", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(dir_from_fd(fd, &none), -ENOTDIR);
        assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed */
        assert_null(none);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_all_short_writes),
                cmocka_unit_test(test_write_all_error_halfway),
                cmocka_unit_test(test_read_fd_full_limit),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_atomic_write_fail_at_every_operation),
                cmocka_unit_test(test_entries),
                cmocka_unit_test(test_opendir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
