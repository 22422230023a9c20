/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hand-over engine on the kernel model (tests/kmodel): a full attach and release, then the
 * promises that make it safe, checked for every kernel operation so that a new step is covered
 * the day it is added:
 *   - an operation of attach fails      -> the rollback leaves the host exactly as before;
 *   - an operation of release fails     -> recover finishes, the host is as before the attach;
 *   - the process dies before any operation of attach or release -> recover, as before.
 * "The host" is the whole fake tree (drivers, overrides, modules, consoles, framebuffers),
 * compared as a snapshot. */

#include <errno.h>
#include <signal.h>
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

#include "change/interrupt.h"
#include "handoff/detach.h"
#include "handoff/transition.h"
#include "kmodel.h"
#include "testbed-host.h"
#include "testtree.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#else
static inline void __lsan_disable(void)
{
}
static inline void __lsan_enable(void)
{
}
#endif

static const char host[] = FAKEHOST_TESTBED;

/* Room for the guest (plan-room.c) on the same machine, without systemd: four CPUs, a cgroup v2
 * tree where system.slice has a cpuset already (to be restored exactly) and user.slice does not
 * give one to its children (to be enabled, then disabled again), an empty 2 MiB hugepage pool,
 * two IRQs, and a heavy process (pid 888) to stop. */
static const char room_host[] =
        "file sys/devices/system/cpu/online 0-3\n"
        "file sys/fs/cgroup/cgroup.controllers cpuset cpu io memory pids\n"
        "file sys/fs/cgroup/cgroup.subtree_control cpuset memory pids\n"
        "file sys/fs/cgroup/system.slice/cgroup.subtree_control\n"
        "file sys/fs/cgroup/system.slice/cpuset.cpus 1-3\n"
        "file sys/fs/cgroup/system.slice/cpuset.cpus.effective 1-3\n"
        "file sys/fs/cgroup/user.slice/cgroup.controllers cpuset memory pids\n"
        "file sys/fs/cgroup/user.slice/cgroup.subtree_control memory pids\n"
        "file sys/fs/cgroup/user.slice/cpuset.cpus\n"
        "file sys/fs/cgroup/user.slice/cpuset.cpus.effective 0-3\n"
        "file sys/fs/cgroup/user.slice/user-1000.slice/cgroup.subtree_control\n"
        "file sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 0\n"
        "file sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 0\n"
        "file proc/sys/vm/drop_caches\n"
        "file proc/sys/vm/compact_memory\n"
        "file sys/bus/workqueue/devices/writeback/cpumask f\n"
        "file proc/irq/24/smp_affinity_list 0-3\n"
        "file proc/irq/25/smp_affinity_list 0\n"
        "file proc/888/stat 888 (heavy) S 1 888 888 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 6000 1000 100\n"
        "file proc/888/cmdline heavy\n";

static char *room_units[] = {(char *)"system.slice", (char *)"user.slice/user-1000.slice", NULL};
static char *room_processes[] = {(char *)"heavy", NULL};
static const struct config room = {
        .housekeeping = (char *)"0",
        .cpu_units = room_units,
        .writeback = true,
        .irq_affinity = true,
        .drop_caches = true,
        .compact = COMPACT_AUTO,
        .hugepages = 64 << 20,
        .hugepage_size = 2 << 20,
        .hugepage_node = -1,
        .freeze_processes = room_processes,
};

static struct test_machine *machine_with(const char *extra)
{
        struct test_machine *m;
        char *description = NULL;

        assert_true(asprintf(&description, "%s%s%s", host, room_host, extra) > 0);
        m = test_machine_new("test-engine", description);
        free(description);
        return m;
}

static struct test_machine *machine_new(void)
{
        return machine_with("");
}

static int attach_with(struct test_machine *m, bool terminate, struct engine_run **ret_run)
{
        return test_attach_with(&m->ctx, &m->self, terminate, &room, ret_run);
}

static int attach(struct test_machine *m, struct engine_run **ret_run)
{
        return attach_with(m, false, ret_run);
}

static int undo(struct test_machine *m, const char *phase)
{
        return test_undo(&m->ctx, &m->self, phase);
}

static bool journal_exists(struct test_machine *m)
{
        return sysroot_exists(m->tree->sr, "run/gpu-handoff/journal");
}

static void assert_file(struct test_machine *m, const char *path, const char *want)
{
        char buf[256];

        if (sysroot_read_attr(m->tree->sr, path, buf, sizeof(buf)) < 0)
                fail_msg("cannot read %s", path);
        if (strcmp(buf, want) != 0)
                fail_msg("%s is \"%s\", expected \"%s\"", path, buf, want);
}

static void test_cycle(void **state)
{
        struct test_machine *m = machine_new();
        struct engine_run *run = NULL;
        char drv[64];

        assert_int_equal(attach(m, &run), 0);
        assert_true(run->host_intact);
        assert_int_equal(pci_current_driver(m->tree->sr, "0000:01:00.0", drv, sizeof(drv)), 1);
        assert_string_equal(drv, "vfio-pci");
        assert_int_equal(pci_current_driver(m->tree->sr, "0000:01:00.1", drv, sizeof(drv)), 1);
        assert_string_equal(drv, "vfio-pci");
        assert_true(sysroot_exists(m->tree->sr, "dev/vfio/3"));
        assert_false(sysroot_exists(m->tree->sr, "sys/module/bochs"));
        assert_true(journal_exists(m));
        engine_run_free(run);
        /* and room for the guest */
        assert_file(m, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "32");
        assert_file(m, "sys/fs/cgroup/user.slice/cgroup.subtree_control", "cpuset memory pids");
        assert_file(m, "sys/fs/cgroup/system.slice/cpuset.cpus", "0");
        assert_file(m, "sys/fs/cgroup/user.slice/user-1000.slice/cpuset.cpus", "0");
        assert_file(m, "sys/bus/workqueue/devices/writeback/cpumask", "1");
        assert_file(m, "proc/irq/24/smp_affinity_list", "0");
        assert_non_null(strstr(kmodel_log(m->model), "signal:888=19"));
        assert_non_null(strstr(kmodel_log(m->model), "sync\n"));

        assert_int_equal(undo(m, "release"), 0);
        assert_false(journal_exists(m));
        test_machine_assert_as_before(m, "after release");
        /* Nothing to undo any more. */
        assert_int_equal(undo(m, "release"), -ENOENT);
        test_machine_free(m);
}

/* A VM still holds the device: unbinding vfio-pci would block, the seam reports -ETIMEDOUT, the
 * release stops there and says why; once the VM is gone, recover finishes it. */
static void test_release_while_held(void **state)
{
        struct test_machine *m = machine_new();
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        char *error = NULL;
        long failed;
        int r;

        assert_int_equal(attach(m, NULL), 0);
        assert_int_equal(kmodel_hold_vfio(m->model, "0000:01:00.0", true), 0);
        r = transition_undo(&m->ctx, &m->self, "release", "release", &run, &steps, &n, &error);
        assert_int_equal(r, -ETIMEDOUT);
        assert_non_null(run);
        failed = run->failed;
        assert_true(failed >= 0);
        assert_int_equal(steps[failed].kind, STEP_BIND_VFIO);
        assert_non_null(strstr(run->outcomes[failed].message, "still holds it"));
        assert_false(run->host_intact);
        engine_run_free(run);
        steps_free(steps, n);
        free(error);
        assert_true(journal_exists(m));

        assert_int_equal(kmodel_hold_vfio(m->model, "0000:01:00.0", false), 0);
        assert_int_equal(undo(m, "recover"), 0);
        test_machine_assert_as_before(m, "held, then released by recover");
        test_machine_free(m);
}

/* A kernel whose vfio-pci unbind answers 0 and leaves the device bound (a driver that ignores
 * the write): everything else goes to the model. */
static int silent_unbind_write(void *userdata, const struct sysroot *sr, const char *path, const char *value)
{
        if (strcmp(path, "sys/bus/pci/drivers/vfio-pci/unbind") == 0)
                return 0;
        return kmodel_ops.write_attr(userdata, sr, path, value);
}

/* bind-vfio's revert sees whether the device left vfio-pci, and says so when it did not. */
static void test_release_checks_vfio_left(void **state)
{
        struct test_machine *m = machine_new();
        struct kernel_ops ops = kmodel_ops;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        char *error = NULL;
        int r;

        assert_int_equal(attach(m, NULL), 0);
        ops.write_attr = silent_unbind_write;
        m->kernel.ops = &ops;
        r = transition_undo(&m->ctx, &m->self, "release", "release", &run, &steps, &n, &error);
        assert_int_equal(r, -EBUSY);
        assert_non_null(run);
        assert_int_equal(steps[run->failed].kind, STEP_BIND_VFIO);
        assert_int_equal(run->outcomes[run->failed].state, OUTCOME_REVERT_FAILED);
        assert_non_null(strstr(run->outcomes[run->failed].message, "still bound to vfio-pci"));
        assert_false(run->host_intact);
        engine_run_free(run);
        steps_free(steps, n);
        free(error);
        assert_true(journal_exists(m));

        m->kernel.ops = &kmodel_ops;
        assert_int_equal(undo(m, "recover"), 0);
        test_machine_assert_as_before(m, "vfio-pci kept the device, then recover");
        test_machine_free(m);
}

/* The real kernel seam under a fake root: the target is opened in the write's child, so a FIFO
 * planted where an attribute should be is refused there instead of blocking this process. */
static void test_real_write_refuses_fifo(void **state)
{
        struct test_machine *m = machine_new();
        struct kernel k = {.ops = &kernel_ops_real, .sr = m->tree->sr, .write_timeout_usec = 5 * USEC_PER_SEC};
        char buf[64];

        k.userdata = &k;
        assert_int_equal(mkfifoat(m->tree->sr->fd, "sys/bus/pci/fifo", 0600), 0);
        assert_true(kernel_write(&k, "sys/bus/pci/fifo", "0000:01:00.0") < 0);
        assert_int_equal(kernel_write(&k, "sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"), 0);
        assert_true(sysroot_read_attr(m->tree->sr, "sys/bus/pci/devices/0000:01:00.0/driver_override", buf,
                                      sizeof(buf)) >= 0);
        assert_string_equal(buf, "vfio-pci");
        assert_int_equal(kernel_write(&k, "sys/bus/pci/no-such-file", "1"), -ENOENT);
        test_machine_free(m);
}

/* kwin_wayland (pid 777) has the GPU's DRM node open. */
static const char holder[] =
        "dir sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/drm/card0\n"
        "file dev/dri/card0\n"
        "file proc/777/stat 777 (kwin_wayland) S 1 777 777 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 5000 1000 100\n"
        "file proc/777/cgroup 0::/user.slice/user-1000.slice/user@1000.service/app.slice/kwin.service\n"
        "symlink proc/777/fd/12 /dev/dri/card0\n";

static void test_holder_refused(void **state)
{
        struct test_machine *m = machine_with(holder);
        struct engine_run *run = NULL;
        const char *message;

        assert_int_equal(attach(m, &run), -EBUSY);
        assert_true(run->host_intact);
        message = run->outcomes[run->failed].message; /* (run->steps went with the plan) */
        assert_non_null(strstr(message, "the GPU is in use"));
        assert_non_null(strstr(message, "pid 777 kwin_wayland"));
        assert_non_null(strstr(message, "kwin.service"));
        assert_non_null(strstr(message, "--terminate"));
        engine_run_free(run);
        test_machine_assert_as_before(m, "a holder refused");
        test_machine_free(m);
}

static void test_holder_terminated(void **state)
{
        struct test_machine *m = machine_with(holder);

        assert_int_equal(attach_with(m, true, NULL), 0);
        assert_false(sysroot_exists(m->tree->sr, "proc/777"));
        assert_int_equal(undo(m, "release"), 0);
        test_machine_free(m);

        /* One that ignores SIGTERM is killed after the grace period. */
        m = machine_with(holder);
        kmodel_ignore_term(m->model, 777);
        assert_int_equal(kmodel_fail(m->model, "signal:777=9", -EPERM, 1), 0);
        assert_int_equal(attach_with(m, true, NULL), -EPERM); /* SIGKILL refused: rolled back */
        assert_true(sysroot_exists(m->tree->sr, "proc/777"));
        kmodel_fail_clear(m->model);
        assert_int_equal(attach_with(m, true, NULL), 0);
        assert_false(sysroot_exists(m->tree->sr, "proc/777"));
        test_machine_free(m);
}

/* What every operation fails with in the loops below: an error no step takes for an answer
 * (-EIO is one: a managed IRQ's affinity cannot be changed, and that is not a failure). */
#define FAILURE (-EPERM)

/* How many kernel operations a successful attach, and then its release, take. */
static void count_operations(unsigned *attach_ops, unsigned *release_ops)
{
        struct test_machine *m = machine_new();

        assert_int_equal(attach(m, NULL), 0);
        *attach_ops = kmodel_ops_count(m->model);
        assert_int_equal(undo(m, "release"), 0);
        *release_ops = kmodel_ops_count(m->model) - *attach_ops;
        test_machine_free(m);
        assert_true(*attach_ops >= 8);
        assert_true(*release_ops >= 8);
}

static void test_fail_every_attach_operation(void **state)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach; k++) {
                struct test_machine *m = machine_new();
                struct engine_run *run = NULL;
                char when[64];

                assert_int_equal(kmodel_fail(m->model, "*", FAILURE, k), 0);
                if (attach(m, &run) == 0)
                        fail_msg("attach with operation %u of %u failing succeeded", k, n_attach);
                assert_non_null(run);
                if (!run->host_intact)
                        fail_msg("operation %u failing: the rollback did not put everything back", k);
                engine_run_free(run);
                assert_false(journal_exists(m));
                snprintf(when, sizeof(when), "operation %u of attach failing", k);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

static void test_fail_every_release_operation(void **state)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_release; k++) {
                struct test_machine *m = machine_new();
                char when[64];

                assert_int_equal(attach(m, NULL), 0);
                assert_int_equal(kmodel_fail(m->model, "*", FAILURE, k), 0); /* counted from now */
                if (undo(m, "release") == 0)
                        fail_msg("release with operation %u of %u failing succeeded", k, n_release);
                assert_true(journal_exists(m)); /* kept for recover */
                kmodel_fail_clear(m->model);
                assert_int_equal(undo(m, "recover"), 0);
                snprintf(when, sizeof(when), "operation %u of release failing, then recover", k);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

/* A kill: the process is gone before operation `kill_at` runs. Everything on disk (the tree and
 * the journal, written with fdatasync) stays as it was; nothing in memory survives. */
static jmp_buf killed;
static unsigned kill_at;

static int kill_before(const char *op, unsigned n, void *userdata)
{
        if (n == kill_at)
                longjmp(killed, 1);
        return 0;
}

static void test_kill_at_every_operation(void **state)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct test_machine *volatile m = machine_new();
                char when[64];

                kill_at = k;
                kmodel_on_op(m->model, kill_before, NULL);
                /* The abandoned frames' memory is what a killed process loses; not a leak here. */
                __lsan_disable();
                if (setjmp(killed) == 0) {
                        assert_int_equal(attach(m, NULL), 0);
                        undo(m, "release");
                        fail_msg("no operation %u", k);
                }
                __lsan_enable();
                kmodel_on_op(m->model, NULL, NULL);
                assert_true(journal_exists(m));
                assert_int_equal(undo(m, "recover"), 0);
                snprintf(when, sizeof(when), "killed before operation %u, then recover", k);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

/* ---- a full /run: every journal write from the kth on fails with ENOSPC ---- */

static unsigned full_from;
static unsigned writes_seen;

static int disk_full_from(unsigned n, void *userdata)
{
        writes_seen = n;
        return full_from && n >= full_from ? -ENOSPC : 0;
}

/* How many journal records a successful attach, and then its release, write. */
static void count_writes(unsigned *attach_writes, unsigned *release_writes)
{
        struct test_machine *m = machine_new();

        full_from = 0;
        journal_set_write_hook(disk_full_from, NULL);
        assert_int_equal(attach(m, NULL), 0);
        *attach_writes = writes_seen;
        assert_int_equal(undo(m, "release"), 0);
        *release_writes = writes_seen - *attach_writes;
        journal_set_write_hook(NULL, NULL);
        test_machine_free(m);
}

/* Whatever write the disk fills up at, the reverts still run: the host is as before at once
 * (except when release could not even write its phase, and so changed nothing), and once there
 * is space again, recover clears the journal. */
static void test_journal_full_at_every_write(void **state)
{
        unsigned n_attach, n_release;

        count_writes(&n_attach, &n_release);
        assert_true(n_attach >= 8);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct test_machine *m = machine_new();
                struct engine_run *run = NULL;
                char when[96];
                int r;

                full_from = k;
                journal_set_write_hook(disk_full_from, NULL);
                r = attach(m, &run);
                snprintf(when, sizeof(when), "/run full from journal write %u of %u", k, n_attach + n_release);
                if (k <= n_attach) {
                        if (r == 0)
                                fail_msg("%s: attach succeeded", when);
                        if (run && !run->host_intact)
                                fail_msg("%s: the rollback did not run", when);
                        engine_run_free(run);
                        test_machine_assert_as_before(m, when);
                } else {
                        assert_int_equal(r, 0);
                        engine_run_free(run);
                        struct step *steps = NULL;
                        size_t n_steps = 0;
                        char *error = NULL, *trouble;

                        run = NULL;
                        r = transition_undo(&m->ctx, &m->self, "release", "release", &run, &steps, &n_steps, &error);
                        if (r == 0)
                                fail_msg("%s: release succeeded", when);
                        if (k > n_attach + 1) /* the phase was written: every revert ran */
                                test_machine_assert_as_before(m, when);
                        /* What the hook, release and recover say: space first, the record kept. */
                        trouble = transition_journal_trouble("/x/run", "release", r, run);
                        if (!trouble)
                                fail_msg("%s: nothing said about the journal", when);
                        if (!strstr(trouble, k > n_attach + 1 ? "free space in /x/run, then run gpu-handoff recover"
                                                              : "free space in /x/run, then run gpu-handoff release again"))
                                fail_msg("%s: \"%s\"", when, trouble);
                        free(trouble);
                        free(error);
                        engine_run_free(run);
                        steps_free(steps, n_steps);
                }
                journal_set_write_hook(NULL, NULL);
                r = undo(m, "recover");
                if (r != 0 && r != -ENOENT)
                        fail_msg("%s: recover with space again: %s", when, strerror(-r));
                if (journal_exists(m))
                        fail_msg("%s: recover (%d) left the journal", when, r);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

/* A plan whose records could outgrow the journal (tens of thousands of IRQs) is refused before
 * anything changes. */
static void test_plan_over_journal_limit(void **state)
{
        struct test_machine *m = machine_new();
        struct plan p = {.n_steps = 30000};
        struct engine_run *run = (struct engine_run *)0x1;
        char *error = NULL;

        p.steps = calloc(p.n_steps, sizeof(*p.steps));
        assert_non_null(p.steps);
        for (size_t i = 0; i < p.n_steps; i++) {
                p.steps[i].kind = STEP_IRQ_AFFINITY;
                assert_true(asprintf(&p.steps[i].args[0], "%zu", i + 24) > 0);
                p.steps[i].args[1] = strdup("0");
                p.steps[i].args[2] = strdup("0-3");
                p.steps[i].n_args = 3;
        }
        assert_int_equal(transition_attach(&m->ctx, &m->self, "attach", &p, &run, &error), -EFBIG);
        assert_null(run);
        assert_non_null(error);
        assert_non_null(strstr(error, "more than its limit"));
        assert_false(journal_exists(m));
        assert_int_equal(kmodel_ops_count(m->model), 0);
        free(error);
        steps_free(p.steps, p.n_steps);
        test_machine_free(m);
}

/* ---- signals: SIGINT or SIGTERM at any operation rolls attach back and lets release finish;
 * SIGHUP changes nothing ---- */

static unsigned signal_at;
static int signal_sent;

static int signal_before(const char *op, unsigned n, void *userdata)
{
        if (n == signal_at)
                raise(signal_sent);
        return 0;
}

static void test_signal_at_every_operation(void **state)
{
        unsigned n_attach, n_release;

        assert_int_equal(interrupt_install(), 0);
        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct test_machine *m = machine_new();
                struct engine_run *run = NULL;
                char when[96];
                int r;

                signal_at = k;
                signal_sent = k % 2 ? SIGINT : SIGTERM;
                interrupt_clear();
                kmodel_on_op(m->model, signal_before, NULL);
                snprintf(when, sizeof(when), "%s before operation %u", strsignal(signal_sent), k);
                r = attach(m, &run);
                if (k <= n_attach) {
                        if (r != -EINTR)
                                fail_msg("%s of attach: attach returned %d", when, r);
                        assert_int_equal(run->interrupted, signal_sent);
                        assert_true(run->host_intact);
                        assert_false(journal_exists(m));
                        engine_run_free(run);
                } else {
                        /* release: carries on to the end */
                        assert_int_equal(r, 0);
                        engine_run_free(run);
                        if (undo(m, "release") != 0)
                                fail_msg("%s of release: release did not finish", when);
                }
                kmodel_on_op(m->model, NULL, NULL);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
        interrupt_clear();
}

static void test_hangup_does_not_stop(void **state)
{
        unsigned n_attach, n_release;

        assert_int_equal(interrupt_install(), 0);
        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach; k++) {
                struct test_machine *m = machine_new();
                char when[64];

                signal_at = k;
                signal_sent = SIGHUP;
                kmodel_on_op(m->model, signal_before, NULL);
                snprintf(when, sizeof(when), "SIGHUP before operation %u of attach", k);
                if (attach(m, NULL) != 0)
                        fail_msg("%s: attach did not finish", when);
                assert_int_equal(interrupt_pending(), 0);
                kmodel_on_op(m->model, NULL, NULL);
                assert_int_equal(undo(m, "release"), 0);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

/* The transition runs in a session of its own: the caller's hang-up reaches neither, the
 * caller passes SIGINT on, and reports the transition's exit status. The child signals its
 * caller itself, so nothing waits on time. */
static void test_detached_transition(void **state)
{
        sigset_t int_blocked, old;
        int status = -1, r;

        sigemptyset(&int_blocked);
        sigaddset(&int_blocked, SIGINT);
        r = transition_detach(&status);
        assert_true(r >= 0);
        if (r == 0) {
                /* the transition */
                if (getsid(0) != getpid() || getpgid(0) == getpgid(getppid()))
                        _exit(10);
                sigprocmask(SIG_BLOCK, &int_blocked, &old);
                if (interrupt_install() < 0)
                        _exit(11);
                kill(getppid(), SIGHUP); /* the caller's terminal went away */
                kill(getppid(), SIGINT); /* Ctrl-C in it, passed on to us */
                while (!interrupt_pending())
                        sigsuspend(&old);
                _exit(interrupt_pending() == SIGINT ? 42 : 12);
        }
        assert_int_equal(r, 1);
        assert_int_equal(status, 42);

        /* a transition killed outright: 128 + the signal */
        r = transition_detach(&status);
        if (r == 0) {
                signal(SIGKILL, SIG_DFL);
                raise(SIGKILL);
                _exit(13);
        }
        assert_int_equal(r, 1);
        assert_int_equal(status, 128 + SIGKILL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cycle),
                cmocka_unit_test(test_release_while_held),
                cmocka_unit_test(test_release_checks_vfio_left),
                cmocka_unit_test(test_real_write_refuses_fifo),
                cmocka_unit_test(test_holder_refused),
                cmocka_unit_test(test_holder_terminated),
                cmocka_unit_test(test_fail_every_attach_operation),
                cmocka_unit_test(test_fail_every_release_operation),
                cmocka_unit_test(test_kill_at_every_operation),
                cmocka_unit_test(test_journal_full_at_every_write),
                cmocka_unit_test(test_plan_over_journal_limit),
                cmocka_unit_test(test_signal_at_every_operation),
                cmocka_unit_test(test_hangup_does_not_stop),
                cmocka_unit_test(test_detached_transition),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
