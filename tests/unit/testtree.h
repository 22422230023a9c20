/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Temporary machine trees for unit tests: an empty one, or one fakehost builds from a
 * description, with a sysroot on it, under $TMPDIR (tmpfs in the test suite). Failures fail the
 * running cmocka test. */

#include "basic/sysroot.h"
#include "host/host.h"

struct test_tree {
        char dir[256];
        struct sysroot *sr;
};

struct test_tree *test_tree_new(const char *name);
struct test_tree *test_tree_fakehost(const char *name, const char *description);
void test_tree_free(struct test_tree *t);

/* A fake host read back as a snapshot, with the installed quirks ($GPU_HANDOFF_QUIRKS). */
struct test_host {
        struct test_tree *tree;
        struct quirk_db *quirks;
        struct host *h;
};

struct test_host *test_host_new(const char *name, const char *description);
void test_host_free(struct test_host *m);
