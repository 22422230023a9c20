/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "doctor/boot.h"
#include "doctor/doctor.h"
#include "doctor/resets.h"
#include "host/in-use.h"
#include "host/iomem.h"

struct report_builder {
        struct doctor_report *r;
        size_t cap;
        int error; /* first allocation failure */
        struct pci_names *names;
        const struct host *h;
        /* Set while the checks run for a GPU the layout keeps on the host: its findings are
         * information for a user who would lend it anyway. */
        const struct gpu *kept;
};

/* Appends a finding; takes ownership of id, message and fix. */
static void push(struct report_builder *b, char *id, enum severity sev, const char *subject, char *message, char *fix)
{
        struct doctor_report *r = b->r;
        struct finding *f;

        if (!id || !message || b->error) {
                b->error = -ENOMEM;
                goto fail;
        }
        if (r->n_findings == b->cap) {
                size_t ncap = b->cap ? b->cap * 2 : 16;
                struct finding *p = realloc(r->findings, ncap * sizeof(*p));
                if (!p) {
                        b->error = -ENOMEM;
                        goto fail;
                }
                r->findings = p;
                b->cap = ncap;
        }
        if (b->kept && subject && strcmp(subject, b->kept->dev->address) == 0) {
                char *hypothetical = NULL;
                if (asprintf(&hypothetical, "If you lend this card: %s", message) < 0) {
                        b->error = -ENOMEM;
                        goto fail;
                }
                free(message);
                message = hypothetical;
                sev = SEVERITY_INFO;
        }
        f = &r->findings[r->n_findings++];
        *f = (struct finding){.id = id, .severity = sev, .message = message, .fix = fix};
        f->subject = subject ? strdup(subject) : NULL;
        if (subject && !f->subject)
                b->error = -ENOMEM;
        return;
fail:
        free(id);
        free(message);
        free(fix);
}

_printf_(1, 2) static char *format(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

/* Appends a finding with copies of id and fix and the formatted message. */
_printf_(6, 0) static void vadd(struct report_builder *b, const char *id, enum severity sev,
                                const char *subject, const char *fix, const char *fmt, va_list ap)
{
        char *message = NULL;

        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        push(b, strdup(id), sev, subject, message, fix ? strdup(fix) : NULL);
}

/* add(b, id, severity, subject, fix or NULL, message format, ...) */
_printf_(6, 7) static void add(struct report_builder *b, const char *id, enum severity sev, const char *subject,
                               const char *fix, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vadd(b, id, sev, subject, fix, fmt, ap);
        va_end(ap);
}

static const char *device_name(struct report_builder *b, const struct pci_device *d, char *buf, size_t size)
{
        if (d->problems & PCI_PROBLEM_IDS)
                return "unknown device";
        return pci_names_device(b->names, buf, size, d->vendor, d->device, false);
}

const char *doctor_iommu_kernel_args(const struct host *h)
{
        bool amd = h->iommu.firmware == IOMMU_FIRMWARE_IVRS ||
                   (h->iommu.firmware == IOMMU_FIRMWARE_NONE && h->have_cpu && h->cpu.vendor == CPU_VENDOR_AMD);
        /* amd_iommu=on is no value the kernel knows: the AMD IOMMU is on when IVRS is there. */
        return amd ? "iommu=pt" : "intel_iommu=on iommu=pt";
}

static void check_virtualization(struct report_builder *b)
{
        const struct host *h = b->h;
        const char *name = cpu_virtualization_name(h->cpu.vendor);

        if (!h->have_cpu) {
                add(b, "cpu-unreadable", SEVERITY_WARNING, NULL, "Check that /proc is mounted.",
                    "Cannot read /proc/cpuinfo: CPU virtualization support is unknown.");
                return;
        }
        if (h->cpu.virtualization != YES) {
                const char *fix = h->cpu.vendor == CPU_VENDOR_AMD
                                          ? "Enable \"SVM Mode\" in the firmware setup (UEFI/BIOS), then boot again."
                                          : "Enable \"Intel Virtualization Technology\" (VT-x) in the firmware setup "
                                            "(UEFI/BIOS), then boot again.";
                add(b, "virtualization-off", SEVERITY_ERROR, NULL, fix,
                    "The CPU does not offer %s (no %s flag): it is disabled in the firmware or not supported.", name,
                    h->cpu.vendor == CPU_VENDOR_AMD ? "svm" : "vmx");
                return;
        }
        if (!h->kvm_device)
                add(b, "kvm-missing", SEVERITY_ERROR, NULL,
                    h->cpu.vendor == CPU_VENDOR_AMD
                            ? "Load it with \"modprobe kvm_amd\"; if that fails, \"dmesg | grep -i kvm\" tells why."
                            : "Load it with \"modprobe kvm_intel\"; if that fails, \"dmesg | grep -i kvm\" tells why.",
                    "%s is available but /dev/kvm does not exist: the KVM module is not loaded.", name);
}

static void check_iommu(struct report_builder *b)
{
        const struct host *h = b->h;
        bool amd = h->iommu.firmware == IOMMU_FIRMWARE_IVRS ||
                   (h->iommu.firmware == IOMMU_FIRMWARE_NONE && h->have_cpu && h->cpu.vendor == CPU_VENDOR_AMD);
        _cleanup_free_ char *fix = NULL;

        if (h->iommu.enabled) {
                if (h->iommu.irq_remapping == NO)
                        add(b, "interrupt-remapping-off", SEVERITY_WARNING, NULL,
                            "Enable interrupt remapping (x2APIC) in the firmware setup. As a last resort, and "
                            "less safe: \"options vfio_iommu_type1 allow_unsafe_interrupts=1\" in "
                            "/etc/modprobe.d/vfio.conf.",
                            "Interrupt remapping is off: VFIO refuses to assign devices without it unless "
                            "unsafe interrupts are allowed.");
                if (!host_cmdline_has(h, "iommu", "pt"))
                        add(b, "iommu-not-passthrough", SEVERITY_INFO, NULL,
                            "Add iommu=pt to the kernel command line (optional).",
                            "The IOMMU translates DMA for the host's own devices too; iommu=pt keeps them at "
                            "full speed and changes nothing for VMs.");
                return;
        }
        if (h->iommu.firmware == IOMMU_FIRMWARE_NONE) {
                add(b, "iommu-off-in-firmware", SEVERITY_ERROR, NULL,
                    amd ? "Enable \"IOMMU\" (AMD-Vi; often under Advanced > AMD CBS > NBIO) and \"SVM Mode\" in "
                          "the firmware setup, then boot again."
                        : "Enable \"VT-d\" (Intel Virtualization Technology for Directed I/O) in the firmware "
                          "setup, then add intel_iommu=on iommu=pt to the kernel command line.",
                    "No IOMMU: the firmware tables have no %s, so it is disabled in the firmware setup or "
                    "the board does not support it.",
                    amd ? "AMD-Vi (ACPI IVRS)" : "VT-d (ACPI DMAR)");
                return;
        }
        /* gpu-handoff setup edits the command line of every boot entry; its dry run shows how. */
        if (host_cmdline_has(h, "intel_iommu", "off") || host_cmdline_has(h, "amd_iommu", "off") ||
            host_cmdline_has(h, "iommu", "off"))
                fix = format("Remove %s from the kernel command line and add %s: gpu-handoff setup does both (see "
                             "the change first with gpu-handoff setup --dry-run); then reboot.",
                             host_cmdline_has(h, "iommu", "off")         ? "iommu=off"
                             : host_cmdline_has(h, "intel_iommu", "off") ? "intel_iommu=off"
                                                                          : "amd_iommu=off",
                             doctor_iommu_kernel_args(h));
        else if (amd)
                fix = strdup("The AMD IOMMU needs no kernel argument to come on: \"dmesg | grep -i AMD-Vi\" tells "
                             "why it stayed off (a kernel built without CONFIG_AMD_IOMMU, a broken IVRS table).");
        else
                fix = format("Add %s to the kernel command line: gpu-handoff setup does (see the change first with "
                             "gpu-handoff setup --dry-run); then reboot.",
                             doctor_iommu_kernel_args(h));
        add(b, "iommu-disabled", SEVERITY_ERROR, NULL, fix,
            "The firmware has an IOMMU (%s) but the kernel does not use it: there are no IOMMU groups.",
            iommu_firmware_to_string(h->iommu.firmware));
}

static void check_vfio(struct report_builder *b)
{
        const struct host *h = b->h;

        if (h->modules[HOST_MODULE_VFIO_PCI] == MODULE_MISSING)
                add(b, "vfio-missing", SEVERITY_ERROR, NULL,
                    "Install the modules of the running kernel (Debian: linux-image-$(uname -r)) or use a kernel "
                    "built with CONFIG_VFIO_PCI.",
                    "The vfio-pci driver is neither loaded, built in, nor installed for kernel %s.",
                    h->kernel_release ? h->kernel_release : "(unknown)");
}

/* "0000:00:14.0 (Intel ... USB 3.1 xHCI), 0000:00:17.0 (...)" */
static char *describe_devices(struct report_builder *b, struct pci_device *const *devs, size_t n)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        char name[256];

        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s (%s)", i ? ", " : "", devs[i]->address, device_name(b, devs[i], name, sizeof(name)));
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static void check_reset(struct report_builder *b, const struct gpu *g)
{
        const struct pci_device *d = g->dev;

        if (d->reset_method && *d->reset_method)
                return;
        if (d->flr == YES)
                return;
        add(b, "gpu-no-reset", SEVERITY_WARNING, d->address,
            "Expect to reboot the host when the card does not come back after a VM stops; shut guests down "
            "cleanly rather than forcing them off.",
            "GPU %s offers no reset method the kernel can use (%s).", d->address,
            d->reset_method ? "reset_method is empty" : "no FLR capability, no reset_method file");
}

static void check_quirks(struct report_builder *b, const struct gpu *g)
{
        const struct host *h = b->h;
        const struct pci_device *d = g->dev;
        char name[256];

        for (size_t i = 0; i < g->n_quirks; i++) {
                const struct quirk *q = g->quirks[i];
                char *id = format("quirk-%s", q->id);
                push(b, id, (enum severity)q->severity, d->address,
                     format("GPU %s (%s): %s", d->address, device_name(b, d, name, sizeof(name)), q->summary),
                     q->fix ? strdup(q->fix) : NULL);
        }
        if (!(gpu_quirk_flags(g) & QUIRK_VENDOR_RESET))
                return;
        if (h->modules[HOST_MODULE_VENDOR_RESET] != MODULE_LOADED && vendor_reset_installed(h)) {
                add(b, "vendor-reset-missing", SEVERITY_WARNING, d->address,
                    "Load vendor-reset early, from the initramfs before vfio-pci, and select it with \"echo "
                    "device_specific > /sys/bus/pci/devices/<address>/reset_method\" (a udev rule on add); "
                    "vendor-reset does not cover the RX 6000, 7000 or 9000 series.",
                    "GPU %s needs the vendor-reset module to reset between VM runs; it is installed for kernel "
                    "%s but not loaded.",
                    d->address, h->kernel_release ? h->kernel_release : "?");
        } else if (h->modules[HOST_MODULE_VENDOR_RESET] != MODULE_LOADED) {
                add(b, "vendor-reset-missing", SEVERITY_WARNING, d->address,
                    "Install vendor-reset (Debian: vendor-reset-dkms), add vendor-reset to /etc/modules, and "
                    "select it with \"echo device_specific > /sys/bus/pci/devices/<address>/reset_method\".",
                    "GPU %s needs the vendor-reset module to reset between VM runs, and it is not loaded.",
                    d->address);
        } else if (!vendor_reset_early(h)) {
                add(b, "vendor-reset-not-early", SEVERITY_WARNING, d->address,
                    "Put vendor-reset into the initramfs (initramfs-tools: /etc/initramfs-tools/modules; dracut: "
                    "force_drivers+=\" vendor-reset \" in /etc/dracut.conf.d/; mkinitcpio: MODULES), then regenerate it.",
                    "vendor-reset is loaded, but no initramfs configuration loads it early: it must be loaded before "
                    "vfio-pci and the GPU driver touch GPU %s.",
                    d->address);
        }
        if (h->modules[HOST_MODULE_VENDOR_RESET] == MODULE_LOADED && d->reset_method &&
            !word_in_list(d->reset_method, "device_specific")) {
                _cleanup_free_ char *fix =
                        format("echo device_specific > /sys/bus/pci/devices/%s/reset_method", d->address);
                add(b, "vendor-reset-not-selected", SEVERITY_WARNING, d->address, fix,
                    "vendor-reset is loaded but GPU %s uses \"%s\" instead of its device-specific reset.",
                    d->address, d->reset_method);
        }
}

/* The first GPU other than g that drives the host's display in g's group, or NULL. */
static const struct gpu *display_in_group(const struct report_builder *b, const struct gpu *g)
{
        for (size_t i = 0; g->group && i < b->h->n_gpus; i++) {
                const struct gpu *o = &b->h->gpus[i];
                if (o != g && gpu_drives_display(o) && o->group == g->group)
                        return o;
        }
        return NULL;
}

/* What would split a shared group, from where its boundary comes from; never a slot change
 * where it cannot help. */
static char *shared_group_fix(struct report_builder *b, const struct gpu *g)
{
        const struct gpu *display = display_in_group(b, g);
        _cleanup_free_ char *whole = NULL;
        const char *where, *acs = "The ACS override patch (pcie_acs_override=downstream,multifunction) splits groups "
                                  "only by removing the isolation the IOMMU gives: use it at your own risk.";

        for (size_t i = 0; !display && !whole && i < g->n_foreign; i++) {
                struct strv uses = {0};
                if (pci_device_host_uses(b->h->sr, g->foreign[i], &uses) < 0)
                        b->error = -ENOMEM;
                else if (uses.n > 0)
                        whole = format("The whole group cannot go to a VM: the host runs on %s (%s).",
                                       g->foreign[i]->address, uses.v[0]);
                strv_done(&uses);
        }
        if (display)
                whole = format("Lending the whole group would take %s, which drives the host's display, too: "
                               "attach refuses that without --yes.",
                               display->dev->address);
        else if (!whole)
                whole = format("Or hand the whole group to the VM (attach --with-group) if you can spare %s.",
                               g->n_foreign == 1 ? "that device" : "those devices");
        switch (gpu_group_boundary(g, b->h->laptop)) {
        case BOUNDARY_SOLDERED:
                where = "The GPU is soldered to this laptop's board: no slot can change its group, only the "
                        "firmware could.";
                break;
        case BOUNDARY_CPU_ROOT_PORT:
                where = "The card already sits on a root port of the CPU, and the CPU's root ports have no ACS, so "
                        "another CPU slot shares the group too. A slot wired to the chipset can isolate it where "
                        "the chipset's ports have ACS (gpu-handoff list shows the groups); a firmware update "
                        "sometimes adds ACS to the CPU's ports.";
                break;
        default:
                where = "The card sits behind the chipset (or a PCIe switch on the board), whose ports have no "
                        "ACS. Move it to a slot wired to the CPU, if the board has a free one.";
                break;
        }
        return format("%s %s %s", where, whole ? whole : "", acs);
}

static void check_group(struct report_builder *b, const struct gpu *g)
{
        const struct pci_device *d = g->dev;
        _cleanup_free_ char *list = NULL, *fix = NULL;

        switch (g->isolation) {
        case GROUP_NO_IOMMU:
                if (b->h->iommu.enabled)
                        add(b, "gpu-no-group", SEVERITY_ERROR, d->address,
                            b->h->laptop ? "Check dmesg for IOMMU errors about this device; a firmware update may help."
                                         : "Check dmesg for IOMMU errors about this device; move the card to another slot.",
                            "GPU %s has no IOMMU group although the IOMMU is on.", d->address);
                break;
        case GROUP_ISOLATED:
                break;
        case GROUP_WITH_BRIDGES:
                add(b, "gpu-group-with-bridges", SEVERITY_INFO, d->address, NULL,
                    "GPU %s shares IOMMU group %d with PCI bridges only; VFIO accepts that.", d->address,
                    g->group->number);
                break;
        case GROUP_SHARED:
                list = describe_devices(b, g->foreign, g->n_foreign);
                fix = shared_group_fix(b, g);
                add(b, "gpu-group-shared", SEVERITY_ERROR, d->address, fix,
                    "GPU %s shares IOMMU group %d with %s; %s go to the VM with it.", d->address,
                    g->group->number, list ? list : "other devices", g->n_foreign == 1 ? "it would" : "they would all");
                break;
        case GROUP_UNKNOWN:
                add(b, "gpu-group-inconsistent", SEVERITY_ERROR, d->address,
                    "Reboot; if it stays so, check dmesg for IOMMU errors. gpu-handoff does not lend the GPU while "
                    "sysfs disagrees with itself.",
                    "GPU %s links to IOMMU group %d, but the kernel's list of that group "
                    "(/sys/kernel/iommu_groups/%d/devices) does not hold it: which devices VFIO would take is "
                    "unknown.",
                    d->address, g->group->number, g->group->number);
                break;
        }
}

static bool drives_no_display(const struct gpu *g)
{
        return g->kind == GPU_DISCRETE && !gpu_drives_display(g);
}

/* A GPU the layout keeps on the host: an iGPU or BMC display next to a discrete card, or the
 * discrete card that drives the display next to one that does not. Nothing is kept on a
 * single-GPU host, nor when every discrete card drives a display. */
static bool host_keeps(const struct report_builder *b, const struct gpu *g)
{
        bool other = false;

        if (b->r->layout == LAYOUT_SINGLE_GPU || b->r->layout == LAYOUT_NO_GPU)
                return false;
        if (g->kind != GPU_DISCRETE)
                return true;
        for (size_t i = 0; i < b->h->n_gpus; i++)
                other |= drives_no_display(&b->h->gpus[i]);
        return gpu_drives_display(g) && other;
}

/* A GPU a guest would get; the one the host keeps is checked only as "if you lend this card",
 * and an iGPU or BMC display not at all for isolation or reset. */
static bool guest_candidate(const struct report_builder *b, const struct gpu *g)
{
        return !host_keeps(b, g);
}

/* simpledrm or efifb keeping the firmware framebuffer inside the BAR: vfio-pci cannot claim it. */
static void check_bootfb(struct report_builder *b, const struct gpu *g)
{
        struct iomem_range fb;

        if (iomem_bootfb_in_bar(b->h->sr, g->dev, &fb) <= 0)
                return;
        add(b, "bootfb-in-bar", SEVERITY_WARNING, g->dev->address,
            "attach releases the firmware framebuffer first; if vfio-pci still reports \"BAR 0: can't reserve\", "
            "boot with initcall_blacklist=sysfb_init (simpledrm) or video=efifb:off (efifb).",
            "The boot framebuffer (%s, %#" PRIx64 "-%#" PRIx64 ") sits inside a BAR of GPU %s, so vfio-pci "
            "cannot claim that BAR while it is held.",
            fb.name, fb.start, fb.end, g->dev->address);
}

/* A card of class 0302 (MUXless laptops' GPUs, compute cards) has no display outputs. */
static void check_3d_controller(struct report_builder *b, const struct gpu *g)
{
        const struct pci_device *d = g->dev;
        bool muxless = b->h->laptop;

        if ((d->problems & PCI_PROBLEM_CLASS) || pci_sub_class(d) != PCI_CLASS_DISPLAY_3D)
                return;
        for (size_t i = 0; i < b->h->n_gpus; i++)
                muxless |= b->h->gpus[i].kind == GPU_INTEGRATED && gpu_drives_display(&b->h->gpus[i]);
        if (muxless)
                add(b, "gpu-3d-controller", SEVERITY_INFO, d->address,
                    "Extract the vBIOS from the laptop's ACPI tables (the _ROM method of the GPU's device) and give "
                    "it to the VM as a ROM file (gpu-handoff xml --rom FILE); give the guest a virtual display "
                    "driver for Looking Glass.",
                    "GPU %s is a 3D controller without display outputs (a MUXless, Optimus-style laptop GPU): the "
                    "guest driver usually needs the vBIOS, which such laptops keep in ACPI (_ROM) instead of on "
                    "the card, and Looking Glass needs a virtual display in the guest, as no monitor can be "
                    "connected to it.",
                    d->address);
        else
                add(b, "gpu-3d-controller", SEVERITY_INFO, d->address,
                    "Give the guest a virtual display driver for Looking Glass.",
                    "GPU %s is a 3D controller without display outputs: Looking Glass needs a virtual display in "
                    "the guest, as no monitor can be connected to it.",
                    d->address);
}

static void check_gpu(struct report_builder *b, const struct gpu *g)
{
        const struct pci_device *d = g->dev;

        if (d->problems & (PCI_PROBLEM_IDS | PCI_PROBLEM_DRIVER | PCI_PROBLEM_GROUP | PCI_PROBLEM_CONFIG))
                add(b, "gpu-unreadable", SEVERITY_WARNING, d->address,
                    "Compare with \"lspci -vvnn\"; a kernel update or reseating the card may help.",
                    "Some sysfs attributes of GPU %s are missing or malformed; values shown as unknown.",
                    d->address);
        if (guest_candidate(b, g) || g->kind == GPU_DISCRETE) {
                b->kept = guest_candidate(b, g) ? NULL : g;
                check_group(b, g);
                check_reset(b, g);
                if (!b->kept)
                        check_bootfb(b, g);
        }
        b->kept = guest_candidate(b, g) ? NULL : g;
        check_quirks(b, g);
        if (!b->kept)
                check_3d_controller(b, g);
        b->kept = NULL;
        if (d->driver && strncmp(d->driver, "vfio-pci", 8) == 0) {
                const struct pci_device *blocker = NULL;
                add(b, "gpu-on-vfio", SEVERITY_INFO, d->address, NULL,
                    "GPU %s is already bound to %s (reserved for VMs).", d->address, d->driver);
                if (g->group && !iommu_group_viable(g->group, &blocker))
                        add(b, "gpu-group-not-viable", SEVERITY_WARNING, d->address,
                            "Bind the rest of the group to vfio-pci too (gpu-handoff attach does), or give the GPU "
                            "back to its driver.",
                            "GPU %s is on vfio-pci but %s in its IOMMU group is still on %s: no VM can use the "
                            "group until it is free.",
                            d->address, blocker->address, blocker->driver);
        }
}

/* Cards with broken reset make the single-GPU layout risky: the host display may not come back. */
static bool reset_trouble(const struct gpu *g)
{
        return gpu_quirk_flags(g) & (QUIRK_RESET_BROKEN | QUIRK_RESET_ONCE_PER_BOOT);
}

static bool gpu_assignable(const struct report_builder *b, const struct gpu *g)
{
        return guest_candidate(b, g) && (g->isolation == GROUP_ISOLATED || g->isolation == GROUP_WITH_BRIDGES);
}

/* "GPU X can go to VMs while the desktop keeps running", or why not yet. */
static const char *lendable_words(const struct report_builder *b, const struct gpu *g)
{
        return gpu_assignable(b, g) ? "can go to VMs while the desktop keeps running"
                                    : "could go to VMs while the desktop keeps running, but not yet: see the "
                                      "findings above";
}

static void check_layout(struct report_builder *b)
{
        const struct host *h = b->h;
        const struct gpu *display = NULL, *guest = NULL;
        char why[128];

        /* The host's display (a discrete card that drives one first: that is the one lending
         * would take), and the card a guest would get: one already on vfio-pci first. */
        for (size_t i = 0; i < h->n_gpus; i++) {
                const struct gpu *g = &h->gpus[i];
                if (gpu_drives_display(g)) {
                        if (!display || (display->kind != GPU_DISCRETE && g->kind == GPU_DISCRETE))
                                display = g;
                } else if (g->kind == GPU_DISCRETE && (!guest || (gpu_on_vfio(g) && !gpu_on_vfio(guest))))
                        guest = g;
        }
        switch (b->r->layout) {
        case LAYOUT_NO_GPU:
                add(b, "no-gpu", SEVERITY_ERROR, NULL,
                    "Check that the card is seated and powered and that lspci lists it.",
                    "No GPU (PCI class 03) was found on this host.");
                break;
        case LAYOUT_SINGLE_GPU: {
                const struct gpu *g = &h->gpus[0];
                if (reset_trouble(g))
                        add(b, "layout-single-gpu", SEVERITY_WARNING, g->dev->address,
                            "Give the host its own display (enable the iGPU in the firmware, or add a second "
                            "card) and pass this card only; otherwise plan one VM run per host boot.",
                            "Single GPU with a known reset bug: while a VM has %s the host has no display, and "
                            "after the VM stops the card may not come back to the host without a reboot.",
                            g->dev->address);
                else
                        add(b, "layout-single-gpu", SEVERITY_INFO, g->dev->address,
                            "Save your work before starting the VM; attach asks for --yes (or consent in the "
                            "config). An iGPU or a second card lets the desktop stay.",
                            "Single GPU: while a VM has %s the host has no display; the desktop session ends at "
                            "VM start and the display manager comes back when the VM stops.",
                            g->dev->address);
                break;
        }
        case LAYOUT_IGPU_DGPU:
                if (!guest && display && display->kind == GPU_DISCRETE)
                        add(b, "layout-boot-on-dgpu", SEVERITY_WARNING, display->dev->address,
                            "Set the primary display to the integrated GPU (\"IGD\" / \"iGPU\") in the firmware "
                            "setup and connect the monitor to the motherboard.",
                            "The host's display runs on the discrete GPU %s (%s), so lending it ends the desktop "
                            "session.",
                            display->dev->address, gpu_display_reason(display, why, sizeof(why)));
                else if (display && display->kind == GPU_DISCRETE)
                        add(b, "layout-igpu-dgpu", SEVERITY_INFO, guest->dev->address, NULL,
                            "The host's display is on the discrete GPU %s (%s), which stays with the host; %s %s.",
                            display->dev->address, gpu_display_reason(display, why, sizeof(why)),
                            guest->dev->address, lendable_words(b, guest));
                else
                        add(b, "layout-igpu-dgpu", SEVERITY_INFO, guest ? guest->dev->address : NULL, NULL,
                            "The host display stays on the %s GPU; %s %s.",
                            display && display->kind == GPU_ONBOARD ? "onboard" : "integrated",
                            guest ? guest->dev->address : "the discrete GPU",
                            guest ? lendable_words(b, guest) : "can go to VMs while the desktop keeps running");
                break;
        case LAYOUT_DUAL_DGPU:
                if (!display)
                        add(b, "layout-dual-dgpu", SEVERITY_INFO, guest ? guest->dev->address : NULL, NULL,
                            "Two or more discrete GPUs, none of them on a host driver that drives a display: "
                            "the host has no display to keep.");
                else if (!guest)
                        add(b, "layout-dual-dgpu", SEVERITY_WARNING, display->dev->address,
                            "Leave one card without a monitor (or reserve it for VMs by binding it to vfio-pci "
                            "at boot), so that the desktop stays on the other.",
                            "Two or more discrete GPUs, and each drives a display: lending any of them ends the "
                            "desktop session.");
                else
                        add(b, "layout-dual-dgpu", SEVERITY_INFO, guest->dev->address, NULL,
                            "Two or more discrete GPUs: %s drives the host's display (%s) and stays with the host; "
                            "%s %s.",
                            display->dev->address, gpu_display_reason(display, why, sizeof(why)),
                            guest->dev->address, lendable_words(b, guest));
                break;
        }
}

/* What sysfs says that cannot all be true: a device whose class is unreadable (it may be a GPU
 * nobody sees), a device directory under a name the kernel never makes. */
static void check_sysfs(struct report_builder *b)
{
        const struct pci_list *pci = b->h->pci;

        for (size_t i = 0; i < pci->n_devices; i++) {
                const struct pci_device *d = &pci->devices[i];
                if (!(d->problems & PCI_PROBLEM_CLASS))
                        continue;
                add(b, "pci-class-unreadable", SEVERITY_WARNING, d->address,
                    "Name the GPU to lend (attach and xml do not pick one while this is so); compare with "
                    "\"lspci -vvnn\", and reboot if sysfs stays inconsistent.",
                    "The class of PCI device %s cannot be read%s: it may be a GPU that gpu-handoff cannot see.",
                    d->address, d->problems & PCI_PROBLEM_LINK ? " (its sysfs directory cannot be opened)" : "");
        }
        for (size_t i = 0; i < pci->strays.n; i++)
                add(b, "pci-stray-entry", SEVERITY_WARNING, NULL,
                    "Nothing to do unless it names a device you mean: gpu-handoff reads devices only under the "
                    "names the kernel gives them (lower-case DDDD:BB:DD.F).",
                    "/sys/bus/pci/devices holds \"%s\", which is not a name the kernel gives a device; it is "
                    "ignored.",
                    pci->strays.v[i]);
}

int doctor_quirks_missing(struct doctor_report *r, const char *path)
{
        return doctor_report_add(r, "quirks-missing", SEVERITY_WARNING, NULL,
                                 "Install gpu-handoff's data files (the quirks database is data/quirks in the source "
                                 "tree), or name it with --quirks FILE.",
                                 "The quirks database %s could not be found, so known GPU problems (reset bugs, "
                                 "USB-C functions, Intel Arc's audio behind the card's switch) are not checked.",
                                 path);
}

int doctor_run(const struct host *h, struct pci_names *names, struct doctor_report **ret)
{
        struct report_builder b = {.names = names, .h = h};
        bool assignable = false;

        b.r = calloc(1, sizeof(*b.r));
        if (!b.r)
                return -ENOMEM;
        b.r->virtualization = h->have_cpu && h->cpu.virtualization == YES && h->kvm_device;
        b.r->iommu_enabled = h->iommu.enabled;
        b.r->layout = gpu_layout(h->gpus, h->n_gpus);

        check_virtualization(&b);
        check_iommu(&b);
        check_vfio(&b);
        /* What is configured for boot; boot_doctor() appends through doctor_report_add(), which
         * leaves no spare room the builder could count on. */
        if (!b.error && (h->parts & HOST_PLATFORM) && boot_doctor(h, b.r) < 0)
                b.error = -ENOMEM;
        b.cap = b.r->n_findings;
        check_sysfs(&b);
        for (size_t i = 0; i < h->n_gpus; i++) {
                check_gpu(&b, &h->gpus[i]);
                assignable |= gpu_assignable(&b, &h->gpus[i]);
        }
        check_layout(&b);
        if (b.error) {
                doctor_report_free(b.r);
                return b.error;
        }
        b.r->ready = b.r->virtualization && b.r->iommu_enabled && h->modules[HOST_MODULE_VFIO_PCI] != MODULE_MISSING &&
                     assignable;
        *ret = b.r;
        return 0;
}

void doctor_report_free(struct doctor_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_findings; i++) {
                free(r->findings[i].id);
                free(r->findings[i].subject);
                free(r->findings[i].message);
                free(r->findings[i].fix);
        }
        free(r->findings);
        free(r);
}

const char *severity_to_string(enum severity s)
{
        static const char *const names[] = {
                [SEVERITY_INFO] = "info",
                [SEVERITY_WARNING] = "warning",
                [SEVERITY_ERROR] = "error",
        };
        return names[s];
}

int doctor_report_add(struct doctor_report *r, const char *id, enum severity sev, const char *subject, const char *fix,
                      const char *fmt, ...)
{
        struct report_builder b = {.r = r, .cap = r->n_findings};
        va_list ap;

        va_start(ap, fmt);
        vadd(&b, id, sev, subject, fix, fmt, ap);
        va_end(ap);
        return b.error;
}
