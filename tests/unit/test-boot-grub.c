/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the GRUB backend (src/setup/boot-grub.c) on fake roots holding real files (Debian 12's
 * stock /etc/default/grub, Ubuntu 22.04's and its cloud image's 50-cloudimg-settings.cfg, Arch's,
 * Fedora's as anaconda writes it with its BLS entries), with the boot facts filled by hand:
 * - Debian/Ubuntu: our drop-in appends to GRUB_CMDLINE_LINUX_DEFAULT exactly the arguments not
 *   already in effect, as grub-mkconfig computes it (/etc/default/grub, then grub.d in order, the
 *   last assignment winning: the cloud image's drop-in overrides /etc/default/grub); then
 *   update-grub (proxmox-boot-tool refresh on Proxmox), a check of the menu's linux lines that
 *   leaves the recovery entries out, and the one-boot escape;
 * - the second run plans nothing; no other file is touched;
 * - removal: from our drop-in, from /etc/default/grub token by token, refused in another drop-in;
 *   an emptied drop-in is removed;
 * - refusals: a conflicting argument, a drop-in that cannot be read as plain assignments, one
 *   read after ours that sets _DEFAULT, our drop-in edited by hand;
 * - elsewhere: a token edit of /etc/default/grub keeping every other byte, grub-mkconfig or
 *   grub2-mkconfig with the real menu, never the EFI stub;
 * - BLS: each entry's options and /etc/kernel/cmdline edited too and checked; RHEL 8's
 *   $kernelopts refused. */

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

#define DROPIN_HEAD "# Written by gpu-handoff setup; `gpu-handoff setup undo` removes it.\n"

/* Debian's own grub.d file (grub2-common): names no command line variable */
static const char init_select[] =
    "# GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT init=/lib/sysvinit/init\"\n";

static const char ubuntu2204[] =
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT_STYLE=hidden\n"
    "GRUB_TIMEOUT=0\n"
    "GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) 2>/dev/null || echo Ubuntu`\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on\"\n"
    "GRUB_CMDLINE_LINUX=\"\"\n";

static const char cloudimg[] =
    "# Cloud Image specific Grub settings for Generic Cloud Images\n"
    "# CLOUD_IMG: This file was created/modified by the Cloud Image build process\n"
    "\n"
    "# Set the recordfail timeout\n"
    "GRUB_RECORDFAIL_TIMEOUT=0\n"
    "\n"
    "# Do not wait on grub prompt\n"
    "GRUB_TIMEOUT=0\n"
    "\n"
    "# Set the default commandline\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0 iommu=pt\"\n"
    "\n"
    "# Set the grub console type\n"
    "GRUB_TERMINAL=console\n";

static const char arch[] = "# GRUB boot loader configuration\n"
                           "\n"
                           "GRUB_DEFAULT=0\n"
                           "GRUB_TIMEOUT=5\n"
                           "GRUB_DISTRIBUTOR=\"Arch\"\n"
                           "GRUB_CMDLINE_LINUX_DEFAULT=\"loglevel=3 quiet\"\n"
                           "GRUB_CMDLINE_LINUX=\"\"\n"
                           "\n"
                           "# Preload both GPT and MBR modules so that they can be removed later\n"
                           "GRUB_PRELOAD_MODULES=\"part_gpt part_msdos\"\n";

#define FEDORA_ENTRY(v, options)                                                                            \
        "title Fedora Linux (" v ") 39 (Workstation Edition)\n"                                             \
        "version " v "\n"                                                                                   \
        "linux /vmlinuz-" v "\n"                                                                            \
        "initrd /initramfs-" v ".img\n"                                                                     \
        "options " options "\n"                                                                             \
        "grub_users $grub_users\n"                                                                          \
        "grub_arg --unrestricted\n"                                                                         \
        "grub_class fedora\n"
#define FEDORA_OPTIONS "root=UUID=0b7fcd32-8d5b-4b6c-a0a4-0e5c1a0b1f2e ro rootflags=subvol=root rhgb quiet"
#define ENTRY_A "0f3e6d5c4b3a29180716253443526170-6.5.6-300.fc39.x86_64.conf"
#define ENTRY_B "0f3e6d5c4b3a29180716253443526170-6.6.9-200.fc39.x86_64.conf"

static char *iommu[] = {(char *)"intel_iommu=on", (char *)"iommu=pt", NULL};
static char *none[] = {NULL};

struct fixture {
        struct test_tree *tree;
        struct boot_facts facts;
        struct setup_inputs in;
        struct setup_plan plan;
};

static struct fixture *fixture_new(enum bootloader_id loader, char **add, char **remove)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->tree = test_tree_new("test-boot-grub");
        f->facts.grub_cfg = (char *)"/boot/grub/grub.cfg";
        f->facts.grub_default = true;
        f->in = (struct setup_inputs){
            .sr = f->tree->sr,
            .facts = &f->facts,
            .bootloader = loader,
            .args_add = add,
            .args_remove = remove,
            .vfio = none,
        };
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
        r = boot_grub_plan(&f->in, &f->plan, &error);
        if (r < 0)
                fail_msg("boot_grub_plan: %d %s", r, error ?: "");
}

/* Debian: applies the plan, then plans again: nothing; the other files untouched. */
static void again_nothing(struct fixture *f)
{
        apply_files(f->tree, &f->plan);
        plan(f);
        assert_nothing(&f->plan);
}

static struct fixture *debian(char **add, char **remove)
{
        struct fixture *f = fixture_new(BOOTLOADER_GRUB, add, remove);

        f->facts.grub_default_d = true;
        test_tree_write(f->tree, "etc/default/grub", debian12);
        test_tree_write(f->tree, "etc/default/grub.d/init-select.cfg", init_select);
        return f;
}

static void test_debian(void **state)
{
        struct fixture *f = debian(iommu, none);
        _cleanup_free_ char *after = NULL;

        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        assert_file(&f->plan, 0, SETUP_GRUB_DROPIN_PATH, SETUP_FILE_CREATE,
                    DROPIN_HEAD
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt\"\n");
        assert_int_equal(f->plan.files[0].mode, 0644);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "update-grub", NULL);
        assert_int_equal(f->plan.n_checks, 1);
        assert_check_lines(&f->plan, 0, "/boot/grub/grub.cfg", "linux", "intel_iommu=on iommu=pt",
                           "single recovery");
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on iommu=pt");
        assert_int_equal(f->plan.args_remove.n, 0);
        assert_int_equal(f->plan.notes.n, 2);
        assert_string_equal(
            f->plan.notes.v[0],
            "if the next boot fails: at the GRUB menu press e, delete intel_iommu=on iommu=pt from the "
            "line starting with linux, then press Ctrl-X to boot once without them");
        assert_string_equal(f->plan.notes.v[1], "or pick \"Advanced options\" and the entry ending in "
                                                "\"(recovery mode)\": it boots without them");
        again_nothing(f);
        after = tree_read(f->tree, "etc/default/grub");
        assert_string_equal(after, debian12);
        fixture_free(f);
}

/* Ubuntu's cloud image: its drop-in's _DEFAULT replaces /etc/default/grub's, so intel_iommu=on
 * there is not in effect and iommu=pt, set in the cloud drop-in, is. */
static void test_ubuntu_cloud(void **state)
{
        struct fixture *f = debian(iommu, none);

        test_tree_write(f->tree, "etc/default/grub", ubuntu2204);
        test_tree_write(f->tree, "etc/default/grub.d/50-cloudimg-settings.cfg", cloudimg);
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        assert_file(&f->plan, 0, SETUP_GRUB_DROPIN_PATH, SETUP_FILE_CREATE,
                    DROPIN_HEAD
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on\"\n");
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on");
        /* the check still wants both: the menu must hold everything asked for */
        assert_check_lines(&f->plan, 0, "/boot/grub/grub.cfg", "linux", "intel_iommu=on iommu=pt",
                           "single recovery");
        assert_string_equal(
            f->plan.notes.v[0],
            "if the next boot fails: at the GRUB menu press e, delete intel_iommu=on from the line "
            "starting with linux, then press Ctrl-X to boot once without them");
        again_nothing(f);
        fixture_free(f);

        /* everything already in effect: nothing at all */
        f = debian(iommu, none);
        test_tree_write(f->tree, "etc/default/grub.d/50-cloudimg-settings.cfg",
                        "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 intel_iommu=on iommu=pt\"\n");
        plan(f);
        assert_nothing(&f->plan);
        fixture_free(f);
}

static void test_proxmox_grub(void **state)
{
        struct fixture *f = debian(iommu, none);

        f->facts.proxmox = true;
        test_tree_write(f->tree, "etc/default/grub.d/proxmox-kernel-pin.cfg",
                        "GRUB_DEFAULT=\"gnulinux-advanced\"\n");
        plan(f);
        assert_int_equal(f->plan.n_files, 1);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "proxmox-boot-tool refresh", NULL);
        assert_int_equal(f->plan.n_checks, 0);
        again_nothing(f);
        fixture_free(f);

        /* no recovery entries: the notes do not point at one */
        f = debian(iommu, none);
        test_tree_write(f->tree, "etc/default/grub.d/10-no-recovery.cfg",
                        "GRUB_DISABLE_RECOVERY=\"true\"\n");
        plan(f);
        assert_int_equal(f->plan.notes.n, 1);
        assert_non_null(strstr(f->plan.notes.v[0], "press e"));
        fixture_free(f);
}

static void test_debian_remove(void **state)
{
        char *remove[] = {(char *)"iommu=pt", (char *)"nomodeset", NULL};
        char *keep[] = {(char *)"intel_iommu=on", NULL};
        struct fixture *f = debian(keep, remove);
        const char *mine = DROPIN_HEAD
            "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt\"\n";
        char *grub = NULL;

        /* the user's nomodeset in /etc/default/grub goes, token by token; iommu=pt leaves ours */
        const char *at = strstr(debian12, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"");

        assert_non_null(at);
        assert_true(asprintf(&grub, "%.*sGRUB_CMDLINE_LINUX_DEFAULT=\"quiet nomodeset\"%s",
                             (int)(at - debian12), debian12,
                             at + strlen("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"")) > 0);
        assert_non_null(strstr(grub, "\"quiet nomodeset\"\nGRUB_CMDLINE_LINUX=\"\"\n"));
        test_tree_write(f->tree, "etc/default/grub", grub);
        test_tree_write(f->tree, SETUP_GRUB_DROPIN_PATH + 1, mine);
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 2);
        assert_file(&f->plan, 0, "/etc/default/grub", SETUP_FILE_MODIFY, debian12);
        assert_file(&f->plan, 1, SETUP_GRUB_DROPIN_PATH, SETUP_FILE_MODIFY,
                    DROPIN_HEAD
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on\"\n");
        assert_string_equal(joined(f->plan.args_remove.v), "nomodeset iommu=pt");
        assert_int_equal(f->plan.args_add.n, 0);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "update-grub", NULL);
        assert_int_equal(f->plan.notes.n, 0); /* nothing added: no escape to tell */
        again_nothing(f);
        fixture_free(f);
        free(grub);

        /* everything of ours goes: the drop-in is removed */
        f = debian(none, iommu);
        test_tree_write(f->tree, SETUP_GRUB_DROPIN_PATH + 1, mine);
        plan(f);
        assert_int_equal(f->plan.n_files, 1);
        assert_file(&f->plan, 0, SETUP_GRUB_DROPIN_PATH, SETUP_FILE_REMOVE, NULL);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "update-grub", NULL);
        assert_int_equal(f->plan.n_checks, 0);
        again_nothing(f);
        fixture_free(f);

        /* held by a drop-in that is not ours: refused, naming it */
        f = debian(none, remove);
        test_tree_write(f->tree, "etc/default/grub.d/50-cloudimg-settings.cfg", cloudimg);
        plan(f);
        assert_refused(&f->plan, "/etc/default/grub.d/50-cloudimg-settings.cfg");
        fixture_free(f);
}

static void test_debian_refusals(void **state)
{
        struct fixture *f = debian(iommu, none);

        /* a conflicting value already on the command line is never replaced */
        test_tree_write(f->tree, "etc/default/grub", "GRUB_CMDLINE_LINUX=\"iommu=soft\"\n");
        plan(f);
        assert_refused(&f->plan, "iommu=pt conflicts with iommu=soft");
        fixture_free(f);

        /* a drop-in whose value needs the shell */
        f = debian(iommu, none);
        test_tree_write(f->tree, "etc/default/grub.d/40-custom.cfg",
                        "GRUB_CMDLINE_LINUX_DEFAULT=\"$(cat /etc/my-cmdline)\"\n");
        plan(f);
        assert_refused(&f->plan, "/etc/default/grub.d/40-custom.cfg: line 1");
        fixture_free(f);

        /* one that is odd but names neither variable is fine */
        f = debian(iommu, none);
        test_tree_write(f->tree, "etc/default/grub.d/40-custom.cfg", "GRUB_DISTRIBUTOR=\"$(odd\n");
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        fixture_free(f);

        /* one read after ours that sets _DEFAULT would undo it */
        f = debian(iommu, none);
        test_tree_write(f->tree, "etc/default/grub.d/95-late.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
        plan(f);
        assert_refused(&f->plan, "/etc/default/grub.d/95-late.cfg is read after");
        fixture_free(f);

        /* one read after ours that appends to _DEFAULT keeps ours */
        f = debian(iommu, none);
        test_tree_write(
            f->tree, "etc/default/grub.d/99-append.cfg",
            "if [ -x /lib/sysvinit/init ]; then\n"
            "  GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} init=/lib/sysvinit/init\"\n"
            "fi\n");
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        fixture_free(f);

        /* ours, edited by hand */
        f = debian(iommu, none);
        test_tree_write(f->tree, SETUP_GRUB_DROPIN_PATH + 1, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
        plan(f);
        assert_refused(&f->plan, "is not as gpu-handoff wrote it");
        fixture_free(f);
}

static void test_arch(void **state)
{
        struct fixture *f = fixture_new(BOOTLOADER_GRUB, iommu, none);
        _cleanup_free_ char *expect = NULL;

        test_tree_write(f->tree, "etc/default/grub", arch);
        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 1);
        assert_true(asprintf(&expect, "%.*s%s", (int)(strstr(arch, "quiet\"") - arch), arch,
                             "quiet intel_iommu=on iommu=pt\"\nGRUB_CMDLINE_LINUX=\"\"\n\n"
                             "# Preload both GPT and MBR modules so that they can be removed later\n"
                             "GRUB_PRELOAD_MODULES=\"part_gpt part_msdos\"\n") > 0);
        assert_file(&f->plan, 0, "/etc/default/grub", SETUP_FILE_MODIFY, expect);
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "grub-mkconfig -o /boot/grub/grub.cfg", NULL);
        assert_check_lines(&f->plan, 0, "/boot/grub/grub.cfg", "linux", "intel_iommu=on iommu=pt",
                           "single recovery");
        assert_int_equal(f->plan.notes.n, 1); /* no Debian recovery entry to point at */
        again_nothing(f);
        fixture_free(f);

        /* and back: removing exactly those gives the original bytes */
        f = fixture_new(BOOTLOADER_GRUB, none, iommu);
        test_tree_write(f->tree, "etc/default/grub", expect);
        plan(f);
        assert_file(&f->plan, 0, "/etc/default/grub", SETUP_FILE_MODIFY, arch);
        assert_string_equal(joined(f->plan.args_remove.v), "intel_iommu=on iommu=pt");
        fixture_free(f);
}

static void test_grub2_paths(void **state)
{
        struct fixture *f = fixture_new(BOOTLOADER_GRUB, iommu, none);

        f->facts.grub_cfg = (char *)"/boot/grub2/grub.cfg";
        test_tree_write(f->tree, "etc/default/grub", "GRUB_CMDLINE_LINUX=\"splash=silent iommu=pt\"\n");
        plan(f);
        assert_file(&f->plan, 0, "/etc/default/grub", SETUP_FILE_MODIFY,
                    "GRUB_CMDLINE_LINUX=\"splash=silent iommu=pt\"\n"
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on\"\n");
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "grub2-mkconfig -o /boot/grub2/grub.cfg",
                       NULL);
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on");
        fixture_free(f);

        /* never the stub on the EFI partition */
        f = fixture_new(BOOTLOADER_GRUB, iommu, none);
        f->facts.grub_cfg = (char *)"/boot/efi/EFI/fedora/grub.cfg";
        test_tree_write(f->tree, "etc/default/grub", fedora_grub);
        plan(f);
        assert_refused(&f->plan, "/boot/efi/EFI/fedora/grub.cfg is on the EFI partition");
        fixture_free(f);
}

static struct fixture *fedora_bls(char **add, char **remove)
{
        struct fixture *f = fixture_new(BOOTLOADER_GRUB_BLS, add, remove);
        static char *entries[] = {(char *)ENTRY_A, (char *)ENTRY_B, NULL};

        f->facts.grub_cfg = (char *)"/boot/grub2/grub.cfg";
        f->facts.grub_bls = true;
        f->facts.entries_dir = (char *)"/boot/loader/entries";
        f->facts.entries = entries;
        f->facts.kernel_cmdline = true;
        test_tree_write(f->tree, "etc/default/grub", fedora_grub);
        test_tree_write(f->tree, "etc/kernel/cmdline", FEDORA_OPTIONS "\n");
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_A,
                        FEDORA_ENTRY("6.5.6-300.fc39.x86_64", FEDORA_OPTIONS));
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_B,
                        FEDORA_ENTRY("6.6.9-200.fc39.x86_64", FEDORA_OPTIONS " iommu=pt"));
        return f;
}

static void test_bls(void **state)
{
        struct fixture *f = fedora_bls(iommu, none);

        plan(f);
        assert_null(f->plan.refused);
        assert_int_equal(f->plan.n_files, 4);
        assert_file(&f->plan, 0, "/etc/default/grub", SETUP_FILE_MODIFY,
                    "GRUB_TIMEOUT=5\n"
                    "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                    "GRUB_DEFAULT=saved\n"
                    "GRUB_DISABLE_SUBMENU=true\n"
                    "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                    "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                    "GRUB_DISABLE_RECOVERY=\"true\"\n"
                    "GRUB_ENABLE_BLSCFG=true\n"
                    "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on iommu=pt\"\n");
        assert_file(&f->plan, 1, "/boot/loader/entries/" ENTRY_A, SETUP_FILE_MODIFY,
                    FEDORA_ENTRY("6.5.6-300.fc39.x86_64", FEDORA_OPTIONS " intel_iommu=on iommu=pt"));
        /* iommu=pt is there already: only intel_iommu=on */
        assert_file(&f->plan, 2, "/boot/loader/entries/" ENTRY_B, SETUP_FILE_MODIFY,
                    FEDORA_ENTRY("6.6.9-200.fc39.x86_64", FEDORA_OPTIONS " iommu=pt intel_iommu=on"));
        assert_file(&f->plan, 3, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                    FEDORA_OPTIONS " intel_iommu=on iommu=pt\n");
        assert_int_equal(f->plan.n_commands, 1);
        assert_command(&f->plan, 0, SETUP_COMMAND_REGENERATE, "grub2-mkconfig -o /boot/grub2/grub.cfg",
                       NULL);
        assert_int_equal(f->plan.n_checks, 2);
        assert_check_lines(&f->plan, 0, "/boot/loader/entries/" ENTRY_A, "options",
                           "intel_iommu=on iommu=pt", NULL);
        assert_check_lines(&f->plan, 1, "/boot/loader/entries/" ENTRY_B, "options",
                           "intel_iommu=on iommu=pt", NULL);
        assert_string_equal(joined(f->plan.args_add.v), "intel_iommu=on iommu=pt");
        again_nothing(f);
        fixture_free(f);

        /* undo by removal gives the entries' bytes back */
        f = fedora_bls(none, iommu);
        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_A,
                        FEDORA_ENTRY("6.5.6-300.fc39.x86_64", FEDORA_OPTIONS " intel_iommu=on iommu=pt"));
        plan(f);
        assert_file(&f->plan, 0, "/boot/loader/entries/" ENTRY_A, SETUP_FILE_MODIFY,
                    FEDORA_ENTRY("6.5.6-300.fc39.x86_64", FEDORA_OPTIONS));
        assert_file(&f->plan, 1, "/boot/loader/entries/" ENTRY_B, SETUP_FILE_MODIFY,
                    FEDORA_ENTRY("6.6.9-200.fc39.x86_64", FEDORA_OPTIONS));
        assert_int_equal(f->plan.n_files, 2);
        assert_int_equal(f->plan.n_commands, 0); /* /etc/default/grub unchanged: the menu is too */
        fixture_free(f);
}

static void test_bls_kernelopts(void **state)
{
        struct fixture *f = fedora_bls(iommu, none);

        test_tree_write(f->tree, "boot/loader/entries/" ENTRY_B,
                        FEDORA_ENTRY("6.6.9-200.fc39.x86_64", "$kernelopts"));
        plan(f);
        assert_refused(&f->plan, "use grubby");
        fixture_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_debian),          cmocka_unit_test(test_ubuntu_cloud),
            cmocka_unit_test(test_proxmox_grub),    cmocka_unit_test(test_debian_remove),
            cmocka_unit_test(test_debian_refusals), cmocka_unit_test(test_arch),
            cmocka_unit_test(test_grub2_paths),     cmocka_unit_test(test_bls),
            cmocka_unit_test(test_bls_kernelopts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
