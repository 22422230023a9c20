/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the initramfs backends (src/setup/initramfs-*.c) on fake roots with boot facts
 * filled by hand:
 * - each generator plans exactly its own file (content, mode), its REGENERATE argv, and one
 *   SETUP_CHECK_OUTPUT per image (the image each generator really writes: Debian's and Fedora's
 *   dracut paths, the ESP layout, mkinitcpio's presets, booster's pkgbase) with the tokens;
 * - idempotence: the planned files applied to the tree, the next plan is empty; our modprobe.d
 *   file among the plan's files runs the generator again although its own file is unchanged;
 * - nothing of ours needed (no modprobe.d file, a built-in vfio-pci): nothing planned;
 * - booster: modules_force_load edited at the token level, every other byte of the user's
 *   booster.yaml kept, the key appended when absent, the forms it cannot edit refused; it refuses
 *   to plan without vfio-pci.ids= (it cannot bind by address);
 * - the situations a generator cannot handle are refused with one line (no image, no preset
 *   image, a preset with an expansion, no pkgbase). */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "setup/backend.h"
#include "testtree.h"

#define K1 "6.1.0-27-amd64"
#define K2 "6.1.0-28-amd64"
#define TOKENS "vfio-pci.ko etc/modprobe.d/gpu-handoff.conf"

struct fixture {
        struct test_tree *t;
        struct boot_facts facts;
        char *kernels[4];
        char *args[4];
        char *vfio[4];
        struct setup_inputs in;
        struct setup_plan p;
        char *error;
};

static struct fixture *fixture_new(enum initramfs_id initramfs)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->t = test_tree_new("test-initramfs");
        f->kernels[0] = (char *)K1;
        f->kernels[1] = (char *)K2;
        f->facts.kernels = f->kernels;
        f->args[0] = (char *)"intel_iommu=on";
        f->args[1] = (char *)"gpu_handoff.vfio=1";
        f->vfio[0] = (char *)"0000:01:00.0";
        f->vfio[1] = (char *)"0000:01:00.1";
        f->in = (struct setup_inputs){
                .sr = f->t->sr,
                .facts = &f->facts,
                .initramfs = initramfs,
                .args_add = f->args,
                .vfio = f->vfio,
                .modprobe_conf = true,
        };
        return f;
}

static void fixture_free(struct fixture *f)
{
        setup_plan_done(&f->p);
        free(f->error);
        test_tree_free(f->t);
        free(f);
}

/* Plans afresh; returns the plan. */
static struct setup_plan *plan(struct fixture *f)
{
        setup_plan_done(&f->p);
        free(f->error);
        f->error = NULL;
        int r = initramfs_plan(&f->in, &f->p, &f->error);
        if (r < 0)
                fail_msg("initramfs_plan: %d %s", r, f->error ? f->error : "");
        return &f->p;
}

/* Writes the plan's files into the tree, as setup would. */
static void apply(struct fixture *f)
{
        for (size_t i = 0; i < f->p.n_files; i++) {
                const struct setup_file *file = &f->p.files[i];
                if (file->action == SETUP_FILE_REMOVE) {
                        char path[512];
                        snprintf(path, sizeof(path), "%s%s", f->t->dir, file->path);
                        assert_int_equal(unlink(path), 0);
                } else
                        test_tree_write(f->t, file->path + 1, file->after);
        }
}

static void assert_nothing(const struct setup_plan *p)
{
        assert_int_equal(p->n_files, 0);
        assert_int_equal(p->n_commands, 0);
        assert_int_equal(p->n_checks, 0);
        assert_null(p->refused);
}

static char *words(char *const *v)
{
        static char buf[512];
        char *j = strv_join(v, " ");

        assert_non_null(j);
        snprintf(buf, sizeof(buf), "%s", j);
        free(j);
        return buf;
}

/* "argv | tokens" of check i. */
static char *check(const struct setup_plan *p, size_t i)
{
        static char buf[2048];
        char argv[512];

        assert_true(i < p->n_checks);
        assert_int_equal(p->checks[i].kind, SETUP_CHECK_OUTPUT);
        snprintf(argv, sizeof(argv), "%s", words(p->checks[i].argv));
        snprintf(buf, sizeof(buf), "%s | %s", argv, words(p->checks[i].tokens));
        return buf;
}

static void assert_one_regenerate(const struct setup_plan *p, const char *argv)
{
        assert_int_equal(p->n_commands, 1);
        assert_int_equal(p->commands[0].kind, SETUP_COMMAND_REGENERATE);
        assert_string_equal(words(p->commands[0].argv), argv);
}

static void assert_refused(const struct setup_plan *p, const char *what)
{
        if (!p->refused || !strstr(p->refused, what))
                fail_msg("refused \"%s\", expected \"%s\"", p->refused ? p->refused : "(nothing)", what);
}

static void test_tools(void **state)
{
        struct fixture *f = fixture_new(INITRAMFS_TOOLS);
        struct setup_plan *p;

        test_tree_write(f->t, "boot/initrd.img-" K1, "old");
        test_tree_write(f->t, "boot/initrd.img-" K2, "old");
        test_tree_write(f->t, "etc/initramfs-tools/modules", "# user's list\nnvme\n");
        f->kernels[2] = (char *)"6.1.0-29-amd64"; /* installed, no image: -u -k all leaves it */
        p = plan(f);
        assert_null(p->refused);
        assert_int_equal(p->n_files, 1);
        assert_string_equal(p->files[0].path, "/etc/initramfs-tools/hooks/gpu-handoff");
        assert_int_equal(p->files[0].action, SETUP_FILE_CREATE);
        assert_int_equal(p->files[0].mode, 0755); /* mkinitramfs skips a hook that is not executable */
        assert_true(strncmp(p->files[0].after, "#!/bin/sh\n", 10) == 0);
        assert_non_null(strstr(p->files[0].after, "\nprereqs) prereqs; exit 0 ;;\n"));
        assert_non_null(strstr(p->files[0].after, "\n. /usr/share/initramfs-tools/hook-functions\n"
                                                  "force_load vfio_pci\nmanual_add_modules vfio vfio_iommu_type1\n"));
        assert_one_regenerate(p, "update-initramfs -u -k all");
        assert_int_equal(p->n_checks, 2);
        assert_string_equal(check(p, 0), "lsinitramfs /boot/initrd.img-" K1 " | " TOKENS);
        assert_string_equal(check(p, 1), "lsinitramfs /boot/initrd.img-" K2 " | " TOKENS);

        /* idempotence: applied, nothing more; the user's module list was never touched */
        apply(f);
        assert_nothing(plan(f));
        /* a new modprobe.d file is an input: the generator runs again */
        assert_int_equal(setup_plan_write(&f->p, f->t->sr, SETUP_MODPROBE_PATH, "x\n", 2, 0644, NULL), 1);
        assert_int_equal(initramfs_plan(&f->in, &f->p, &f->error), 0);
        assert_int_equal(f->p.n_files, 1); /* ours, not the hook */
        assert_one_regenerate(&f->p, "update-initramfs -u -k all");
        assert_int_equal(f->p.n_checks, 2);

        /* nothing of ours needed: nothing */
        f->in.modprobe_conf = false;
        assert_nothing(plan(f));
        fixture_free(f);
}

static void test_tools_no_image(void **state)
{
        struct fixture *f = fixture_new(INITRAMFS_TOOLS);

        assert_refused(plan(f), "no installed kernel has an initramfs (/boot/initrd.img-VERSION)");
        fixture_free(f);
}

static const char dracut_dropin[] =
        "# Written by gpu-handoff setup: vfio-pci and its binding (/etc/modprobe.d/gpu-handoff.conf)\n"
        "# in the initramfs, loaded before udev. Undo with `gpu-handoff setup undo`.\n"
        "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"
        "install_items+=\" /etc/modprobe.d/gpu-handoff.conf \"\n";

static void test_dracut(void **state)
{
        struct fixture *f = fixture_new(INITRAMFS_DRACUT);
        struct setup_plan *p;

        /* Fedora: initramfs-VERSION.img; K2's image is not there yet: where upstream writes it */
        f->kernels[0] = (char *)"6.11.4-301.fc41.x86_64";
        f->kernels[1] = (char *)"6.12.5-200.fc41.x86_64";
        test_tree_write(f->t, "boot/initramfs-6.11.4-301.fc41.x86_64.img", "old");
        test_tree_write(f->t, "etc/dracut.conf.d/50-user.conf", "hostonly=\"yes\"\n");
        p = plan(f);
        assert_null(p->refused);
        assert_int_equal(p->n_files, 1);
        assert_string_equal(p->files[0].path, "/etc/dracut.conf.d/90-gpu-handoff.conf");
        assert_int_equal(p->files[0].mode, 0644);
        assert_string_equal(p->files[0].after, dracut_dropin);
        assert_one_regenerate(p, "dracut -f --regenerate-all");
        assert_int_equal(p->n_checks, 2);
        assert_string_equal(check(p, 0), "lsinitrd /boot/initramfs-6.11.4-301.fc41.x86_64.img | " TOKENS);
        assert_string_equal(check(p, 1), "lsinitrd /boot/initramfs-6.12.5-200.fc41.x86_64.img | " TOKENS);
        apply(f);
        assert_nothing(plan(f));
        fixture_free(f);

        /* Debian's dracut: initrd.img-VERSION, also for an image not yet built */
        f = fixture_new(INITRAMFS_DRACUT);
        f->facts.dpkg_initramfs = (char *)"dracut";
        test_tree_write(f->t, "boot/initrd.img-" K1, "old");
        p = plan(f);
        assert_string_equal(check(p, 0), "lsinitrd /boot/initrd.img-" K1 " | " TOKENS);
        assert_string_equal(check(p, 1), "lsinitrd /boot/initrd.img-" K2 " | " TOKENS);
        f->facts.dpkg_initramfs = NULL;
        fixture_free(f);

        /* EndeavourOS: kernel-install's layout on the ESP, by machine-id */
        f = fixture_new(INITRAMFS_DRACUT);
        test_tree_write(f->t, "etc/machine-id", "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99\n");
        test_tree_write(f->t, "efi/4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99/" K1 "/initrd", "old");
        test_tree_write(f->t, "boot/initramfs-" K1 ".img", "stale");
        p = plan(f);
        assert_string_equal(check(p, 0), "lsinitrd /efi/4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99/" K1 "/initrd | " TOKENS);
        fixture_free(f);
}

static const char mkinitcpio_dropin[] =
        "# Written by gpu-handoff setup: vfio-pci and its binding (/etc/modprobe.d/gpu-handoff.conf)\n"
        "# in the initramfs, loaded before udev. Undo with `gpu-handoff setup undo`.\n"
        "# Appended (+=): the lists of /etc/mkinitcpio.conf stay as they are.\n"
        "MODULES+=(vfio_pci vfio vfio_iommu_type1)\n"
        "FILES+=(/etc/modprobe.d/gpu-handoff.conf)\n";

/* Arch's linux.preset as the package ships it. */
static const char arch_preset[] = "# mkinitcpio preset file for the 'linux' package\n"
                                  "\n"
                                  "#ALL_config=\"/etc/mkinitcpio.conf\"\n"
                                  "ALL_kver=\"/boot/vmlinuz-linux\"\n"
                                  "\n"
                                  "PRESETS=('default' 'fallback')\n"
                                  "\n"
                                  "#default_config=\"/etc/mkinitcpio.conf\"\n"
                                  "default_image=\"/boot/initramfs-linux.img\"\n"
                                  "#default_uki=\"/efi/EFI/Linux/arch-linux.efi\"\n"
                                  "#default_options=\"--splash /usr/share/systemd/bootctl/splash-arch.bmp\"\n"
                                  "\n"
                                  "#fallback_config=\"/etc/mkinitcpio.conf\"\n"
                                  "fallback_image=\"/boot/initramfs-linux-fallback.img\"\n"
                                  "#fallback_uki=\"/efi/EFI/Linux/arch-linux-fallback.efi\"\n"
                                  "fallback_options=\"-S autodetect\"\n";

static void test_mkinitcpio(void **state)
{
        struct fixture *f = fixture_new(INITRAMFS_MKINITCPIO);
        struct setup_plan *p;

        test_tree_write(f->t, "etc/mkinitcpio.conf", "MODULES=(btrfs)\nHOOKS=(base udev kms modconf)\n");
        test_tree_write(f->t, "etc/mkinitcpio.d/linux.preset", arch_preset);
        /* a UKI preset: the uki wins over the image */
        test_tree_write(f->t, "etc/mkinitcpio.d/linux-lts.preset",
                        "PRESETS=(default)\ndefault_image=/boot/initramfs-linux-lts.img\n"
                        "default_uki='/efi/EFI/Linux/arch-linux-lts.efi'  # signed\n");
        p = plan(f);
        assert_null(p->refused);
        assert_int_equal(p->n_files, 1); /* the user's mkinitcpio.conf is never ours */
        assert_string_equal(p->files[0].path, "/etc/mkinitcpio.conf.d/90-gpu-handoff.conf");
        assert_string_equal(p->files[0].after, mkinitcpio_dropin);
        assert_one_regenerate(p, "mkinitcpio -P");
        assert_int_equal(p->n_checks, 3);
        assert_string_equal(check(p, 0), "lsinitcpio /efi/EFI/Linux/arch-linux-lts.efi | " TOKENS);
        assert_string_equal(check(p, 1), "lsinitcpio /boot/initramfs-linux.img | " TOKENS);
        assert_string_equal(check(p, 2), "lsinitcpio /boot/initramfs-linux-fallback.img | " TOKENS);
        apply(f);
        assert_nothing(plan(f));

        /* where an image goes is not a literal: refused, not guessed */
        test_tree_write(f->t, "etc/mkinitcpio.conf.d/90-gpu-handoff.conf", "changed\n");
        test_tree_write(f->t, "etc/mkinitcpio.d/linux-zen.preset",
                        "PRESETS=('default')\ndefault_image=\"/boot/initramfs-${KERNEL}.img\"\n");
        assert_refused(plan(f), "default_image is not a plain absolute path");
        fixture_free(f);
}

static void test_mkinitcpio_no_preset(void **state)
{
        struct fixture *f = fixture_new(INITRAMFS_MKINITCPIO);

        test_tree_write(f->t, "etc/mkinitcpio.d/linux.preset", "PRESETS=('default')\n#default_image=x\n");
        assert_refused(plan(f), "mkinitcpio has no preset with an image");
        fixture_free(f);
}

/* A booster.yaml with other keys, comments and spacing that must survive. */
static const char booster_user[] = "# booster configuration\n"
                                   "compression: zstd\n"
                                   "network:\n"
                                   "  interfaces: enp0s31f6 # the wired one\n"
                                   "modules: nvme\n"
                                   "\n"
                                   "enable_lvm: true";

static struct fixture *booster_fixture(void)
{
        struct fixture *f = fixture_new(INITRAMFS_BOOSTER);

        f->in.modprobe_conf = false;
        f->args[1] = (char *)"vfio-pci.ids=10de:2204,10de:1aef";
        f->kernels[0] = (char *)"6.12.4-arch1-1";
        f->kernels[1] = (char *)"6.6.65-1-lts";
        test_tree_write(f->t, "usr/lib/modules/6.12.4-arch1-1/pkgbase", "linux\n");
        test_tree_write(f->t, "usr/lib/modules/6.6.65-1-lts/pkgbase", "linux-lts\n");
        return f;
}

/* booster.yaml after planning from `before`; NULL when nothing is planned. */
static const char *booster_after(struct fixture *f, const char *before)
{
        if (before)
                test_tree_write(f->t, "etc/booster.yaml", before);
        struct setup_plan *p = plan(f);
        if (p->refused)
                fail_msg("refused: %s", p->refused);
        if (p->n_files == 0)
                return NULL;
        assert_int_equal(p->n_files, 1);
        assert_string_equal(p->files[0].path, "/etc/booster.yaml");
        return p->files[0].after;
}

static void test_booster(void **state)
{
        struct fixture *f = booster_fixture();
        struct setup_plan *p;

        /* absent key: appended, the last line's missing newline supplied, the rest byte for byte */
        assert_string_equal(booster_after(f, booster_user),
                            "# booster configuration\n"
                            "compression: zstd\n"
                            "network:\n"
                            "  interfaces: enp0s31f6 # the wired one\n"
                            "modules: nvme\n"
                            "\n"
                            "enable_lvm: true\n"
                            "modules_force_load: vfio_pci,vfio,vfio_iommu_type1\n");
        p = &f->p;
        assert_one_regenerate(p, "/usr/lib/booster/regenerate_images");
        assert_int_equal(p->n_checks, 2);
        assert_string_equal(check(p, 0), "booster ls /boot/booster-linux.img | vfio_pci.ko");
        assert_string_equal(check(p, 1), "booster ls /boot/booster-linux-lts.img | vfio_pci.ko");
        apply(f);
        assert_nothing(plan(f));

        /* a plain list: appended after its last entry, the comment kept */
        assert_string_equal(booster_after(f, "modules_force_load: usbhid,hid_generic   # keyboard\nuniversal: false\n"),
                            "modules_force_load: usbhid,hid_generic,vfio_pci,vfio,vfio_iommu_type1   # keyboard\n"
                            "universal: false\n");
        /* quoted, with blanks: inside the quotes, in its style; a module already there (either
         * spelling) is not added twice */
        assert_string_equal(booster_after(f, "modules_force_load: \" usbhid, vfio-pci \"\n"),
                            "modules_force_load: \" usbhid, vfio-pci, vfio, vfio_iommu_type1 \"\n");
        assert_string_equal(booster_after(f, "modules_force_load: ''\n"),
                            "modules_force_load: 'vfio_pci,vfio,vfio_iommu_type1'\n");
        assert_string_equal(booster_after(f, "modules_force_load:\nuniversal: true\n"),
                            "modules_force_load: vfio_pci,vfio,vfio_iommu_type1\nuniversal: true\n");
        assert_null(booster_after(f, "modules_force_load: vfio_iommu_type1, vfio,vfio_pci\n"));
        /* no file: created */
        test_tree_write(f->t, "etc/booster.yaml", "");
        assert_int_equal(unlinkat(f->t->sr->fd, "etc/booster.yaml", 0), 0);
        p = plan(f);
        assert_int_equal(p->n_files, 1);
        assert_int_equal(p->files[0].action, SETUP_FILE_CREATE);
        assert_string_equal(p->files[0].after, "modules_force_load: vfio_pci,vfio,vfio_iommu_type1\n");
        fixture_free(f);
}

static void test_booster_refusals(void **state)
{
        static const char *const forms[] = {
                "modules_force_load: [usbhid]\n",
                "modules_force_load: |\n  usbhid\n",
                "modules_force_load: usbhid,\n  hid_generic\n",
                "modules_force_load: usbhid\nmodules_force_load: nvme\n",
                "modules_force_load: \"usb\\thid\"\n",
                "modules_force_load: &m usbhid\n",
        };
        struct fixture *f = booster_fixture();

        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                test_tree_write(f->t, "etc/booster.yaml", forms[i]);
                struct setup_plan *p = plan(f);
                if (!p->refused || !strstr(p->refused, "/etc/booster.yaml"))
                        fail_msg("%s: not refused (%s)", forms[i], p->refused ? p->refused : "");
                assert_int_equal(p->n_files, 0);
        }

        /* by address cannot work in booster */
        test_tree_write(f->t, "etc/booster.yaml", "");
        f->args[1] = (char *)"gpu_handoff.vfio=1";
        assert_refused(plan(f), "booster ignores the install and softdep lines of modprobe.d");
        f->args[1] = (char *)"vfio-pci.ids=10de:2204";
        f->in.modprobe_conf = true;
        assert_refused(plan(f), "cannot bind by PCI address");
        f->in.modprobe_conf = false;

        /* no kernel with a pkgbase: no image regenerate_images would build */
        assert_int_equal(unlinkat(f->t->sr->fd, "usr/lib/modules/6.12.4-arch1-1/pkgbase", 0), 0);
        assert_int_equal(unlinkat(f->t->sr->fd, "usr/lib/modules/6.6.65-1-lts/pkgbase", 0), 0);
        assert_refused(plan(f), "none has one");

        /* a built-in vfio-pci takes vfio-pci.ids= itself: nothing for booster to do */
        f->facts.vfio_pci_builtin = true;
        assert_nothing(plan(f));
        fixture_free(f);
}

static void test_nothing_needed(void **state)
{
        for (enum initramfs_id i = INITRAMFS_NONE; i < _INITRAMFS_MAX; i++) {
                struct fixture *f = fixture_new(i);
                test_tree_write(f->t, "boot/initrd.img-" K1, "old");
                test_tree_write(f->t, "etc/mkinitcpio.d/linux.preset", arch_preset);
                f->in.modprobe_conf = false;
                f->vfio[0] = NULL;
                assert_nothing(plan(f));
                fixture_free(f);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tools),
                cmocka_unit_test(test_tools_no_image),
                cmocka_unit_test(test_dracut),
                cmocka_unit_test(test_mkinitcpio),
                cmocka_unit_test(test_mkinitcpio_no_preset),
                cmocka_unit_test(test_booster),
                cmocka_unit_test(test_booster_refusals),
                cmocka_unit_test(test_nothing_needed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
