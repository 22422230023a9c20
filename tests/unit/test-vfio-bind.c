/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the boot-time vfio-pci binding (src/setup/vfio-bind.h) on small fake hosts:
 * - the set is each named device, its card's other functions and the rest of its IOMMU group
 *   (bridges excepted), sorted and canonical; a short address names the same device;
 * - the modprobe.d file, byte for byte: the install command gated by gpu_handoff.vfio=1 with
 *   exactly the set's addresses, a softdep line for each driver that could claim them (the
 *   current driver's module and the vendor's GPU and audio drivers, nothing of other vendors);
 *   the testbed's std-VGA gets bochs;
 * - twin GPUs and two AMD cards sharing the audio ID 1002:ab28 bind by address, never by ID;
 *   with vfio-pci built in (or booster) the same is refused, naming the device the host keeps and
 *   what works instead; with unique IDs built-in binds by vfio-pci.ids= and writes no file;
 * - the host's display GPU is refused without another display device, allowed with the
 *   single-GPU yes, and allowed with a note when another card keeps the display; the refusal
 *   carries the way back (the argument to delete, the live-USB rescue);
 * - refusals in attach's words: no such device, a bridge, no address at all; hostile names never
 *   reach the file and are quoted in the refusal; a group holding what the host runs on;
 * - the IOMMU off in the running kernel: the card is bound, with a note;
 * - vfio_ids_for() names the first device outside the set with the same IDs;
 * - vfio_bind_shadowed() finds an install or softdep line of a file that sorts before ours (kmod
 *   uses only the first), in any of kmod's directories, and not one that sorts after. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "setup/backend.h"
#include "setup/vfio-bind.h"
#include "testtree.h"

#define NVIDIA_MODULES                                                                                       \
        "module vfio_pci available\n"                                                                        \
        "module nvidia loaded\n"                                                                             \
        "module snd_hda_intel loaded\n"

/* iGPU (the display) and two identical RTX 3090s, each alone in its group. */
static const char twin_gpus[] = NVIDIA_MODULES "module i915 loaded\n"
                                               "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1 drm=0 connected=HDMI-A-1\n"
                                               "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport pcie\n"
                                               "pci 0000:00:01.1 8086:1905 class=0x060400 group=3 driver=pcieport pcie\n"
                                               "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=0\n"
                                               "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n"
                                               "pci 0000:02:00.0 10de:2204 class=0x030000 parent=0000:00:01.1 group=3 driver=nvidia boot_vga=0\n"
                                               "pci 0000:02:00.1 10de:1aef class=0x040300 parent=0000:00:01.1 group=3 driver=snd_hda_intel\n";

/* RX 6800 XT (the desktop) and RX 6700 XT: both HDMI audio functions are 1002:ab28. */
static const char amd_shared_audio[] = "module vfio_pci available\n"
                                       "module amdgpu loaded\n"
                                       "module snd_hda_intel loaded\n"
                                       "pci 0000:00:01.1 1022:1483 class=0x060400 group=1 driver=pcieport pcie\n"
                                       "pci 0000:00:03.1 1022:1483 class=0x060400 group=2 driver=pcieport pcie\n"
                                       "pci 0000:0b:00.0 1002:73bf class=0x030000 parent=0000:00:01.1 group=10 driver=amdgpu boot_vga=1 drm=0 connected=DP-1 fbdev\n"
                                       "pci 0000:0b:00.1 1002:ab28 class=0x040300 parent=0000:00:01.1 group=10 driver=snd_hda_intel\n"
                                       "pci 0000:0c:00.0 1002:73df class=0x030000 parent=0000:00:03.1 group=11 driver=amdgpu boot_vga=0 drm=1\n"
                                       "pci 0000:0c:00.1 1002:ab28 class=0x040300 parent=0000:00:03.1 group=11 driver=snd_hda_intel\n";

/* One RTX 3080 and nothing else to show a desktop. */
static const char one_gpu[] = NVIDIA_MODULES
        "pci 0000:00:01.0 8086:460d class=0x060400 group=1 driver=pcieport pcie\n"
        "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=7 driver=nvidia boot_vga=1\n"
        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=7 driver=snd_hda_intel\n";

/* The same with the iGPU as the display: IDs unique on the host. */
static const char igpu_dgpu[] = NVIDIA_MODULES "module i915 loaded\n"
                                               "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                                               "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport pcie\n"
                                               "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=0\n"
                                               "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n";

struct fixture {
        struct test_host *m;
        struct boot_facts facts;
        struct vfio_binding b;
};

static struct fixture *fixture_new(const char *description)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->m = test_host_new("test-vfio-bind", description);
        return f;
}

static void fixture_free(struct fixture *f)
{
        vfio_binding_done(&f->b);
        test_host_free(f->m);
        free(f);
}

/* Binds the NULL-terminated names; returns the binding (refused or not). */
static struct vfio_binding *bind_names(struct fixture *f, enum initramfs_id initramfs, bool single_gpu, ...)
{
        const char *names[8] = {0};
        size_t n = 0;
        va_list ap;

        va_start(ap, single_gpu);
        for (const char *s; (s = va_arg(ap, const char *));)
                names[n++] = s;
        va_end(ap);
        struct vfio_bind_request req = {
                .names = (char *const *)names,
                .bootloader = BOOTLOADER_GRUB,
                .initramfs = initramfs,
                .single_gpu = single_gpu,
        };
        vfio_binding_done(&f->b);
        assert_int_equal(vfio_bind_plan(f->m->h, &f->facts, &req, &f->b), 0);
        return &f->b;
}

static char *joined(const struct strv *s)
{
        static char buf[1024];
        char *j = strv_join(s->v, " ");

        assert_non_null(j);
        snprintf(buf, sizeof(buf), "%s", j);
        free(j);
        return buf;
}

static bool notes_have(const struct vfio_binding *b, const char *what)
{
        for (size_t i = 0; i < b->notes.n; i++)
                if (strstr(b->notes.v[i], what))
                        return true;
        return false;
}

static void assert_refused(const struct vfio_binding *b, const char *what)
{
        if (!b->refused)
                fail_msg("not refused; expected \"%s\"", what);
        if (!strstr(b->refused, what))
                fail_msg("refused \"%s\", expected \"%s\" in it", b->refused, what);
        /* a refusal carries nothing else */
        assert_int_equal(b->devices.n, 0);
        assert_null(b->modprobe_conf);
        assert_int_equal(b->args.n, 0);
}

static const char twin_conf[] =
        "# Written by gpu-handoff setup: binds these PCI devices to vfio-pci from early boot.\n"
        "# Undo with `gpu-handoff setup undo` (it removes this file and rebuilds the initramfs);\n"
        "# edits here are reported as drift.\n"
        "#\n"
        "# By address (driver_override), never by vendor:device ID, so that an identical card the\n"
        "# host keeps stays with the host. Only when the kernel command line holds gpu_handoff.vfio=1:\n"
        "# delete it at the boot menu to boot once without the binding. The softdep lines load\n"
        "# vfio-pci, and so run this install command, before any driver that could claim them.\n"
        "install vfio_pci read -r c < /proc/cmdline; case \" $c \" in *\" gpu_handoff.vfio=1 \"*) for d in "
        "0000:02:00.0 0000:02:00.1; do [ -e \"/sys/bus/pci/devices/$d/driver_override\" ] && echo vfio-pci > "
        "\"/sys/bus/pci/devices/$d/driver_override\"; done;; esac; exec modprobe -i vfio_pci $CMDLINE_OPTS\n"
        "softdep nouveau pre: vfio_pci\n"
        "softdep nvidia pre: vfio_pci\n"
        "softdep snd_hda_intel pre: vfio_pci\n";

static void test_twin_gpus_by_address(void **state)
{
        struct fixture *f = fixture_new(twin_gpus);
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:02:00.0", NULL);

        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:02:00.0 0000:02:00.1");
        assert_string_equal(joined(&b->args), VFIO_BIND_GATE_ARG);
        assert_non_null(b->modprobe_conf);
        assert_string_equal(b->modprobe_conf, twin_conf);
        assert_null(strstr(b->modprobe_conf, "ids="));
        assert_null(strstr(b->modprobe_conf, "0000:01:00")); /* the host's twin */
        assert_true(notes_have(b, "delete gpu_handoff.vfio=1"));

        /* the short form names the same device; naming the audio too changes nothing */
        b = bind_names(f, INITRAMFS_TOOLS, false, "02:00.0", "0000:02:00.1", NULL);
        assert_null(b->refused);
        assert_string_equal(b->modprobe_conf, twin_conf);

        /* built in, only ids would do, and they would take the host's twin */
        f->facts.vfio_pci_builtin = true;
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:02:00.0", NULL);
        assert_refused(b, "vfio-pci is built into this kernel");
        assert_refused(b, "10de:2204 also matches 0000:01:00.0, which the host keeps");
        assert_refused(b, "driverctl set-override");
        /* and booster, which cannot bind by address */
        f->facts.vfio_pci_builtin = false;
        b = bind_names(f, INITRAMFS_BOOSTER, false, "0000:02:00.0", NULL);
        assert_refused(b, "booster reads only the options lines");
        assert_refused(b, "also matches 0000:01:00.0");
        /* both cards: every device with those IDs is in the set, so ids are safe */
        b = bind_names(f, INITRAMFS_BOOSTER, false, "0000:01:00.0", "0000:02:00.0", NULL);
        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:01:00.0 0000:01:00.1 0000:02:00.0 0000:02:00.1");
        assert_string_equal(joined(&b->args), "vfio-pci.ids=10de:2204,10de:1aef");
        assert_null(b->modprobe_conf);
        assert_true(notes_have(b, "delete vfio-pci.ids=10de:2204,10de:1aef"));
        fixture_free(f);
}

static void test_amd_shared_audio(void **state)
{
        struct fixture *f = fixture_new(amd_shared_audio);
        struct vfio_binding *b = bind_names(f, INITRAMFS_DRACUT, false, "0000:0c:00.0", NULL);

        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:0c:00.0 0000:0c:00.1");
        assert_non_null(b->modprobe_conf);
        assert_non_null(strstr(b->modprobe_conf, "for d in 0000:0c:00.0 0000:0c:00.1; do"));
        assert_non_null(strstr(b->modprobe_conf, "\nsoftdep amdgpu pre: vfio_pci\nsoftdep radeon pre: vfio_pci\n"
                                                 "softdep snd_hda_intel pre: vfio_pci\n"));
        assert_null(strstr(b->modprobe_conf, "nvidia"));
        assert_null(strstr(b->modprobe_conf, "ab28"));
        /* the RX 6800 XT keeps the display: no refusal, no note about it */
        assert_false(notes_have(b, "host's display"));

        f->facts.vfio_pci_builtin = true;
        b = bind_names(f, INITRAMFS_DRACUT, false, "0000:0c:00.0", NULL);
        assert_refused(b, "1002:ab28 also matches 0000:0b:00.1, which the host keeps");
        fixture_free(f);
}

static void test_builtin_unique_ids(void **state)
{
        struct fixture *f = fixture_new(igpu_dgpu);
        struct vfio_binding *b;

        f->facts.vfio_pci_builtin = true;
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", NULL);
        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:01:00.0 0000:01:00.1");
        assert_string_equal(joined(&b->args), "vfio-pci.ids=10de:2204,10de:1aef");
        assert_null(b->modprobe_conf); /* modprobe.d does nothing for a built-in vfio-pci */
        assert_true(notes_have(b, "built into this kernel"));
        assert_true(notes_have(b, "recovery entry"));
        fixture_free(f);
}

static void test_single_gpu(void **state)
{
        struct fixture *f = fixture_new(one_gpu);
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", NULL);

        assert_refused(b, "0000:01:00.0 is the host's display GPU (the firmware booted on it)");
        assert_refused(b, "delete gpu_handoff.vfio=1");
        assert_refused(b, "gpu-handoff --root /mnt setup undo");
        assert_refused(b, "--yes");
        /* naming only the audio function still takes the GPU: same group */
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.1", NULL);
        assert_refused(b, "0000:01:00.0 is the host's display GPU");

        b = bind_names(f, INITRAMFS_TOOLS, true, "0000:01:00.0", NULL);
        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:01:00.0 0000:01:00.1");
        assert_true(notes_have(b, "host's only display GPU"));
        assert_true(notes_have(b, "gpu-handoff --root /mnt setup undo"));
        fixture_free(f);
}

static void test_display_moves_to_other_card(void **state)
{
        /* the desktop on the RX 6800 XT, which the user binds: the RX 6700 XT stays */
        struct fixture *f = fixture_new(amd_shared_audio);
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:0b:00.0", NULL);

        assert_null(b->refused);
        assert_true(notes_have(b, "0000:0b:00.0 is the host's display now (a display is connected to its DP-1); "
                                  "from the next boot on the host's display is on 0000:0c:00.0"));
        fixture_free(f);
}

static void test_shared_group_with_display(void **state)
{
        /* z97-shared: both cards in one group with the host's desktop */
        struct fixture *f = fixture_new(NVIDIA_MODULES
                                        "pci 0000:00:01.0 8086:0c01 class=0x060400 group=1 driver=pcieport pcie\n"
                                        "pci 0000:00:01.1 8086:0c05 class=0x060400 group=1 driver=pcieport pcie\n"
                                        "pci 0000:01:00.0 10de:13c2 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=1 drm=0 connected=DP-1\n"
                                        "pci 0000:01:00.1 10de:0fbb class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n"
                                        "pci 0000:02:00.0 10de:1b81 class=0x030000 parent=0000:00:01.1 group=1 driver=nvidia boot_vga=0\n"
                                        "pci 0000:02:00.1 10de:10f0 class=0x040300 parent=0000:00:01.1 group=1 driver=snd_hda_intel\n");
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:02:00.0", NULL);

        assert_refused(b, "0000:01:00.0 is the host's display GPU (a display is connected to its DP-1)");
        b = bind_names(f, INITRAMFS_TOOLS, true, "0000:02:00.0", NULL);
        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:01:00.0 0000:01:00.1 0000:02:00.0 0000:02:00.1");
        assert_true(notes_have(b, "0000:01:00.0 shares an IOMMU group with the devices named"));
        assert_false(notes_have(b, "0000:02:00.1 shares")); /* a function of the named card */
        fixture_free(f);
}

static void test_group_holds_host_network(void **state)
{
        /* a GTX 1060 in the chipset group with the NIC that carries the default route */
        struct fixture *f = fixture_new(NVIDIA_MODULES "module i915 loaded\nmodule igb loaded driver=igb\n"
                                        "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                                        "pci 0000:00:1c.0 8086:a338 class=0x060400 group=9 driver=pcieport pcie\n"
                                        "pci 0000:03:00.0 10de:1c03 class=0x030000 parent=0000:00:1c.0 group=9 driver=nvidia boot_vga=0\n"
                                        "pci 0000:00:1c.4 8086:a33c class=0x060400 group=9 driver=pcieport pcie\n"
                                        "pci 0000:04:00.0 8086:1533 class=0x020000 parent=0000:00:1c.4 group=9 driver=igb\n"
                                        "dir sys/devices/pci0000:00/0000:00:1c.4/0000:04:00.0/net/enp4s0\n"
                                        "symlink sys/class/net/enp4s0 ../../devices/pci0000:00/0000:00:1c.4/0000:04:00.0/net/enp4s0\n"
                                        "file proc/net/route Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT\\n"
                                        "enp4s0 00000000 0102A8C0 0003 0 0 100 00000000 0 0 0\n");
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:03:00.0", NULL);

        assert_refused(b, "the IOMMU group to lend holds what the host runs on, 0000:04:00.0 (enp4s0");
        fixture_free(f);
}

static void test_no_such_device(void **state)
{
        struct fixture *f = fixture_new(igpu_dgpu);
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:09:00.0", NULL);

        assert_refused(b, "there is no PCI device 0000:09:00.0 on this host");
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:00:01.0", NULL);
        assert_refused(b, "0000:00:01.0 is a PCI bridge; bridges stay with the host");
        b = bind_names(f, INITRAMFS_TOOLS, false, NULL);
        assert_refused(b, "name the devices to bind at boot");
        fixture_free(f);
}

static void test_hostile_names(void **state)
{
        static const char *const hostile[] = {
                "0000:01:00.0; reboot",
                "$(reboot)",
                "0000:01:00.0\ninstall nvidia /bin/sh",
                "../../../etc/passwd",
                "0000:01:00.0 0000:00:02.0",
                "",
                "0000:01:00.8",
                "10000:01:00.0",
                "\x1b[2J",
        };
        struct fixture *f = fixture_new(igpu_dgpu);

        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", hostile[i], NULL);
                assert_refused(b, "is not a PCI address");
                assert_null(strchr(b->refused, '\n'));
                assert_null(strchr(b->refused, '\x1b'));
        }
        fixture_free(f);
}

static void test_iommu_off(void **state)
{
        /* intel_iommu not on yet: no groups; setup turns it on, so the card is bound */
        struct fixture *f = fixture_new(NVIDIA_MODULES "module i915 loaded\n"
                                        "pci 0000:00:02.0 8086:3e98 class=0x030000 driver=i915 boot_vga=1\n"
                                        "pci 0000:00:01.0 8086:1901 class=0x060400 driver=pcieport pcie\n"
                                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 driver=nvidia boot_vga=0\n"
                                        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 driver=snd_hda_intel\n");
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", NULL);

        assert_null(b->refused);
        assert_string_equal(joined(&b->devices), "0000:01:00.0 0000:01:00.1");
        assert_true(notes_have(b, "the IOMMU is off in the running kernel"));
        fixture_free(f);
}

static void test_no_group_while_iommu_on(void **state)
{
        struct fixture *f = fixture_new(NVIDIA_MODULES "module i915 loaded\n"
                                        "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                                        "pci 0000:01:00.0 10de:2204 class=0x030000 driver=nvidia boot_vga=0\n");
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", NULL);

        assert_refused(b, "0000:01:00.0 has no IOMMU group: passthrough needs the IOMMU enabled");
        fixture_free(f);
}

static void test_testbed_std_vga(void **state)
{
        /* QEMU: std-VGA for the host, a second std-VGA bound for the guest */
        struct fixture *f = fixture_new("module vfio_pci available\nmodule bochs loaded driver=bochs-drm\n"
                                        "pci 0000:00:02.0 1234:1111 class=0x030000 group=2 driver=bochs-drm boot_vga=1\n"
                                        "pci 0000:00:03.0 1b36:000c class=0x060400 group=3 driver=pcieport pcie\n"
                                        "pci 0000:01:00.0 1234:1111 class=0x030000 parent=0000:00:03.0 group=4 driver=bochs-drm boot_vga=0\n");
        struct vfio_binding *b = bind_names(f, INITRAMFS_TOOLS, false, "0000:01:00.0", NULL);

        assert_null(b->refused);
        assert_non_null(b->modprobe_conf);
        assert_non_null(strstr(b->modprobe_conf, "\nsoftdep bochs pre: vfio_pci\n"));
        assert_null(strstr(b->modprobe_conf, "softdep bochs_drm")); /* the driver is bochs-drm, the module bochs */
        assert_null(strstr(b->modprobe_conf, "0000:00:02.0"));
        fixture_free(f);
}

static void test_ids_for(void **state)
{
        struct fixture *f = fixture_new(twin_gpus);
        char *devices[] = {(char *)"0000:02:00.0", (char *)"0000:02:00.1", NULL};
        char *all[] = {(char *)"0000:01:00.0", (char *)"0000:01:00.1", (char *)"0000:02:00.0",
                       (char *)"0000:02:00.1", NULL};
        char *ids = NULL, *error = NULL;

        assert_int_equal(vfio_ids_for(f->m->h, devices, &ids, &error), -EEXIST);
        assert_null(ids);
        assert_string_equal(error, "10de:2204 also matches 0000:01:00.0, which the host keeps");
        free(error);
        error = NULL;
        assert_int_equal(vfio_ids_for(f->m->h, all, &ids, &error), 0);
        assert_string_equal(ids, "10de:2204,10de:1aef");
        assert_null(error);
        free(ids);
        fixture_free(f);
}

static void test_shadowed(void **state)
{
        struct fixture *f = fixture_new(twin_gpus);
        struct test_tree *t = f->m->tree;
        struct vfio_binding *b;

        test_tree_write(t, "usr/lib/modprobe.d/00-nvidia.conf", "# packaged\nsoftdep nvidia post: nvidia_uvm\n");
        test_tree_write(t, "etc/modprobe.d/a-vfio.conf", "install vfio-pci /usr/local/bin/vfio-override.sh\n");
        test_tree_write(t, "etc/modprobe.d/vfio.conf", "softdep snd_hda_intel pre: vfio-pci\n"); /* after ours */
        test_tree_write(t, "lib/modprobe.d/aliases.conf", "alias nvidia off\n");             /* no directive */
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:02:00.0", NULL);
        assert_null(b->refused);
        assert_true(notes_have(b, "softdep nvidia in /usr/lib/modprobe.d/00-nvidia.conf comes before "
                                  "/etc/modprobe.d/gpu-handoff.conf: modprobe uses only the first"));
        assert_true(notes_have(b, "install vfio_pci in /etc/modprobe.d/a-vfio.conf comes before"));
        assert_false(notes_have(b, "softdep snd_hda_intel"));
        assert_false(notes_have(b, "softdep nouveau"));
        assert_true(notes_have(b, "from the next boot on, vfio-pci takes 0000:02:00.0 0000:02:00.1"));

        /* the same name in /etc hides the packaged one */
        test_tree_write(t, "etc/modprobe.d/00-nvidia.conf", "# emptied by the admin\n");
        b = bind_names(f, INITRAMFS_TOOLS, false, "0000:02:00.0", NULL);
        assert_false(notes_have(b, "softdep nvidia"));
        fixture_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_twin_gpus_by_address),
                cmocka_unit_test(test_amd_shared_audio),
                cmocka_unit_test(test_builtin_unique_ids),
                cmocka_unit_test(test_single_gpu),
                cmocka_unit_test(test_display_moves_to_other_card),
                cmocka_unit_test(test_shared_group_with_display),
                cmocka_unit_test(test_group_holds_host_network),
                cmocka_unit_test(test_no_such_device),
                cmocka_unit_test(test_hostile_names),
                cmocka_unit_test(test_iommu_off),
                cmocka_unit_test(test_no_group_while_iommu_on),
                cmocka_unit_test(test_testbed_std_vga),
                cmocka_unit_test(test_ids_for),
                cmocka_unit_test(test_shadowed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
