/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Temporary machine trees for unit tests: an empty one, or one fakehost builds from a
 * description, with a sysroot on it, under $TMPDIR (tmpfs in the test suite). Failures fail the
 * running cmocka test. */

#include "basic/sysroot.h"
#include "handoff/transition.h"
#include "host/host.h"

struct test_tree {
        char dir[256];
        struct sysroot *sr;
};

struct test_tree *test_tree_new(const char *name);
struct test_tree *test_tree_fakehost(const char *name, const char *description);
void test_tree_free(struct test_tree *t);
/* Files, directories and symlinks below the tree; missing parents are created. */
void test_tree_write(struct test_tree *t, const char *rel, const char *content);
void test_tree_mkdir(struct test_tree *t, const char *rel);
void test_tree_link(struct test_tree *t, const char *target, const char *rel);

/* A fake host read back as a snapshot, with the installed quirks ($GPU_HANDOFF_QUIRKS). */
struct test_host {
        struct test_tree *tree;
        struct quirk_db *quirks;
        struct host *h;
};

struct test_host *test_host_new(const char *name, const char *description);
void test_host_free(struct test_host *m);

/* attach and release/recover as the verbs run them, on whatever kernel seam ctx has: plan the
 * default device (with --yes, optionally --terminate), run the transition; undo the journal. */
int test_attach(const struct handoff_ctx *ctx, const struct process_id *self, bool terminate,
                struct engine_run **ret_run);
/* The same with the steps that make room for the guest as room configures them (NULL: none). */
int test_attach_with(const struct handoff_ctx *ctx, const struct process_id *self, bool terminate,
                     const struct config *room, struct engine_run **ret_run);
int test_undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *phase);

/* A fake host on the kernel model (tests/kmodel) with a context for steps on the virtual clock,
 * this process as the fake's proc/self, and a snapshot of the tree to compare with later. */
struct test_machine {
        struct test_tree *tree;
        struct kmodel *model;
        struct kernel kernel;
        struct handoff_ctx ctx;
        struct process_id self;
        char *before;
};
struct test_machine *test_machine_new(const char *name, const char *description);
void test_machine_free(struct test_machine *m);
/* Fails the test, with the difference, unless the host is as it was at test_machine_new(): the
 * journal, the lock and the firmware framebuffer (which the kernel removes for good once
 * vfio-pci has had the VGA device) are not host state. */
void test_machine_assert_as_before(struct test_machine *m, const char *when);

/* Virtual time for waits: pausing only advances the clock, so a deadline passes at once. */
extern const struct clock_ops test_clock;
