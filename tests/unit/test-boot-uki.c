/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the UKI backend (src/setup/boot-uki.c) and the PE section reader (src/setup/pe.c),
 * on fake roots holding small but well-formed PE files (DOS header, "PE\0\0", COFF header,
 * section table, .osrel and .cmdline sections) as unified kernel images and addons:
 * - with ukify: the addon route, ukify build of ESP/loader/addons/gpu-handoff.addon.efi with
 *   exactly the arguments the images lack, undone by rm; the missing directories made (and
 *   removed) by the plan; a check that inspects the addon; notes on Secure Boot signing and the
 *   systemd version; an addon already holding them: nothing; one holding something else: refused;
 * - without ukify, or to remove an argument an image carries: /etc/kernel/cmdline edited, or
 *   created from the booted image's .cmdline section, then kernel-install add (layout=uki) or
 *   mkinitcpio -P (a *_uki preset); mkinitcpio's /etc/cmdline.d gets a drop-in instead;
 * - no generator, no image, images that disagree: refused, naming what was found;
 * - hostile PE files (not PE, truncated tables, offsets past the end) are refused, not followed;
 * - idempotence: the planned files applied, a second plan plans nothing. */

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot-test.h"
#include "setup/pe.h"

#define S(x) ((char *)(x))
#define UKI "/efi/EFI/Linux/arch-linux.efi"
#define UKI_FB "/efi/EFI/Linux/arch-linux-fallback.efi"
#define ADDON "/efi/loader/addons/gpu-handoff.addon.efi"

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void write_bytes(struct test_tree *t, const char *rel, const void *data, size_t n)
{
        char path[1024];
        int fd;

        test_tree_write(t, rel, ""); /* the parents */
        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        close(fd);
}

/* A PE file with an .osrel section and, unless cmdline is NULL, a .cmdline section (its raw
 * data padded to 512 bytes, as linkers and ukify align it). */
static void write_pe(struct test_tree *t, const char *rel, const char *cmdline)
{
        static uint8_t buf[0x800];
        const char *osrel = "ID=arch\n";
        uint16_t n = cmdline ? 2 : 1;

        memset(buf, 0, sizeof(buf));
        buf[0] = 'M';
        buf[1] = 'Z';
        put32(buf + 0x3c, 0x80);
        memcpy(buf + 0x80, "PE\0\0", 4);
        put16(buf + 0x84, 0x8664);
        put16(buf + 0x86, n);
        put16(buf + 0x94, 0); /* no optional header: the reader needs none */
        memcpy(buf + 0x98, ".osrel", 6);
        put32(buf + 0x98 + 8, (uint32_t)strlen(osrel));
        put32(buf + 0x98 + 16, 0x200);
        put32(buf + 0x98 + 20, 0x400);
        memcpy(buf + 0x400, osrel, strlen(osrel));
        if (cmdline) {
                assert_true(strlen(cmdline) <= 0x200);
                memcpy(buf + 0xc0, ".cmdline", 8);
                put32(buf + 0xc0 + 8, (uint32_t)strlen(cmdline) + 1); /* ukify writes the NUL too */
                put32(buf + 0xc0 + 16, 0x200);
                put32(buf + 0xc0 + 20, 0x600);
                memcpy(buf + 0x600, cmdline, strlen(cmdline));
        }
        write_bytes(t, rel, buf, sizeof(buf));
}

static struct boot_facts facts(void)
{
        static char *ukis[] = {S(UKI_FB), S(UKI), NULL};
        static char *kernels[] = {S("6.6.7-arch1-1"), NULL};

        return (struct boot_facts){
            .cmdline = S("root=UUID=0a1b rw quiet iommu=pt"),
            .efi = true,
            .loader_info = S("systemd-boot 256.7-1-arch"),
            .loader_entry = S("arch-linux.efi"),
            .esp = S("/efi"),
            .ukis = ukis,
            .kernels = kernels,
        };
}

static struct test_tree *tree(void)
{
        struct test_tree *t = test_tree_new("test-boot-uki");

        write_pe(t, UKI + 1, "root=UUID=0a1b rw quiet iommu=pt\n");
        write_pe(t, UKI_FB + 1, "root=UUID=0a1b rw quiet iommu=pt\n");
        test_tree_mkdir(t, "efi/loader");
        test_tree_write(t, "usr/lib/modules/6.6.7-arch1-1/vmlinuz", "kernel");
        return t;
}

static void test_addon(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        f.ukify = true;
        bt_plan(boot_uki_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 0);
        assert_string_equal(bt_commands(&p),
                            "mkdir -- /efi/loader/addons; revert: rmdir -- /efi/loader/addons\n"
                            "ukify build --cmdline=intel_iommu=on --output=" ADDON
                            "; revert: rm -f -- " ADDON);
        assert_int_equal(p.commands[1].kind, SETUP_COMMAND_TOOL);
        assert_string_equal(bt_checks(&p), "$ ukify inspect " ADDON ": intel_iommu=on");
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on");
        assert_true(setup_plan_changes(&p));
        assert_string_equal(
            bt_notes(&p),
            "the unified kernel images keep their own command line: systemd-stub appends the addon " ADDON
            " (intel_iommu=on) to every one it boots; undo removes the file, no image is rebuilt\n"
            "addons in ESP/loader/addons are read by systemd-stub from systemd 255 (per-image "
            "NAME.efi.extra.d/ addons from 254); an older stub ignores it\n"
            "Secure Boot: the firmware-verified stub loads only a signed addon; sign it as your images are "
            "signed (ukify build --secureboot-private-key=KEY --secureboot-certificate=CERT, or sbsign), "
            "else it is ignored and the arguments are not there\n"
            "if the next boot fails: in the systemd-boot menu, press e on the entry and delete "
            "intel_iommu=on iommu=pt (that boot only; under Secure Boot a UKI ignores edits: boot another "
            "entry or a live system and run `gpu-handoff --root /mnt setup undo`)");
        setup_plan_done(&p);

        /* what ukify would have built: nothing more to do */
        write_pe(t, ADDON + 1, "intel_iommu=on");
        bt_plan(boot_uki_plan, &in, &p);
        assert_nothing(&p);
        assert_int_equal(p.args_add.n, 0);
        setup_plan_done(&p);

        /* an addon of that name that holds something else is not overwritten */
        write_pe(t, ADDON + 1, "quiet");
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(p.refused,
                            ADDON " exists and lacks intel_iommu=on (it holds \"quiet\"); `gpu-handoff "
                                  "setup undo` removes it, then run setup again");
        assert_int_equal(p.n_commands, 0);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* No loader/ either: both directories are made, and removed in reverse by undo. Everything
 * already in the images: nothing. */
static void test_addon_directories_and_present(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-uki");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on"), NULL);
        struct setup_plan p;

        f.ukify = true;
        write_pe(t, UKI + 1, "root=UUID=0a1b rw");
        write_pe(t, UKI_FB + 1, "root=UUID=0a1b rw intel_iommu=on");
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(bt_commands(&p),
                            "mkdir -- /efi/loader; revert: rmdir -- /efi/loader\n"
                            "mkdir -- /efi/loader/addons; revert: rmdir -- /efi/loader/addons\n"
                            "ukify build --cmdline=intel_iommu=on --output=" ADDON
                            "; revert: rm -f -- " ADDON);
        setup_plan_done(&p);

        write_pe(t, UKI + 1, "root=UUID=0a1b rw intel_iommu=on");
        bt_plan(boot_uki_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);

        /* a conflicting value in one image refuses */
        write_pe(t, UKI + 1, "root=UUID=0a1b rw intel_iommu=off");
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(p.refused,
                            UKI ": intel_iommu=on conflicts with intel_iommu=off already on the command "
                                "line");
        assert_int_equal(p.n_commands, 0);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* kernel-install with layout=uki, no ukify, no /etc/kernel/cmdline: created from the booted
 * image's .cmdline section. */
static void test_rebuild_kernel_install(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        f.install_layout = S("uki");
        write_pe(t, UKI_FB + 1, "root=UUID=0a1b rw iommu=pt");
        bt_plan(boot_uki_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_CREATE,
                       "root=UUID=0a1b rw quiet iommu=pt intel_iommu=on\n");
        assert_string_equal(bt_commands(&p),
                            "kernel-install add 6.6.7-arch1-1 /usr/lib/modules/6.6.7-arch1-1/vmlinuz");
        assert_string_equal(bt_checks(&p), "$ strings -n 8 " UKI_FB ": intel_iommu=on iommu=pt\n"
                                           "$ strings -n 8 " UKI ": intel_iommu=on iommu=pt");
        assert_string_equal(
            bt_notes(&p),
            "/etc/kernel/cmdline did not exist: it is created from the .cmdline section of " UKI "\n"
            "kernel-install builds the images with the command line of /etc/kernel/cmdline: every "
            "image built from now on boots with these arguments too\n"
            "if the next boot fails: in the systemd-boot menu, press e on the entry and delete "
            "intel_iommu=on iommu=pt (that boot only; under Secure Boot a UKI ignores edits: boot "
            "another entry or a live system and run `gpu-handoff --root /mnt setup undo`)");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_uki_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_rebuild_refusals(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        /* no generator: refused before any file */
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(p.refused,
                            "found unified kernel images (" UKI_FB ", " UKI ") but not what builds them: "
                            "/etc/kernel/install.conf has no layout=uki, and no preset in "
                            "/etc/mkinitcpio.d has NAME_uki=; add the arguments where your images get "
                            "their command line and rebuild them by hand (or install ukify: setup then "
                            "uses an addon)");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        /* images that differ, the booted one not known */
        f.install_layout = S("uki");
        f.loader_entry = NULL;
        write_pe(t, UKI_FB + 1, "root=UUID=0a1b rw");
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(p.refused,
                            "/etc/kernel/cmdline does not exist and the images' command lines differ "
                            "and the booted one is not known; create /etc/kernel/cmdline with the kernel "
                            "arguments every image should boot with, then run setup again");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        /* an image without .cmdline */
        write_pe(t, UKI_FB + 1, NULL);
        bt_plan(boot_uki_plan, &in, &p);
        assert_non_null(strstr(p.refused, "are not all in their .cmdline section"));
        setup_plan_done(&p);

        f.ukis = NULL;
        bt_plan(boot_uki_plan, &in, &p);
        assert_string_equal(p.refused, "no unified kernel image found (ESP/EFI/Linux/*.efi)");
        setup_plan_done(&p);
        test_tree_free(t);
}

/* mkinitcpio: a *_uki preset; /etc/kernel/cmdline edited where it exists, else a drop-in in
 * /etc/cmdline.d beside the user's files, holding only what the images lack. */
static void test_rebuild_mkinitcpio(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "etc/mkinitcpio.d/linux.preset",
                        "ALL_kver=\"/boot/vmlinuz-linux\"\n"
                        "PRESETS=('default' 'fallback')\n"
                        "#default_image=\"/boot/initramfs-linux.img\"\n"
                        "default_uki=\"" UKI "\"\n"
                        "fallback_uki=\"" UKI_FB "\"\n"
                        "fallback_options=\"-S autodetect\"\n");
        test_tree_mkdir(t, "etc/cmdline.d");
        test_tree_write(t, "etc/cmdline.d/root.conf", "root=UUID=0a1b rw\n");
        bt_plan(boot_uki_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/etc/cmdline.d/90-gpu-handoff.conf", SETUP_FILE_CREATE, "intel_iommu=on\n");
        assert_string_equal(bt_commands(&p), "mkinitcpio -P");
        assert_string_equal(bt_checks(&p), "$ strings -n 8 " UKI_FB ": intel_iommu=on iommu=pt\n"
                                           "$ strings -n 8 " UKI ": intel_iommu=on iommu=pt");
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_uki_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);

        /* /etc/kernel/cmdline wins where it exists */
        test_tree_write(t, "etc/kernel/cmdline", "root=UUID=0a1b  rw\n");
        bt_plan(boot_uki_plan, &in, &p);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                       "root=UUID=0a1b  rw intel_iommu=on iommu=pt\n");
        assert_string_equal(bt_commands(&p), "mkinitcpio -P");
        setup_plan_done(&p);
        test_tree_free(t);
}

/* Removing an argument the images carry cannot be done by an addon: the rebuild route, even
 * with ukify (whose inspect then checks the images). */
static void test_remove_takes_rebuild(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, NULL, BT_ARGS("iommu=pt"));
        struct setup_plan p;

        f.ukify = true;
        f.install_layout = S("uki");
        test_tree_write(t, "etc/kernel/cmdline", "root=UUID=0a1b rw quiet iommu=pt\n");
        bt_plan(boot_uki_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, "root=UUID=0a1b rw quiet\n");
        assert_string_equal(bt_list(&p.args_remove), "iommu=pt");
        assert_string_equal(bt_commands(&p),
                            "kernel-install add 6.6.7-arch1-1 /usr/lib/modules/6.6.7-arch1-1/vmlinuz");
        /* nothing added: nothing a check could see */
        assert_int_equal(p.n_checks, 0);
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_hostile_pe(void **state)
{
        struct test_tree *t = tree();
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p = {0};
        uint8_t buf[0x200] = {'M', 'Z'};
        char *error = NULL, *text = NULL;

        test_tree_write(t, "efi/EFI/Linux/arch-linux.efi", "hello, not an EFI binary");
        assert_int_equal(boot_uki_plan(&in, &p, &error), -EBADMSG);
        assert_string_equal(error, UKI " is not a PE file (an EFI binary)");
        free(error);
        error = NULL;
        setup_plan_done(&p);

        /* e_lfanew past the end */
        put32(buf + 0x3c, 0xfffffff0u);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 4096, &text), -EBADMSG);
        /* a section table longer than the file */
        put32(buf + 0x3c, 0x80);
        memcpy(buf + 0x80, "PE\0\0", 4);
        put16(buf + 0x86, 40);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 4096, &text), -EBADMSG);
        /* more sections than a loader takes */
        put16(buf + 0x86, 0xffff);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 4096, &text), -EBADMSG);
        /* a section whose data lies past the end */
        put16(buf + 0x86, 1);
        memcpy(buf + 0x98, ".cmdline", 8);
        put32(buf + 0x98 + 8, 16);
        put32(buf + 0x98 + 16, 16);
        put32(buf + 0x98 + 20, 0x7ffffff0u);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 4096, &text), -EBADMSG);
        /* bigger than asked for */
        put32(buf + 0x98 + 20, 0x100);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 8, &text), -EFBIG);
        /* a name that only starts like it */
        memcpy(buf + 0x98, ".cmdlinX", 8);
        write_bytes(t, "x.efi", buf, sizeof(buf));
        assert_int_equal(pe_read_section(t->sr, "x.efi", ".cmdline", 4096, &text), 0);
        /* and the well-formed one, cut at its NUL */
        write_pe(t, "y.efi", "root=/dev/sda2 rw");
        assert_int_equal(pe_read_section(t->sr, "y.efi", ".cmdline", 4096, &text), 1);
        assert_string_equal(text, "root=/dev/sda2 rw");
        free(text);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_addon),
            cmocka_unit_test(test_addon_directories_and_present),
            cmocka_unit_test(test_rebuild_kernel_install),
            cmocka_unit_test(test_rebuild_refusals),
            cmocka_unit_test(test_rebuild_mkinitcpio),
            cmocka_unit_test(test_remove_takes_rebuild),
            cmocka_unit_test(test_hostile_pe),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
