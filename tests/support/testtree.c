/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
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

#include "fakehost.h"
#include "kmodel.h"
#include "snapshot.h"
#include "testtree.h"
#include "tree-remove.h"

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

/* Creates every directory on the way to path (not path itself, unless it ends in '/'). */
static void make_parents(const char *path)
{
        char buf[512];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
                *p = '\0';
                if (mkdir(buf, 0755) < 0)
                        assert_int_equal(errno, EEXIST);
                *p = '/';
        }
}

void test_tree_write(struct test_tree *t, const char *rel, const char *content)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        make_parents(path);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

void test_tree_mkdir(struct test_tree *t, const char *rel)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s/", t->dir, rel);
        make_parents(path);
}

void test_tree_link(struct test_tree *t, const char *target, const char *rel)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        make_parents(path);
        assert_int_equal(symlink(target, path), 0);
}

void test_tree_free(struct test_tree *t)
{
        if (!t)
                return;
        sysroot_free(t->sr);
        tree_remove(t->dir);
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

int test_attach(const struct handoff_ctx *ctx, const struct process_id *self, bool terminate,
                struct engine_run **ret_run)
{
        return test_attach_with(ctx, self, terminate, NULL, ret_run);
}

int test_attach_with(const struct handoff_ctx *ctx, const struct process_id *self, bool terminate,
                     const struct config *room, struct engine_run **ret_run)
{
        struct plan_options opts = {.yes = true, .terminate = terminate};
        struct engine_run *run = NULL;
        struct host *h = NULL;
        struct plan *p = NULL;
        char *error = NULL;
        int r;

        assert_int_equal(host_read(ctx->sr, NULL, HOST_PLATFORM, &h), 0);
        if (plan_attach(h, NULL, 0, &opts, &p, &error) < 0)
                fail_msg("plan: %s", error);
        if (room && (plan_room_read(h, room, self) < 0 || plan_room(h, ctx, room, p, &error) < 0))
                fail_msg("plan_room: %s", error);
        r = transition_attach(ctx, self, "attach", p, &run, &error);
        if (ret_run)
                *ret_run = run; /* its steps went with the plan: use outcomes only */
        else
                engine_run_free(run);
        free(error);
        plan_free(p);
        host_free(h);
        return r;
}

static const char *const not_state[] = {"run", "run/gpu-handoff*", "*simple-framebuffer.0*", NULL};

struct test_machine *test_machine_new(const char *name, const char *description)
{
        struct test_machine *m = calloc(1, sizeof(*m));

        assert_non_null(m);
        m->tree = test_tree_fakehost(name, description);
        assert_int_equal(kmodel_new(m->tree->sr, &m->model), 0);
        m->kernel = kmodel_kernel(m->model);
        m->ctx = (struct handoff_ctx){.sr = m->tree->sr, .kernel = &m->kernel, .clock = &test_clock,
                                      .settle_usec = USEC_PER_SEC, .hugepages_usec = 10 * USEC_PER_SEC};
        assert_int_equal(process_id_self(m->tree->sr, &m->self, NULL, 0), 0);
        m->before = tree_snapshot(m->tree->dir, not_state);
        assert_non_null(m->before);
        return m;
}

void test_machine_free(struct test_machine *m)
{
        kmodel_free(m->model);
        test_tree_free(m->tree);
        free(m->before);
        free(m);
}

void test_machine_assert_as_before(struct test_machine *m, const char *when)
{
        char *now = tree_snapshot(m->tree->dir, not_state);

        assert_non_null(now);
        if (strcmp(now, m->before) != 0)
                fail_msg("%s: the host differs from before:\n%s", when, snapshot_diff(m->before, now));
        free(now);
}

int test_undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *phase)
{
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        char *error = NULL;
        int r = transition_undo(ctx, self, phase, phase, &run, &steps, &n, &error);

        engine_run_free(run);
        steps_free(steps, n);
        free(error);
        return r;
}

static uint64_t virtual_now;

static uint64_t virtual_now_usec(void *userdata)
{
        return virtual_now;
}

static int virtual_pause_usec(void *userdata, uint64_t usec)
{
        virtual_now += usec;
        return 0;
}

const struct clock_ops test_clock = {virtual_now_usec, virtual_pause_usec, NULL};
