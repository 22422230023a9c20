/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the sysroot seam: a bad --root is refused clearly, every read stays inside the
 * root (absolute and ".." symlinks included), and the attribute readers report errors. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "basic/sysroot.h"

static char tree[] = "/tmp/test-sysroot.XXXXXX";

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
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int remove_tree(void **state)
{
        return nftw(tree, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open_missing_root), cmocka_unit_test(test_open_file_root),
                cmocka_unit_test(test_read_attr),         cmocka_unit_test(test_links_stay_inside),
                cmocka_unit_test(test_link_basename),     cmocka_unit_test(test_path),
        };
        return cmocka_run_group_tests(tests, setup_tree, remove_tree);
}
