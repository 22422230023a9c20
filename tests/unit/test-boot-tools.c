/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the small bootloader backends, on fake roots with real files and boot facts
 * filled by hand:
 * - Proxmox (systemd-boot mode, src/setup/boot-proxmox.c): the first line of /etc/kernel/cmdline
 *   edited token by token (the rest kept), proxmox-boot-tool refresh, the entries checked where
 *   an ESP is mounted; no file or no root= refused; the second run plans nothing;
 * - rpm-ostree (src/setup/boot-rpm-ostree.c): kargs --append-if-missing= for exactly what the
 *   default deployment's entry (the highest ostree-N) lacks, reverted by --delete-if-present=;
 *   initramfs-etc --track of our modprobe file unless its origin tracks it already; the notes
 *   about the next deployment;
 * - kernelstub (src/setup/boot-kernelstub.c): -a / -d of exactly the missing options, read from
 *   the user section of the JSON configuration (config_rev 3's list and the older string);
 *   Pop_OS-current.conf checked; malformed configuration refused. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot-plan-assert.h"
#include "setup/backend.h"

static char *iommu[] = {(char *)"intel_iommu=on", (char *)"iommu=pt", NULL};
static char *none[] = {NULL};

struct fixture {
        struct test_tree *tree;
        struct boot_facts facts;
        struct setup_inputs in;
        struct setup_plan plan;
        int (*backend)(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
};

static struct fixture *fixture_new(enum bootloader_id loader, char **add, char **remove)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->tree = test_tree_new("test-boot-tools");
        f->in = (struct setup_inputs){
            .sr = f->tree->sr,
            .facts = &f->facts,
            .bootloader = loader,
            .args_add = add,
            .args_remove = remove,
            .vfio = none,
        };
        f->backend = loader == BOOTLOADER_PROXMOX      ? boot_proxmox_plan
                     : loader == BOOTLOADER_RPM_OSTREE ? boot_rpm_ostree_plan
                                                       : boot_kernelstub_plan;
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
        r = f->backend(&f->in, &f->plan, &error);
        if (r < 0)
                fail_msg("plan: %d %s", r, error ?: "");
}

/* Proxmox VE on ZFS, as the installer writes it */
#define PVE_CMDLINE "root=ZFS=rpool/ROOT/pve-1 boot=zfs"

static void test_proxmox(void **state)
{
        static char *entries[] = {(char *)"proxmox-6.8.12-4-pve.conf", NULL};
        struct fixture *f = fixture_new(BOOTLOADER_PROXMOX, iommu, none);

        f->facts.proxmox = true;
        test_tree_write(f->tree, "etc/kernel/cmdline", PVE_CMDLINE "\n# only the first line counts\n");
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        assert_file(&f->plan, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                    PVE_CMDLINE " intel_iommu=on iommu=pt\n# only the first line counts\n");
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "proxmox-boot-tool refresh", NULL);
        assert_int_equal(f->plan.n_checks, 0); /* no ESP mounted: nothing to read */
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.notes.n, 1);
        assert_non_null(strstr(f->plan.notes.v[0], "press e, delete intel_iommu=on iommu=pt"));
        apply_files(f->tree, &f->plan);
        plan(f);
        assert_nothing(&f->plan);
        fixture_free(f);

        /* an ESP mounted: its entries are checked */
        f = fixture_new(BOOTLOADER_PROXMOX, iommu, none);
        f->facts.entries_dir = (char *)"/boot/efi/loader/entries";
        f->facts.entries = entries;
        test_tree_write(f->tree, "etc/kernel/cmdline", PVE_CMDLINE " iommu=pt\n");
        plan(f);
        assert_file(&f->plan, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                    PVE_CMDLINE " iommu=pt intel_iommu=on\n");
        assert_int_equal(f->plan.n_checks, 1);
        assert_check_lines(&f->plan, 0, "/boot/efi/loader/entries/proxmox-6.8.12-4-pve.conf", "options",
                           "intel_iommu=on iommu=pt", NULL);
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on");
        fixture_free(f);

        /* and back */
        f = fixture_new(BOOTLOADER_PROXMOX, none, iommu);
        test_tree_write(f->tree, "etc/kernel/cmdline", PVE_CMDLINE " intel_iommu=on iommu=pt\n");
        plan(f);
        assert_file(&f->plan, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, PVE_CMDLINE "\n");
        assert_string_equal(joined(f->plan.args_remove.v), "intel_iommu=on iommu=pt");
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "proxmox-boot-tool refresh", NULL);
        fixture_free(f);
}

static void test_proxmox_refusals(void **state)
{
        struct fixture *f = fixture_new(BOOTLOADER_PROXMOX, iommu, none);

        f->facts.cmdline =
            (char *)"initrd=\\EFI\\proxmox\\6.8.12-4-pve\\initrd.img-6.8.12-4-pve " PVE_CMDLINE;
        plan(f);
        assert_refused(&f->plan, "/etc/kernel/cmdline does not exist");
        assert_refused(&f->plan, "root=ZFS=rpool/ROOT/pve-1");
        fixture_free(f);

        f = fixture_new(BOOTLOADER_PROXMOX, iommu, none);
        test_tree_write(f->tree, "etc/kernel/cmdline", "boot=zfs\nroot=ZFS=rpool/ROOT/pve-1\n");
        plan(f);
        assert_refused(&f->plan, "has no root=");
        fixture_free(f);
}

/* Fedora Silverblue 39 with two deployments: ostree-2 is the default, ostree-1 the rollback */
#define OSTREE_ENTRY(title, version, options)                                                               \
        "title Fedora Linux 39." title " (Silverblue) (ostree:" version ")\n"                               \
        "version " version "\n"                                                                             \
        "options root=UUID=4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d rootflags=subvol=root rw rhgb "             \
        "quiet " options "\n"                                                                               \
        "linux /ostree/fedora-5a1bc0ffee/vmlinuz-6.6.4-200.fc39.x86_64\n"                                   \
        "initrd /ostree/fedora-5a1bc0ffee/initramfs-6.6.4-200.fc39.x86_64.img\n"
#define OSTREE_ARG "ostree=/ostree/boot.1/fedora/5a1bc0ffee/0"

static struct fixture *silverblue(const char *default_options, bool modprobe_conf, const char *origin_etc)
{
        static char *entries[] = {(char *)"ostree-1-fedora.conf", (char *)"ostree-2-fedora.conf", NULL};
        struct fixture *f = fixture_new(BOOTLOADER_RPM_OSTREE, iommu, none);
        char *entry = NULL, *origin = NULL;

        f->facts.ostree_booted = true;
        f->facts.entries_dir = (char *)"/boot/loader/entries";
        f->facts.entries = entries;
        f->in.modprobe_conf = modprobe_conf;
        test_tree_write(f->tree, "boot/loader/entries/ostree-1-fedora.conf",
                        OSTREE_ENTRY("20231101.0", "1", "ostree=/ostree/boot.1/fedora/0ldc0ffee/0"));
        assert_true(asprintf(&entry, OSTREE_ENTRY("20231204.0", "2", "%s"), default_options) > 0);
        test_tree_write(f->tree, "boot/loader/entries/ostree-2-fedora.conf", entry);
        test_tree_link(f->tree, "../../../deploy/fedora/deploy/9e8d7c6b5a.0",
                       "ostree/boot.1/fedora/5a1bc0ffee/0");
        assert_true(asprintf(&origin,
                             "[origin]\nrefspec=fedora:fedora/39/x86_64/silverblue\n\n[rpmostree]\n%s",
                             origin_etc) > 0);
        test_tree_write(f->tree, "ostree/deploy/fedora/deploy/9e8d7c6b5a.0.origin", origin);
        free(entry);
        free(origin);
        return f;
}

static void test_rpm_ostree(void **state)
{
        struct fixture *f = silverblue(OSTREE_ARG " iommu=pt", true, "");

        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 0);
        assert_int_equal(f->plan.n_commands, 2);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL,
                       "rpm-ostree kargs --append-if-missing=intel_iommu=on",
                       "rpm-ostree kargs --delete-if-present=intel_iommu=on");
        assert_command(&f->plan, 1, SETUP_COMMAND_TOOL,
                       "rpm-ostree initramfs-etc --track=/etc/modprobe.d/gpu-handoff.conf",
                       "rpm-ostree initramfs-etc --untrack=/etc/modprobe.d/gpu-handoff.conf");
        assert_int_equal(f->plan.n_checks, 1);
        assert_check_output(&f->plan, 0, "rpm-ostree kargs", "intel_iommu=on iommu=pt");
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on");
        assert_int_equal(f->plan.notes.n, 2);
        assert_non_null(strstr(f->plan.notes.v[0], "applies to the next deployment"));
        assert_non_null(strstr(f->plan.notes.v[1], "without intel_iommu=on"));
        fixture_free(f);

        /* the next deployment booted: both arguments there, the file tracked */
        f = silverblue(OSTREE_ARG " intel_iommu=on iommu=pt", true,
                       "initramfs-etc=/etc/crypttab;/etc/modprobe.d/gpu-handoff.conf;\n");
        plan(f);
        assert_nothing(&f->plan);
        fixture_free(f);

        /* a name that only starts like ours is not ours */
        f = silverblue(OSTREE_ARG " intel_iommu=on iommu=pt", true,
                       "initramfs-etc=/etc/modprobe.d/gpu-handoff.conf.bak;\n");
        plan(f);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL,
                       "rpm-ostree initramfs-etc --track=/etc/modprobe.d/gpu-handoff.conf",
                       "rpm-ostree initramfs-etc --untrack=/etc/modprobe.d/gpu-handoff.conf");
        assert_int_equal(f->plan.n_checks, 0);
        fixture_free(f);

        /* removal and addition in one transaction, each reverted exactly */
        f = silverblue(OSTREE_ARG " nomodeset", false, "");
        f->in.args_remove = (char *[]){(char *)"nomodeset", (char *)"quiet=no", NULL};
        plan(f);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL,
                       "rpm-ostree kargs --append-if-missing=intel_iommu=on --append-if-missing=iommu=pt "
                       "--delete-if-present=nomodeset",
                       "rpm-ostree kargs --delete-if-present=intel_iommu=on --delete-if-present=iommu=pt "
                       "--append-if-missing=nomodeset");
        assert_string_equal(joined(f->plan.args_remove.v), "nomodeset");
        fixture_free(f);

        /* not an ostree boot */
        f = fixture_new(BOOTLOADER_RPM_OSTREE, iommu, none);
        plan(f);
        assert_refused(&f->plan, "no ostree boot entry");
        fixture_free(f);
}

/* /etc/kernelstub/configuration as Pop!_OS 22.04 writes it (config_rev 3) */
#define POP_CONFIG(user_options)                                                                            \
        "{\n"                                                                                               \
        "  \"default\": {\n"                                                                                \
        "    \"kernel_options\": [\n      \"quiet\",\n      \"splash\"\n    ],\n"                           \
        "    \"esp_path\": \"/boot/efi\",\n    \"setup_loader\": false,\n    \"manage_mode\": false,\n"     \
        "    \"force_update\": false,\n    \"live_mode\": false,\n    \"config_rev\": 3\n  },\n"            \
        "  \"user\": {\n"                                                                                   \
        "    \"kernel_options\": " user_options ",\n"                                                       \
        "    \"esp_path\": \"/boot/efi\",\n    \"setup_loader\": true,\n    \"manage_mode\": true,\n"       \
        "    \"force_update\": false,\n    \"live_mode\": false,\n    \"config_rev\": 3\n  }\n}\n"

static void test_kernelstub(void **state)
{
        struct fixture *f = fixture_new(BOOTLOADER_KERNELSTUB, iommu, none);

        f->facts.kernelstub = true;
        f->facts.esp = (char *)"/boot/efi";
        test_tree_write(
            f->tree, "etc/kernelstub/configuration",
            POP_CONFIG("[\n      \"quiet\",\n      \"loglevel=0\",\n      \"systemd.show_status=false\",\n"
                       "      \"splash\"\n    ]"));
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 0);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL, "kernelstub -a intel_iommu=on iommu=pt",
                       "kernelstub -d intel_iommu=on iommu=pt");
        assert_true(strcmp(f->plan.commands[0].argv[2], "intel_iommu=on iommu=pt") == 0); /* one argument */
        assert_int_equal(f->plan.n_checks, 1);
        assert_check_lines(&f->plan, 0, "/boot/efi/loader/entries/Pop_OS-current.conf", "options",
                           "intel_iommu=on iommu=pt", NULL);
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.notes.n, 1);
        assert_non_null(strstr(f->plan.notes.v[0], "Pop_OS-oldkern"));
        fixture_free(f);

        /* kernelstub has run: both in the list */
        f = fixture_new(BOOTLOADER_KERNELSTUB, iommu, none);
        test_tree_write(f->tree, "etc/kernelstub/configuration",
                        POP_CONFIG("[\"quiet\", \"splash\", \"intel_iommu=on\", \"iommu=pt\"]"));
        plan(f);
        assert_nothing(&f->plan);
        fixture_free(f);

        /* the older string form; removal reverted by -a */
        f = fixture_new(BOOTLOADER_KERNELSTUB, iommu, (char *[]){(char *)"nomodeset", NULL});
        test_tree_write(f->tree, "etc/kernelstub/configuration",
                        POP_CONFIG("\"quiet splash iommu=pt nomodeset\""));
        plan(f);
        assert_int_equal(f->plan.n_commands, 2);
        assert_command(&f->plan, 0, SETUP_COMMAND_TOOL, "kernelstub -a intel_iommu=on",
                       "kernelstub -d intel_iommu=on");
        assert_command(&f->plan, 1, SETUP_COMMAND_TOOL, "kernelstub -d nomodeset",
                       "kernelstub -a nomodeset");
        assert_string_equal(joined(f->plan.args_remove.v), "nomodeset");
        fixture_free(f);

        f = fixture_new(BOOTLOADER_KERNELSTUB, iommu, none);
        test_tree_write(f->tree, "etc/kernelstub/configuration",
                        "{\"user\": {\"kernel_options\": [\"quiet\",");
        plan(f);
        assert_refused(&f->plan, "/etc/kernelstub/configuration is not valid JSON");
        fixture_free(f);

        f = fixture_new(BOOTLOADER_KERNELSTUB, iommu, none);
        plan(f);
        assert_refused(&f->plan, "/etc/kernelstub/configuration does not exist");
        fixture_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_proxmox),
            cmocka_unit_test(test_proxmox_refusals),
            cmocka_unit_test(test_rpm_ostree),
            cmocka_unit_test(test_kernelstub),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
