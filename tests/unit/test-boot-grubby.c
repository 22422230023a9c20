/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the grubby backend (src/setup/boot-grubby.c) on a fake Fedora 39 root (its BLS
 * entries, /etc/kernel/cmdline and /etc/default/grub as anaconda writes them) and RHEL 8's
 * `options $kernelopts`, with the boot facts filled by hand:
 * - grubby --update-kernel=ALL --args= gets exactly the arguments some entry lacks, its revert
 *   --remove-args= exactly those; the check reads grubby --info=ALL;
 * - /etc/kernel/cmdline and GRUB_CMDLINE_LINUX get them too, every other byte kept;
 * - once grubby has run (the entries hold them), the second run plans nothing;
 * - removal: --remove-args= of what the entries hold, reverted by --args=;
 * - $kernelopts is read from grubenv; a conflict and a host without entries are refused. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grub-files.h"

#include "boot-plan-assert.h"
#include "setup/backend.h"

#define FEDORA_ENTRY(v, options)                                                                            \
        "title Fedora Linux (" v ") 39 (Workstation Edition)\n"                                             \
        "version " v "\n"                                                                                   \
        "linux /vmlinuz-" v "\n"                                                                            \
        "initrd /initramfs-" v ".img\n"                                                                     \
        "options " options "\n"                                                                             \
        "grub_users $grub_users\n"                                                                          \
        "grub_arg --unrestricted\n"                                                                         \
        "grub_class fedora\n"
#define OPTIONS "root=UUID=0b7fcd32-8d5b-4b6c-a0a4-0e5c1a0b1f2e ro rootflags=subvol=root rhgb quiet"
#define ENTRY_A "0f3e6d5c4b3a29180716253443526170-6.5.6-300.fc39.x86_64.conf"
#define ENTRY_B "0f3e6d5c4b3a29180716253443526170-6.6.9-200.fc39.x86_64.conf"

static char *iommu[] = {(char *)"intel_iommu=on", (char *)"iommu=pt", NULL};
static char *none[] = {NULL};
static char *entries[] = {(char *)ENTRY_A, (char *)ENTRY_B, NULL};

struct fixture {
        struct test_tree *tree;
        struct boot_facts facts;
        struct setup_inputs in;
        struct setup_plan plan;
};

static struct fixture *fixture_new(char **add, char **remove, const char *options_a, const char *options_b)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char *a = NULL, *b = NULL;

        assert_non_null(f);
        f->tree = test_tree_new("test-boot-grubby");
        f->facts.grub_cfg = (char *)"/boot/grub2/grub.cfg";
        f->facts.grub_default = true;
        f->facts.grub_bls = true;
        f->facts.kernel_cmdline = true;
        f->facts.entries_dir = (char *)"/boot/loader/entries";
        f->facts.entries = entries;
        f->in = (struct setup_inputs){
            .sr = f->tree->sr,
            .facts = &f->facts,
            .bootloader = BOOTLOADER_GRUBBY,
            .args_add = add,
            .args_remove = remove,
            .vfio = none,
        };
        test_tree_write(f->tree, "etc/default/grub", fedora_grub);
        test_tree_write(f->tree, "etc/kernel/cmdline", OPTIONS "\n");
        assert_true(asprintf(&a, FEDORA_ENTRY("6.5.6-300.fc39.x86_64", "%s"), options_a) > 0);
        assert_true(asprintf(&b, FEDORA_ENTRY("6.6.9-200.fc39.x86_64", "%s"), options_b) > 0);
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_A, a);
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_B, b);
        free(a);
        free(b);
        return f;
}

static void fixture_free(struct fixture *f)
{
        setup_plan_done(&f->plan);
        test_tree_free(f->tree);
        free(f);
}

static void plan(struct fixture *f)
{
        _cleanup_free_ char *error = NULL;
        int r;

        setup_plan_done(&f->plan);
        r = boot_grubby_plan(&f->in, &f->plan, &error);
        if (r < 0)
                fail_msg("boot_grubby_plan: %d %s", r, error ?: "");
}

static void test_fedora(void **state)
{
        /* the newer entry has iommu=pt already (the user's): grubby adds both anyway, since the
         * older one lacks both; the revert takes off exactly what it added */
        struct fixture *f = fixture_new(iommu, none, OPTIONS, OPTIONS " iommu=pt");

        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 2);
        assert_file(&f->plan, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                    OPTIONS " intel_iommu=on iommu=pt\n");
        assert_file(&f->plan, 1, "/etc/default/grub", SETUP_FILE_MODIFY,
                    "GRUB_TIMEOUT=5\n"
                    "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                    "GRUB_DEFAULT=saved\n"
                    "GRUB_DISABLE_SUBMENU=true\n"
                    "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                    "GRUB_CMDLINE_LINUX=\"rhgb quiet intel_iommu=on iommu=pt\"\n"
                    "GRUB_DISABLE_RECOVERY=\"true\"\n"
                    "GRUB_ENABLE_BLSCFG=true\n");
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL,
                       "grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt",
                       "grubby --update-kernel=ALL --remove-args=intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.n_checks, 1);
        assert_check_output(&f->plan, 0, "grubby --info=ALL", "intel_iommu=on iommu=pt");
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.notes.n, 1);
        assert_non_null(strstr(f->plan.notes.v[0], "press e, delete intel_iommu=on iommu=pt"));

        /* grubby has run: the entries hold them; the files as planned */
        apply_files(f->tree, &f->plan);
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_A,
                        FEDORA_ENTRY("6.5.6-300.fc39.x86_64", OPTIONS " intel_iommu=on iommu=pt"));
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_B,
                        FEDORA_ENTRY("6.6.9-200.fc39.x86_64", OPTIONS " iommu=pt intel_iommu=on"));
        plan(f);
        assert_nothing(&f->plan);
        fixture_free(f);

        /* what GRUB_CMDLINE_LINUX_DEFAULT holds is not added to GRUB_CMDLINE_LINUX */
        f = fixture_new(iommu, none, OPTIONS, OPTIONS);
        test_tree_write(f->tree, "etc/default/grub",
                        "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n");
        plan(f);
        assert_file(
            &f->plan, 1, "/etc/default/grub", SETUP_FILE_MODIFY,
            "GRUB_CMDLINE_LINUX=\"rhgb quiet intel_iommu=on\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=pt\"\n");
        fixture_free(f);

        /* only what is missing somewhere goes to grubby */
        f = fixture_new(iommu, none, OPTIONS " iommu=pt", OPTIONS " iommu=pt");
        plan(f);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL, "grubby --update-kernel=ALL --args=intel_iommu=on",
                       "grubby --update-kernel=ALL --remove-args=intel_iommu=on");
        assert_check_output(&f->plan, 0, "grubby --info=ALL", "intel_iommu=on iommu=pt");
        fixture_free(f);
}

static void test_remove(void **state)
{
        struct fixture *f =
            fixture_new(none, iommu, OPTIONS " intel_iommu=on iommu=pt", OPTIONS " intel_iommu=on");

        test_tree_write(f->tree, "etc/kernel/cmdline", OPTIONS " intel_iommu=on iommu=pt\n");
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        assert_file(&f->plan, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, OPTIONS "\n");
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL,
                       "grubby --update-kernel=ALL --remove-args=intel_iommu=on iommu=pt",
                       "grubby --update-kernel=ALL --args=intel_iommu=on iommu=pt");
        assert_string_equal(joined(f->plan.args_remove.v), "intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.args_add.n, 0);
        assert_int_equal(f->plan.notes.n, 0);
        fixture_free(f);
}

static void test_kernelopts(void **state)
{
        /* RHEL 8: the entries point at grubenv, which already has iommu=pt */
        struct fixture *f =
            fixture_new(iommu, none, "$kernelopts $tuned_params", "$kernelopts $tuned_params");

        test_tree_write(f->tree, "boot/grub2/grubenv",
                        "# GRUB Environment Block\n"
                        "saved_entry=0f3e6d5c4b3a29180716253443526170-4.18.0-513.el8.x86_64\n"
                        "kernelopts=root=/dev/mapper/rhel-root ro crashkernel=auto iommu=pt rhgb quiet \n"
                        "boot_success=0\n"
                        "##########\n");
        plan(f);
        assert_null(f->plan.refused);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL, "grubby --update-kernel=ALL --args=intel_iommu=on",
                       "grubby --update-kernel=ALL --remove-args=intel_iommu=on");
        fixture_free(f);
}

static void test_refusals(void **state)
{
        char *soft[] = {(char *)"iommu=soft", NULL};
        struct fixture *f = fixture_new(soft, none, OPTIONS, OPTIONS " iommu=pt");

        plan(f);
        assert_refused(&f->plan, "iommu=soft conflicts with iommu=pt");
        assert_int_equal(f->plan.n_checks, 0);
        fixture_free(f);

        f = fixture_new(iommu, none, OPTIONS, OPTIONS);
        f->facts.entries_dir = NULL;
        f->facts.entries = NULL;
        plan(f);
        assert_refused(&f->plan, "no boot entries in /boot/loader/entries");
        fixture_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fedora),
            cmocka_unit_test(test_remove),
            cmocka_unit_test(test_kernelopts),
            cmocka_unit_test(test_refusals),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
