/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the sysroot seam: a bad --root is refused clearly, every read stays inside the
 * root (absolute and ".." symlinks included), and the attribute readers report errors. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/sysroot.h"
#include "tree-remove.h"

static char tree[] = "/tmp/test-sysroot.XXXXXX";
/* A file outside the tree that a link inside it names absolutely. */
static char outside[] = "/tmp/test-sysroot-outside.XXXXXX";

static void write_file(const char *rel, const char *content)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *rel)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

static void make_link(const char *target, const char *rel)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tree, rel);
        assert_int_equal(symlink(target, path), 0);
}

static int setup_tree(void **state)
{
        if (!mkdtemp(tree))
                return -1;
        make_dir("sys");
        make_dir("sys/dev");
        make_dir("etc");
        write_file("etc/secret", "inside\n");
        write_file("sys/dev/vendor", "0x10de\n");
        write_file("sys/dev/big", "0123456789abcdef0123456789abcdef\n");
        make_link("/etc/secret", "sys/abs-link");       /* absolute: must resolve inside the tree */
        make_link("../../../../../../etc/secret", "sys/dotdot-link");
        make_link("../../bus/pci/drivers/nvidia", "sys/dev/driver");
        {
                int fd = mkstemp(outside);
                if (fd < 0 || write(fd, "outside\n", 8) != 8 || close(fd) < 0)
                        return -1;
        }
        make_link(outside, "sys/escape"); /* absent inside the tree */
        return 0;
}

static int remove_tree(void **state)
{
        unlink(outside);
        return tree_remove(tree);
}

static void test_open_missing_root(void **state)
{
        struct sysroot *sr = (struct sysroot *)0x1;

        assert_int_equal(sysroot_open("/nonexistent/root/for/test", &sr), -ENOENT);
        assert_ptr_equal(sr, (struct sysroot *)0x1); /* untouched on failure */
}

static void test_open_file_root(void **state)
{
        char path[512];
        struct sysroot *sr = NULL;

        snprintf(path, sizeof(path), "%s/etc/secret", tree);
        assert_int_equal(sysroot_open(path, &sr), -ENOTDIR);
        assert_null(sr);
}

static void test_read_attr(void **state)
{
        struct sysroot *sr = NULL;
        char buf[64];

        assert_int_equal(sysroot_open(tree, &sr), 0);
        assert_int_equal(sysroot_read_attr(sr, "sys/dev/vendor", buf, sizeof(buf)), 6);
        assert_string_equal(buf, "0x10de");
        /* A leading '/' means the same path below the root. */
        assert_int_equal(sysroot_read_attr(sr, "/sys/dev/vendor", buf, sizeof(buf)), 6);
        assert_int_equal(sysroot_read_attr(sr, "sys/dev/missing", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(sysroot_read_attr(sr, "sys/dev/big", buf, 8), -EFBIG);
        assert_int_equal(sysroot_read_attr(sr, "sys/dev", buf, sizeof(buf)), -EISDIR);
        sysroot_free(sr);
}

static void test_links_stay_inside(void **state)
{
        struct sysroot *sr = NULL;
        char buf[64];

        assert_int_equal(sysroot_open(tree, &sr), 0);
        assert_int_equal(sysroot_read_attr(sr, "sys/abs-link", buf, sizeof(buf)), 6);
        assert_string_equal(buf, "inside");
        assert_int_equal(sysroot_read_attr(sr, "sys/dotdot-link", buf, sizeof(buf)), 6);
        assert_string_equal(buf, "inside");
        assert_true(sysroot_exists(sr, "etc/secret"));
        assert_false(sysroot_exists(sr, "etc/nothing"));
        sysroot_free(sr);
}

static void test_link_basename(void **state)
{
        struct sysroot *sr = NULL;
        char buf[64];
        int fd;

        assert_int_equal(sysroot_open(tree, &sr), 0);
        fd = sysroot_openat(sr, "sys/dev", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(read_link_basename_at(fd, "driver", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "nvidia");
        assert_int_equal(read_link_basename_at(fd, "none", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(read_link_basename_at(fd, "vendor", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(read_link_basename_at(fd, "driver", buf, 4), -EINVAL); /* does not fit */
        close(fd);
        sysroot_free(sr);
}

static void test_path(void **state)
{
        struct sysroot *sr = NULL;
        _cleanup_free_ char *p = NULL, *q = NULL;
        char expected[512];

        assert_int_equal(sysroot_open(tree, &sr), 0);
        p = sysroot_path(sr, "/lib/modules");
        snprintf(expected, sizeof(expected), "%s/lib/modules", tree);
        assert_string_equal(p, expected);
        sysroot_free(sr);
        assert_int_equal(sysroot_open("/", &sr), 0);
        q = sysroot_path(sr, "lib/modules");
        assert_string_equal(q, "/lib/modules");
        sysroot_free(sr);
}

/* Makes openat2 fail with error in this process from now on, as a seccomp profile without it
 * does (ENOSYS, EPERM), and as one immutable file does for a write (EPERM). */
static int deny_openat2(int error)
{
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)error & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = ELEMENTSOF(filter), .filter = filter};

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return -errno;
        return 0;
}

#define CHILD_SKIP 77

/* Runs check in a child (a seccomp filter cannot be taken back) and fails with the line it
 * returns, 0 being success. */
static void in_child(int (*check)(void))
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0)
                _exit(check());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == CHILD_SKIP)
                skip();
        if (WEXITSTATUS(status) != 0)
                fail_msg("check failed at line %d", WEXITSTATUS(status));
}

#define CHECK(x)                                                                                             \
        do {                                                                                                 \
                if (!(x))                                                                                    \
                        return __LINE__ % 256 ? __LINE__ % 256 : 1;                                          \
        } while (0)

/* An EPERM from openat2 after the start (an immutable file, a filter) is an error for that one
 * path; it must not open the path again without the confinement. */
static int check_eperm_keeps_confinement(void)
{
        struct sysroot *sr = NULL;
        char buf[64];

        CHECK(sysroot_open(tree, &sr) == 0);
        CHECK(sysroot_read_attr(sr, "sys/escape", buf, sizeof(buf)) == -ENOENT);
        if (deny_openat2(EPERM) < 0)
                return CHILD_SKIP;
        CHECK(sysroot_read_attr(sr, "sys/escape", buf, sizeof(buf)) == -EPERM);
        CHECK(sysroot_openat(sr, "sys/escape", O_RDONLY) == -EPERM);
        /* ...and again: the first failure switched nothing off. */
        CHECK(sysroot_read_attr(sr, "sys/abs-link", buf, sizeof(buf)) == -EPERM);
        sysroot_free(sr);
        return 0;
}

static void test_eperm_keeps_confinement(void **state)
{
        in_child(check_eperm_keeps_confinement);
}

/* Without openat2 at the start a fake root is refused; the real root works without it. */
static int check_no_openat2(int error)
{
        struct sysroot *sr = (struct sysroot *)0x1;
        char path[600], buf[64];

        if (deny_openat2(error) < 0)
                return CHILD_SKIP;
        CHECK(sysroot_open(tree, &sr) == -EOPNOTSUPP);
        CHECK(sr == (struct sysroot *)0x1);
        CHECK(sysroot_open("/", &sr) == 0);
        CHECK(!sr->confined);
        snprintf(path, sizeof(path), "%s/sys/dev/vendor", tree);
        CHECK(sysroot_read_attr(sr, path, buf, sizeof(buf)) == 6);
        CHECK(strcmp(buf, "0x10de") == 0);
        sysroot_free(sr);
        return 0;
}

static int check_enosys(void)
{
        return check_no_openat2(ENOSYS);
}

static int check_eperm_at_start(void)
{
        return check_no_openat2(EPERM);
}

static void test_no_openat2_refuses_fake_root(void **state)
{
        in_child(check_enosys);
        in_child(check_eperm_at_start);
}

static void test_empty_root_refused(void **state)
{
        struct sysroot *sr = (struct sysroot *)0x1;

        assert_int_equal(sysroot_open("", &sr), -EINVAL);
        assert_ptr_equal(sr, (struct sysroot *)0x1);
}

/* A FIFO where an attribute should be is refused at once instead of blocking the open. */
static void test_fifo_not_read(void **state)
{
        struct sysroot *sr = NULL;
        char path[512], buf[64], *text = NULL;
        int fd;

        snprintf(path, sizeof(path), "%s/sys/dev/fifo", tree);
        assert_int_equal(mkfifo(path, 0644), 0);
        assert_int_equal(sysroot_open(tree, &sr), 0);
        assert_int_equal(sysroot_read_attr(sr, "sys/dev/fifo", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(sysroot_read_file(sr, "sys/dev/fifo", 4096, &text, NULL), -EINVAL);
        fd = sysroot_openat(sr, "sys/dev", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(read_attr_at(fd, "fifo", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(read_binary_at(fd, "fifo", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(read_file_at(fd, "fifo", 4096, &text, NULL), -EINVAL);
        /* The *_at readers do not follow a link either: it could lead out of the tree. */
        assert_int_equal(read_attr_at(fd, "driver", buf, sizeof(buf)), -ELOOP);
        assert_null(text);
        close(fd);
        sysroot_free(sr);
        unlink(path);
}

/* A relative link target, as found in a directory below the root: ".." stops at the root. */
static void test_link_target(void **state)
{
        struct sysroot *sr = NULL;
        char up[700], buf[64];
        int dfd, fd;

        assert_int_equal(sysroot_open(tree, &sr), 0);
        dfd = sysroot_openat(sr, "sys/dev", O_PATH | O_DIRECTORY);
        assert_true(dfd >= 0);
        fd = sysroot_openat_from(sr, dfd, "vendor", O_RDONLY);
        assert_true(fd >= 0);
        close(fd);
        fd = sysroot_openat_from(sr, dfd, "../../etc/secret", O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, 6), 6);
        close(fd);
        /* Enough ".." to reach this machine's / from the tree, then the outside file. */
        snprintf(up, sizeof(up), "../../../../../../../../..%s", outside);
        assert_int_equal(sysroot_openat_from(sr, dfd, up, O_RDONLY), -ENOENT);
        assert_int_equal(sysroot_openat_from(sr, dfd, outside, O_RDONLY), -ENOENT);
        close(dfd);
        sysroot_free(sr);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_missing_root), cmocka_unit_test(test_open_file_root),
                cmocka_unit_test(test_read_attr),         cmocka_unit_test(test_links_stay_inside),
                cmocka_unit_test(test_link_basename),     cmocka_unit_test(test_path),
                cmocka_unit_test(test_eperm_keeps_confinement),
                cmocka_unit_test(test_no_openat2_refuses_fake_root),
                cmocka_unit_test(test_empty_root_refused),
                cmocka_unit_test(test_fifo_not_read),
                cmocka_unit_test(test_link_target),
        };
        return cmocka_run_group_tests(tests, setup_tree, remove_tree);
}
