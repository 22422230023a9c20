/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the Limine backend (src/setup/boot-limine.c) on limine.conf files as Limine 8+
 * documents them, the old limine.cfg, and CachyOS's limine-entry-tool setup:
 * - the cmdline (or kernel_cmdline) of every entry whose root= is the running kernel's is
 *   edited token by token, fallback entries included; other systems' entries, entries without
 *   a command line and every other byte are kept; a note names what was left alone;
 * - macros (${NAME}=value) count when comparing root=, and stay as written;
 * - the old format (:Entry, CMDLINE=) the same way;
 * - limine-entry-tool: our drop-in with KERNEL_CMDLINE[default]+=" ARGS" (only what its
 *   configuration lacks) and limine-update; an argument to remove that its configuration sets is
 *   refused (a drop-in can only add);
 * - the Secure Boot hash trap: an enrolled configuration hash in Limine's EFI binary refuses
 *   the edit; where no Limine binary is found, a note says so;
 * - idempotence, arguments already present, conflicts and refusals with the line. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot-test.h"

#define S(x) ((char *)(x))
#define CONF "/boot/limine.conf"

static const char limine_conf[] = "timeout: 5\n"
                                  "# Arch, written by hand\n"
                                  "\n"
                                  "/Arch Linux\n"
                                  "    protocol: linux\n"
                                  "    kernel_path: boot():/vmlinuz-linux\n"
                                  "    cmdline: root=UUID=0a1b rw quiet\n"
                                  "    module_path: boot():/initramfs-linux.img\n"
                                  "\n"
                                  "/Arch Linux (fallback)\n"
                                  "    protocol: linux\n"
                                  "    kernel_path: boot():/vmlinuz-linux\n"
                                  "    KERNEL_CMDLINE:root=UUID=0a1b rw\r\n"
                                  "    module_path: boot():/initramfs-linux-fallback.img\n"
                                  "\n"
                                  "/Fedora\n"
                                  "    protocol: linux\n"
                                  "    cmdline: root=UUID=ffff ro rhgb\n"
                                  "\n"
                                  "/Windows\n"
                                  "    protocol: efi\n"
                                  "    path: boot():/EFI/Microsoft/Boot/bootmgfw.efi\n";

static struct boot_facts facts(void)
{
        return (struct boot_facts){
            .cmdline = S("root=UUID=0a1b rw quiet"),
            .efi = true,
            .limine_conf = S(CONF),
        };
}

#define HASH_NOTE(path)                                                                                     \
        "Secure Boot: if a hash of " path                                                                   \
        " is enrolled in Limine's EFI binary (limine enroll-config), the "                                  \
        "edited file no longer matches it and Limine refuses to boot; setup cannot tell whether one is "    \
        "enrolled: if so, enroll the new file's hash (b2sum) before rebooting"

static void test_entries_of_this_system(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-limine");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "boot/limine.conf", limine_conf);
        bt_plan(boot_limine_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, CONF, SETUP_FILE_MODIFY,
                       "timeout: 5\n"
                       "# Arch, written by hand\n"
                       "\n"
                       "/Arch Linux\n"
                       "    protocol: linux\n"
                       "    kernel_path: boot():/vmlinuz-linux\n"
                       "    cmdline: root=UUID=0a1b rw quiet intel_iommu=on iommu=pt\n"
                       "    module_path: boot():/initramfs-linux.img\n"
                       "\n"
                       "/Arch Linux (fallback)\n"
                       "    protocol: linux\n"
                       "    kernel_path: boot():/vmlinuz-linux\n"
                       "    KERNEL_CMDLINE:root=UUID=0a1b rw intel_iommu=on iommu=pt\r\n"
                       "    module_path: boot():/initramfs-linux-fallback.img\n"
                       "\n"
                       "/Fedora\n"
                       "    protocol: linux\n"
                       "    cmdline: root=UUID=ffff ro rhgb\n"
                       "\n"
                       "/Windows\n"
                       "    protocol: efi\n"
                       "    path: boot():/EFI/Microsoft/Boot/bootmgfw.efi\n");
        assert_int_equal(p.n_commands, 0);
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on iommu=pt");
        assert_string_equal(
            bt_notes(&p),
            "Limine reads " CONF " at boot: edited the cmdline of /Arch Linux, /Arch Linux "
            "(fallback)\n"
            "left alone, they boot another system: /Fedora (line 16: root=UUID=ffff), /Windows "
            "(line 20: no cmdline)\n" HASH_NOTE(
                CONF) "\n"
                      "if the next boot fails: at the Limine menu, press e on the entry, delete "
                      "intel_iommu=on iommu=pt from its cmdline and press F10 (that boot only; not where "
                      "the editor is disabled)");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_limine_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_macros_and_old_format(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-limine");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "boot/limine.conf",
                        "${ROOTDEV}=UUID=0a1b\n"
                        "/+Arch Linux\n"
                        "//linux\n"
                        "    protocol: linux\n"
                        "    cmdline: root=${ROOTDEV} rw\n");
        bt_plan(boot_limine_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, CONF, SETUP_FILE_MODIFY,
                       "${ROOTDEV}=UUID=0a1b\n/+Arch Linux\n//linux\n    protocol: linux\n"
                       "    cmdline: root=${ROOTDEV} rw iommu=pt\n");
        setup_plan_done(&p);

        f.limine_conf = S("/boot/limine.cfg");
        test_tree_write(t, "boot/limine.cfg",
                        "TIMEOUT=5\n"
                        ":Arch Linux\n"
                        "PROTOCOL=linux\n"
                        "KERNEL_PATH=boot:///vmlinuz-linux\n"
                        "CMDLINE=root=UUID=0a1b rw\n"
                        ":Other\n"
                        "CMDLINE=root=UUID=9999\n");
        bt_plan(boot_limine_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, "/boot/limine.cfg", SETUP_FILE_MODIFY,
                       "TIMEOUT=5\n:Arch Linux\nPROTOCOL=linux\nKERNEL_PATH=boot:///vmlinuz-linux\n"
                       "CMDLINE=root=UUID=0a1b rw iommu=pt\n:Other\nCMDLINE=root=UUID=9999\n");
        assert_non_null(
            strstr(bt_notes(&p), "left alone, they boot another system: :Other (line 6: root=UUID=9999)"));
        assert_non_null(strstr(bt_notes(&p), HASH_NOTE("/boot/limine.cfg")));
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_limine_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_refusals(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-limine");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "boot/limine.conf", limine_conf);
        f.cmdline = S("quiet");
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused,
                            "cannot tell which entries of " CONF " boot this system: /proc/cmdline "
                            "has no root=; add the arguments to your entry's cmdline by hand");
        setup_plan_done(&p);

        f.cmdline = S("root=UUID=dead");
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused,
                            "no entry of " CONF " boots this installation, with root=UUID=dead; "
                            "add the arguments to your entry's cmdline by hand");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        f.cmdline = S("root=UUID=ffff");
        test_tree_write(t, "boot/limine.conf", "/Fedora\n    cmdline: root=UUID=ffff iommu=off\n");
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused,
                            CONF ":1: iommu=pt conflicts with iommu=off already on the command line");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        f.limine_conf = NULL;
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused, "no limine.conf found in Limine's search paths");
        setup_plan_done(&p);
        test_tree_free(t);
}

/* CachyOS: /etc/default/limine already has iommu=pt; our drop-in adds only intel_iommu=on. */
static void test_entry_tool(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-limine");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        f.limine_entry_tool = true;
        test_tree_write(t, "boot/limine.conf", limine_conf);
        test_tree_write(t, "etc/default/limine",
                        "ESP_PATH=\"/boot\"\n"
                        "KERNEL_CMDLINE[default]=\"root=UUID=0a1b rw quiet\"\n"
                        "#KERNEL_CMDLINE[default]+=\" intel_iommu=on\"\n");
        test_tree_write(t, "etc/limine-entry-tool.d/10-user.conf", "KERNEL_CMDLINE[default]+=' iommu=pt'\n");
        bt_plan(boot_limine_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/etc/limine-entry-tool.d/90-gpu-handoff.conf", SETUP_FILE_CREATE,
                       "# Written by gpu-handoff setup; `gpu-handoff setup undo` removes it.\n"
                       "KERNEL_CMDLINE[default]+=\" intel_iommu=on\"\n");
        assert_int_equal(p.files[0].mode, 0644);
        assert_string_equal(bt_commands(&p), "limine-update");
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on");
        assert_string_equal(
            bt_notes(&p),
            "limine-entry-tool writes " CONF " from /etc/default/limine and its drop-ins: "
            "/etc/limine-entry-tool.d/90-gpu-handoff.conf adds intel_iommu=on to the default "
            "entries, and every kernel installed from now on gets them too\n" HASH_NOTE(
                CONF) "\n"
                      "if the next boot fails: at the Limine menu, press e on the entry, delete "
                      "intel_iommu=on iommu=pt from its cmdline and press F10 (that boot only; not where "
                      "the editor is disabled)");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_limine_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);

        /* a drop-in can only add */
        struct setup_inputs rm = bt_inputs(t, &f, NULL, BT_ARGS("quiet"));
        bt_plan(boot_limine_plan, &rm, &p);
        assert_string_equal(p.refused,
                            "quiet is in limine-entry-tool's KERNEL_CMDLINE (/etc/default/limine, "
                            "/etc/limine-entry-tool.d/10-user.conf); a drop-in can only add "
                            "arguments: remove it there, then run setup again");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        /* a conflicting value there */
        test_tree_write(t, "etc/limine-entry-tool.d/10-user.conf",
                        "KERNEL_CMDLINE[default]+=\" iommu=soft\"\n");
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused,
                            "limine-entry-tool's KERNEL_CMDLINE: iommu=pt conflicts with iommu=soft "
                            "already on the command line");
        setup_plan_done(&p);
        test_tree_free(t);
}

/* The hash trap read from Limine's EFI binary: 128 '0's after the marker is "none enrolled" (no
 * note needed), anything else refuses the edit. */
static void test_enrolled_hash(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-limine");
        struct boot_facts f = facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;
        char binary[512], hash[129];

        f.esp = S("/boot");
        test_tree_write(t, "boot/limine.conf", "/Arch\n    cmdline: root=UUID=0a1b\n");
        memset(hash, '0', 128);
        hash[128] = '\0';
        snprintf(binary, sizeof(binary), "MZ limine ++CONFIG_B2SUM_SIGNATURE++%s tail", hash);
        test_tree_write(t, "boot/EFI/BOOT/BOOTX64.EFI", binary);
        bt_plan(boot_limine_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_null(strstr(bt_notes(&p), "Secure Boot"));
        setup_plan_done(&p);

        hash[5] = 'a';
        snprintf(binary, sizeof(binary), "MZ limine ++CONFIG_B2SUM_SIGNATURE++%s tail", hash);
        test_tree_write(t, "boot/EFI/limine/limine_x64.efi", binary);
        bt_plan(boot_limine_plan, &in, &p);
        assert_string_equal(p.refused,
                            "a hash of Limine's configuration is enrolled in "
                            "/boot/EFI/limine/limine_x64.efi (limine enroll-config): under Secure Boot "
                            "an edited " CONF " stops the boot; add the arguments by hand and enroll "
                            "the new file's hash, then run setup again");
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_entries_of_this_system),
            cmocka_unit_test(test_macros_and_old_format),
            cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_entry_tool),
            cmocka_unit_test(test_enrolled_hash),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
