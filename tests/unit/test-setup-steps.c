/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/setup/steps.h on the change core: a plan with every kind of change (a drop-in in a
 * directory that does not exist yet, a shared file edited, a file removed, two generators, a
 * tool's command line, checks) applied to a fake tree with the commands recorded; undone byte for
 * byte with the generators run again after the files are back, each command's process group
 * journaled while applying and stopped before its revert and the generators; a check or a generator that fails
 * rolls everything back and regenerates from the restored files; a file changed since is not
 * overwritten; and failing at, or being killed at, every operation of apply and undo leaves the
 * tree as it was once recovered. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "change/engine.h"
#include "change/journal.h"
#include "change/transaction.h"
#include "fake-commands.h"
#include "faults.h"
#include "setup/plan.h"
#include "setup/steps.h"
#include "snapshot.h"
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

#define DEFAULT_GRUB "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
#define KERNEL_CMDLINE "root=/dev/sda1 ro quiet\n"
#define OLD_CONF "options vfio-pci ids=10de:2204\n"
#define GRUB_CFG                                                                                            \
        "menuentry 'Debian' {\n\tlinux /vmlinuz root=/dev/sda1 ro quiet intel_iommu=on iommu=pt\n}\n"
#define DROPIN "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt\"\n"
#define IMAGE_LIST                                                                                          \
        "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/vfio/pci/vfio-pci.ko\netc/modprobe.d/"               \
        "gpu-handoff.conf\n"

static const struct transaction setup_transaction = {.domain = &setup_domain, .spec = &setup_journal};
static const char *const not_state[] = {"var/lib/gpu-handoff", NULL};

static struct test_tree *host(const char *grub_cfg)
{
        struct test_tree *t = test_tree_new("setup-steps");

        test_tree_write(t, "etc/default/grub", DEFAULT_GRUB);
        test_tree_write(t, "etc/kernel/cmdline", KERNEL_CMDLINE);
        test_tree_write(t, "etc/modprobe.d/old.conf", OLD_CONF);
        test_tree_write(t, "boot/grub/grub.cfg", grub_cfg);
        test_tree_mkdir(t, "var/lib");
        return t;
}

static void make_plan(struct setup_plan *p)
{
        static const char *const initramfs[] = {"update-initramfs", "-u", "-k", "all", NULL};
        static const char *const grub[] = {"update-grub", NULL};
        static const char *const add[] = {"grubby", "--update-kernel=ALL", "--args=intel_iommu=on iommu=pt",
                                          NULL};
        static const char *const rm[] = {"grubby", "--update-kernel=ALL",
                                         "--remove-args=intel_iommu=on iommu=pt", NULL};
        static const char *const tokens[] = {"intel_iommu=on", "iommu=pt", NULL};
        static const char *const list[] = {"lsinitramfs", "/boot/initrd.img-6.1.0-28-amd64", NULL};
        static const char *const in_image[] = {"vfio-pci.ko", "etc/modprobe.d/gpu-handoff.conf", NULL};

        *p = (struct setup_plan){.bootloader = BOOTLOADER_GRUB, .initramfs = INITRAMFS_TOOLS};
        assert_int_equal(strv_addf(&p->args_add, "intel_iommu=on"), 0);
        assert_int_equal(strv_addf(&p->args_add, "iommu=pt"), 0);
        assert_int_equal(strv_addf(&p->vfio, "0000:01:00.0"), 0);
        assert_int_equal(setup_plan_add_file(p, "/etc/default/grub.d/90-gpu-handoff.cfg", SETUP_FILE_CREATE,
                                             NULL, 0, DROPIN, strlen(DROPIN), 0644),
                         0);
        assert_int_equal(setup_plan_add_file(p, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, KERNEL_CMDLINE,
                                             strlen(KERNEL_CMDLINE), "root=/dev/sda1 ro quiet iommu=pt\n",
                                             strlen("root=/dev/sda1 ro quiet iommu=pt\n"), 0),
                         0);
        assert_int_equal(setup_plan_add_file(p, "/etc/modprobe.d/old.conf", SETUP_FILE_REMOVE, OLD_CONF,
                                             strlen(OLD_CONF), NULL, 0, 0),
                         0);
        assert_int_equal(setup_plan_command(p, SETUP_COMMAND_REGENERATE, initramfs, NULL), 0);
        assert_int_equal(setup_plan_command(p, SETUP_COMMAND_REGENERATE, grub, NULL), 0);
        assert_int_equal(setup_plan_command(p, SETUP_COMMAND_REGENERATE, grub, NULL), 0); /* once only */
        assert_int_equal(setup_plan_command(p, SETUP_COMMAND_TOOL, add, rm), 0);
        assert_int_equal(setup_plan_check_lines(p, "the GRUB menu", "/boot/grub/grub.cfg", "linux", tokens),
                         0);
        assert_int_equal(setup_plan_check_output(p, "the initramfs", list, in_image), 0);
        assert_true(setup_plan_changes(p));
}

static int apply(struct test_tree *t, struct fake_commands *f)
{
        struct setup_plan p;
        struct change_ctx ctx = {.sr = t->sr, .commands = &f->commands};
        struct process_id self = {.pid = 4242, .start_time = 1};
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        char *error = NULL;
        size_t n = 0;
        int r;

        make_plan(&p);
        assert_int_equal(setup_steps_from_plan(t->sr, &p, &steps, &n), 0);
        r = transaction_apply(&ctx, &setup_transaction, &self, "setup", "intel_iommu=on iommu=pt",
                              "gpu-handoff setup", steps, n, &run, &error);
        engine_run_free(run);
        steps_free(steps, n);
        setup_plan_done(&p);
        free(error);
        return r;
}

static int undo(struct test_tree *t, struct fake_commands *f, const char *phase)
{
        struct change_ctx ctx = {.sr = t->sr, .commands = &f->commands};
        struct process_id self = {.pid = 4343, .start_time = 1};
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        char *error = NULL;
        size_t n = 0;
        int r = transaction_undo(&ctx, &setup_transaction, &self, phase, phase, &run, &steps, &n, &error);

        engine_run_free(run);
        steps_free(steps, n);
        free(error);
        return r;
}

static char *snap(struct test_tree *t)
{
        char *s = tree_snapshot(t->dir, not_state);
        assert_non_null(s);
        return s;
}

static void assert_same_tree(const char *before, const char *after, const char *when)
{
        if (strcmp(before, after) != 0)
                fail_msg("%s: the tree differs:\n%s", when, snapshot_diff(before, after));
}

static char *read_tree_file(struct test_tree *t, const char *rel)
{
        char *text = NULL;

        if (sysroot_read_file(t->sr, rel, 1 << 20, &text, NULL) < 0)
                return NULL;
        return text;
}

static void assert_calls(struct fake_commands *f, const char *const *expected)
{
        size_t i = 0;

        for (; expected[i]; i++) {
                if (i >= f->calls.n)
                        fail_msg("call %zu: expected \"%s\", there were only %zu calls", i, expected[i],
                                 f->calls.n);
                assert_string_equal(f->calls.v[i], expected[i]);
        }
        assert_int_equal(f->calls.n, i);
}

static void test_apply_and_undo(void **state)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *before = snap(t), *after = NULL, *dropin = NULL, *cmdline = NULL;

        fake_commands_set_output(f, IMAGE_LIST);
        assert_int_equal(apply(t, f), 0);
        assert_non_null(dropin = read_tree_file(t, "etc/default/grub.d/90-gpu-handoff.cfg"));
        assert_string_equal(dropin, DROPIN);
        assert_non_null(cmdline = read_tree_file(t, "etc/kernel/cmdline"));
        assert_string_equal(cmdline, "root=/dev/sda1 ro quiet iommu=pt\n");
        assert_null(read_tree_file(t, "etc/modprobe.d/old.conf"));
        assert_calls(f, (const char *const[]){"update-initramfs -u -k all", "update-grub",
                                              "grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt",
                                              "lsinitramfs /boot/initrd.img-6.1.0-28-amd64", NULL});

        /* undo: the tool's arguments taken away, the files back, then the generators again on them */
        strv_done(&f->calls);
        assert_int_equal(undo(t, f, "undo"), 0);
        after = snap(t);
        assert_same_tree(before, after, "after undo");
        assert_calls(
            f, (const char *const[]){"grubby --update-kernel=ALL --remove-args=intel_iommu=on iommu=pt",
                                     "update-initramfs -u -k all", "update-grub", NULL});
        /* Each run step's revert stopped what was left of its command first (the groups the fake
         * told apply: its first three calls), and each guard all of them again before it
         * regenerated. */
        assert_int_equal(f->stopped.n, 9);
        for (size_t i = 0; i < 9; i++) {
                char pgid[16];
                snprintf(pgid, sizeof(pgid), "%d", FAKE_COMMANDS_PGID + (int)(i < 3 ? 2 - i : i % 3));
                assert_string_equal(f->stopped.v[i], pgid);
        }
        fake_commands_free(f);
        test_tree_free(t);
}

/* A generator that exits 0 but did not write what it should: rolled back, regenerated. */
static void test_check_fails_rolls_back(void **state)
{
        struct test_tree *t = host("menuentry 'Debian' {\n\tlinux /vmlinuz root=/dev/sda1 ro quiet\n}\n");
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *before = snap(t), *after = NULL;

        fake_commands_set_output(f, IMAGE_LIST);
        assert_int_equal(apply(t, f), -EPROTO);
        after = snap(t);
        assert_same_tree(before, after, "after a failed check");
        assert_null(read_tree_file(t, "var/lib/gpu-handoff/setup/journal"));
        assert_calls(
            f, (const char *const[]){"update-initramfs -u -k all", "update-grub",
                                     "grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt",
                                     "grubby --update-kernel=ALL --remove-args=intel_iommu=on iommu=pt",
                                     "update-initramfs -u -k all", "update-grub", NULL});
        fake_commands_free(f);
        test_tree_free(t);
}

static void test_image_check_fails_rolls_back(void **state)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *before = snap(t), *after = NULL;

        fake_commands_set_output(f, "usr/lib/modules/6.1.0-28-amd64/kernel/drivers/vfio/pci/vfio-pci.ko\n");
        assert_int_equal(apply(t, f), -EPROTO);
        after = snap(t);
        assert_same_tree(before, after, "after the image lacked our file");
        fake_commands_free(f);
        test_tree_free(t);
}

static void test_generator_fails_rolls_back(void **state)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *before = snap(t), *after = NULL;

        fake_commands_fail(f, 2, -EPROTO); /* update-grub */
        assert_int_equal(apply(t, f), -EPROTO);
        after = snap(t);
        assert_same_tree(before, after, "after update-grub failed");
        /* update-grub failed before changing anything of the tool's: no grubby; the generators
         * run again on the restored files */
        assert_calls(f, (const char *const[]){"update-initramfs -u -k all", "update-grub",
                                              "update-initramfs -u -k all", "update-grub", NULL});
        fake_commands_free(f);
        test_tree_free(t);
}

static void test_changed_since_is_not_overwritten(void **state)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        _cleanup_free_ char *cmdline = NULL, *journal = NULL;

        fake_commands_set_output(f, IMAGE_LIST);
        assert_int_equal(apply(t, f), 0);
        test_tree_write(t, "etc/kernel/cmdline", "root=/dev/sda1 ro quiet iommu=pt mine=1\n");
        assert_int_equal(undo(t, f, "undo"), -ESTALE);
        assert_non_null(cmdline = read_tree_file(t, "etc/kernel/cmdline"));
        assert_string_equal(cmdline, "root=/dev/sda1 ro quiet iommu=pt mine=1\n");
        /* the journal stays: the rest is still applied */
        assert_non_null(journal = read_tree_file(t, "var/lib/gpu-handoff/setup/journal"));
        fake_commands_free(f);
        test_tree_free(t);
}

static void test_trusted(void **state)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        struct journal_state *st = NULL;
        char *error = NULL;

        fake_commands_set_output(f, IMAGE_LIST);
        assert_int_equal(apply(t, f), 0);
        assert_int_equal(journal_load(&setup_journal, t->sr, &st, &error), 0);
        assert_int_equal(setup_journal_trusted(st, &error), 0);
        free(st->steps[st->n_steps - 3].args[0]); /* a command nobody planned */
        st->steps[st->n_steps - 3].args[0] = strdup("sh\n-c\nreboot");
        assert_int_equal(setup_journal_trusted(st, &error), -EBADMSG);
        assert_non_null(strstr(error, "is not a change gpu-handoff setup makes"));
        free(error);
        journal_state_free(st);
        fake_commands_free(f);
        test_tree_free(t);
}

static void test_argv_round_trip(void **state)
{
        char grubby[] = "grubby", args[] = "--args=a b", empty[] = "", newline[] = "x\ny";
        char *const argv[] = {grubby, args, empty, NULL};
        char *const bad[] = {newline, NULL};
        _cleanup_free_ char *joined = setup_argv_join(argv);
        char **back;

        assert_non_null(joined);
        assert_non_null(back = setup_argv_split(joined));
        assert_string_equal(back[0], "grubby");
        assert_string_equal(back[1], "--args=a b");
        assert_string_equal(back[2], "");
        assert_null(back[3]);
        strv_free_null(back);
        assert_null(setup_argv_join(bad));
}

/* ---- every operation failing, or the process killed there ---- */

static unsigned count_operations(void)
{
        struct test_tree *t = host(GRUB_CFG);
        struct fake_commands *f = fake_commands_new();
        unsigned n;

        fake_commands_set_output(f, IMAGE_LIST);
        faults_on(0, 0);
        assert_int_equal(apply(t, f), 0);
        assert_int_equal(undo(t, f, "undo"), 0);
        n = faults_seen();
        faults_off();
        fake_commands_free(f);
        test_tree_free(t);
        return n;
}

/* Whatever is left is settled as recover does: undo what the journal says may be applied. When
 * a file was left changed, the generators run again once the files are back. */
static void settle(struct test_tree *t, struct fake_commands *f, const char *before, const char *when)
{
        _cleanup_free_ char *left = snap(t);
        size_t calls = f->calls.n;
        int r = undo(t, f, "recover");

        if (r != 0 && r != -ENOENT)
                fail_msg("%s: recover failed: %d", when, r);
        if (strcmp(left, before) != 0) {
                if (f->calls.n < calls + 2)
                        fail_msg("%s: files were left changed, but recover ran no generator", when);
                assert_string_equal(f->calls.v[f->calls.n - 2], "update-initramfs -u -k all");
                assert_string_equal(f->calls.v[f->calls.n - 1], "update-grub");
        }
}

static void test_fail_at_every_operation(void **state)
{
        unsigned n = count_operations();

        assert_true(n >= 20);
        for (unsigned k = 1; k <= n; k++) {
                struct test_tree *t = host(GRUB_CFG);
                struct fake_commands *f = fake_commands_new();
                _cleanup_free_ char *before = snap(t), *after = NULL;
                char when[64];

                fake_commands_set_output(f, IMAGE_LIST);
                snprintf(when, sizeof(when), "operation %u of %u failing", k, n);
                faults_on(k, 0);
                if (apply(t, f) == 0)
                        (void)undo(t, f, "undo");
                faults_off();
                settle(t, f, before, when);
                after = snap(t);
                assert_same_tree(before, after, when);
                fake_commands_free(f);
                test_tree_free(t);
        }
}

static void test_kill_at_every_operation(void **state)
{
        unsigned n = count_operations();

        for (unsigned k = 1; k <= n; k++) {
                struct test_tree *volatile t = host(GRUB_CFG);
                struct fake_commands *volatile f = fake_commands_new();
                _cleanup_free_ char *before = snap(t), *after = NULL;
                char when[64];

                fake_commands_set_output(f, IMAGE_LIST);
                snprintf(when, sizeof(when), "killed before operation %u of %u", k, n);
                __lsan_disable();
                faults_on(0, k);
                if (setjmp(faults_killed) == 0) {
                        assert_int_equal(apply(t, f), 0);
                        assert_int_equal(undo(t, f, "undo"), 0);
                        fail_msg("%s: no such operation", when);
                }
                faults_off();
                __lsan_enable();
                settle(t, f, before, when);
                after = snap(t);
                assert_same_tree(before, after, when);
                fake_commands_free(f);
                test_tree_free(t);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_apply_and_undo),
            cmocka_unit_test(test_check_fails_rolls_back),
            cmocka_unit_test(test_image_check_fails_rolls_back),
            cmocka_unit_test(test_generator_fails_rolls_back),
            cmocka_unit_test(test_changed_since_is_not_overwritten),
            cmocka_unit_test(test_trusted),
            cmocka_unit_test(test_argv_round_trip),
            cmocka_unit_test(test_fail_at_every_operation),
            cmocka_unit_test(test_kill_at_every_operation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
