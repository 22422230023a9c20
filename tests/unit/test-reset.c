/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff reset on the kernel model (tests/kmodel): the method the plan chooses, the bus reset
 * refused while a device behind the bridge is in use and hitting every one of them when it is
 * not, a device that does not come back, reset_method put back byte for byte ("default" where it
 * was the default), a reset failing or killed at every kernel operation and finished by the next
 * reset; and the once-per-boot lend record of cards that cannot reset. */

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

#include "handoff/lend-once.h"
#include "handoff/plan.h"
#include "handoff/unreset.h"
#include "setup/vendor-reset.h"
#include "handoff/reset.h"
#include "kmodel.h"
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

/* The testbed's GPU, unbound, and its audio function behind root port 00:02.0, which offers
 * reset_subordinate; a USB controller alone behind 00:03.0, on vfio-pci without a VM. */
#define BASE                                                                                                   \
        "iommu intel enabled\n"                                                                                \
        "module snd_hda_intel loaded\n"                                                                        \
        "module vfio_pci loaded\n"                                                                             \
        "pci 0000:00:02.0 1b36:000c class=0x060400 group=1 driver=pcieport pcie config=4096\n"                 \
        "pci 0000:00:03.0 1b36:000c class=0x060400 group=2 driver=pcieport pcie config=4096\n"                 \
        "pci 0000:01:00.0 1234:1111 class=0x030000 parent=0000:00:02.0 group=3 boot_vga=0 reset=pm config=256\n" \
        "pci 0000:02:00.0 1b36:000d class=0x0c0330 parent=0000:00:03.0 group=4 driver=vfio-pci reset=flr,pm,bus " \
        "pcie-flr config=256\n"                                                                                \
        "file sys/devices/pci0000:00/0000:00:02.0/reset_subordinate\n"                                         \
        "file sys/devices/pci0000:00/0000:00:03.0/reset_subordinate\n"                                         \
        "file proc/self/stat 4242 (gpu-handoff) R 1 4242 4242 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 "        \
        "123456 1000 100\n"                                                                                    \
        "file proc/sys/kernel/random/boot_id 1b5c2a4e-0f39-4f7e-9c1a-6d2b8e3f4a51\n"
#define AUDIO_BOUND                                                                                            \
        "pci 0000:01:00.1 8086:2668 class=0x040300 parent=0000:00:02.0 group=3 driver=snd_hda_intel config=256\n"
#define AUDIO_FREE "pci 0000:01:00.1 8086:2668 class=0x040300 parent=0000:00:02.0 group=3 config=256\n"

static const char quirks_text[] = "[testbed-once]\n"
                                  "name = the testbed's std VGA, made a card that cannot reset\n"
                                  "match = 1234:1111\n"
                                  "severity = warning\n"
                                  "flags = reset-once-per-boot\n"
                                  "summary = It may not reset after a VM run.\n"
                                  "fix = Reboot between runs.\n"
                                  "source = tests/unit/test-reset.c\n";

static struct quirk_db *quirks(void)
{
        struct quirk_db *db = NULL;

        assert_int_equal(quirk_db_parse(quirks_text, strlen(quirks_text), "test", &db, NULL), 0);
        return db;
}

static struct test_machine *machine(bool audio_bound)
{
        char description[4096];

        snprintf(description, sizeof(description), "%s%s", BASE, audio_bound ? AUDIO_BOUND : AUDIO_FREE);
        return test_machine_new("test-reset", description);
}

/* The snapshot the last plan points into: freed by the next plan, or by plan_done(). */
static struct host *planned;

static void plan_done(void)
{
        host_free(planned);
        planned = NULL;
}

static int plan(struct test_machine *m, const char *name, const char *method, struct reset_plan **ret,
                char **ret_error)
{
        struct reset_options opts = {.method = method};

        plan_done();
        assert_int_equal(host_read(m->tree->sr, NULL, HOST_PLATFORM, &planned), 0);
        return reset_plan_make(planned, name, &opts, ret, ret_error);
}

static void assert_args(const struct step *s, const char *want)
{
        char buf[512] = "";

        for (size_t i = 0; i < s->n_args; i++)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "|" : "", s->args[i]);
        assert_string_equal(buf, want);
}

static void assert_attr(struct test_machine *m, const char *path, const char *want)
{
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(sysroot_read_file(m->tree->sr, path, 4096, &text, &len), 0);
        if (strcmp(text, want) != 0)
                fail_msg("%s is \"%s\", expected \"%s\"", path, text, want);
        free(text);
}

static int run(struct test_machine *m, const struct reset_plan *p)
{
        struct engine_run *r_run = NULL;
        char *error = NULL;
        int r = reset_run(&m->ctx, &m->self, "reset", p, &r_run, &error);

        engine_run_free(r_run);
        free(error);
        return r;
}

static void test_kernel_choice(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;

        assert_int_equal(plan(m, "01:00.0", NULL, &p, NULL), 0);
        assert_string_equal(p->method, "pm");
        assert_int_equal(p->n_steps, 1);
        assert_int_equal(p->steps[0].kind, STEP_RESET_DEVICE);
        assert_args(&p->steps[0], "0000:01:00.0|function");
        assert_int_equal(run(m, p), 0);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.0"), 1);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.1"), 0);
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

static void test_chosen_method(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        char *error = NULL;

        assert_int_equal(plan(m, "02:00.0", "pm", &p, NULL), 0);
        assert_int_equal(p->n_steps, 2);
        assert_int_equal(p->steps[0].kind, STEP_RESET_METHOD);
        assert_args(&p->steps[0], "0000:02:00.0|pm|flr pm bus");
        reset_plan_free(p);
        p = NULL;
        /* a method the kernel does not offer, an unknown one, a device in use, a bridge */
        assert_int_equal(plan(m, "01:00.0", "flr", &p, &error), -EOPNOTSUPP);
        assert_non_null(strstr(error, "it offers: pm"));
        free(error);
        error = NULL;
        assert_int_equal(plan(m, "01:00.0", "warm", &p, &error), -EINVAL);
        free(error);
        error = NULL;
        assert_int_equal(plan(m, "01:00.1", NULL, &p, &error), -EBUSY);
        assert_non_null(strstr(error, "bound to snd_hda_intel"));
        free(error);
        error = NULL;
        assert_int_equal(plan(m, "00:02.0", NULL, &p, &error), -EPERM);
        free(error);
        plan_done();
        test_machine_free(m);
}

static void test_vendor_reset_choice(void **state)
{
        struct test_machine *m = test_machine_new(
                "test-reset", BASE "pci 0000:00:04.0 1b36:000c class=0x060400 group=6 driver=pcieport pcie config=4096\n"
                                   "pci 0000:03:00.0 1002:67df class=0x030000 parent=0000:00:04.0 group=5 reset=flr,bus "
                                   "config=256\n"
                                   "dir sys/module/vendor_reset\n");
        static const char text[] = "[polaris]\nname = Polaris\nmatch = 1002:67df\nseverity = warning\n"
                                   "flags = vendor-reset\nsummary = s.\nfix = f.\nsource = x\n";
        struct quirk_db *db = NULL;
        struct host *h = NULL;
        struct reset_plan *p = NULL;
        struct reset_options opts = {};

        assert_int_equal(quirk_db_parse(text, strlen(text), "t", &db, NULL), 0);
        assert_int_equal(host_read(m->tree->sr, db, HOST_PLATFORM, &h), 0);
        assert_int_equal(reset_plan_make(h, "03:00.0", &opts, &p, NULL), 0);
        assert_string_equal(p->method, "device_specific");
        assert_args(&p->steps[0], "0000:03:00.0|device_specific|flr bus");
        /* vendor-reset makes the kernel accept device_specific */
        assert_int_equal(kmodel_set_reset_supported(m->model, "0000:03:00.0", "device_specific flr bus"), 0);
        assert_int_equal(run(m, p), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:03:00.0/reset_method", "flr bus\n");
        assert_non_null(strstr(kmodel_log(m->model), "reset_method=device_specific"));
        reset_plan_free(p);
        host_free(h);
        quirk_db_free(db);
        test_machine_free(m);
}

static void test_bus_refused_names_siblings(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        char *error = NULL;

        assert_int_equal(plan(m, "01:00.0", "bus", &p, &error), -EBUSY);
        assert_non_null(strstr(error, "bridge 0000:00:02.0"));
        assert_non_null(strstr(error, "0000:01:00.1 (bound to snd_hda_intel)"));
        free(error);
        plan_done();
        test_machine_free(m);
}

static void test_bus_hits_siblings(void **state)
{
        struct test_machine *m = machine(false);
        struct reset_plan *p = NULL;
        struct reset_health health;

        assert_int_equal(plan(m, "01:00.0", "bus", &p, NULL), 0);
        assert_string_equal(p->bridge, "0000:00:02.0");
        assert_args(&p->steps[0], "0000:01:00.0|bus|0000:00:02.0");
        assert_int_equal(run(m, p), 0);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.0"), 1);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.1"), 1);
        assert_int_equal(kmodel_reset_count(m->model, "0000:02:00.0"), 0);
        reset_health_read(m->tree->sr, "0000:01:00.0", &health);
        assert_true(reset_health_ok(&health));
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

static void test_no_come_back(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        struct reset_health health;

        assert_int_equal(kmodel_set_dies_on_reset(m->model, "0000:01:00.0", true), 0);
        assert_int_equal(plan(m, "01:00.0", NULL, &p, NULL), 0);
        assert_int_equal(run(m, p), 0);
        reset_health_read(m->tree->sr, "0000:01:00.0", &health);
        assert_false(reset_health_ok(&health));
        assert_true(health.config_readable);
        assert_false(health.vendor_ok);
        assert_non_null(strstr(reset_health_problem(&health), "ffff"));
        reset_health_read(m->tree->sr, "0000:01:00.1", &health);
        assert_true(reset_health_ok(&health));
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

/* The last write to the device's reset_method in the model's log. */
static const char *last_method_write(struct test_machine *m, char *buf, size_t size)
{
        const char *log = kmodel_log(m->model), *key = "02:00.0/reset_method=", *last = NULL;

        for (const char *p = strstr(log, key); p; p = strstr(p + 1, key))
                last = p + strlen(key);
        assert_non_null(last);
        snprintf(buf, size, "%.*s", (int)strcspn(last, "\n"), last);
        return buf;
}

static void test_revert_default(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        char buf[64];

        assert_int_equal(plan(m, "02:00.0", "bus", &p, NULL), 0);
        assert_int_equal(run(m, p), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "flr pm bus\n");
        assert_string_equal(last_method_write(m, buf, sizeof(buf)), "default");
        assert_false(sysroot_exists(m->tree->sr, "run/gpu-handoff/reset/journal"));
        test_machine_assert_as_before(m, "after a reset with a chosen method");
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

static void test_revert_user_list(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        char buf[64];

        /* the user's own order: not the default, so it is written back as it was */
        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset_method", "bus  flr\n"), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "bus flr\n");
        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset_method", "cxl_bus"),
                         -EINVAL);
        assert_int_equal(plan(m, "02:00.0", "pm", &p, NULL), -EOPNOTSUPP); /* pm is not in "bus flr" */
        assert_int_equal(plan(m, "02:00.0", "flr", &p, NULL), 0);
        assert_int_equal(run(m, p), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "bus flr\n");
        assert_string_equal(last_method_write(m, buf, sizeof(buf)), "bus flr");
        reset_plan_free(p);
        /* disabled resets ("") come back disabled */
        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset_method", "\n"), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "");
        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset", "1"), -ENOTTY);
        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset_method", "default"), 0);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "flr pm bus\n");
        test_machine_free(m);
}

#define FAILURE (-EPERM)

static unsigned count_ops(void)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;
        unsigned n;

        assert_int_equal(plan(m, "02:00.0", "pm", &p, NULL), 0);
        assert_int_equal(run(m, p), 0);
        n = kmodel_ops_count(m->model);
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
        assert_true(n >= 4); /* default, pm, reset, the revert */
        return n;
}

static void settle(struct test_machine *m)
{
        char *error = NULL;
        bool found;

        assert_int_equal(reset_settle(&m->ctx, &m->self, "reset", &found, &error), 0);
        free(error);
        assert_false(sysroot_exists(m->tree->sr, "run/gpu-handoff/reset/journal"));
}

static void test_fail_every_operation(void **state)
{
        unsigned n = count_ops();

        for (unsigned k = 1; k <= n; k++) {
                struct test_machine *m = machine(true);
                struct reset_plan *p = NULL;
                char when[64];

                assert_int_equal(plan(m, "02:00.0", "pm", &p, NULL), 0);
                assert_int_equal(kmodel_fail(m->model, "*", FAILURE, k), 0);
                if (run(m, p) == 0)
                        fail_msg("reset with operation %u of %u failing succeeded", k, n);
                kmodel_fail_clear(m->model);
                settle(m);
                snprintf(when, sizeof(when), "operation %u of reset failing, then the next reset", k);
                test_machine_assert_as_before(m, when);
                reset_plan_free(p);
                plan_done();
                test_machine_free(m);
        }
}

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
        unsigned n = count_ops();

        for (unsigned k = 1; k <= n; k++) {
                struct test_machine *volatile m = machine(true);
                struct reset_plan *volatile p = NULL;
                struct reset_plan *made = NULL;
                char when[64];

                assert_int_equal(plan(m, "02:00.0", "pm", &made, NULL), 0);
                p = made;
                kill_at = k;
                kmodel_on_op(m->model, kill_before, NULL);
                __lsan_disable();
                if (setjmp(killed) == 0) {
                        run(m, p);
                        fail_msg("no operation %u", k);
                }
                __lsan_enable();
                kmodel_on_op(m->model, NULL, NULL);
                settle(m);
                snprintf(when, sizeof(when), "killed before operation %u, then the next reset", k);
                test_machine_assert_as_before(m, when);
                reset_plan_free(p);
                plan_done();
                test_machine_free(m);
        }
}

static void test_remove_rescan(void **state)
{
        struct test_machine *m = machine(true);
        struct host *h = NULL;
        struct reset_plan *p = NULL;
        struct reset_options opts = {.remove_rescan = true};

        assert_int_equal(host_read(m->tree->sr, NULL, HOST_PLATFORM, &h), 0);
        assert_int_equal(reset_plan_make(h, "01:00.0", &opts, &p, NULL), 0);
        assert_int_equal(p->n_steps, 2);
        assert_int_equal(p->steps[1].kind, STEP_REMOVE_RESCAN);
        assert_args(&p->steps[1], "0000:01:00.0|0000:00:02.0");
        assert_int_equal(run(m, p), 0);
        assert_non_null(strstr(kmodel_log(m->model), "0000:01:00.0/remove=1"));
        assert_true(sysroot_exists(m->tree->sr, "sys/bus/pci/devices/0000:01:00.0"));
        reset_plan_free(p);
        host_free(h);
        test_machine_free(m);
}

/* ---- once per boot ---- */

static const struct gpu *find_gpu(const struct host *h, const char *address)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (strcmp(h->gpus[i].dev->address, address) == 0)
                        return &h->gpus[i];
        fail_msg("no GPU %s", address);
        return NULL;
}

static void test_lend_once(void **state)
{
        struct test_machine *m = machine(true);
        struct quirk_db *db = quirks();
        struct host *h = NULL;
        const struct gpu *g;
        char *error = NULL;

        test_tree_mkdir(m->tree, "run/gpu-handoff");
        assert_int_equal(host_read(m->tree->sr, db, HOST_PLATFORM, &h), 0);
        g = find_gpu(h, "0000:01:00.0");
        assert_int_equal(lend_once_check(m->tree->sr, g, "--force", &error), 0);
        assert_int_equal(lend_once_record(m->tree->sr, g), 0);
        assert_int_equal(lend_once_record(m->tree->sr, g), 0); /* once is enough */
        assert_attr(m, LEND_ONCE_PATH, "1b5c2a4e-0f39-4f7e-9c1a-6d2b8e3f4a51 0000:01:00.0 1234:1111 testbed-once\n");
        assert_int_equal(lend_once_check(m->tree->sr, g, "--force", &error), -EPERM);
        assert_non_null(strstr(error, "lent already in this boot"));
        assert_non_null(strstr(error, "testbed-once"));
        assert_non_null(strstr(error, "Reboot the host"));
        assert_non_null(strstr(error, "--force"));
        free(error);
        error = NULL;
        assert_int_equal(lend_once_check(m->tree->sr, g, NULL, &error), -EPERM); /* the hook: no --force */
        assert_null(strstr(error, "--force"));
        free(error);
        error = NULL;
        /* a record of another boot does not count */
        test_tree_write(m->tree, "proc/sys/kernel/random/boot_id", "7d0e9b13-55aa-4c3e-8f2d-000000000001\n");
        assert_int_equal(lend_once_check(m->tree->sr, g, "--force", &error), 0);
        assert_null(error);
        host_free(h);
        quirk_db_free(db);
        test_machine_free(m);
}

static void test_lend_once_other_cards(void **state)
{
        struct test_machine *m = machine(true);
        struct host *h = NULL;
        const struct gpu *g;

        test_tree_mkdir(m->tree, "run/gpu-handoff");
        assert_int_equal(host_read(m->tree->sr, NULL, HOST_PLATFORM, &h), 0);
        g = find_gpu(h, "0000:01:00.0");
        assert_int_equal(lend_once_record(m->tree->sr, g), 0);
        assert_false(sysroot_exists(m->tree->sr, LEND_ONCE_PATH)); /* no quirk: nothing recorded */
        assert_int_equal(lend_once_check(m->tree->sr, g, "--force", NULL), 0);
        host_free(h);
        test_machine_free(m);
}

/* ---- release of a card the quirks say to reset on the way back ---- */

/* A Polaris card (vendor-reset family) on amdgpu with its HDMI audio, vendor-reset loaded. */
#define POLARIS                                                                                                \
        "cpu amd svm\n"                                                                                        \
        "iommu amd enabled\n"                                                                                  \
        "module amdgpu loaded driver=amdgpu\n"                                                                 \
        "module snd_hda_intel loaded\n"                                                                        \
        "module vfio available\n"                                                                              \
        "module vfio_iommu_type1 available deps=vfio\n"                                                        \
        "module vfio_pci_core available deps=vfio\n"                                                           \
        "module vfio_pci available deps=vfio_pci_core,vfio\n"                                                  \
        "dir sys/module/vendor_reset\n"                                                                        \
        "pci 0000:00:03.1 1022:1483 class=0x060400 group=2 driver=pcieport pcie config=4096\n"                 \
        "pci 0000:0b:00.0 1002:67df class=0x030000 parent=0000:00:03.1 group=9 driver=amdgpu boot_vga=0 "      \
        "reset=bus config=256\n"                                                                               \
        "pci 0000:0b:00.1 1002:aaf0 class=0x040300 parent=0000:00:03.1 group=9 driver=snd_hda_intel config=256\n" \
        "file proc/self/stat 4242 (gpu-handoff) R 1 4242 4242 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 "        \
        "123456 1000 100\n"                                                                                    \
        "file proc/sys/kernel/random/boot_id 1b5c2a4e-0f39-4f7e-9c1a-6d2b8e3f4a51\n"

static const char polaris_quirks[] = "[polaris]\nname = Polaris\nmatch = 1002:67df\nseverity = warning\n"
                                     "flags = vendor-reset\nsummary = s.\nfix = f.\nsource = x\n";

static struct test_machine *polaris(void)
{
        struct test_machine *m = test_machine_new("test-reset", POLARIS);

        /* vendor-reset hooks device_specific in */
        assert_int_equal(kmodel_set_reset_supported(m->model, "0000:0b:00.0", "device_specific bus"), 0);
        return m;
}

static int lend(struct test_machine *m, struct engine_run **ret_run)
{
        struct quirk_db *db = NULL;
        struct host *h = NULL;
        struct plan *p = NULL;
        struct plan_options opts = {.yes = true};
        struct engine_run *r_run = NULL;
        char *error = NULL;
        char *names[] = {(char *)"0000:0b:00.0"};
        int r;

        assert_int_equal(quirk_db_parse(polaris_quirks, strlen(polaris_quirks), "t", &db, NULL), 0);
        assert_int_equal(host_read(m->tree->sr, db, HOST_PLATFORM, &h), 0);
        assert_int_equal(plan_attach(h, names, 1, &opts, &p, &error), 0);
        assert_int_equal(p->steps[p->n_steps - 1].kind, STEP_RETURN_RESET);
        r = transition_attach(&m->ctx, &m->self, "attach", p, &r_run, &error);
        if (ret_run)
                *ret_run = r_run;
        else
                engine_run_free(r_run);
        free(error);
        plan_free(p);
        host_free(h);
        quirk_db_free(db);
        return r;
}

static void assert_driver(struct test_machine *m, const char *address, const char *want)
{
        char driver[64] = "";
        char path[128];

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
        {
                int fd = sysroot_openat(m->tree->sr, path, O_PATH | O_DIRECTORY);

                assert_true(fd >= 0);
                if (read_link_basename_at(fd, "driver", driver, sizeof(driver)) < 0)
                        driver[0] = 0;
                close(fd);
        }
        if (strcmp(driver, want) != 0)
                fail_msg("%s is on \"%s\", expected \"%s\"", address, driver, want);
}

static void test_release_resets(void **state)
{
        struct test_machine *m = polaris();

        assert_int_equal(lend(m, NULL), 0);
        assert_driver(m, "0000:0b:00.0", "vfio-pci");
        assert_int_equal(kmodel_reset_count(m->model, "0000:0b:00.0"), 0);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        assert_int_equal(kmodel_reset_count(m->model, "0000:0b:00.0"), 1);
        assert_non_null(strstr(kmodel_log(m->model), "0000:0b:00.0/reset_method=device_specific"));
        assert_false(unreset_recorded(m->tree->sr, "0000:0b:00.0"));
        test_machine_assert_as_before(m, "after a release with a reset");
        test_machine_free(m);
}

static void test_release_no_come_back(void **state)
{
        struct test_machine *m = polaris();
        struct strv lines = {};

        assert_int_equal(lend(m, NULL), 0);
        assert_int_equal(kmodel_set_dies_on_reset(m->model, "0000:0b:00.0", true), 0);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0); /* the rest of the host is given back */
        assert_false(sysroot_exists(m->tree->sr, "run/gpu-handoff/journal"));
        assert_true(unreset_recorded(m->tree->sr, "0000:0b:00.0"));
        assert_driver(m, "0000:0b:00.0", "vfio-pci"); /* no host driver probes a card that does not answer */
        assert_driver(m, "0000:0b:00.1", "snd_hda_intel");
        assert_int_equal(unreset_list(m->tree->sr, &lines), 0);
        assert_int_equal(lines.n, 1);
        assert_non_null(strstr(lines.v[0], "0000:0b:00.0: "));
        assert_non_null(strstr(lines.v[0], "ffff"));
        strv_done(&lines);
        /* a record of another boot does not count */
        test_tree_write(m->tree, "proc/sys/kernel/random/boot_id", "7d0e9b13-55aa-4c3e-8f2d-000000000001\n");
        assert_false(unreset_recorded(m->tree->sr, "0000:0b:00.0"));
        test_machine_free(m);
}

static void count_release_ops(unsigned *attach_ops, unsigned *release_ops)
{
        struct test_machine *m = polaris();

        assert_int_equal(lend(m, NULL), 0);
        *attach_ops = kmodel_ops_count(m->model);
        assert_int_equal(test_undo(&m->ctx, &m->self, "release"), 0);
        *release_ops = kmodel_ops_count(m->model) - *attach_ops;
        test_machine_free(m);
}

static void test_release_fail_every_operation(void **state)
{
        unsigned n_attach, n_release;

        count_release_ops(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct test_machine *m = polaris();
                char when[80];

                assert_int_equal(kmodel_fail(m->model, "*", FAILURE, k), 0);
                if (lend(m, NULL) == 0 && test_undo(&m->ctx, &m->self, "release") == 0 && k > n_attach &&
                    strstr(kmodel_log(m->model), " = ") == NULL)
                        fail_msg("operation %u did not fail", k);
                kmodel_fail_clear(m->model);
                if (sysroot_exists(m->tree->sr, "run/gpu-handoff/journal"))
                        assert_int_equal(test_undo(&m->ctx, &m->self, "recover"), 0);
                snprintf(when, sizeof(when), "operation %u of attach and release failing, then recover", k);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

static void test_release_kill_at_every_operation(void **state)
{
        unsigned n_attach, n_release;

        count_release_ops(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct test_machine *volatile m = polaris();
                char when[80];

                kill_at = k;
                kmodel_on_op(m->model, kill_before, NULL);
                __lsan_disable();
                if (setjmp(killed) == 0) {
                        lend(m, NULL);
                        test_undo(&m->ctx, &m->self, "release");
                        fail_msg("no operation %u", k);
                }
                __lsan_enable();
                kmodel_on_op(m->model, NULL, NULL);
                assert_true(sysroot_exists(m->tree->sr, "run/gpu-handoff/journal"));
                assert_int_equal(test_undo(&m->ctx, &m->self, "recover"), 0);
                snprintf(when, sizeof(when), "killed before operation %u of attach and release, then recover", k);
                test_machine_assert_as_before(m, when);
                test_machine_free(m);
        }
}

/* setup --vendor-reset's rule: every ID of the vendor-reset entries, ranges spelled out, all in
 * lower case whatever the database's case; other entries left out. */
static void test_vendor_reset_rule(void **state)
{
        static const char text[] = "[polaris]\nname = Polaris\nmatch = 1002:67C0-67C2 1002:6FDF\nseverity = warning\n"
                                   "flags = vendor-reset\nsummary = s.\nfix = f.\nsource = x\n"
                                   "[other]\nname = Other\nmatch = 1002:7448\nseverity = warning\n"
                                   "flags = reset-broken\nsummary = s.\nfix = f.\nsource = x\n";
        struct quirk_db *db = NULL;
        char *rule;
        size_t lines = 0;

        assert_int_equal(quirk_db_parse(text, strlen(text), "t", &db, NULL), 0);
        rule = vendor_reset_udev_rule(db);
        assert_non_null(rule);
        for (const char *p = strstr(rule, "ACTION==\"add\""); p; p = strstr(p + 1, "ACTION==\"add\""))
                lines++;
        assert_int_equal(lines, 4);
        assert_non_null(strstr(rule, "ATTR{vendor}==\"0x1002\", ATTR{device}==\"0x67c0\""));
        assert_non_null(strstr(rule, "ATTR{device}==\"0x67c1\""));
        assert_non_null(strstr(rule, "ATTR{device}==\"0x67c2\""));
        assert_non_null(strstr(rule, "ATTR{device}==\"0x6fdf\""));
        assert_null(strstr(rule, "67C"));
        assert_null(strstr(rule, "7448"));
        assert_non_null(strstr(rule, "modprobe vendor-reset; echo device_specific > /sys$env{DEVPATH}/reset_method"));
        free(rule);
        quirk_db_free(db);
}

/* The testbed's kernel: the GPU lists "bus", but a function beside it on its bus makes that reset
 * ENOTTY; the plan goes through the bridge instead, or with no reset_subordinate (before Linux
 * 6.13) refuses, leaving --remove-rescan alone. */
#define TESTBED_BUS                                                                                            \
        "iommu intel enabled\n"                                                                                \
        "pci 0000:00:02.0 1b36:000c class=0x060400 group=1 driver=pcieport pcie config=4096\n"                 \
        "pci 0000:01:00.0 1234:1111 class=0x030000 parent=0000:00:02.0 group=3 boot_vga=0 reset=bus config=256\n" \
        "pci 0000:01:00.1 8086:2668 class=0x040300 parent=0000:00:02.0 group=3 config=256\n"                   \
        "file proc/self/stat 4242 (gpu-handoff) R 1 4242 4242 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 "        \
        "123456 1000 100\n"

static void test_bus_listed_with_siblings(void **state)
{
        struct test_machine *m = test_machine_new("test-reset", TESTBED_BUS);
        struct reset_plan *p = NULL;
        struct host *h = NULL;
        struct reset_options opts = {.remove_rescan = true};
        char *error = NULL;

        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:01:00.0/reset", "1"), -ENOTTY);
        assert_int_equal(plan(m, "01:00.0", NULL, &p, &error), -EOPNOTSUPP);
        assert_non_null(strstr(error, "reset_subordinate (Linux 6.13 or later)"));
        assert_non_null(strstr(error, "--remove-rescan alone"));
        free(error);
        error = NULL;
        assert_int_equal(host_read(m->tree->sr, NULL, HOST_PLATFORM, &h), 0);
        assert_int_equal(reset_plan_make(h, "01:00.0", &opts, &p, &error), 0);
        assert_null(error);
        assert_string_equal(p->method, "remove-rescan");
        assert_int_equal(p->n_steps, 1);
        assert_int_equal(p->steps[0].kind, STEP_REMOVE_RESCAN);
        assert_int_equal(run(m, p), 0);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.0"), 0);
        assert_true(sysroot_exists(m->tree->sr, "sys/bus/pci/devices/0000:01:00.0"));
        reset_plan_free(p);
        host_free(h);
        plan_done();
        test_machine_free(m);
        /* with reset_subordinate: through the bridge, both functions reset */
        m = test_machine_new("test-reset", TESTBED_BUS "file sys/devices/pci0000:00/0000:00:02.0/reset_subordinate\n");
        assert_int_equal(plan(m, "01:00.0", NULL, &p, NULL), 0);
        assert_string_equal(p->method, "bus");
        assert_string_equal(p->bridge, "0000:00:02.0");
        assert_int_equal(run(m, p), 0);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.0"), 1);
        assert_int_equal(kmodel_reset_count(m->model, "0000:01:00.1"), 1);
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

/* A method of the previous list the kernel no longer accepts when the revert writes it back (its
 * probe fails now): the revert falls back to the kernel's default instead of failing for ever. */
static struct kmodel *probe_model;

static int bus_probe_fails(const char *op, unsigned n, void *userdata)
{
        if (strstr(op, "0000:02:00.0/reset=1"))
                assert_int_equal(kmodel_set_reset_supported(probe_model, "0000:02:00.0", "flr pm"), 0);
        return 0;
}

static void test_revert_unsupported_now(void **state)
{
        struct test_machine *m = machine(true);
        struct reset_plan *p = NULL;

        assert_int_equal(kernel_write(&m->kernel, "sys/bus/pci/devices/0000:02:00.0/reset_method", "bus flr"), 0);
        assert_int_equal(plan(m, "02:00.0", "flr", &p, NULL), 0);
        probe_model = m->model;
        kmodel_on_op(m->model, bus_probe_fails, NULL);
        assert_int_equal(run(m, p), 0);
        kmodel_on_op(m->model, NULL, NULL);
        assert_attr(m, "sys/bus/pci/devices/0000:02:00.0/reset_method", "flr pm bus\n");
        assert_non_null(strstr(kmodel_log(m->model), "reset_method=bus flr = -EINVAL"));
        assert_false(sysroot_exists(m->tree->sr, "run/gpu-handoff/reset/journal"));
        reset_plan_free(p);
        plan_done();
        test_machine_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel_choice),
                cmocka_unit_test(test_chosen_method),
                cmocka_unit_test(test_vendor_reset_choice),
                cmocka_unit_test(test_bus_refused_names_siblings),
                cmocka_unit_test(test_bus_hits_siblings),
                cmocka_unit_test(test_no_come_back),
                cmocka_unit_test(test_bus_listed_with_siblings),
                cmocka_unit_test(test_revert_default),
                cmocka_unit_test(test_revert_user_list),
                cmocka_unit_test(test_revert_unsupported_now),
                cmocka_unit_test(test_fail_every_operation),
                cmocka_unit_test(test_kill_at_every_operation),
                cmocka_unit_test(test_remove_rescan),
                cmocka_unit_test(test_lend_once),
                cmocka_unit_test(test_lend_once_other_cards),
                cmocka_unit_test(test_vendor_reset_rule),
                cmocka_unit_test(test_release_resets),
                cmocka_unit_test(test_release_no_come_back),
                cmocka_unit_test(test_release_fail_every_operation),
                cmocka_unit_test(test_release_kill_at_every_operation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
