/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the systemd-boot backend (src/setup/boot-systemd-boot.c) on fake roots holding the
 * files of real layouts (Debian 12 with kernel-install, Arch with entries written by hand):
 * - kernel-install: /etc/kernel/cmdline edited token by token (the user's arguments and their
 *   order kept), then `kernel-install add KVER IMAGE` for every installed kernel with the image
 *   that exists, and a check of every entry's options under the name kernel-install writes
 *   (entry-token, machine id, boot counting's +TRIES);
 * - a missing /etc/kernel/cmdline is created from the BOOTED entry's options (several options
 *   lines joined, systemd.machine_id= left out), never from /proc/cmdline; no booted entry
 *   known: refused, naming the file to create;
 * - entries by hand: the options of every entry with the booted root= edited in place, the
 *   fallback entry included, every other byte kept; other systems' entries and Windows left
 *   alone and named in a note; no command;
 * - idempotence: the planned files applied, a second plan plans nothing;
 * - arguments already present are not added; a conflicting value refuses; removal; hostile
 *   content (quoted arguments, an empty options line, a very long line, CRLF). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot-test.h"

#define S(x) ((char *)(x))

#define MID "4f8e2d1c9b7a46e3a1d0c5b6e7f80912"
#define ENTRIES "/efi/loader/entries"

static const char debian_entry_13[] = "title      Debian GNU/Linux 12 (bookworm)\n"
                                      "version    6.1.0-13-amd64\n"
                                      "machine-id " MID "\n"
                                      "sort-key   debian\n"
                                      "options    root=UUID=0a1b rw quiet systemd.machine_id=" MID "\n"
                                      "linux      /" MID "/6.1.0-13-amd64/linux\n"
                                      "initrd     /" MID "/6.1.0-13-amd64/initrd.img-6.1.0-13-amd64\n";

static const char debian_entry_12[] = "title      Debian GNU/Linux 12 (bookworm)\n"
                                      "version    6.1.0-12-amd64\n"
                                      "machine-id " MID "\n"
                                      "sort-key   debian\n"
                                      "options    root=UUID=0a1b rw quiet systemd.machine_id=" MID "\n"
                                      "linux      /" MID "/6.1.0-12-amd64/linux\n"
                                      "initrd     /" MID "/6.1.0-12-amd64/initrd.img-6.1.0-12-amd64\n";

static struct test_tree *debian_tree(void)
{
        struct test_tree *t = test_tree_new("test-boot-systemd-boot");

        test_tree_write(t, "etc/machine-id", MID "\n");
        test_tree_write(t, "efi/loader/entries/" MID "-6.1.0-13-amd64.conf", debian_entry_13);
        test_tree_write(t, "efi/loader/entries/" MID "-6.1.0-12-amd64.conf", debian_entry_12);
        test_tree_write(t, "boot/vmlinuz-6.1.0-13-amd64", "kernel");
        test_tree_write(t, "boot/vmlinuz-6.1.0-12-amd64", "kernel");
        test_tree_mkdir(t, "lib/modules/6.1.0-13-amd64");
        test_tree_mkdir(t, "lib/modules/6.1.0-12-amd64");
        return t;
}

static struct boot_facts debian_facts(void)
{
        static char *entries[] = {S(MID "-6.1.0-12-amd64.conf"), S(MID "-6.1.0-13-amd64.conf"), NULL};
        static char *kernels[] = {S("6.1.0-12-amd64"), S("6.1.0-13-amd64"), NULL};

        return (struct boot_facts){
            .cmdline = S("root=UUID=0a1b rw quiet systemd.machine_id=" MID),
            .running_kernel = S("6.1.0-13-amd64"),
            .efi = true,
            .loader_info = S("systemd-boot 252.39-1~deb12u2"),
            .loader_entry = S(MID "-6.1.0-13-amd64.conf"),
            .esp = S("/efi"),
            .entries_dir = S(ENTRIES),
            .entries = entries,
            .entries_by_kernel_install = true,
            .kernels = kernels,
        };
}

#define DEBIAN_COMMANDS                                                                                     \
        "kernel-install add 6.1.0-12-amd64 /boot/vmlinuz-6.1.0-12-amd64\n"                                  \
        "kernel-install add 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64"
#define DEBIAN_CHECKS                                                                                       \
        ENTRIES "/" MID "-6.1.0-12-amd64.conf options: intel_iommu=on iommu=pt\n" ENTRIES "/" MID           \
                "-6.1.0-13-amd64.conf options: intel_iommu=on iommu=pt"

static void test_kernel_install_edits_cmdline(void **state)
{
        struct test_tree *t = debian_tree();
        struct boot_facts f = debian_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "etc/kernel/cmdline", "root=UUID=0a1b rw  quiet\tloglevel=3\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                       "root=UUID=0a1b rw  quiet\tloglevel=3 intel_iommu=on iommu=pt\n");
        assert_string_equal(p.files[0].before, "root=UUID=0a1b rw  quiet\tloglevel=3\n");
        assert_string_equal(bt_commands(&p), DEBIAN_COMMANDS);
        assert_int_equal(p.commands[0].kind, SETUP_COMMAND_REGENERATE);
        assert_string_equal(bt_checks(&p), DEBIAN_CHECKS);
        assert_string_equal(bt_list(&p.args_add), "intel_iommu=on iommu=pt");
        assert_string_equal(
            bt_notes(&p),
            "kernel-install takes the options of every entry from /etc/kernel/cmdline: every "
            "kernel installed from now on boots with these arguments too\n"
            "if the next boot fails: in the systemd-boot menu, select the entry, press e, delete "
            "intel_iommu=on iommu=pt and press Enter (that boot only)");

        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* Created from the booted entry, not from /proc/cmdline (which holds a one-off "single" edit);
 * the two options lines joined; kernel-install's systemd.machine_id= left out. */
static void test_kernel_install_creates_cmdline_from_booted_entry(void **state)
{
        struct test_tree *t = debian_tree();
        struct boot_facts f = debian_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        f.cmdline = S("root=UUID=0a1b rw quiet systemd.machine_id=" MID " single");
        test_tree_write(t, "efi/loader/entries/" MID "-6.1.0-13-amd64.conf",
                        "title      Debian GNU/Linux 12 (bookworm)\n"
                        "# the user split the options\n"
                        "options    root=UUID=0a1b rw\n"
                        "options    quiet \"acpi_osi=Windows 2015\" systemd.machine_id=" MID "\n"
                        "linux      /" MID "/6.1.0-13-amd64/linux\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_CREATE,
                       "root=UUID=0a1b rw quiet \"acpi_osi=Windows 2015\" intel_iommu=on iommu=pt\n");
        assert_int_equal(p.files[0].mode, 0644);
        assert_string_equal(bt_commands(&p), DEBIAN_COMMANDS);
        assert_string_equal(bt_checks(&p), DEBIAN_CHECKS);
        assert_non_null(strstr(bt_notes(&p),
                               "/etc/kernel/cmdline did not exist: it is created from the options "
                               "of the booted entry " ENTRIES "/" MID "-6.1.0-13-amd64.conf"));

        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* LoaderEntrySelected without ".conf" (systemd < 239) and with a boot counter on the file name. */
static void test_kernel_install_booted_entry_id_forms(void **state)
{
        struct test_tree *t = debian_tree();
        struct boot_facts f = debian_facts();
        static char *entries[] = {S(MID "-6.1.0-12-amd64.conf"), S(MID "-6.1.0-13-amd64+2-1.conf"), NULL};
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "efi/loader/entries/" MID "-6.1.0-13-amd64+2-1.conf",
                        "options root=UUID=0a1b rw splash\nlinux /x\n");
        f.entries = entries;
        f.loader_entry = S(MID "-6.1.0-13-amd64");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_CREATE,
                       "root=UUID=0a1b rw splash iommu=pt\n");
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_kernel_install_no_booted_entry_refused(void **state)
{
        struct test_tree *t = debian_tree();
        struct boot_facts f = debian_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        f.loader_entry = NULL;
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_string_equal(
            p.refused, "/etc/kernel/cmdline does not exist and the booted loader entry is not known (no "
                       "LoaderEntrySelected EFI variable); create /etc/kernel/cmdline with the kernel "
                       "arguments every entry should boot with (the options line of the entry you boot, "
                       "in " ENTRIES "), then run setup again");
        assert_int_equal(p.n_files, 0);
        assert_int_equal(p.n_commands, 0);
        setup_plan_done(&p);

        f.loader_entry = S("some-other-entry.conf");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_non_null(strstr(p.refused, "LoaderEntrySelected names no entry there"));
        setup_plan_done(&p);
        test_tree_free(t);
}

/* /etc/kernel/entry-token names the entries; /etc/kernel/tries makes them NAME+TRIES.conf; an
 * Arch-style kernel has its image in /usr/lib/modules. */
static void test_kernel_install_entry_token_and_tries(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-systemd-boot");
        static char *entries[] = {S("arch-6.6.7-arch1-1+1-2.conf"), NULL};
        static char *kernels[] = {S("6.6.7-arch1-1"), NULL};
        struct boot_facts f = {
            .cmdline = S("root=/dev/nvme0n1p2 rw"),
            .esp = S("/boot"),
            .entries_dir = S("/boot/loader/entries"),
            .entries = entries,
            .entries_by_kernel_install = true,
            .kernels = kernels,
        };
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        test_tree_write(t, "etc/machine-id", MID "\n");
        test_tree_write(t, "etc/kernel/entry-token", "arch\n");
        test_tree_write(t, "etc/kernel/tries", "3\n");
        test_tree_write(t, "etc/kernel/cmdline", "root=/dev/nvme0n1p2 rw\n");
        test_tree_write(t, "usr/lib/modules/6.6.7-arch1-1/vmlinuz", "kernel");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, "root=/dev/nvme0n1p2 rw iommu=pt\n");
        assert_string_equal(bt_commands(&p),
                            "kernel-install add 6.6.7-arch1-1 /usr/lib/modules/6.6.7-arch1-1/vmlinuz");
        assert_string_equal(bt_checks(&p),
                            "/boot/loader/entries/arch-6.6.7-arch1-1+3.conf options: iommu=pt");
        assert_non_null(strstr(bt_notes(&p), "boot counting is on (/etc/kernel/tries: 3)"));
        setup_plan_done(&p);

        /* no entry-token file: the existing entries' token wins over the machine id */
        test_tree_write(t, "etc/kernel/entry-token", "");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_string_equal(bt_checks(&p),
                            "/boot/loader/entries/arch-6.6.7-arch1-1+3.conf options: iommu=pt");
        setup_plan_done(&p);
        test_tree_free(t);
}

static void test_kernel_install_present_and_conflict(void **state)
{
        struct test_tree *t = debian_tree();
        struct boot_facts f = debian_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("intel_iommu=on", "iommu=pt"), NULL);
        struct setup_plan p;

        /* the user's intel_iommu=on stays where it is; only iommu=pt is new */
        test_tree_write(t, "etc/kernel/cmdline", "intel_iommu=on root=UUID=0a1b rw\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY,
                       "intel_iommu=on root=UUID=0a1b rw iommu=pt\n");
        assert_string_equal(bt_list(&p.args_add), "iommu=pt");
        setup_plan_done(&p);

        test_tree_write(t, "etc/kernel/cmdline", "root=UUID=0a1b rw iommu=soft\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_string_equal(p.refused,
                            "/etc/kernel/cmdline: iommu=pt conflicts with iommu=soft already on the "
                            "command line");
        assert_int_equal(p.n_files, 0);
        assert_int_equal(p.n_commands, 0);
        setup_plan_done(&p);

        /* removal: exactly that argument, every other byte kept */
        struct setup_inputs rm = bt_inputs(t, &f, NULL, BT_ARGS("iommu=soft"));
        bt_plan(boot_systemd_boot_plan, &rm, &p);
        assert_file(&p, 0, "/etc/kernel/cmdline", SETUP_FILE_MODIFY, "root=UUID=0a1b rw\n");
        assert_string_equal(bt_list(&p.args_remove), "iommu=soft");
        assert_string_equal(bt_commands(&p), DEBIAN_COMMANDS);
        setup_plan_done(&p);
        test_tree_free(t);
}

/* Arch with entries written by hand: arch.conf and arch-fallback.conf boot this system, the
 * other distribution and Windows are left alone. */
static const char arch_conf[] = "# written at install time\n"
                                "title   Arch Linux\n"
                                "linux   /vmlinuz-linux\n"
                                "initrd  /intel-ucode.img\n"
                                "initrd  /initramfs-linux.img\n"
                                "options root=PARTUUID=77aa rw nvidia-drm.modeset=1\n";
static const char fallback_conf[] = "title   Arch Linux (fallback initramfs)\n"
                                    "linux   /vmlinuz-linux\n"
                                    "initrd  /initramfs-linux-fallback.img\n"
                                    "options\troot=PARTUUID=77aa rw   \n";
static const char other_conf[] = "title   Fedora\n"
                                 "linux   /fedora/vmlinuz\n"
                                 "options root=UUID=ffff ro rhgb\n";
static const char windows_conf[] = "title Windows\nefi /EFI/Microsoft/Boot/bootmgfw.efi\n";

static struct test_tree *arch_tree(void)
{
        struct test_tree *t = test_tree_new("test-boot-systemd-boot");

        test_tree_write(t, "boot/loader/entries/arch.conf", arch_conf);
        test_tree_write(t, "boot/loader/entries/arch-fallback.conf", fallback_conf);
        test_tree_write(t, "boot/loader/entries/fedora.conf", other_conf);
        test_tree_write(t, "boot/loader/entries/windows.conf", windows_conf);
        return t;
}

static struct boot_facts arch_facts(void)
{
        static char *entries[] = {S("arch-fallback.conf"), S("arch.conf"), S("fedora.conf"),
                                  S("windows.conf"), NULL};

        return (struct boot_facts){
            .cmdline = S("initrd=\\intel-ucode.img initrd=\\initramfs-linux.img root=PARTUUID=77aa rw "
                         "nvidia-drm.modeset=1"),
            .efi = true,
            .loader_info = S("systemd-boot 255.4-1-arch"),
            .loader_entry = S("arch.conf"),
            .esp = S("/boot"),
            .entries_dir = S("/boot/loader/entries"),
            .entries = entries,
        };
}

static void test_by_hand_edits_this_systems_entries(void **state)
{
        struct test_tree *t = arch_tree();
        struct boot_facts f = arch_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt", "vfio-pci.ids=10de:2204"), NULL);
        struct setup_plan p;

        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 2);
        assert_file(&p, 0, "/boot/loader/entries/arch-fallback.conf", SETUP_FILE_MODIFY,
                       "title   Arch Linux (fallback initramfs)\n"
                       "linux   /vmlinuz-linux\n"
                       "initrd  /initramfs-linux-fallback.img\n"
                       "options\troot=PARTUUID=77aa rw iommu=pt vfio-pci.ids=10de:2204   \n");
        assert_file(
            &p, 1, "/boot/loader/entries/arch.conf", SETUP_FILE_MODIFY,
            "# written at install time\n"
            "title   Arch Linux\n"
            "linux   /vmlinuz-linux\n"
            "initrd  /intel-ucode.img\n"
            "initrd  /initramfs-linux.img\n"
            "options root=PARTUUID=77aa rw nvidia-drm.modeset=1 iommu=pt vfio-pci.ids=10de:2204\n");
        assert_int_equal(p.n_commands, 0);
        assert_string_equal(
            bt_checks(&p),
            "/boot/loader/entries/arch-fallback.conf options: iommu=pt vfio-pci.ids=10de:2204\n"
            "/boot/loader/entries/arch.conf options: iommu=pt vfio-pci.ids=10de:2204");
        assert_string_equal(
            bt_notes(&p),
            "the entries in /boot/loader/entries are written by hand (no kernel-install): edited "
            "arch-fallback.conf, arch.conf; an entry you add later needs the arguments too\n"
            "left alone, they boot another system: fedora.conf (root=UUID=ffff), windows.conf "
            "(not a Linux entry)\n"
            "if the next boot fails: in the systemd-boot menu, select the entry, press e, delete "
            "iommu=pt vfio-pci.ids=10de:2204 and press Enter (that boot only)");

        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);
        /* the other systems' entries are byte for byte what they were */
        char *other = tree_read(t, "boot/loader/entries/fedora.conf");
        assert_string_equal(other, other_conf);
        free(other);
        test_tree_free(t);
}

/* No booted entry known: root= of /proc/cmdline decides. None there either: refused. */
static void test_by_hand_root_from_proc_cmdline(void **state)
{
        struct test_tree *t = arch_tree();
        struct boot_facts f = arch_facts();
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;

        f.loader_entry = NULL;
        f.cmdline = S("root=UUID=ffff ro rhgb");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/boot/loader/entries/fedora.conf", SETUP_FILE_MODIFY,
                       "title   Fedora\nlinux   /fedora/vmlinuz\noptions root=UUID=ffff ro rhgb iommu=pt\n");
        setup_plan_done(&p);

        f.cmdline = S("quiet");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_non_null(p.refused);
        assert_non_null(strstr(p.refused, "neither the booted entry nor /proc/cmdline has root="));
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);

        f.cmdline = S("root=UUID=dead rw");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_string_equal(p.refused, "no loader entry in /boot/loader/entries boots this installation, "
                                       "root=UUID=dead; add the arguments to the options line of your "
                                       "entry by hand");
        setup_plan_done(&p);
        test_tree_free(t);
}

/* Hostile and odd entries: an empty options line, CRLF line ends, a quoted argument with
 * blanks, two options lines (the new arguments go at the end of the last), a very long line. */
static void test_by_hand_hostile_content(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-systemd-boot");
        static char *entries[] = {S("a.conf"), S("b.conf"), S("c.conf"), S("d.conf"), NULL};
        struct boot_facts f = {
            .cmdline = S("root=/dev/sda2 rw"),
            .esp = S("/boot"),
            .entries_dir = S("/boot/loader/entries"),
            .entries = entries,
        };
        struct setup_inputs in = bt_inputs(t, &f, BT_ARGS("iommu=pt"), NULL);
        struct setup_plan p;
        size_t big = 200000;
        char *long_line = malloc(big + 64), *want = malloc(big + 96);

        test_tree_write(t, "boot/loader/entries/a.conf", "linux /vmlinuz\r\noptions root=/dev/sda2 rw\r\n");
        test_tree_write(t, "boot/loader/entries/b.conf",
                        "linux /vmlinuz\noptions root=/dev/sda2 \"dyndbg=file drm* +p\"\noptions quiet\n");
        /* the last options line is empty: what it gains gets a blank before it */
        test_tree_write(t, "boot/loader/entries/c.conf",
                        "linux /vmlinuz\noptions root=/dev/sda2\noptions\n");
        if (!long_line || !want)
                fail();
        strcpy(long_line, "linux /vmlinuz\noptions root=/dev/sda2");
        size_t n = strlen(long_line);
        while (n < big) {
                memcpy(long_line + n, " x=1", 4);
                n += 4;
        }
        long_line[n] = '\0';
        memcpy(want, long_line, n);
        strcpy(want + n, " iommu=pt\n");
        strcat(long_line, "\n");
        test_tree_write(t, "boot/loader/entries/d.conf", long_line);

        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_null(p.refused);
        assert_int_equal(p.n_files, 4);
        assert_file(&p, 0, "/boot/loader/entries/a.conf", SETUP_FILE_MODIFY,
                       "linux /vmlinuz\r\noptions root=/dev/sda2 rw iommu=pt\r\n");
        assert_file(
            &p, 1, "/boot/loader/entries/b.conf", SETUP_FILE_MODIFY,
            "linux /vmlinuz\noptions root=/dev/sda2 \"dyndbg=file drm* +p\"\noptions quiet iommu=pt\n");
        assert_file(&p, 2, "/boot/loader/entries/c.conf", SETUP_FILE_MODIFY,
                       "linux /vmlinuz\noptions root=/dev/sda2\noptions iommu=pt\n");
        assert_file(&p, 3, "/boot/loader/entries/d.conf", SETUP_FILE_MODIFY, want);
        /* a check asks every options line for every argument: not for b and c, with two lines */
        assert_string_equal(bt_checks(&p), "/boot/loader/entries/a.conf options: iommu=pt\n"
                                           "/boot/loader/entries/d.conf options: iommu=pt");
        apply_files(t, &p);
        setup_plan_done(&p);
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_nothing(&p);
        setup_plan_done(&p);

        /* root= of the booted entry decides, not /proc/cmdline's (absent here) */
        f.cmdline = NULL;
        f.loader_entry = S("a.conf");
        test_tree_write(t, "boot/loader/entries/a.conf", "linux /vmlinuz\noptions root=/dev/sdb1\n");
        test_tree_write(t, "boot/loader/entries/e.conf", "linux /vmlinuz\noptions\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_file(&p, 0, "/boot/loader/entries/a.conf", SETUP_FILE_MODIFY,
                       "linux /vmlinuz\noptions root=/dev/sdb1 iommu=pt\n");
        assert_int_equal(p.n_files, 1);
        setup_plan_done(&p);

        /* removal reaches every options line, and keeps the rest of each */
        struct setup_inputs rm = bt_inputs(t, &f, NULL, BT_ARGS("iommu=soft"));
        test_tree_write(t, "boot/loader/entries/a.conf",
                        "linux /vmlinuz\noptions root=/dev/sdb1 iommu=soft rw\noptions iommu=soft quiet\n");
        bt_plan(boot_systemd_boot_plan, &rm, &p);
        assert_int_equal(p.n_files, 1);
        assert_file(&p, 0, "/boot/loader/entries/a.conf", SETUP_FILE_MODIFY,
                       "linux /vmlinuz\noptions root=/dev/sdb1 rw\noptions quiet\n");
        assert_string_equal(bt_list(&p.args_remove), "iommu=soft");
        assert_int_equal(p.n_checks, 0);
        setup_plan_done(&p);

        /* an open quote is refused with the file */
        test_tree_write(t, "boot/loader/entries/a.conf", "linux /vmlinuz\noptions root=/dev/sdb1 \"quiet\n");
        bt_plan(boot_systemd_boot_plan, &in, &p);
        assert_non_null(p.refused);
        assert_non_null(strstr(p.refused, "/boot/loader/entries/a.conf: "));
        assert_int_equal(p.n_files, 0);
        setup_plan_done(&p);
        free(long_line);
        free(want);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kernel_install_edits_cmdline),
            cmocka_unit_test(test_kernel_install_creates_cmdline_from_booted_entry),
            cmocka_unit_test(test_kernel_install_booted_entry_id_forms),
            cmocka_unit_test(test_kernel_install_no_booted_entry_refused),
            cmocka_unit_test(test_kernel_install_entry_token_and_tries),
            cmocka_unit_test(test_kernel_install_present_and_conflict),
            cmocka_unit_test(test_by_hand_edits_this_systems_entries),
            cmocka_unit_test(test_by_hand_root_from_proc_cmdline),
            cmocka_unit_test(test_by_hand_hostile_content),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
