/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making room for the guest (plan-room.c and its steps) on the kernel model: what gets planned
 * from the configuration and the machine, and how the hugepage step behaves when the kernel gives
 * fewer pages than asked. The full attach/release cycle with every failure and kill point is
 * test-engine's. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/transition.h"
#include "kmodel.h"
#include "testbed-host.h"
#include "testtree.h"

static const char base[] = FAKEHOST_TESTBED
        "file sys/devices/system/cpu/online 0-7\n"
        "file sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 4\n"
        "file sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 4\n"
        "file proc/sys/vm/drop_caches\n"
        "file proc/sys/vm/compact_memory\n";

struct machine {
        struct test_machine *t;
        struct config c; /* what plan_room() is asked for */
};

static struct machine *machine_with(const char *extra)
{
        struct machine *m = calloc(1, sizeof(*m));
        char *description = NULL;

        assert_non_null(m);
        assert_true(asprintf(&description, "%s%s", base, extra) > 0);
        m->t = test_machine_new("test-room", description);
        free(description);
        m->c = (struct config){.hugepage_size = 2 << 20, .hugepage_node = -1, .compact = COMPACT_AUTO};
        return m;
}

static void machine_free(struct machine *m)
{
        test_machine_free(m->t);
        free(m);
}

static void assert_host_as_before(struct machine *m)
{
        test_machine_assert_as_before(m->t, "after the undo");
}

/* The room steps alone, as plan_room() appends them to an empty plan. */
static struct plan *room_plan(struct machine *m, int expect, const char *error_part)
{
        struct plan *p = calloc(1, sizeof(*p));
        struct host *h = NULL;
        char *error = NULL;
        int r;

        assert_non_null(p);
        assert_int_equal(host_read(m->t->ctx.sr, NULL, HOST_PCI, &h), 0);
        assert_int_equal(plan_room_read(h, &m->c, &m->t->self), 0);
        r = plan_room(h, &m->t->ctx, &m->c, p, &error);
        host_free(h);
        if (r != expect)
                fail_msg("plan_room: %d (%s), expected %d", r, error ? error : "", expect);
        if (error_part && (!error || !strstr(error, error_part)))
                fail_msg("plan_room's error \"%s\" does not say \"%s\"", error ? error : "(none)", error_part);
        free(error);
        return p;
}

static const struct step *find_step(const struct plan *p, enum step_kind kind)
{
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].kind == kind)
                        return &p->steps[i];
        return NULL;
}

/* find_step() that fails the test when there is none. */
static const struct step *must_find(const struct plan *p, enum step_kind kind)
{
        const struct step *s = find_step(p, kind);

        if (!s) {
                fail_msg("no %s step planned", step_kind_to_string(kind));
                abort();
        }
        return s;
}

static size_t count_steps(const struct plan *p, enum step_kind kind)
{
        size_t n = 0;
        for (size_t i = 0; i < p->n_steps; i++)
                n += p->steps[i].kind == kind;
        return n;
}

static void assert_args(const struct step *s, const char *joined)
{
        char buf[512] = "";

        assert_non_null(s);
        for (size_t i = 0; i < s->n_args; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "|" : "", s->args[i]);
        assert_string_equal(buf, joined);
}

/* Runs a plan's steps as attach does; the journal lets test_undo() give them back. */
static int run_plan(struct machine *m, struct plan *p, char **message)
{
        struct engine_run *run = NULL;
        char *error = NULL;
        int r = transition_attach(&m->t->ctx, &m->t->self, "attach", p, &run, &error);

        assert_non_null(run);
        if (r < 0 && message)
                *message = run->failed >= 0 && run->outcomes[run->failed].message
                                   ? strdup(run->outcomes[run->failed].message)
                                   : NULL;
        if (r < 0)
                assert_true(run->host_intact);
        engine_run_free(run);
        free(error);
        return r;
}

static unsigned count_in_log(struct machine *m, const char *what)
{
        unsigned n = 0;
        for (const char *p = kmodel_log(m->t->model); (p = strstr(p, what)); p++)
                n++;
        return n;
}

/* ---- hugepages ---------------------------------------------------------------------------- */

#define POOL_DIR "sys/kernel/mm/hugepages/hugepages-2048kB/"
#define POOL POOL_DIR "nr_hugepages"

static void test_hugepages_free_pages_count(void **state)
{
        struct machine *m = machine_with("");
        struct plan *p;

        /* 4 free pages are there: 64 MiB (32 pages) needs 28 more, on top of the 4 */
        m->c.hugepages = 64 << 20;
        p = room_plan(m, 0, NULL);
        assert_args(find_step(p, STEP_HUGEPAGES), "2048|all|4|32|compact");
        assert_non_null(find_step(p, STEP_COMPACT_MEMORY));
        assert_int_equal(run_plan(m, p, NULL), 0);
        assert_int_equal(count_in_log(m, "write:" POOL "=32"), 1);
        plan_free(p);
        assert_int_equal(test_undo(&m->t->ctx, &m->t->self, "release"), 0);
        assert_host_as_before(m); /* back to 4: exactly what was added went */
        machine_free(m);

        /* 2 of the 4 free pages are reserved (a hugetlbfs mount's min_size): not the guest's */
        m = machine_with("file " POOL_DIR "resv_hugepages 2\n");
        m->c.hugepages = 64 << 20;
        p = room_plan(m, 0, NULL);
        assert_args(must_find(p, STEP_HUGEPAGES), "2048|all|4|34|compact");
        plan_free(p);
        machine_free(m);

        /* 8 MiB fit in the free pages: nothing to add */
        m = machine_with("");
        m->c.hugepages = 8 << 20;
        p = room_plan(m, 0, NULL);
        assert_non_null(must_find(p, STEP_HUGEPAGES)->skip);
        plan_free(p);
        machine_free(m);
}

static void test_hugepages_short(void **state)
{
        struct machine *m = machine_with("");
        struct plan *p;
        char *message = NULL;

        /* The kernel finds 10 pages in all, compaction does not help. */
        assert_int_equal(kmodel_hugepage_limit(m->t->model, 2048, 10, 10), 0);
        m->c.hugepages = 64 << 20;
        p = room_plan(m, 0, NULL);
        assert_int_equal(run_plan(m, p, &message), -ENOMEM);
        assert_non_null(message);
        assert_non_null(strstr(message, "the kernel gave 6 of the 28 2 MiB hugepages the guest needs after compacting "
                                        "memory (the pool had 4)"));
        assert_non_null(strstr(message, "hugepages=32 on the kernel command line"));
        assert_non_null(strstr(message, "1 GiB pages reserved at boot"));
        /* a try that brought pages, one more that brought none, a compaction, a last try that
         * brought none either: then it stops, long before the deadline */
        assert_int_equal(count_in_log(m, "write:" POOL "=32"), 3);
        assert_int_equal(count_in_log(m, "write:proc/sys/vm/compact_memory=1"), 2); /* the step's and its own */
        assert_host_as_before(m);                                                  /* rolled back to 4 */
        free(message);
        plan_free(p);
        machine_free(m);
}

static void test_hugepages_after_compaction(void **state)
{
        struct machine *m = machine_with("");
        struct plan *p;

        assert_int_equal(kmodel_hugepage_limit(m->t->model, 2048, 10, 40), 0);
        m->c.hugepages = 64 << 20;
        m->c.compact = COMPACT_NO; /* no compaction step before: the hugepage step's own is what helps */
        p = room_plan(m, 0, NULL);
        assert_null(find_step(p, STEP_COMPACT_MEMORY));
        assert_args(find_step(p, STEP_HUGEPAGES), "2048|all|4|32|no-compact");
        assert_int_equal(run_plan(m, p, NULL), -ENOMEM); /* not allowed to compact */
        plan_free(p);

        m->c.compact = COMPACT_AUTO;
        p = room_plan(m, 0, NULL);
        assert_int_equal(run_plan(m, p, NULL), 0);
        plan_free(p);
        assert_int_equal(test_undo(&m->t->ctx, &m->t->self, "release"), 0);
        assert_host_as_before(m);
        machine_free(m);
}

static void test_hugepages_node_and_size(void **state)
{
        struct machine *m = machine_with("file sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages 0\n"
                                         "file sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages 0\n");
        struct plan *p;

        m->c.hugepages = 4 << 20;
        m->c.hugepage_node = 1;
        p = room_plan(m, 0, NULL);
        assert_args(find_step(p, STEP_HUGEPAGES), "2048|1|0|2|compact");
        plan_free(p);

        m->c.hugepage_node = -1;
        m->c.hugepage_size = 1 << 30;
        m->c.hugepages = 2ull << 30;
        p = room_plan(m, -EOPNOTSUPP, "this host has no 1 GiB hugepages (/sys/kernel/mm/hugepages/hugepages-1048576kB is missing)");
        plan_free(p);
        machine_free(m);
}

/* ZFS on Linux >= 6.3.1: "auto" leaves compaction out and says why; "yes" forces it. */
static void test_compaction_zfs(void **state)
{
        struct machine *m = machine_with("kernel 6.8.0-1-amd64\nmodule zfs loaded\n");
        struct plan *p;
        const struct step *s;

        m->c.drop_caches = true;
        m->c.hugepages = 64 << 20;
        p = room_plan(m, 0, NULL);
        assert_non_null(find_step(p, STEP_DROP_CACHES));
        s = must_find(p, STEP_COMPACT_MEMORY);
        assert_non_null(s->skip);
        assert_non_null(strstr(s->skip, "ZFS"));
        assert_args(find_step(p, STEP_HUGEPAGES), "2048|all|4|32|no-compact");
        plan_free(p);

        m->c.compact = COMPACT_YES;
        p = room_plan(m, 0, NULL);
        assert_null(must_find(p, STEP_COMPACT_MEMORY)->skip);
        assert_args(find_step(p, STEP_HUGEPAGES), "2048|all|4|32|compact");
        plan_free(p);
        machine_free(m);

        m = machine_with("kernel 6.1.0-28-amd64\nmodule zfs loaded\n");
        m->c.drop_caches = true;
        p = room_plan(m, 0, NULL);
        assert_null(must_find(p, STEP_COMPACT_MEMORY)->skip);
        plan_free(p);
        machine_free(m);
}

/* ---- processes ---------------------------------------------------------------------------- */

/* The tool (4242) runs under a shell named like the heavy process; a kernel thread and a process
 * stopped by someone else have the name too. */
#define PROCESSES                                                                                              \
        "file proc/4242/stat 4242 (gpu-handoff) R 4000 4242 4242 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 123456 1000 100\n" \
        "file proc/4000/stat 4000 (heavy) S 1 4000 4000 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 100 1000 100\n" \
        "file proc/4000/cmdline heavy\n" \
        "file proc/888/stat 888 (heavy) S 1 888 888 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 6000 1000 100\n" \
        "file proc/888/cmdline heavy\n" \
        "file proc/889/stat 889 (heavy) T 1 889 889 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 6001 1000 100\n" \
        "file proc/889/cmdline heavy\n" \
        "file proc/50/stat 50 (heavy) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 30 0 0\n" \
        "file proc/50/cmdline\n" \
        "file proc/900/stat 900 (sshd) S 1 900 900 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 7000 1000 100\n" \
        "file proc/900/cmdline sshd\n"
static const char processes[] = PROCESSES;

static void test_stop_processes(void **state)
{
        static char *names[] = {(char *)"heavy", (char *)"nosuch", NULL};
        struct machine *m = machine_with(processes);
        char buf[256];
        struct plan *p;

        m->c.freeze_processes = names;
        p = room_plan(m, 0, NULL);
        assert_int_equal(count_steps(p, STEP_STOP_PROCESS), 1);
        assert_args(find_step(p, STEP_STOP_PROCESS), "888|6000|heavy");
        assert_int_equal(p->notes.n, 1);
        assert_string_equal(p->notes.v[0], "no process named nosuch runs: nothing to stop");
        assert_int_equal(run_plan(m, p, NULL), 0);
        assert_true(sysroot_read_attr(m->t->tree->sr, "proc/888/stat", buf, sizeof(buf)) > 0);
        assert_non_null(strstr(buf, "(heavy) T "));
        plan_free(p);
        assert_int_equal(test_undo(&m->t->ctx, &m->t->self, "release"), 0);
        assert_host_as_before(m);
        machine_free(m);
}

/* Freezing the unit the tool (or its parent, the libvirt daemon) runs in would freeze the
 * hand-over itself, for good. */
static void test_freeze_units(void **state)
{
        static char *units[] = {(char *)"backup.service", (char *)"libvirtd.service", NULL};
        struct machine *m = machine_with("dir run/systemd/system\n"
                                         "file proc/4242/stat 4242 (gpu-handoff) R 4000 4242 4242 0 -1 4194560 100 0 0 "
                                         "0 1 1 0 0 20 0 1 0 123456 1000 100\n"
                                         "file proc/4242/cgroup 0::/system.slice/libvirtd.service\n"
                                         "file proc/4000/stat 4000 (libvirtd) S 1 4000 4000 0 -1 4194560 100 0 0 0 1 1 "
                                         "0 0 20 0 1 0 100 1000 100\n"
                                         "file proc/4000/cgroup 0::/system.slice/libvirtd.service\n");
        struct plan *p;

        m->c.freeze_units = units;
        p = room_plan(m, -EINVAL, "[Freeze] Units=libvirtd.service holds pid 4242, which this hand-over runs in");
        plan_free(p);
        units[1] = NULL;
        p = room_plan(m, 0, NULL);
        assert_args(must_find(p, STEP_FREEZE_UNIT), "backup.service");
        assert_null(must_find(p, STEP_FREEZE_UNIT)->skip);
        plan_free(p);
        machine_free(m);
}

/* ---- CPUs --------------------------------------------------------------------------------- */

static void test_cpus_systemd_without_bus(void **state)
{
        static char *units[] = {(char *)"system.slice", (char *)"user.slice", (char *)"machine-qemu.slice", NULL};
        struct machine *m = machine_with("dir run/systemd/system\n"
                                         "file sys/fs/cgroup/cgroup.controllers cpuset cpu io memory pids\n"
                                         "file sys/fs/cgroup/system.slice/cpuset.cpus 0-3\n"
                                         "file sys/fs/cgroup/machine.slice/machine-qemu.slice/cpuset.cpus 4-7\n");
        struct plan *p;

        /* --dry-run has no bus: what AllowedCPUs is comes from the cgroups systemd wrote it to */
        m->c.housekeeping = (char *)"0-1";
        m->c.cpu_units = units;
        p = room_plan(m, 0, NULL);
        assert_int_equal(count_steps(p, STEP_ALLOWED_CPUS), 3);
        assert_args(&p->steps[0], "system.slice|0-1|0-3");
        assert_args(&p->steps[1], "user.slice|0-1|");
        assert_args(&p->steps[2], "machine-qemu.slice|0-1|4-7");
        plan_free(p);
        machine_free(m);
}

static void test_cpus_cgroupfs(void **state)
{
        static char *units[] = {(char *)"system.slice", (char *)"gone.slice", NULL};
        struct machine *m = machine_with("file sys/fs/cgroup/cgroup.controllers cpuset cpu io memory pids\n"
                                         "file sys/fs/cgroup/cgroup.subtree_control memory\n"
                                         "file sys/fs/cgroup/system.slice/cgroup.subtree_control\n"
                                         "file sys/bus/workqueue/devices/writeback/cpumask ff\n"
                                         "file proc/irq/0/smp_affinity_list 0\n"
                                         "file proc/irq/24/smp_affinity_list 0-7\n"
                                         "file proc/irq/31/smp_affinity_list 5\n"
                                         "file proc/irq/default_smp_affinity ff\n");
        struct plan *p;
        const struct step *s;

        m->c.housekeeping = (char *)"0-1";
        m->c.cpu_units = units;
        m->c.writeback = true;
        m->c.irq_affinity = true;
        p = room_plan(m, 0, NULL);
        assert_args(&p->steps[0], "");       /* cgroup-cpuset at the root */
        assert_int_equal(p->steps[0].kind, STEP_CGROUP_CPUSET);
        assert_args(&p->steps[1], "system.slice|0-1|");
        s = &p->steps[2];
        assert_int_equal(s->kind, STEP_CGROUP_CPUS);
        assert_string_equal(s->skip, "there is no such cgroup");
        assert_args(find_step(p, STEP_WRITEBACK_CPUMASK), "3|ff");
        assert_int_equal(count_steps(p, STEP_IRQ_AFFINITY), 2); /* IRQ 0 stays on the host's CPUs already */
        /* a managed IRQ cannot be moved: that is not a failure */
        assert_int_equal(kmodel_fail(m->t->model, "write:proc/irq/31/*", -EIO, 0), 0);
        assert_int_equal(run_plan(m, p, NULL), 0);
        plan_free(p);
        assert_int_equal(test_undo(&m->t->ctx, &m->t->self, "release"), 0);
        assert_host_as_before(m);
        machine_free(m);
}

static void test_cpus_refused(void **state)
{
        static char *units[] = {(char *)"system.slice", NULL};
        struct machine *m = machine_with(""); /* no cgroup v2 */
        struct plan *p;

        m->c.housekeeping = (char *)"0";
        m->c.cpu_units = units;
        p = room_plan(m, -EOPNOTSUPP, "CPU isolation needs the cgroup v2 hierarchy");
        plan_free(p);
        machine_free(m);
}

static void test_nothing_configured(void **state)
{
        struct machine *m = machine_with(processes);
        struct plan *p = room_plan(m, 0, NULL);

        assert_int_equal(p->n_steps, 0);
        assert_int_equal(p->notes.n, 0);
        plan_free(p);
        machine_free(m);
}

/* ---- the snapshot --------------------------------------------------------------------------- */

static void assert_same_plan(const struct plan *a, const struct plan *b)
{
        assert_int_equal(a->n_steps, b->n_steps);
        for (size_t i = 0; i < a->n_steps; i++) {
                assert_int_equal(a->steps[i].kind, b->steps[i].kind);
                assert_true((a->steps[i].skip == NULL) == (b->steps[i].skip == NULL));
                if (a->steps[i].skip)
                        assert_string_equal(a->steps[i].skip, b->steps[i].skip);
                assert_int_equal(a->steps[i].n_args, b->steps[i].n_args);
                for (size_t k = 0; k < a->steps[i].n_args; k++)
                        assert_string_equal(a->steps[i].args[k], b->steps[i].args[k]);
        }
        assert_int_equal(a->notes.n, b->notes.n);
        for (size_t i = 0; i < a->notes.n; i++)
                assert_string_equal(a->notes.v[i], b->notes.v[i]);
}

/* plan_room() reads nothing but the snapshot: planned again with every read failing (the
 * snapshot's and the context's root an empty tree), every step, value and note is the same. */
static void test_plan_from_snapshot_alone(void **state)
{
        static char *names[] = {(char *)"heavy", (char *)"nosuch", NULL};
        static char *freeze[] = {(char *)"backup.service", NULL};
        static char *units[] = {(char *)"system.slice", (char *)"gone.slice", NULL};
        struct machine *m = machine_with(PROCESSES "kernel 6.8.0-1-amd64\nmodule zfs loaded\n"
                                         "file sys/fs/cgroup/cgroup.controllers cpuset cpu io memory pids\n"
                                         "file sys/fs/cgroup/cgroup.subtree_control memory\n"
                                         "file sys/fs/cgroup/system.slice/cgroup.subtree_control\n"
                                         "file sys/fs/cgroup/system.slice/cpuset.cpus 0-5\n"
                                         "file sys/bus/workqueue/devices/writeback/cpumask ff\n"
                                         "file proc/irq/0/smp_affinity_list 0\n"
                                         "file proc/irq/24/smp_affinity_list 0-7\n");
        struct test_tree *empty = test_tree_new("test-room-empty");
        struct plan *expected, *p = calloc(1, sizeof(*p));
        struct handoff_ctx ctx = m->t->ctx;
        struct host *h = NULL;
        char *error = NULL;

        m->c.freeze_units = freeze;
        m->c.freeze_processes = names;
        m->c.housekeeping = (char *)"0-1";
        m->c.cpu_units = units;
        m->c.writeback = true;
        m->c.irq_affinity = true;
        m->c.drop_caches = true;
        m->c.hugepages = 64 << 20;
        expected = room_plan(m, 0, NULL);
        assert_true(expected->n_steps >= 8);

        assert_non_null(p);
        assert_int_equal(host_read(m->t->ctx.sr, NULL, HOST_PLATFORM, &h), 0);
        assert_int_equal(plan_room_read(h, &m->c, &m->t->self), 0);
        h->sr = empty->sr;
        ctx.sr = empty->sr;
        if (plan_room(h, &ctx, &m->c, p, &error) < 0)
                fail_msg("plan_room on the snapshot alone: %s", error);
        assert_same_plan(expected, p);

        /* and without the room facts there is nothing to plan from */
        plan_free(p);
        p = calloc(1, sizeof(*p));
        assert_non_null(p);
        host_free(h);
        assert_int_equal(host_read(m->t->ctx.sr, NULL, HOST_PLATFORM, &h), 0);
        assert_int_equal(plan_room(h, &ctx, &m->c, p, &error), -EINVAL);
        free(error);
        host_free(h);
        plan_free(p);
        plan_free(expected);
        test_tree_free(empty);
        machine_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hugepages_free_pages_count),
                cmocka_unit_test(test_hugepages_short),
                cmocka_unit_test(test_hugepages_after_compaction),
                cmocka_unit_test(test_hugepages_node_and_size),
                cmocka_unit_test(test_compaction_zfs),
                cmocka_unit_test(test_stop_processes),
                cmocka_unit_test(test_plan_from_snapshot_alone),
                cmocka_unit_test(test_freeze_units),
                cmocka_unit_test(test_cpus_systemd_without_bus),
                cmocka_unit_test(test_cpus_cgroupfs),
                cmocka_unit_test(test_cpus_refused),
                cmocka_unit_test(test_nothing_configured),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
