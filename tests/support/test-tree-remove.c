/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for tests/support/tree-remove.h, the remover every test's teardown trusts: it removes a
 * whole tree (files, directories, symlinks), never follows a symlink out of it, removes only the
 * subtree named relative to a directory, takes a missing path as removed, reports the first entry
 * that will not go, and goes deeper than PATH_MAX (an nftw() walk would stop there). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tree-remove.h"

static char base[256];

static int make_base(void **state)
{
        const char *tmp = getenv("TMPDIR");

        snprintf(base, sizeof(base), "%s/test-tree-remove.XXXXXX", tmp ? tmp : "/tmp");
        return mkdtemp(base) ? 0 : -1;
}

static int remove_base(void **state)
{
        return tree_remove(base);
}

/* base/rel, in a buffer that the next call reuses */
static const char *at(const char *rel)
{
        static char path[512];

        assert_true(snprintf(path, sizeof(path), "%s/%s", base, rel) < (int)sizeof(path));
        return path;
}

static void put(const char *rel, const char *content)
{
        FILE *f = fopen(at(rel), "w");

        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static void dir(const char *rel)
{
        assert_int_equal(mkdir(at(rel), 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
        assert_int_equal(symlink(target, at(rel)), 0);
}

static bool exists(const char *rel)
{
        struct stat st;

        return lstat(at(rel), &st) == 0;
}

static void test_whole_tree_and_no_further(void **state)
{
        char outside[512];

        dir("outside");
        put("outside/keep", "kept\n");
        dir("tree");
        dir("tree/a");
        dir("tree/a/b");
        put("tree/a/b/file", "x");
        put("tree/a/empty", "");
        dir("tree/c");
        snprintf(outside, sizeof(outside), "%s", at("outside"));
        link_to(outside, "tree/c/to-outside-dir"); /* absolute */
        link_to("../outside/keep", "tree/to-keep");
        link_to("nowhere", "tree/dangling");

        assert_int_equal(tree_remove(at("tree")), 0);
        assert_false(exists("tree"));
        /* The links went, not what they point to. */
        assert_true(exists("outside/keep"));
        assert_int_equal(tree_remove(at("outside")), 0);
        assert_false(exists("outside"));
}

static void test_relative_to_a_directory(void **state)
{
        int fd;

        dir("p");
        dir("p/gone");
        put("p/gone/f", "1");
        dir("p/stays");
        put("p/stays/f", "2");
        fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(tree_remove_at(fd, "p/gone"), 0);
        assert_false(exists("p/gone"));
        assert_true(exists("p/stays/f"));
        /* A single file or link is removed as it is. */
        assert_int_equal(tree_remove_at(fd, "p/stays/f"), 0);
        assert_false(exists("p/stays/f"));
        assert_true(exists("p/stays"));
        assert_int_equal(tree_remove_at(fd, "p"), 0);
        assert_false(exists("p"));
        close(fd);
}

static void test_missing_and_failing(void **state)
{
        assert_int_equal(tree_remove(at("no-such-tree")), 0);
        put("file", "x");
        /* Not a missing entry: the path cannot name anything, and the caller hears why. */
        assert_int_equal(tree_remove(at("file/below")), -ENOTDIR);
        assert_true(exists("file"));
        assert_int_equal(tree_remove(at("file")), 0);
}

static void test_deeper_than_path_max(void **state)
{
        static const char name[] = "level-of-a-deep-tree";
        int fd;

        dir("deep");
        fd = open(at("deep"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (size_t len = 0; len <= PATH_MAX; len += sizeof(name)) { /* a name and its slash */
                int next;

                assert_int_equal(mkdirat(fd, name, 0755), 0);
                next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(fd);
                fd = next;
        }
        assert_int_equal(close(openat(fd, "leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        close(fd);

        assert_int_equal(tree_remove(at("deep")), 0);
        assert_false(exists("deep"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole_tree_and_no_further),
                cmocka_unit_test(test_relative_to_a_directory),
                cmocka_unit_test(test_missing_and_failing),
                cmocka_unit_test(test_deeper_than_path_max),
        };
        return cmocka_run_group_tests(tests, make_base, remove_base);
}
