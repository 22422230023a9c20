/* SPDX-License-Identifier: GPL-2.0-or-later */
/* host/boot: how the machine boots, read from every tests/fixtures/hosts/setup-*.host. Promises:
 *  - every setup fixture gives its bootloader and initramfs generator, and the facts the setup
 *    backends rely on (the ESP, the entries and who wrote them, kernels, vfio-pci built in,
 *    VT-d on by default, the CPU vendor, install.conf, dpkg's generator);
 *  - evidence for two loaders (BOOT_IMAGE= and LoaderInfo systemd-boot) is -ENOTUNIQ with one
 *    line naming both and the --bootloader values that decide; two generators likewise with
 *    --initramfs;
 *  - no evidence at all is -EADDRNOTAVAIL with a line that says to pass --bootloader /
 *    --initramfs;
 *  - an installed program alone (grub2-common on a systemd-boot host, dracut next to
 *    mkinitcpio presets) decides nothing;
 *  - one piece of evidence less turns a setup into its neighbour: Proxmox without LoaderInfo but
 *    with grub.cfg is GRUB mode, BLS without grubby is grub-bls, UKIs alone are uki even unnamed,
 *    UKIs next to type #1 entries need LoaderEntrySelected (else -ENOTUNIQ);
 *  - a loader that leaves no mark (kernelstub's EFI stub, rEFInd, Limine) is found by its
 *    configuration, and two such configurations are -ENOTUNIQ;
 *  - the names round-trip through to_string/from_string, unknown names are -EINVAL. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "host/boot.h"
#include "testtree.h"

struct expect {
        const char *host;
        const char *bootloader; /* NULL: -ENOTUNIQ */
        const char *initramfs;  /* NULL: INITRAMFS_NONE */
        bool efi;
        const char *esp;
        const char *entries_dir;
        size_t n_entries;
        bool by_kernel_install;
        const char *kernels; /* joined by ' ' */
        bool vfio_builtin;
        bool intel_default_on;
        enum cpu_vendor cpu;
        const char *grub_cfg;
        const char *install_layout;
        const char *initrd_generator;
        const char *dpkg_initramfs;
        bool kernel_cmdline;
        size_t n_ukis;
};

#define DEB_KERNELS "6.1.0-27-amd64 6.1.0-28-amd64"
#define ARCH_KERNEL "6.11.5-arch1-1"

static const struct expect expects[] = {
    {"setup-debian12-grub", "grub", "initramfs-tools", false, NULL, NULL, 0, false, DEB_KERNELS, false,
     false, CPU_VENDOR_INTEL, "/boot/grub/grub.cfg", NULL, NULL, "initramfs-tools", false, 0},
    {"setup-twin-gpu", "grub", "initramfs-tools", false, NULL, NULL, 0, false, DEB_KERNELS, false, false,
     CPU_VENDOR_AMD, "/boot/grub/grub.cfg", NULL, NULL, "initramfs-tools", false, 0},
    {"setup-amd-shared-audio", "grub", "initramfs-tools", false, NULL, NULL, 0, false, DEB_KERNELS, false,
     false, CPU_VENDOR_AMD, "/boot/grub/grub.cfg", NULL, NULL, "initramfs-tools", false, 0},
    {"setup-single-gpu", "grub", "initramfs-tools", false, NULL, NULL, 0, false,
     "6.1.0-28-amd64 6.6.63-custom", false, true, CPU_VENDOR_INTEL, "/boot/grub/grub.cfg", NULL, NULL,
     "initramfs-tools", false, 0},
    {"setup-ubuntu-cloud", "grub", "initramfs-tools", true, "/boot/efi", NULL, 0, false, "6.8.0-49-generic",
     true, false, CPU_VENDOR_AMD, "/boot/grub/grub.cfg", NULL, NULL, "initramfs-tools", false, 0},
    {"setup-fedora-grubby", "grubby", "dracut", true, "/boot/efi", "/boot/loader/entries", 3, true,
     "6.11.3-300.fc41.x86_64 6.11.4-301.fc41.x86_64", false, false, CPU_VENDOR_AMD, "/boot/grub2/grub.cfg",
     NULL, NULL, NULL, true, 0},
    {"setup-arch-sdboot-mkinitcpio", "systemd-boot", "mkinitcpio", true, "/boot", "/boot/loader/entries", 2,
     false, ARCH_KERNEL, false, false, CPU_VENDOR_AMD, NULL, NULL, NULL, NULL, false, 0},
    {"setup-arch-grub-booster", "grub", "booster", true, "/efi", NULL, 0, false, ARCH_KERNEL, false, false,
     CPU_VENDOR_INTEL, "/boot/grub/grub.cfg", NULL, NULL, NULL, false, 0},
    {"setup-endeavouros-sdboot-dracut", "systemd-boot", "dracut", true, "/efi", "/efi/loader/entries", 2,
     true, ARCH_KERNEL, false, false, CPU_VENDOR_AMD, NULL, "bls", "dracut", NULL, true, 0},
    {"setup-popos-kernelstub", "kernelstub", "initramfs-tools", true, "/boot/efi",
     "/boot/efi/loader/entries", 2, false, "6.8.0-76060800daily20240311-generic 6.9.3-76060903-generic",
     false, false, CPU_VENDOR_INTEL, NULL, NULL, NULL, "initramfs-tools", false, 0},
    {"setup-silverblue", "rpm-ostree", NULL, true, "/boot/efi", "/boot/loader/entries", 2, false,
     "6.11.4-301.fc41.x86_64", false, false, CPU_VENDOR_AMD, "/boot/grub2/grub.cfg", NULL, NULL, NULL, false,
     0},
    {"setup-proxmox-zfs", "proxmox", "initramfs-tools", true, NULL, NULL, 0, false,
     "6.8.12-2-pve 6.8.12-4-pve", false, false, CPU_VENDOR_AMD, "/boot/grub/grub.cfg", NULL, NULL,
     "initramfs-tools", true, 0},
    {"setup-uki", "uki", "mkinitcpio", true, "/efi", NULL, 0, false, ARCH_KERNEL, false, false,
     CPU_VENDOR_INTEL, NULL, "uki", NULL, NULL, true, 2},
    {"setup-refind", "refind", "mkinitcpio", true, "/boot/efi", NULL, 0, false, ARCH_KERNEL, false, false,
     CPU_VENDOR_AMD, NULL, NULL, NULL, NULL, false, 0},
    {"setup-limine", "limine", "mkinitcpio", true, "/boot", NULL, 0, false, ARCH_KERNEL, false, false,
     CPU_VENDOR_INTEL, NULL, NULL, NULL, NULL, false, 0},
    {"setup-debian12-sdboot-dracut", "systemd-boot", "dracut", true, "/boot/efi", "/boot/efi/loader/entries",
     2, true, DEB_KERNELS, false, false, CPU_VENDOR_AMD, NULL, NULL, NULL, "dracut", true, 0},
    {"setup-ambiguous", NULL, "initramfs-tools", true, "/boot/efi", "/boot/efi/loader/entries", 1, false,
     "6.1.0-28-amd64", false, false, CPU_VENDOR_INTEL, "/boot/grub/grub.cfg", NULL, NULL, "initramfs-tools",
     false, 0},
};

static struct test_tree *tree_from_host(const char *name)
{
        const char *dir = getenv("GPU_HANDOFF_HOSTS");
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct test_tree *t;
        FILE *f;
        size_t len = 0;

        assert_non_null(dir);
        assert_true(asprintf(&path, "%s/%s.host", dir, name) > 0);
        f = fopen(path, "re");
        if (!f)
                fail_msg("%s: %m", path);
        assert_int_equal(read_fd_full(fileno(f), 1024 * 1024, &text, &len), 0);
        fclose(f);
        t = test_tree_fakehost("test-boot-facts", text);
        return t;
}

static void assert_opt_string(const char *what, const char *got, const char *expected)
{
        if (!expected && !got)
                return;
        if (!expected || !got || strcmp(got, expected) != 0)
                fail_msg("%s: got %s, expected %s", what, got ? got : "(null)",
                         expected ? expected : "(null)");
}

static void check_host(const struct expect *e)
{
        struct test_tree *t = tree_from_host(e->host);
        struct boot_facts f = {};
        enum bootloader_id b = BOOTLOADER_NONE;
        enum initramfs_id i = INITRAMFS_NONE;
        char *error = NULL, *kernels;
        int r;

        print_message("%s\n", e->host);
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_null(error);

        r = boot_detect_bootloader(&f, &b, &error);
        if (e->bootloader) {
                if (r < 0)
                        fail_msg("%s: %s", e->host, error ? error : strerror(-r));
                assert_string_equal(bootloader_to_string(b), e->bootloader);
        } else {
                assert_int_equal(r, -ENOTUNIQ);
                assert_non_null(error);
                b = BOOTLOADER_GRUB;
        }
        free(error);
        error = NULL;

        r = boot_detect_initramfs(&f, b, &i, &error);
        if (r < 0)
                fail_msg("%s: %s", e->host, error ? error : strerror(-r));
        assert_opt_string("initramfs", initramfs_to_string(i), e->initramfs);

        assert_int_equal(f.efi, e->efi);
        assert_opt_string("esp", f.esp, e->esp);
        assert_opt_string("entries_dir", f.entries_dir, e->entries_dir);
        assert_int_equal(strv_length(f.entries), e->n_entries);
        assert_int_equal(f.entries_by_kernel_install, e->by_kernel_install);
        kernels = strv_join(f.kernels, " ");
        assert_opt_string("kernels", kernels, e->kernels);
        free(kernels);
        assert_int_equal(f.vfio_pci_builtin, e->vfio_builtin);
        assert_int_equal(f.intel_iommu_default_on, e->intel_default_on);
        assert_int_equal(f.cpu.vendor, e->cpu);
        assert_opt_string("grub_cfg", f.grub_cfg, e->grub_cfg);
        assert_opt_string("install_layout", f.install_layout, e->install_layout);
        assert_opt_string("initrd_generator", f.initrd_generator, e->initrd_generator);
        assert_opt_string("dpkg_initramfs", f.dpkg_initramfs, e->dpkg_initramfs);
        assert_int_equal(f.kernel_cmdline, e->kernel_cmdline);
        assert_int_equal(strv_length(f.ukis), e->n_ukis);
        assert_non_null(f.cmdline);
        assert_non_null(f.running_kernel);

        boot_facts_done(&f);
        test_tree_free(t);
}

static void test_every_setup_host(void **state)
{
        for (size_t k = 0; k < ELEMENTSOF(expects); k++)
                check_host(&expects[k]);
}

/* The facts each backend reads, beyond the table above. */
static void test_details(void **state)
{
        struct test_tree *t;
        struct boot_facts f = {};
        char *error = NULL;

        t = tree_from_host("setup-arch-sdboot-mkinitcpio");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_string_equal(f.loader_info, "systemd-boot 256.7-1-arch");
        assert_string_equal(f.loader_entry, "arch.conf");
        assert_string_equal(f.entries[0], "arch-fallback.conf");
        assert_string_equal(f.entries[1], "arch.conf");
        assert_true(f.mkinitcpio_presets);
        assert_false(f.grub_default);
        assert_string_equal(f.running_kernel, "6.11.5-arch1-1");
        boot_facts_done(&f);
        test_tree_free(t);

        /* hand-written entries stay the user's, until an entry token names them as kernel-install
         * does when the token is not the machine-id ("debian-6.1.0-50-amd64.conf", no machine-id line) */
        t = tree_from_host("setup-arch-sdboot-mkinitcpio");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_false(f.entries_by_kernel_install);
        boot_facts_done(&f);
        test_tree_write(t, "etc/kernel/entry-token", "arch\n");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.entries_by_kernel_install);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-ubuntu-cloud");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.grub_default);
        assert_true(f.grub_default_d);
        assert_false(f.grub_bls);
        assert_null(f.loader_info);
        assert_string_equal(f.cmdline, "BOOT_IMAGE=/vmlinuz-6.8.0-49-generic root=LABEL=cloudimg-rootfs ro "
                                       "console=tty1 console=ttyS0");
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-fedora-grubby");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.grub_bls);
        assert_true(f.grubby);
        assert_true(f.dracut);
        assert_false(f.grub_default_d);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-proxmox-zfs");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.proxmox);
        assert_null(f.esp);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-silverblue");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.ostree_booted);
        assert_string_equal(f.entries[0], "ostree-1.conf");
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-uki");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_string_equal(f.ukis[0], "/efi/EFI/Linux/arch-linux-fallback.efi");
        assert_string_equal(f.ukis[1], "/efi/EFI/Linux/arch-linux.efi");
        assert_string_equal(f.uki_generator, "ukify");
        assert_true(f.ukify);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-refind");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_string_equal(f.refind_conf, "/boot/refind_linux.conf");
        assert_true(f.refind_on_esp);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-limine");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_string_equal(f.limine_conf, "/boot/limine.conf");
        assert_false(f.limine_entry_tool);
        boot_facts_done(&f);
        test_tree_free(t);

        t = tree_from_host("setup-popos-kernelstub");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.kernelstub);
        assert_string_equal(f.loader_entry, "Pop_OS-current.conf");
        boot_facts_done(&f);
        test_tree_free(t);
        assert_null(error);
}

static void test_ambiguous_names_both(void **state)
{
        struct test_tree *t = tree_from_host("setup-ambiguous");
        struct boot_facts f = {};
        enum bootloader_id b = BOOTLOADER_NONE;
        char *error = NULL;

        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_int_equal(boot_detect_bootloader(&f, &b, &error), -ENOTUNIQ);
        assert_int_equal(b, BOOTLOADER_NONE);
        assert_non_null(error);
        assert_non_null(strstr(error, "BOOT_IMAGE="));
        assert_non_null(strstr(error, "LoaderInfo \"systemd-boot 252.30-1~deb12u2\""));
        assert_non_null(strstr(error, "--bootloader grub"));
        assert_non_null(strstr(error, "--bootloader systemd-boot"));
        assert_null(strchr(error, '\n'));
        free(error);
        boot_facts_done(&f);
        test_tree_free(t);
}

static void test_two_generators(void **state)
{
        struct test_tree *t = tree_from_host("setup-arch-sdboot-mkinitcpio");
        struct boot_facts f = {};
        enum initramfs_id i = INITRAMFS_NONE;
        char *error = NULL, path[512];

        /* booster installed next to mkinitcpio's presets: both configured, the user decides */
        test_tree_write(t, "etc/booster.yaml", "universal: false\n");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_int_equal(boot_detect_initramfs(&f, BOOTLOADER_SYSTEMD_BOOT, &i, &error), -ENOTUNIQ);
        assert_non_null(strstr(error, "--initramfs mkinitcpio"));
        assert_non_null(strstr(error, "--initramfs booster"));
        free(error);
        error = NULL;
        boot_facts_done(&f);

        /* dracut installed as well changes nothing: a program is not evidence */
        snprintf(path, sizeof(path), "%s/etc/booster.yaml", t->dir);
        assert_int_equal(unlink(path), 0);
        test_tree_write(t, "usr/bin/dracut", "");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_true(f.dracut);
        assert_int_equal(boot_detect_initramfs(&f, BOOTLOADER_SYSTEMD_BOOT, &i, &error), 0);
        assert_int_equal(i, INITRAMFS_MKINITCPIO);
        boot_facts_done(&f);
        test_tree_free(t);
}

static void test_no_evidence(void **state)
{
        struct test_tree *t = test_tree_fakehost("test-boot-facts", "cmdline root=/dev/sda1 ro\n");
        struct boot_facts f = {};
        enum bootloader_id b = BOOTLOADER_NONE;
        enum initramfs_id i = INITRAMFS_NONE;
        char *error = NULL;

        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_false(f.efi);
        assert_null(f.kernels); /* lib/modules without an image is not an installed kernel */
        assert_int_equal(boot_detect_bootloader(&f, &b, &error), -EADDRNOTAVAIL);
        assert_non_null(strstr(error, "--bootloader"));
        assert_non_null(strstr(error, "BOOT_IMAGE="));
        free(error);
        error = NULL;
        assert_int_equal(boot_detect_initramfs(&f, BOOTLOADER_GRUB, &i, &error), -EADDRNOTAVAIL);
        assert_non_null(strstr(error, "--initramfs"));
        free(error);
        boot_facts_done(&f);
        test_tree_free(t);
}

/* Without a mark on the running boot, the configuration of a loader that leaves none decides;
 * two of them are a question. */
static void test_unmarked_loaders(void **state)
{
        struct test_tree *t = test_tree_fakehost(
            "test-boot-facts", "cmdline initrd=\\EFI\\Pop_OS-x\\initrd.img root=/dev/sda2 ro\n"
                               "dir sys/firmware/efi/efivars\n"
                               "file etc/kernelstub/configuration {}\n");
        struct boot_facts f = {};
        enum bootloader_id b = BOOTLOADER_NONE;
        char *error = NULL;

        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_int_equal(boot_detect_bootloader(&f, &b, &error), 0);
        assert_int_equal(b, BOOTLOADER_KERNELSTUB);
        boot_facts_done(&f);

        test_tree_write(t, "boot/limine.conf", "timeout: 5\n");
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_string_equal(f.limine_conf, "/boot/limine.conf");
        assert_int_equal(boot_detect_bootloader(&f, &b, &error), -ENOTUNIQ);
        assert_non_null(strstr(error, "--bootloader kernelstub or --bootloader limine"));
        free(error);
        boot_facts_done(&f);
        test_tree_free(t);
}

static void tree_remove_file(struct test_tree *t, const char *rel)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        assert_int_equal(unlink(path), 0);
}

static enum bootloader_id detect(struct test_tree *t, int expected_r)
{
        struct boot_facts f = {};
        enum bootloader_id b = BOOTLOADER_NONE;
        char *error = NULL;

        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_int_equal(boot_detect_bootloader(&f, &b, &error), expected_r);
        if (expected_r == -ENOTUNIQ) {
                assert_non_null(strstr(error, "--bootloader uki"));
                assert_non_null(strstr(error, "--bootloader systemd-boot"));
        }
        free(error);
        boot_facts_done(&f);
        return b;
}

#define LOADER_VAR(name) "sys/firmware/efi/efivars/" name "-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

/* As efivarfs has it: attributes, UTF-16LE text, NUL. */
static void write_loader_var(struct test_tree *t, const char *name, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/sys/firmware/efi/efivars/%s-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f",
                 t->dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        fwrite("\x06\0\0\0", 1, 4, f);
        for (const char *c = text;; c++) {
                fputc(*c, f);
                fputc(0, f);
                if (!*c)
                        break;
        }
        assert_int_equal(fclose(f), 0);
}

/* One piece of evidence less turns a setup into its neighbour. */
static void test_variants(void **state)
{
        struct test_tree *t;

        /* Proxmox without systemd-boot's mark but with grub.cfg: GRUB mode, plain update-grub */
        t = tree_from_host("setup-proxmox-zfs");
        tree_remove_file(t, LOADER_VAR("LoaderInfo"));
        assert_int_equal(detect(t, 0), BOOTLOADER_GRUB);
        tree_remove_file(t, "boot/grub/grub.cfg");
        assert_int_equal(detect(t, 0), BOOTLOADER_PROXMOX);
        test_tree_free(t);

        /* BLS entries without grubby: GRUB reads them, grub2-mkconfig is the tool */
        t = tree_from_host("setup-fedora-grubby");
        tree_remove_file(t, "usr/sbin/grubby");
        assert_int_equal(detect(t, 0), BOOTLOADER_GRUB_BLS);
        /* ... and without GRUB_ENABLE_BLSCFG=true they are not GRUB's */
        test_tree_write(t, "etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_ENABLE_BLSCFG=false\n");
        assert_int_equal(detect(t, 0), BOOTLOADER_GRUB);
        test_tree_free(t);

        /* UKIs only: a UKI booted even when the loader did not name its entry */
        t = tree_from_host("setup-uki");
        tree_remove_file(t, LOADER_VAR("LoaderEntrySelected"));
        assert_int_equal(detect(t, 0), BOOTLOADER_UKI);
        /* UKIs and type #1 entries, and no word on which booted: the user says */
        test_tree_write(t, "efi/loader/entries/arch.conf",
                        "title Arch Linux\nlinux /vmlinuz-linux\noptions rw\n");
        assert_int_equal(detect(t, -ENOTUNIQ), BOOTLOADER_NONE);
        test_tree_free(t);

        /* systemd-boot naming a type #1 entry next to UKIs: that entry booted */
        t = tree_from_host("setup-uki");
        test_tree_write(t, "efi/loader/entries/arch.conf",
                        "title Arch Linux\nlinux /vmlinuz-linux\noptions rw\n");
        write_loader_var(t, "LoaderEntrySelected", "arch.conf");
        assert_int_equal(detect(t, 0), BOOTLOADER_SYSTEMD_BOOT);
        /* an empty variable names nothing */
        test_tree_write(t, LOADER_VAR("LoaderEntrySelected"), "");
        assert_int_equal(detect(t, -ENOTUNIQ), BOOTLOADER_NONE);
        test_tree_free(t);
}

static void test_empty_root(void **state)
{
        struct test_tree *t = test_tree_new("test-boot-facts");
        struct boot_facts f = {};
        char *error = NULL;

        /* nothing at all is a machine without facts, not an error */
        assert_int_equal(boot_facts_read(t->sr, &f, &error), 0);
        assert_null(f.cmdline);
        assert_null(f.running_kernel);
        assert_int_equal(f.cpu.vendor, CPU_VENDOR_UNKNOWN);
        boot_facts_done(&f);
        boot_facts_done(NULL);
        test_tree_free(t);
}

static void test_names(void **state)
{
        for (int b = BOOTLOADER_NONE + 1; b < _BOOTLOADER_MAX; b++) {
                assert_non_null(bootloader_to_string(b));
                assert_int_equal(bootloader_from_string(bootloader_to_string(b)), b);
        }
        for (int i = INITRAMFS_NONE + 1; i < _INITRAMFS_MAX; i++) {
                assert_non_null(initramfs_to_string(i));
                assert_int_equal(initramfs_from_string(initramfs_to_string(i)), i);
        }
        assert_null(bootloader_to_string(BOOTLOADER_NONE));
        assert_null(bootloader_to_string(_BOOTLOADER_MAX));
        assert_null(initramfs_to_string(INITRAMFS_NONE));
        assert_string_equal(bootloader_to_string(BOOTLOADER_GRUB_BLS), "grub-bls");
        assert_string_equal(initramfs_to_string(INITRAMFS_TOOLS), "initramfs-tools");
        assert_int_equal(bootloader_from_string("GRUB"), -EINVAL);
        assert_int_equal(bootloader_from_string(""), -EINVAL);
        assert_int_equal(bootloader_from_string(NULL), -EINVAL);
        assert_int_equal(initramfs_from_string("mkinitramfs"), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_setup_host),
            cmocka_unit_test(test_details),
            cmocka_unit_test(test_ambiguous_names_both),
            cmocka_unit_test(test_two_generators),
            cmocka_unit_test(test_no_evidence),
            cmocka_unit_test(test_unmarked_loaders),
            cmocka_unit_test(test_variants),
            cmocka_unit_test(test_empty_root),
            cmocka_unit_test(test_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
