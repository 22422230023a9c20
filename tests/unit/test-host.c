/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the host model (src/host) and doctor (src/doctor) on fake trees described inline,
 * so each test reads like the machine it models. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "doctor/doctor.h"
#include "testtree.h"
#include "host/host.h"
#include "host/in-use.h"

/* One fake machine: its tree, the sysroot on it and the snapshot read from it. */
static struct test_host *machine_new(const char *description)
{
        return test_host_new("test-host", description);
}

static struct pci_device *device(struct test_host *m, const char *address)
{
        struct pci_addr a;
        struct pci_device *d;

        assert_int_equal(pci_addr_parse(address, &a), 0);
        d = pci_list_find(m->h->pci, &a);
        if (!d) {
                fail_msg("no device %s", address);
                abort(); /* not reached: tells the compiler d is never NULL below */
        }
        return d;
}

static const struct gpu *gpu(struct test_host *m, const char *address)
{
        for (size_t i = 0; i < m->h->n_gpus; i++)
                if (strcmp(m->h->gpus[i].dev->address, address) == 0)
                        return &m->h->gpus[i];
        fail_msg("no GPU %s", address);
        abort(); /* not reached */
}

static const struct finding *finding(const struct doctor_report *r, const char *id)
{
        for (size_t i = 0; i < r->n_findings; i++)
                if (strcmp(r->findings[i].id, id) == 0)
                        return &r->findings[i];
        return NULL;
}

/* The finding with this id, which must exist. */
static const struct finding *must_find(const struct doctor_report *r, const char *id)
{
        const struct finding *f = finding(r, id);
        if (!f) {
                fail_msg("no finding %s", id);
                abort(); /* not reached */
        }
        return f;
}

static struct doctor_report *doctor(struct test_host *m)
{
        struct doctor_report *r = NULL;
        struct pci_names *names = NULL;

        assert_int_equal(pci_names_new(getenv("GPU_HANDOFF_PCI_IDS"), &names), 0);
        assert_int_equal(doctor_run(m->h, names, &r), 0);
        pci_names_free(names);
        return r;
}

#define DESKTOP_PLATFORM                                                                                     \
        "cpu intel vmx\n"                                                                                    \
        "kvm\n"                                                                                              \
        "iommu intel enabled\n"                                                                              \
        "irq-remap\n"                                                                                        \
        "cmdline root=/dev/sda1 intel_iommu=on iommu=pt\n"                                                   \
        "module vfio_pci available\n"

static const char nvidia_desktop[] =
        DESKTOP_PLATFORM
        "pci 0000:00:00.0 8086:3e30 class=0x060000 group=0\n"
        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
        "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=1 "
        "reset=flr,bus rev=a1 subsys=1462:3892 pcie-flr\n"
        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1 driver=snd_hda_intel\n";

static void test_pci_attributes(void **state)
{
        struct test_host *m = machine_new(nvidia_desktop);
        struct pci_device *d = device(m, "0000:01:00.0");

        assert_int_equal(m->h->pci->n_devices, 4);
        assert_int_equal(d->vendor, 0x10de);
        assert_int_equal(d->device, 0x2206);
        assert_int_equal(d->subsys_vendor, 0x1462);
        assert_int_equal(d->subsys_device, 0x3892);
        assert_int_equal(d->class, 0x030000);
        assert_int_equal(d->revision, 0xa1);
        assert_string_equal(d->driver, "nvidia");
        assert_int_equal(d->boot_vga, YES);
        assert_string_equal(d->reset_method, "flr bus");
        assert_int_equal(d->iommu_group, 1);
        assert_int_equal(d->flr, YES);
        assert_int_equal(d->multifunction, YES);
        assert_int_equal(d->problems, 0);
        assert_ptr_equal(d->parent, device(m, "0000:00:01.0"));
        assert_null(device(m, "0000:00:01.0")->parent);
        /* No boot_vga file on non-VGA devices; no reset_method where none was given. */
        assert_int_equal(device(m, "0000:01:00.1")->boot_vga, UNKNOWN);
        assert_null(device(m, "0000:01:00.1")->reset_method);
        assert_int_equal(device(m, "0000:01:00.1")->flr, NO);
        test_host_free(m);
}

static void test_pci_broken_attributes(void **state)
{
        struct test_host *m = machine_new("pci 0000:00:00.0 8086:3e30 class=0x060000\n"
                                        "pci 0000:00:02.0 8086:3e92 class=0x030000 raw.vendor=garbage\n"
                                        "pci 0000:00:03.0 8086:3e92 class=0x030000 missing=class\n"
                                        "pci 0000:00:04.0 10de:2206 class=0x030000 config=16\n"
                                        "pci 0000:00:05.0 10de:2206 class=0x030000 eisdir=device\n"
                                        "pci 0000:00:06.0 10de:2206 class=0x030000 missing=config\n");

        assert_int_equal(m->h->pci->n_devices, 6);
        assert_true(device(m, "0000:00:02.0")->problems & PCI_PROBLEM_IDS);
        assert_true(device(m, "0000:00:03.0")->problems & PCI_PROBLEM_CLASS);
        assert_false(pci_device_is_gpu(device(m, "0000:00:03.0"))); /* unknown class: not a GPU */
        assert_true(device(m, "0000:00:04.0")->problems & PCI_PROBLEM_CONFIG);
        assert_int_equal(device(m, "0000:00:04.0")->flr, UNKNOWN);
        assert_true(device(m, "0000:00:05.0")->problems & PCI_PROBLEM_IDS);
        assert_int_equal(device(m, "0000:00:06.0")->flr, UNKNOWN);
        /* Every device with a readable class 03 is a GPU, broken IDs or not. */
        assert_int_equal(m->h->n_gpus, 4);
        test_host_free(m);
}

static void test_empty_host(void **state)
{
        struct test_host *m = machine_new("cpu amd svm\n");

        assert_int_equal(m->h->pci->n_devices, 0);
        assert_int_equal(m->h->groups->n_groups, 0);
        assert_int_equal(m->h->n_gpus, 0);
        assert_int_equal(gpu_layout(m->h->gpus, m->h->n_gpus), LAYOUT_NO_GPU);
        test_host_free(m);
}

static void test_groups_and_viability(void **state)
{
        struct test_host *m = machine_new(nvidia_desktop);
        const struct iommu_group *g = iommu_group_find(m->h->groups, 1);
        const struct pci_device *blocker = NULL;

        assert_non_null(g);
        assert_int_equal(g->n_members, 3);
        assert_string_equal(g->members[0]->address, "0000:00:01.0");
        assert_string_equal(g->members[2]->address, "0000:01:00.1");
        assert_false(iommu_group_viable(g, &blocker));
        assert_string_equal(blocker->address, "0000:01:00.0"); /* nvidia is first, by address */
        assert_null(iommu_group_find(m->h->groups, 7));
        test_host_free(m);

        m = machine_new(DESKTOP_PLATFORM
                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                        "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=1 driver=vfio-pci\n"
                        "pci 0000:01:00.1 10de:1aef class=0x040300 parent=0000:00:01.0 group=1\n");
        assert_true(iommu_group_viable(iommu_group_find(m->h->groups, 1), NULL));
        test_host_free(m);
}

static void test_gpu_companions_and_isolation(void **state)
{
        struct test_host *m = machine_new(
                DESKTOP_PLATFORM
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:1e07 class=0x030000 parent=0000:00:01.0 group=2 driver=nouveau boot_vga=1\n"
                "pci 0000:01:00.1 10de:10f7 class=0x040300 parent=0000:00:01.0 group=2 driver=snd_hda_intel\n"
                "pci 0000:01:00.2 10de:1ad6 class=0x0c0330 parent=0000:00:01.0 group=2 driver=xhci_hcd\n"
                "pci 0000:01:00.3 10de:1ad7 class=0x0c8000 parent=0000:00:01.0 group=2 driver=nvidia-gpu\n");
        const struct gpu *g = gpu(m, "0000:01:00.0");

        assert_int_equal(g->n_companions, 3);
        assert_string_equal(g->companions[0]->address, "0000:01:00.1");
        assert_string_equal(g->companions[2]->address, "0000:01:00.3");
        assert_int_equal(g->isolation, GROUP_ISOLATED);
        assert_int_equal(g->n_foreign, 0);
        assert_int_equal(g->kind, GPU_DISCRETE);
        assert_true(gpu_quirk_flags(g) & QUIRK_COMPANIONS_TRAVEL);
        test_host_free(m);
}

/* QEMU's std VGA with an Intel HDA function, as in the testbed: a card's audio function is its
 * companion even with another vendor ID. */
static void test_gpu_companion_other_vendor(void **state)
{
        struct test_host *m = machine_new(DESKTOP_PLATFORM
                                        "pci 0000:00:02.0 1b36:000c class=0x060400 group=1 driver=pcieport\n"
                                        "pci 0000:01:00.0 1234:1111 class=0x030000 parent=0000:00:02.0 group=3 "
                                        "driver=bochs-drm boot_vga=1\n"
                                        "pci 0000:01:00.1 8086:2668 class=0x040300 parent=0000:00:02.0 group=3 "
                                        "driver=snd_hda_intel\n");
        const struct gpu *g = gpu(m, "0000:01:00.0");

        assert_int_equal(g->n_companions, 1);
        assert_string_equal(g->companions[0]->address, "0000:01:00.1");
        assert_int_equal(g->isolation, GROUP_ISOLATED);
        test_host_free(m);
}

static void test_gpu_shared_group(void **state)
{
        struct test_host *m = machine_new(DESKTOP_PLATFORM
                                        "pci 0000:00:1c.0 8086:a340 class=0x060400 group=5 driver=pcieport\n"
                                        "pci 0000:00:14.0 8086:a36d class=0x0c0330 group=5 driver=xhci_hcd\n"
                                        "pci 0000:03:00.0 1002:67df class=0x030000 parent=0000:00:1c.0 group=5 "
                                        "driver=amdgpu\n"
                                        "pci 0000:03:00.1 1002:aaf0 class=0x040300 parent=0000:00:1c.0 group=5\n"
                                        "pci 0000:00:1c.4 8086:a33c class=0x060400 group=5 driver=pcieport\n"
                                        "pci 0000:04:00.0 10ec:8168 class=0x020000 parent=0000:00:1c.4 group=5 "
                                        "driver=r8169\n");
        const struct gpu *g = gpu(m, "0000:03:00.0");
        struct doctor_report *r;
        const struct finding *f;

        assert_int_equal(g->isolation, GROUP_SHARED);
        assert_int_equal(g->n_foreign, 2);
        assert_string_equal(g->foreign[0]->address, "0000:00:14.0");
        assert_string_equal(g->foreign[1]->address, "0000:04:00.0");
        assert_int_equal(g->n_companions, 1); /* the audio function travels, it is not foreign */
        r = doctor(m);
        f = must_find(r, "gpu-group-shared");
        assert_int_equal(f->severity, SEVERITY_ERROR);
        assert_non_null(strstr(f->message, "0000:00:14.0"));
        assert_non_null(strstr(f->message, "0000:04:00.0"));
        assert_false(r->ready); /* the only GPU cannot go alone */
        doctor_report_free(r);
        test_host_free(m);
}

static void test_layouts(void **state)
{
        struct test_host *m;

        /* Intel iGPU on the root bus + discrete card. */
        m = machine_new(DESKTOP_PLATFORM
                        "pci 0000:00:02.0 8086:3e92 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 boot_vga=0\n");
        assert_int_equal(gpu(m, "0000:00:02.0")->kind, GPU_INTEGRATED);
        assert_int_equal(gpu_layout(m->h->gpus, m->h->n_gpus), LAYOUT_IGPU_DGPU);
        test_host_free(m);

        /* AMD APU: the GPU shares its slot with AMD CPU functions (vendor 1022). */
        m = machine_new("pci 0000:00:08.1 1022:1635 class=0x060400 group=4 driver=pcieport\n"
                        "pci 0000:05:00.0 1002:1638 class=0x030000 parent=0000:00:08.1 group=4 boot_vga=1\n"
                        "pci 0000:05:00.1 1002:1637 class=0x040300 parent=0000:00:08.1 group=4\n"
                        "pci 0000:05:00.2 1022:15df class=0x108000 parent=0000:00:08.1 group=4\n"
                        "pci 0000:05:00.6 1022:15e3 class=0x040300 parent=0000:00:08.1 group=4\n"
                        "pci 0000:00:01.1 1022:1633 class=0x060400 group=1 driver=pcieport\n"
                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.1 group=1\n");
        assert_int_equal(gpu(m, "0000:05:00.0")->kind, GPU_INTEGRATED);
        /* The APU's platform audio (vendor 1022) is not the GPU's companion. */
        assert_int_equal(gpu(m, "0000:05:00.0")->n_companions, 1);
        assert_int_equal(gpu_layout(m->h->gpus, m->h->n_gpus), LAYOUT_IGPU_DGPU);
        test_host_free(m);

        /* Two discrete cards. */
        m = machine_new("pci 0000:00:01.0 8086:1901 class=0x060400 group=1\n"
                        "pci 0000:00:01.1 8086:1905 class=0x060400 group=1\n"
                        "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 boot_vga=1\n"
                        "pci 0000:02:00.0 1002:73bf class=0x030000 parent=0000:00:01.1 group=1\n");
        assert_int_equal(gpu_layout(m->h->gpus, m->h->n_gpus), LAYOUT_DUAL_DGPU);
        test_host_free(m);
}

static void test_platform(void **state)
{
        struct test_host *m = machine_new(nvidia_desktop);

        assert_true(m->h->have_cpu);
        assert_int_equal(m->h->cpu.vendor, CPU_VENDOR_INTEL);
        assert_int_equal(m->h->cpu.virtualization, YES);
        assert_true(m->h->kvm_device);
        assert_true(m->h->iommu.enabled);
        assert_int_equal(m->h->iommu.firmware, IOMMU_FIRMWARE_DMAR);
        assert_int_equal(m->h->iommu.irq_remapping, YES);
        assert_true(host_cmdline_has(m->h, "intel_iommu", "on"));
        assert_true(host_cmdline_has(m->h, "iommu", "pt"));
        assert_true(host_cmdline_has(m->h, "root", NULL));
        assert_false(host_cmdline_has(m->h, "iommu", "on")); /* "intel_iommu=on" is another key */
        assert_false(host_cmdline_has(m->h, "intel", NULL));
        assert_int_equal(m->h->modules[HOST_MODULE_VFIO_PCI], MODULE_AVAILABLE);
        assert_int_equal(m->h->modules[HOST_MODULE_VENDOR_RESET], MODULE_MISSING);
        test_host_free(m);
}

static void test_modules(void **state)
{
        struct test_host *m = machine_new("module vfio loaded\n"
                                        "module vfio_pci builtin\n"
                                        "module vfio_iommu_type1 available\n");

        assert_int_equal(m->h->modules[HOST_MODULE_VFIO], MODULE_LOADED);
        assert_int_equal(m->h->modules[HOST_MODULE_VFIO_PCI], MODULE_BUILTIN);
        assert_int_equal(m->h->modules[HOST_MODULE_VFIO_IOMMU_TYPE1], MODULE_AVAILABLE);
        assert_int_equal(m->h->modules[HOST_MODULE_VENDOR_RESET], MODULE_MISSING);
        test_host_free(m);
}

static void test_doctor_iommu_disabled(void **state)
{
        struct test_host *m = machine_new("cpu intel vmx\nkvm\niommu intel\ncmdline root=/dev/sda1 quiet\n"
                                        "module vfio_pci available\n"
                                        "pci 0000:01:00.0 10de:2206 class=0x030000 boot_vga=1\n");
        struct doctor_report *r = doctor(m);
        const struct finding *f = must_find(r, "iommu-disabled");

        assert_false(r->iommu_enabled);
        assert_true(r->virtualization);
        assert_false(r->ready);
        assert_string_equal(f->fix, "Add intel_iommu=on iommu=pt to the kernel command line: gpu-handoff setup does (see "
                                    "the change first with gpu-handoff setup --dry-run); then reboot.");
        assert_null(finding(r, "iommu-off-in-firmware"));
        doctor_report_free(r);
        test_host_free(m);

        m = machine_new("cpu amd svm\nkvm\niommu amd\ncmdline root=/dev/sda1 amd_iommu=off\n");
        r = doctor(m);
        f = must_find(r, "iommu-disabled");
        assert_string_equal(f->fix,
                            "Remove amd_iommu=off from the kernel command line and add iommu=pt: gpu-handoff setup does "
                            "both (see the change first with gpu-handoff setup --dry-run); then reboot.");
        doctor_report_free(r);
        test_host_free(m);

        /* AMD with IVRS and nothing turning it off: no argument would turn it on (amd_iommu=on is
         * no value the kernel knows), so the fix says where to look instead. */
        m = machine_new("cpu amd svm\nkvm\niommu amd\ncmdline root=/dev/sda1 quiet\n");
        r = doctor(m);
        f = must_find(r, "iommu-disabled");
        assert_non_null(strstr(f->fix, "dmesg | grep -i AMD-Vi"));
        assert_null(strstr(f->fix, "amd_iommu=on"));
        doctor_report_free(r);
        test_host_free(m);
}

static void test_doctor_virtualization(void **state)
{
        struct test_host *m = machine_new("cpu amd\niommu amd enabled\n");
        struct doctor_report *r = doctor(m);
        const struct finding *f = must_find(r, "virtualization-off");
        assert_non_null(strstr(f->fix, "SVM Mode"));
        assert_false(r->virtualization);
        doctor_report_free(r);
        test_host_free(m);

        m = machine_new("cpu intel vmx\n");
        r = doctor(m);
        assert_null(finding(r, "virtualization-off"));
        assert_non_null(finding(r, "kvm-missing"));
        assert_non_null(finding(r, "iommu-off-in-firmware"));
        assert_non_null(finding(r, "vfio-missing"));
        assert_non_null(finding(r, "no-gpu"));
        doctor_report_free(r);
        test_host_free(m);
}

static void test_doctor_ready_and_quirks(void **state)
{
        struct test_host *m = machine_new(DESKTOP_PLATFORM
                                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                                        "pci 0000:01:00.0 10de:2b85 class=0x030000 parent=0000:00:01.0 group=1 "
                                        "boot_vga=1 driver=nvidia reset=bus\n"
                                        "pci 0000:01:00.1 10de:22e8 class=0x040300 parent=0000:00:01.0 group=1\n");
        struct doctor_report *r = doctor(m);
        const struct finding *f = must_find(r, "layout-single-gpu");

        assert_true(r->ready);
        assert_int_equal(r->layout, LAYOUT_SINGLE_GPU);
        assert_non_null(finding(r, "gpu-group-with-bridges"));
        /* RTX 5090: the Blackwell reset quirk makes the single-GPU layout a warning. */
        assert_int_equal(gpu(m, "0000:01:00.0")->n_quirks, 1);
        assert_int_equal(f->severity, SEVERITY_WARNING);
        assert_null(finding(r, "gpu-no-reset")); /* a bus reset is a reset */
        doctor_report_free(r);
        test_host_free(m);
}

static void write_tree_file(struct test_host *m, const char *rel, const char *content)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", m->tree->dir, rel);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

/* simpledrm holding the firmware framebuffer inside BAR 0 of the only GPU. */
static void test_doctor_bootfb_in_bar(void **state)
{
        struct test_host *m = machine_new(nvidia_desktop);
        struct doctor_report *r;
        const struct finding *f;

        r = doctor(m);
        assert_null(finding(r, "bootfb-in-bar")); /* no resource file, no iomem: nothing to say */
        doctor_report_free(r);

        write_tree_file(m, "sys/bus/pci/devices/0000:01:00.0/resource",
                        "0x00000000fb000000 0x00000000fbffffff 0x0000000000040200\n"
                        "0x0000006000000000 0x00000067ffffffff 0x000000000014220c\n"
                        "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
        write_tree_file(m, "proc/iomem",
                        "00000000-00000fff : Reserved\n"
                        "6000000000-67ffffffff : 0000:01:00.0\n"
                        "  6000000000-60007e8fff : BOOTFB\n"
                        "fb000000-fbffffff : 0000:01:00.0\n");
        r = doctor(m);
        f = must_find(r, "bootfb-in-bar");
        assert_int_equal(f->severity, SEVERITY_WARNING);
        assert_non_null(strstr(f->message, "BOOTFB, 0x6000000000-0x60007e8fff"));
        assert_non_null(strstr(f->fix, "initcall_blacklist=sysfb_init"));
        doctor_report_free(r);

        /* Unprivileged reads of /proc/iomem show zeros: no finding. */
        write_tree_file(m, "proc/iomem", "00000000-00000000 : 0000:01:00.0\n  00000000-00000000 : BOOTFB\n");
        r = doctor(m);
        assert_null(finding(r, "bootfb-in-bar"));
        doctor_report_free(r);
        test_host_free(m);
}

/* Two cards on the CPU's ports; the boot GPU may be reserved for VMs (vfio-pci since boot). */
#define TWO_CARDS(boot_driver, desktop_extra)                                                               \
        DESKTOP_PLATFORM                                                                                     \
        "pci 0000:00:03.1 1022:1483 class=0x060400 group=2 driver=pcieport\n"                                \
        "pci 0000:00:03.2 1022:1483 class=0x060400 group=3 driver=pcieport\n"                                \
        "pci 0000:0b:00.0 10de:2206 class=0x030000 parent=0000:00:03.1 group=20 driver=" boot_driver          \
        " boot_vga=1\n"                                                                                       \
        "pci 0000:0c:00.0 10de:1f82 class=0x030000 parent=0000:00:03.2 group=21 driver=nvidia boot_vga=0 "    \
        "drm=0 " desktop_extra "\n"

/* What drives a display now decides, not boot_vga: a connected connector, fbcon on the card's
 * framebuffer, a DRM master; boot_vga only when nothing shows one; a GPU on vfio-pci never. */
static void test_display_evidence(void **state)
{
        struct test_host *m = machine_new(TWO_CARDS("vfio-pci", "connected=HDMI-A-1"));

        assert_false(gpu_drives_display(gpu(m, "0000:0b:00.0")));
        assert_int_equal(gpu(m, "0000:0c:00.0")->display, DISPLAY_CONNECTOR);
        assert_string_equal(gpu(m, "0000:0c:00.0")->display_connector, "HDMI-A-1");
        test_host_free(m);

        /* fbcon bound, the card has a framebuffer device */
        m = machine_new(TWO_CARDS("nvidia", "fbdev")
                        "file sys/class/vtconsole/vtcon1/name (M) frame buffer device\n"
                        "file sys/class/vtconsole/vtcon1/bind 1\n");
        assert_false(gpu_drives_display(gpu(m, "0000:0b:00.0")));
        assert_int_equal(gpu(m, "0000:0c:00.0")->display, DISPLAY_FBCON);
        test_host_free(m);

        /* a display server holding DRM master (debugfs) */
        m = machine_new(TWO_CARDS("nvidia", "")
                        "file sys/kernel/debug/dri/0/clients command tgid dev master a uid magic\\n"
                        "            Xorg  1234   0   y    y     0          0\n");
        assert_false(gpu_drives_display(gpu(m, "0000:0b:00.0")));
        assert_int_equal(gpu(m, "0000:0c:00.0")->display, DISPLAY_MASTER);
        test_host_free(m);

        /* nothing shows a display: the boot GPU has it */
        m = machine_new(TWO_CARDS("nvidia", ""));
        assert_int_equal(gpu(m, "0000:0b:00.0")->display, DISPLAY_BOOT_VGA);
        assert_false(gpu_drives_display(gpu(m, "0000:0c:00.0")));
        test_host_free(m);

        /* nothing shows a display and the boot GPU is the VMs': the card left on a host driver */
        m = machine_new(TWO_CARDS("vfio-pci", ""));
        assert_false(gpu_drives_display(gpu(m, "0000:0b:00.0")));
        assert_int_equal(gpu(m, "0000:0c:00.0")->display, DISPLAY_LEFT_ON_HOST);
        test_host_free(m);
}

/* doctor: the boot GPU on vfio-pci does not "stay with the host"; the desktop card does. */
static void test_doctor_boot_gpu_on_vfio(void **state)
{
        struct test_host *m = machine_new(TWO_CARDS("vfio-pci", "connected=HDMI-A-1"));
        struct doctor_report *r = doctor(m);
        const struct finding *f = must_find(r, "layout-dual-dgpu");

        assert_string_equal(f->subject, "0000:0b:00.0");
        assert_non_null(strstr(f->message, "0000:0c:00.0 drives the host's display"));
        assert_true(r->ready);
        doctor_report_free(r);
        test_host_free(m);
}

/* Intel Arc: the audio behind the card's second switch port is the card's; the group is not
 * "shared" because of it, also when it has a group of its own. */
#define ARC_CARD(audio_group)                                                                               \
        DESKTOP_PLATFORM                                                                                     \
        "pci 0000:00:01.1 1022:14db class=0x060400 group=2 driver=pcieport\n"                                \
        "pci 0000:03:00.0 8086:4fa1 class=0x060400 parent=0000:00:01.1 group=14 driver=pcieport\n"           \
        "pci 0000:04:01.0 8086:4fa4 class=0x060400 parent=0000:03:00.0 group=14 driver=pcieport\n"           \
        "pci 0000:04:04.0 8086:4fa4 class=0x060400 parent=0000:03:00.0 group=14 driver=pcieport\n"           \
        "pci 0000:05:00.0 8086:e20b class=0x030000 parent=0000:04:01.0 group=14 driver=xe boot_vga=1\n"      \
        "pci 0000:06:00.0 8086:e2f7 class=0x040300 parent=0000:04:04.0 group=" audio_group                    \
        " driver=snd_hda_intel\n"

static void test_arc_switch_companions(void **state)
{
        struct test_host *m = machine_new(ARC_CARD("14"));
        const struct gpu *g = gpu(m, "0000:05:00.0");

        assert_non_null(gpu_own_switch(g));
        assert_string_equal(gpu_own_switch(g)->address, "0000:03:00.0");
        assert_int_equal(g->n_companions, 1);
        assert_string_equal(g->companions[0]->address, "0000:06:00.0");
        assert_int_equal(g->isolation, GROUP_WITH_BRIDGES);
        test_host_free(m);

        m = machine_new(ARC_CARD("15"));
        g = gpu(m, "0000:05:00.0");
        assert_int_equal(g->n_companions, 1);
        assert_int_equal(g->isolation, GROUP_WITH_BRIDGES);
        test_host_free(m);

        /* a mobile Arc without a switch of its own, behind a chipset's switch: the sound card
         * behind another chipset port is not the card's */
        m = machine_new(DESKTOP_PLATFORM
                        "pci 0000:00:01.2 1022:1483 class=0x060400 group=3 driver=pcieport\n"
                        "pci 0000:02:00.2 1022:43e9 class=0x060400 parent=0000:00:01.2 group=12 driver=pcieport\n"
                        "pci 0000:03:00.0 1022:43ea class=0x060400 parent=0000:02:00.2 group=12 driver=pcieport\n"
                        "pci 0000:03:09.0 1022:43ea class=0x060400 parent=0000:02:00.2 group=12 driver=pcieport\n"
                        "pci 0000:04:00.0 8086:5690 class=0x030000 parent=0000:03:00.0 group=12 driver=i915\n"
                        "pci 0000:05:00.0 1102:0012 class=0x040300 parent=0000:03:09.0 group=12 driver=snd_hda_intel\n");
        g = gpu(m, "0000:04:00.0");
        assert_null(gpu_own_switch(g));
        assert_int_equal(g->n_companions, 0);
        assert_int_equal(g->isolation, GROUP_SHARED);
        test_host_free(m);
}

/* A GPU whose group directory does not list it is not "isolated": sysfs disagrees with itself. */
static void test_group_directory_missing(void **state)
{
        struct test_host *m = machine_new(DESKTOP_PLATFORM
                                          "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                                          "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=7 "
                                          "driver=nvidia boot_vga=1 dangling-group\n");
        struct doctor_report *r = doctor(m);

        assert_int_equal(gpu(m, "0000:01:00.0")->isolation, GROUP_UNKNOWN);
        assert_int_equal(must_find(r, "gpu-group-inconsistent")->severity, SEVERITY_ERROR);
        assert_false(r->ready);
        doctor_report_free(r);
        test_host_free(m);
}

/* "0000:0A:00.0" next to "0000:0a:00.0": the kernel's name is read, the other is said. */
static void test_stray_device_name(void **state)
{
        struct test_host *m = machine_new(
                DESKTOP_PLATFORM
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:0a:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=1\n"
                "symlink sys/bus/pci/devices/0000:0A:00.0 ../../../devices/pci0000:00/0000:00:01.0/0000:0a:00.0\n");
        struct doctor_report *r = doctor(m);

        assert_int_equal(m->h->pci->n_devices, 2);
        assert_int_equal(m->h->n_gpus, 1);
        assert_int_equal(m->h->pci->strays.n, 1);
        assert_string_equal(m->h->pci->strays.v[0], "0000:0A:00.0");
        assert_non_null(strstr(must_find(r, "pci-stray-entry")->message, "0000:0A:00.0"));
        doctor_report_free(r);
        test_host_free(m);
}

/* A class the kernel did not write ("0x03") may hide a GPU: doctor says so. */
static void test_class_unreadable(void **state)
{
        struct test_host *m = machine_new(DESKTOP_PLATFORM
                                          "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                                          "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                                          "pci 0000:01:00.0 10de:2206 class=0x030000 parent=0000:00:01.0 group=1 "
                                          "driver=nvidia raw.class=0x03\n");
        struct doctor_report *r = doctor(m);

        assert_true(device(m, "0000:01:00.0")->problems & PCI_PROBLEM_CLASS);
        assert_string_equal(must_find(r, "pci-class-unreadable")->subject, "0000:01:00.0");
        doctor_report_free(r);
        test_host_free(m);
}

/* What the host runs on: mounts (through a device-mapper holder), swap, the default route
 * (through a bridge); nothing for a device it does not use. */
static void test_host_uses(void **state)
{
        struct test_host *m = machine_new(
                DESKTOP_PLATFORM
                "pci 0000:00:1d.0 8086:a32c class=0x060400 group=4 driver=pcieport\n"
                "pci 0000:04:00.0 144d:a80a class=0x010802 parent=0000:00:1d.0 group=4 driver=nvme\n"
                "pci 0000:00:1c.0 8086:a330 class=0x060400 group=3 driver=pcieport\n"
                "pci 0000:03:00.0 8086:15f3 class=0x020000 parent=0000:00:1c.0 group=3 driver=igc\n"
                "pci 0000:00:14.0 8086:a36d class=0x0c0330 group=5 driver=xhci_hcd\n"
                "file sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/dev 259:0\n"
                "file sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/nvme0n1p2/partition 2\n"
                "file sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/nvme0n1p2/dev 259:2\n"
                "dir sys/devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0\n"
                "symlink sys/block/nvme0n1 ../devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1\n"
                "file sys/devices/virtual/block/dm-0/dev 253:0\n"
                "file sys/devices/virtual/block/dm-0/dm/name vg-root\n"
                "file sys/devices/virtual/block/dm-1/dev 253:1\n"
                "file sys/devices/virtual/block/dm-1/dm/name vg-swap\n"
                "symlink sys/block/dm-0 ../devices/virtual/block/dm-0\n"
                "symlink sys/block/dm-1 ../devices/virtual/block/dm-1\n"
                "dir sys/devices/virtual/block/dm-0/holders/dm-1\n"
                "file proc/self/mountinfo 21 1 253:0 / / rw - ext4 /dev/mapper/vg-root rw\n"
                "file proc/swaps Filename Type Size Used Priority\\n/dev/mapper/vg-swap partition 100 0 -2\n"
                "dir sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/enp3s0\n"
                "symlink sys/class/net/enp3s0 ../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/enp3s0\n"
                "dir sys/devices/virtual/net/br0\n"
                "symlink sys/class/net/br0 ../../devices/virtual/net/br0\n"
                "symlink sys/devices/virtual/net/br0/lower_enp3s0 ../../../pci0000:00/0000:00:1c.0/0000:03:00.0/net/enp3s0\n"
                "file proc/net/route Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT\\n"
                "br0 00000000 0101A8C0 0003 0 0 0 00000000 0 0 0\n");
        struct strv uses = {0};

        assert_int_equal(pci_device_host_uses(m->h->sr, device(m, "0000:04:00.0"), &uses), 0);
        assert_int_equal(uses.n, 2);
        assert_string_equal(uses.v[0], "dm-0 mounted on /");
        assert_string_equal(uses.v[1], "dm-1 used as swap");
        strv_done(&uses);
        assert_int_equal(pci_device_host_uses(m->h->sr, device(m, "0000:03:00.0"), &uses), 0);
        assert_int_equal(uses.n, 1);
        assert_string_equal(uses.v[0], "enp3s0, which carries the default route (via br0)");
        strv_done(&uses);
        assert_int_equal(pci_device_host_uses(m->h->sr, device(m, "0000:00:14.0"), &uses), 0);
        assert_int_equal(uses.n, 0);
        strv_done(&uses);
        test_host_free(m);
}

/* A shared group's advice follows the topology: a card already on the CPU's root port is not
 * told to move to one; a laptop's soldered GPU is not told to move at all. */
static void test_group_advice(void **state)
{
        struct test_host *m = machine_new(
                DESKTOP_PLATFORM
                "pci 0000:00:01.0 8086:0c01 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:00:01.1 8086:0c05 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:13c2 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=1\n"
                "pci 0000:02:00.0 10de:1b81 class=0x030000 parent=0000:00:01.1 group=1 driver=nvidia boot_vga=0\n");
        struct doctor_report *r = doctor(m);
        const struct finding *f;
        size_t shared = r->n_findings;

        for (size_t i = 0; i < r->n_findings; i++)
                if (strcmp(r->findings[i].id, "gpu-group-shared") == 0 && strcmp(r->findings[i].subject, "0000:02:00.0") == 0)
                        shared = i;
        assert_true(shared < r->n_findings);
        f = &r->findings[shared]; /* (an index, not a pointer that could be NULL: -Wnull-dereference) */
        assert_int_equal(f->severity, SEVERITY_ERROR);
        assert_null(strstr(f->fix, "Move it to a slot wired to the CPU"));
        assert_non_null(strstr(f->fix, "root port of the CPU"));
        assert_null(strstr(f->fix, "--with-group")); /* it would take the display GPU */
        assert_non_null(strstr(f->fix, "0000:01:00.0, which drives the host's display"));
        /* the host's own card: information, "if you lend this card" */
        for (size_t i = 0; i < r->n_findings; i++)
                if (r->findings[i].subject && strcmp(r->findings[i].subject, "0000:01:00.0") == 0) {
                        assert_int_equal(r->findings[i].severity, SEVERITY_INFO);
                        assert_non_null(strstr(r->findings[i].message, "If you lend this card"));
                }
        assert_null(strstr(must_find(r, "layout-dual-dgpu")->message, "can go to VMs while"));
        doctor_report_free(r);
        test_host_free(m);

        m = machine_new(DESKTOP_PLATFORM
                        "file sys/class/dmi/id/chassis_type 10\n"
                        "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1\n"
                        "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                        "pci 0000:00:01.1 8086:1905 class=0x060400 group=1 driver=pcieport\n"
                        "pci 0000:01:00.0 10de:1f91 class=0x030200 parent=0000:00:01.0 group=1 driver=nvidia\n"
                        "pci 0000:02:00.0 144d:a808 class=0x010802 parent=0000:00:01.1 group=1 driver=nvme\n");
        r = doctor(m);
        assert_true(m->h->laptop);
        assert_non_null(strstr(must_find(r, "gpu-group-shared")->fix, "soldered"));
        assert_null(strstr(must_find(r, "gpu-group-shared")->fix, "Move"));
        assert_non_null(strstr(must_find(r, "gpu-3d-controller")->message, "_ROM"));
        assert_non_null(strstr(must_find(r, "gpu-3d-controller")->message, "Looking Glass"));
        doctor_report_free(r);
        test_host_free(m);
}

/* No quirks database: a finding naming the path and how to fix it. */
static void test_doctor_quirks_missing(void **state)
{
        struct test_host *m = machine_new(nvidia_desktop);
        struct doctor_report *r = doctor(m);
        const struct finding *f;

        assert_int_equal(doctor_quirks_missing(r, "/usr/share/gpu-handoff/quirks"), 0);
        f = must_find(r, "quirks-missing");
        assert_int_equal(f->severity, SEVERITY_WARNING);
        assert_non_null(strstr(f->message, "/usr/share/gpu-handoff/quirks"));
        assert_non_null(strstr(f->fix, "--quirks"));
        doctor_report_free(r);
        test_host_free(m);
}

/* A monitor on the iGPU and one on the only discrete card: doctor warns that lending the card
 * ends the desktop session, instead of promising that it can go while the desktop stays. */
static void test_doctor_monitor_on_both(void **state)
{
        struct test_host *m = machine_new(
                DESKTOP_PLATFORM
                "pci 0000:00:02.0 8086:3e98 class=0x030000 group=2 driver=i915 boot_vga=1 drm=0 connected=HDMI-A-1\n"
                "pci 0000:00:01.0 8086:1901 class=0x060400 group=1 driver=pcieport\n"
                "pci 0000:01:00.0 10de:2204 class=0x030000 parent=0000:00:01.0 group=1 driver=nvidia boot_vga=0 "
                "drm=1 connected=DP-1\n");
        struct doctor_report *r = doctor(m);
        const struct finding *f = must_find(r, "layout-boot-on-dgpu");

        assert_int_equal(f->severity, SEVERITY_WARNING);
        assert_non_null(strstr(f->message, "DP-1"));
        assert_null(finding(r, "layout-igpu-dgpu"));
        doctor_report_free(r);
        test_host_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pci_attributes),
                cmocka_unit_test(test_pci_broken_attributes),
                cmocka_unit_test(test_empty_host),
                cmocka_unit_test(test_groups_and_viability),
                cmocka_unit_test(test_gpu_companions_and_isolation),
                cmocka_unit_test(test_gpu_companion_other_vendor),
                cmocka_unit_test(test_gpu_shared_group),
                cmocka_unit_test(test_layouts),
                cmocka_unit_test(test_platform),
                cmocka_unit_test(test_modules),
                cmocka_unit_test(test_doctor_iommu_disabled),
                cmocka_unit_test(test_doctor_virtualization),
                cmocka_unit_test(test_doctor_ready_and_quirks),
                cmocka_unit_test(test_doctor_bootfb_in_bar),
                cmocka_unit_test(test_display_evidence),
                cmocka_unit_test(test_doctor_boot_gpu_on_vfio),
                cmocka_unit_test(test_arc_switch_companions),
                cmocka_unit_test(test_group_directory_missing),
                cmocka_unit_test(test_stray_device_name),
                cmocka_unit_test(test_class_unreadable),
                cmocka_unit_test(test_host_uses),
                cmocka_unit_test(test_group_advice),
                cmocka_unit_test(test_doctor_quirks_missing),
                cmocka_unit_test(test_doctor_monitor_on_both),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
