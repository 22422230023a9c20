/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fakehost.h"
#include "testtree.h"

static struct test_tree *make(const char *name, const char *description)
{
        struct test_tree *t = calloc(1, sizeof(*t));
        const char *tmp = getenv("TMPDIR");
        char *error = NULL;

        assert_non_null(t);
        snprintf(t->dir, sizeof(t->dir), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
        assert_non_null(mkdtemp(t->dir));
        if (description && fakehost_build(description, name, t->dir, &error) < 0)
                fail_msg("fakehost: %s", error);
        assert_int_equal(sysroot_open(t->dir, &t->sr), 0);
        return t;
}

struct test_tree *test_tree_new(const char *name)
{
        return make(name, NULL);
}

struct test_tree *test_tree_fakehost(const char *name, const char *description)
{
        return make(name, description);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

void test_tree_free(struct test_tree *t)
{
        if (!t)
                return;
        sysroot_free(t->sr);
        nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(t);
}

struct test_host *test_host_new(const char *name, const char *description)
{
        struct test_host *m = calloc(1, sizeof(*m));
        char *error = NULL;

        assert_non_null(m);
        m->tree = test_tree_fakehost(name, description);
        if (quirk_db_load(getenv("GPU_HANDOFF_QUIRKS"), &m->quirks, &error) < 0)
                fail_msg("quirks: %s", error);
        assert_int_equal(host_read(m->tree->sr, m->quirks, HOST_PLATFORM, &m->h), 0);
        return m;
}

void test_host_free(struct test_host *m)
{
        if (!m)
                return;
        host_free(m->h);
        quirk_db_free(m->quirks);
        test_tree_free(m->tree);
        free(m);
}
