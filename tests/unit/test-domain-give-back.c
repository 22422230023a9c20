/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hook's "release end" for managed='yes' hostdevs (src/libvirt/give-back.h), on the kernel
 * model (tests/kmodel): the hook frees the card, libvirt binds it to vfio-pci; when the VM stops,
 * libvirt either gives it back (nothing left to do) or, remembering the device as managed='no'
 * from an earlier domain, leaves it on vfio-pci, and then the undo alone cannot give the card
 * back to its drivers. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/plan.h"
#include "handoff/transition.h"
#include "kmodel.h"
#include "libvirt/give-back.h"
#include "testbed-host.h"
#include "testtree.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

static const char *driver_of(struct test_machine *m, const char *address)
{
        static char buf[64];
        int r = pci_current_driver(m->tree->sr, address, buf, sizeof(buf));

        assert_true(r >= 0);
        return r ? buf : "";
}

/* "prepare begin" of a domain whose two functions are managed='yes'; then libvirt binds them
 * to vfio-pci as it does, with driver_override. */
static struct test_machine *started(void)
{
        struct test_machine *m = test_machine_new("test-domain-give-back", FAKEHOST_TESTBED);
        char *managed[] = {(char *)GPU, (char *)AUDIO};
        struct plan_options opts = {.yes = true, .caller_binds = managed, .n_caller_binds = 2};
        struct engine_run *run = NULL;
        struct host *h = NULL;
        struct plan *p = NULL;
        char *error = NULL;

        assert_int_equal(host_read(m->ctx.sr, NULL, HOST_PLATFORM, &h), 0);
        if (plan_attach(h, NULL, 0, &opts, &p, &error) < 0)
                fail_msg("plan: %s", error);
        assert_int_equal(transition_attach(&m->ctx, &m->self, "hook win11", p, &run, &error), 0);
        engine_run_free(run);
        plan_free(p);
        host_free(h);
        assert_string_equal(driver_of(m, GPU), "");
        assert_string_equal(driver_of(m, AUDIO), "");
        for (const char *const *a = (const char *const[]){GPU, AUDIO, NULL}; *a; a++) {
                char path[96];
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", *a);
                assert_int_equal(kernel_write(&m->kernel, path, "vfio-pci"), 0);
                assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/drivers_probe", *a), 0);
                assert_string_equal(driver_of(m, *a), "vfio-pci");
        }
        return m;
}

static int give_back(struct test_machine *m, struct strv *taken)
{
        struct journal_state *st = NULL;
        char *error = NULL;
        int r;

        assert_int_equal(journal_load(&handoff_journal, m->tree->sr, &st, &error), 0);
        r = libvirt_give_back(&m->ctx, st, taken, &error);
        if (r < 0)
                print_message("# give back: %s\n", error ? error : "?"); /* a TAP comment */
        free(error);
        journal_state_free(st);
        return r;
}

/* libvirt kept both functions on vfio-pci: the undo alone cannot give them to their drivers
 * (the hook's release ended with exit 4). */
static void test_undo_alone_fails(void **state)
{
        struct test_machine *m = started();

        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), -EBUSY);
        assert_string_equal(driver_of(m, GPU), "vfio-pci");
        test_machine_free(m);
}

/* Given back first, the undo succeeds and the host is as before. */
static void test_libvirt_kept_them(void **state)
{
        struct test_machine *m = started();
        struct strv taken = {0};

        assert_int_equal(give_back(m, &taken), 0);
        assert_int_equal(taken.n, 2);
        assert_string_equal(taken.v[0], AUDIO); /* in the order they were freed */
        assert_string_equal(taken.v[1], GPU);
        strv_done(&taken);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        assert_string_equal(driver_of(m, GPU), "bochs-drm");
        assert_string_equal(driver_of(m, AUDIO), "snd_hda_intel");
        test_machine_assert_as_before(m, "after release");
        test_machine_free(m);
}

/* libvirt gave them back (unbind, override cleared, reprobe: their modules are unloaded, so
 * they stay free): nothing for the hook to take. */
static void test_libvirt_gave_them_back(void **state)
{
        struct test_machine *m = started();
        struct strv taken = {0};

        for (const char *const *a = (const char *const[]){GPU, AUDIO, NULL}; *a; a++) {
                char path[96];
                assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/drivers/vfio-pci/unbind", *a), 0);
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", *a);
                assert_int_equal(kernel_write(&m->kernel, path, "\n"), 0);
                assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/drivers_probe", *a), 0);
        }
        assert_int_equal(give_back(m, &taken), 0);
        assert_int_equal(taken.n, 0);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        test_machine_assert_as_before(m, "after release");
        test_machine_free(m);
}

/* A device the transition bound itself (managed='no') is its own undo's: never taken here. */
static void test_hook_bound_ones_are_left_to_the_undo(void **state)
{
        struct test_machine *m = test_machine_new("test-domain-give-back", FAKEHOST_TESTBED);
        struct strv taken = {0};

        assert_int_equal(test_attach(&m->ctx, &m->self, false, NULL), 0);
        assert_string_equal(driver_of(m, GPU), "vfio-pci");
        assert_int_equal(give_back(m, &taken), 0);
        assert_int_equal(taken.n, 0);
        assert_string_equal(driver_of(m, GPU), "vfio-pci");
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        test_machine_assert_as_before(m, "after release");
        test_machine_free(m);
}

/* QEMU still holds it (it should not at "release end"): the unbind would block; said, and
 * nothing else is done. */
static void test_still_held(void **state)
{
        struct test_machine *m = started();
        struct strv taken = {0};

        assert_int_equal(kmodel_hold_vfio(m->model, GPU, true), 0);
        assert_int_equal(give_back(m, &taken), -ETIMEDOUT);
        assert_int_equal(taken.n, 1); /* the audio function, freed first, went back */
        strv_done(&taken);
        assert_string_equal(driver_of(m, GPU), "vfio-pci");
        assert_int_equal(kmodel_hold_vfio(m->model, GPU, false), 0);
        assert_int_equal(give_back(m, &taken), 0);
        assert_int_equal(taken.n, 1);
        strv_done(&taken);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        test_machine_assert_as_before(m, "after release");
        test_machine_free(m);
}

/* "recover" and "release" come before QEMU is gone when a VM still runs: a process holding the
 * GPU's /dev/vfio node is that VM. Nothing is taken, not even the audio function, and the line
 * names the holder (it used to take both from the running VM). */
static void test_running_vm_keeps_them(void **state)
{
        struct test_machine *m = started();
        struct journal_state *st = NULL;
        struct strv taken = {0};
        char *error = NULL, group[32], node[64];
        int fd = sysroot_openat(m->tree->sr, "sys/bus/pci/devices/" GPU, O_PATH | O_DIRECTORY);

        assert_true(fd >= 0);
        assert_int_equal(read_link_basename_at(fd, "iommu_group", group, sizeof(group)), 0);
        close(fd);
        snprintf(node, sizeof(node), "/dev/vfio/%s", group);
        test_tree_write(m->tree, "proc/5150/stat",
                        "5150 (qemu-system-x86) S 1 5150 5150 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 7000 1000 100\n");
        test_tree_link(m->tree, node, "proc/5150/fd/31");
        assert_int_equal(journal_load(&handoff_journal, m->tree->sr, &st, &error), 0);
        assert_true(libvirt_started(st));
        assert_int_equal(libvirt_give_back(&m->ctx, st, &taken, &error), -EBUSY);
        assert_non_null(error);
        assert_non_null(strstr(error, "pid 5150 qemu-system-x86"));
        assert_non_null(strstr(error, node));
        assert_int_equal(taken.n, 0);
        assert_string_equal(driver_of(m, GPU), "vfio-pci");
        assert_string_equal(driver_of(m, AUDIO), "vfio-pci");
        free(error);
        journal_state_free(st);
        test_machine_free(m);
}

/* Only a transition the hook started can have devices libvirt bound: "hook NAME", not "attach". */
static void test_started_by_the_hook(void **state)
{
        struct journal_state st = {0};
        struct journal_phase phase = {.command = (char *)"hook win11"};

        assert_false(libvirt_started(&st));
        st.phases = &phase;
        st.n_phases = 1;
        assert_true(libvirt_started(&st));
        phase.command = (char *)"attach 0000:01:00.0";
        assert_false(libvirt_started(&st));
        phase.command = (char *)"hookwin11";
        assert_false(libvirt_started(&st));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_undo_alone_fails),
                cmocka_unit_test(test_libvirt_kept_them),
                cmocka_unit_test(test_libvirt_gave_them_back),
                cmocka_unit_test(test_hook_bound_ones_are_left_to_the_undo),
                cmocka_unit_test(test_still_held),
                cmocka_unit_test(test_running_vm_keeps_them),
                cmocka_unit_test(test_started_by_the_hook),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
