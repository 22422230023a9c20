/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host readers behind the snapshot's online CPUs, memory and room facts (src/host: cpu.c,
 * memory.c, cgroup.c, irq.c, processes.c, writeback.c, systemd.c), each on a fake tree written
 * here. Promises:
 *  - the online CPUs are a set, or -EINVAL for a list that is none (then an empty set);
 *  - every hugepage pool is found by size and node, and a pool's available pages are its free
 *    pages less the reserved ones, never below zero;
 *  - cgroups are read with every parent: existence, the cpuset controller handed down, cpuset.cpus
 *    canonical ("" when missing) or the error that kept it unread;
 *  - IRQs come in numeric order with canonical affinities, unreadable ones left out; a host
 *    without proc/irq says -ENOENT;
 *  - the process table is in pid order and tells kernel threads; the ancestry of a process starts
 *    with it and carries each one's cgroup paths;
 *  - the writeback cpumask, systemd's presence, its display manager and its slice naming;
 *  - host_read_room() reads only what the request asks for. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/bitmap.h"
#include "basic/parse.h"
#include "host/cgroup.h"
#include "host/cpu.h"
#include "host/host.h"
#include "host/irq.h"
#include "host/memory.h"
#include "host/processes.h"
#include "host/systemd.h"
#include "host/writeback.h"
#include "testtree.h"

static void assert_cpus(const uint64_t *set, const char *expected)
{
        char *s = cpulist_format(set, CPULIST_BITS);

        assert_non_null(s);
        assert_string_equal(s, expected);
        free(s);
}

static void test_online_cpus(void **state)
{
        struct test_tree *t = test_tree_new("test-host-facts");
        uint64_t set[BITMAP_WORDS(CPULIST_BITS)];

        assert_int_equal(cpu_online_read(t->sr, set), -ENOENT);
        assert_int_equal(bitmap_count(set, CPULIST_BITS), 0);
        test_tree_write(t, "sys/devices/system/cpu/online", "0-3,8\n");
        assert_int_equal(cpu_online_read(t->sr, set), 0);
        assert_cpus(set, "0-3,8");
        test_tree_write(t, "sys/devices/system/cpu/online", "0-3,x\n");
        assert_int_equal(cpu_online_read(t->sr, set), -EINVAL);
        assert_int_equal(bitmap_count(set, CPULIST_BITS), 0);
        test_tree_free(t);
}

static void test_hugepage_pools(void **state)
{
        struct test_tree *t = test_tree_new("test-host-facts");
        struct host_memory m;
        const struct hugepage_pool *p;

        test_tree_write(t, "proc/meminfo", "MemTotal: 16384000 kB\nMemAvailable: 8192 kB\nHugepagesize: 1048576 kB\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "8\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "6\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", "2\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "1\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "1\n");
        test_tree_write(t, "sys/kernel/mm/hugepages/hugepages-1048576kB/resv_hugepages", "3\n");
        test_tree_write(t, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
        test_tree_write(t, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "x\n");
        test_tree_write(t, "sys/devices/system/node/has_cpu", "0-1\n");
        test_tree_mkdir(t, "sys/module/zfs");

        assert_int_equal(host_memory_read(t->sr, &m), 0);
        assert_int_equal(m.default_hugepage_size, UINT64_C(1) << 30);
        assert_int_equal(m.available_bytes, UINT64_C(8192) << 10);
        assert_true(m.zfs_loaded);
        assert_int_equal(m.n_pools, 3);

        p = hugepage_pool_find(&m, UINT64_C(2) << 20, -1);
        assert_non_null(p);
        assert_true(p->have_nr && p->have_free);
        assert_int_equal(p->nr, 8);
        assert_int_equal(hugepage_pool_available(p), 4); /* 6 free, 2 of them promised */
        p = hugepage_pool_find(&m, UINT64_C(1) << 30, -1);
        assert_non_null(p);
        assert_int_equal(hugepage_pool_available(p), 0); /* more reserved than free */
        p = hugepage_pool_find(&m, UINT64_C(2) << 20, 1);
        assert_non_null(p);
        assert_true(p->have_nr);
        assert_false(p->have_free);
        assert_int_equal(p->nr, 4);
        assert_null(hugepage_pool_find(&m, UINT64_C(2) << 20, 0));
        assert_null(hugepage_pool_find(&m, UINT64_C(1) << 30, 1));
        host_memory_done(&m);

        /* nothing there: the defaults, no pools */
        test_tree_free(t);
        t = test_tree_new("test-host-facts");
        assert_int_equal(host_memory_read(t->sr, &m), 0);
        assert_int_equal(m.default_hugepage_size, UINT64_C(2) << 20);
        assert_int_equal(m.available_bytes, 0);
        assert_false(m.zfs_loaded);
        assert_int_equal(m.n_pools, 0);
        host_memory_done(&m);
        test_tree_free(t);
}

static void test_cgroups(void **state)
{
        static char *paths[] = {(char *)"a.slice/a-b.slice", (char *)"gone.slice", NULL};
        struct test_tree *t = test_tree_new("test-host-facts");
        const struct cgroup_info *c;
        struct cgroup_facts f;

        test_tree_write(t, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu memory\n");
        test_tree_write(t, "sys/fs/cgroup/cgroup.subtree_control", "memory cpuset\n");
        test_tree_write(t, "sys/fs/cgroup/a.slice/cgroup.subtree_control", "memory\n");
        test_tree_write(t, "sys/fs/cgroup/a.slice/cpuset.cpus", "0-3,z\n");
        test_tree_write(t, "sys/fs/cgroup/a.slice/a-b.slice/cpuset.cpus", "3,0-2\n");
        assert_int_equal(cgroup_facts_read(t->sr, paths, &f), 0);
        assert_true(f.v2);
        assert_int_equal(f.n, 4); /* the root once, a.slice, a-b.slice, gone.slice */

        c = cgroup_facts_find(&f, "");
        assert_non_null(c);
        assert_true(c->exists);
        assert_true(c->cpuset_enabled);
        assert_string_equal(c->cpus, ""); /* the root has no cpuset.cpus */
        c = cgroup_facts_find(&f, "a.slice");
        assert_non_null(c);
        assert_false(c->cpuset_enabled);
        assert_int_equal(c->cpus_error, -EINVAL);
        c = cgroup_facts_find(&f, "a.slice/a-b.slice");
        assert_non_null(c);
        assert_true(c->exists);
        assert_false(c->cpuset_enabled); /* no cgroup.subtree_control */
        assert_int_equal(c->cpus_error, 0);
        assert_string_equal(c->cpus, "0-3");
        c = cgroup_facts_find(&f, "gone.slice");
        assert_non_null(c);
        assert_false(c->exists);
        assert_string_equal(c->cpus, "");
        assert_null(cgroup_facts_find(&f, "a-b.slice"));
        cgroup_facts_done(&f);

        /* cgroup v1 (or none) */
        test_tree_free(t);
        t = test_tree_new("test-host-facts");
        assert_int_equal(cgroup_facts_read(t->sr, NULL, &f), 0);
        assert_false(f.v2);
        assert_int_equal(f.n, 0);
        cgroup_facts_done(&f);
        test_tree_free(t);
}

static void test_irqs(void **state)
{
        struct test_tree *t = test_tree_new("test-host-facts");
        struct irq_list l;

        assert_int_equal(irqs_read(t->sr, &l), -ENOENT);
        test_tree_write(t, "proc/irq/24/smp_affinity_list", "7,0-6\n");
        test_tree_write(t, "proc/irq/3/smp_affinity_list", "1\n");
        test_tree_write(t, "proc/irq/9/smp_affinity_list", "junk\n");
        test_tree_mkdir(t, "proc/irq/10"); /* no affinity file */
        test_tree_write(t, "proc/irq/default_smp_affinity", "ff\n");
        assert_int_equal(irqs_read(t->sr, &l), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.v[0].number, 3);
        assert_string_equal(l.v[0].affinity, "1");
        assert_int_equal(l.v[1].number, 24);
        assert_string_equal(l.v[1].affinity, "0-7");
        irq_list_done(&l);
        test_tree_free(t);
}

#define STAT(pid, comm, state, ppid, start)                                                                       \
        "file proc/" #pid "/stat " #pid " (" comm ") " state " " #ppid " 1 1 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 " \
        #start " 1000 100\n"

static void test_processes(void **state)
{
        struct test_tree *t = test_tree_fakehost("test-host-facts",
                                                 STAT(4242, "gpu-handoff", "R", 4000, 900)
                                                 "file proc/4242/cgroup 0::/system.slice/libvirtd.service\n"
                                                 STAT(4000, "libvirtd", "S", 1, 100)
                                                 "file proc/4000/cmdline libvirtd\n"
                                                 STAT(1, "systemd", "S", 0, 1)
                                                 "file proc/1/cmdline /sbin/init\n"
                                                 STAT(50, "kworker/0:1", "I", 2, 30)
                                                 "file proc/50/cmdline\n"
                                                 STAT(777, "odd", "Z", 1, 40)
                                                 "file proc/777/cmdline odd\n"
                                                 "file proc/778/stat garbage\n");
        struct process_ancestor *a = NULL;
        struct process_table pt;
        size_t n = 0;

        test_tree_write(t, "proc/4000/cgroup", "1:name=systemd:/a\n0::/system.slice/x.service\n");
        assert_int_equal(process_table_read(t->sr, &pt), 0);
        assert_true(pt.n >= 5);
        for (size_t i = 1; i < pt.n; i++)
                assert_true(pt.v[i - 1].id.pid < pt.v[i].id.pid);
        for (size_t i = 0; i < pt.n; i++) {
                const struct process *p = &pt.v[i];
                assert_int_not_equal(p->id.pid, 778); /* unreadable: left out */
                if (p->id.pid == 50) {
                        assert_true(p->kernel_thread);
                        assert_string_equal(p->comm, "kworker/0:1");
                } else if (p->id.pid == 777) {
                        assert_false(p->kernel_thread);
                        assert_int_equal(p->state, 'Z');
                        assert_int_equal(p->id.start_time, 40);
                } else if (p->id.pid == 4242) {
                        assert_int_equal(p->ppid, 4000);
                }
        }
        process_table_done(&pt);

        assert_int_equal(process_ancestors_read(t->sr, 4242, &a, &n), 0);
        assert_int_equal(n, 3); /* 4242, 4000, 1; pid 0 ends it */
        assert_int_equal(a[0].pid, 4242);
        assert_string_equal(a[0].cgroups[0], "/system.slice/libvirtd.service");
        assert_null(a[0].cgroups[1]);
        assert_int_equal(a[1].pid, 4000);
        assert_string_equal(a[1].cgroups[0], "/a");
        assert_string_equal(a[1].cgroups[1], "/system.slice/x.service");
        assert_int_equal(a[2].pid, 1);
        assert_null(a[2].cgroups); /* no cgroup file */
        process_ancestors_free(a, n);

        /* a process that is gone is still the first of its own line */
        assert_int_equal(process_ancestors_read(t->sr, 9999, &a, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].pid, 9999);
        process_ancestors_free(a, n);
        test_tree_free(t);
}

static void test_writeback_and_systemd(void **state)
{
        struct test_tree *t = test_tree_new("test-host-facts");
        char *mask = NULL, *cg;

        assert_int_equal(writeback_cpumask_read(t->sr, &mask), -ENOENT);
        assert_false(systemd_booted(t->sr));
        test_tree_write(t, "sys/bus/workqueue/devices/writeback/cpumask", "ff,ffffffff\n");
        test_tree_mkdir(t, "run/systemd/system");
        assert_int_equal(writeback_cpumask_read(t->sr, &mask), 0);
        assert_string_equal(mask, "ff,ffffffff");
        free(mask);
        assert_true(systemd_booted(t->sr));
        assert_int_equal(systemd_display_manager(t->sr, &mask), -ENOENT);
        test_tree_link(t, "/usr/lib/systemd/system/gdm3.service", "etc/systemd/system/display-manager.service");
        assert_int_equal(systemd_display_manager(t->sr, &mask), 0);
        assert_string_equal(mask, "gdm3.service");
        free(mask);
        test_tree_free(t);

        cg = systemd_unit_cgroup("machine-qemu\\x2d1.slice");
        assert_string_equal(cg, "machine.slice/machine-qemu\\x2d1.slice");
        free(cg);
        cg = systemd_unit_cgroup("a-b-c.slice");
        assert_string_equal(cg, "a.slice/a-b.slice/a-b-c.slice");
        free(cg);
        cg = systemd_unit_cgroup("system.slice");
        assert_string_equal(cg, "system.slice");
        free(cg);
        cg = systemd_unit_cgroup("getty-tty1.service");
        assert_string_equal(cg, "getty-tty1.service");
        free(cg);
}

/* Only what the request names: no process table, no IRQs unless asked. */
static void test_read_room_request(void **state)
{
        static char *units[] = {(char *)"a-b.slice", NULL};
        struct test_tree *t = test_tree_fakehost("test-host-facts",
                                                 "dir run/systemd/system\n"
                                                 STAT(4242, "gpu-handoff", "R", 1, 900)
                                                 "file proc/irq/24/smp_affinity_list 0-7\n"
                                                 "file sys/fs/cgroup/cgroup.controllers cpuset\n"
                                                 "file sys/fs/cgroup/a.slice/a-b.slice/cpuset.cpus 2\n");
        struct host *h = NULL;

        assert_int_equal(host_read(t->sr, NULL, HOST_PCI, &h), 0);
        assert_null(h->room);
        assert_int_equal(host_read_room(h, &(struct host_room_request){.self = 4242}), 0);
        assert_true(h->systemd);
        assert_int_equal(h->room->n_ancestors, 2); /* 4242 and its parent, pid 1, whose stat ends the line */
        assert_int_equal(h->room->processes.n, 0);
        assert_int_equal(h->room->irqs.n, 0);
        assert_int_equal(h->room->cgroups.n, 0);
        assert_null(h->room->writeback_cpumask);

        assert_int_equal(host_read_room(h, &(struct host_room_request){.self = 4242, .processes = true, .irqs = true,
                                                                        .cpu_units = units}),
                         0);
        assert_true(h->room->processes.n >= 1);
        assert_int_equal(h->room->irqs.n, 1);
        /* systemd runs the host: the slice's cgroup is where systemd puts it */
        assert_string_equal(cgroup_facts_find(&h->room->cgroups, "a.slice/a-b.slice")->cpus, "2");
        host_free(h);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_online_cpus),
                cmocka_unit_test(test_hugepage_pools),
                cmocka_unit_test(test_cgroups),
                cmocka_unit_test(test_irqs),
                cmocka_unit_test(test_processes),
                cmocka_unit_test(test_writeback_and_systemd),
                cmocka_unit_test(test_read_room_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
