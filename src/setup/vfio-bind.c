/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/vfio-bind.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/quote.h"
#include "host/display.h"
#include "host/in-use.h"
#include "host/modules.h"
#include "setup/backend.h"

#define LIVE_USB_RESCUE "from a live USB: gpu-handoff --root /mnt setup undo (with the system mounted on /mnt)"

/* Collects the set and the first refusal while it is built. */
struct builder {
        const struct host *h;
        const struct vfio_bind_request *req;
        struct pci_device **set;
        size_t n_set;
        struct vfio_binding *b;
        int error; /* -ENOMEM only: a refusal is b->refused */
};

_printf_(2, 3) static int refuse(struct builder *bl, const char *fmt, ...)
{
        va_list ap;

        if (bl->b->refused || bl->error)
                return -EPERM;
        va_start(ap, fmt);
        if (vasprintf(&bl->b->refused, fmt, ap) < 0) {
                bl->b->refused = NULL;
                bl->error = -ENOMEM;
        }
        va_end(ap);
        return -EPERM;
}

_printf_(2, 3) static void note(struct builder *bl, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (strv_addv(&bl->b->notes, fmt, ap) < 0)
                bl->error = -ENOMEM;
        va_end(ap);
}

static bool stopped(const struct builder *bl)
{
        return bl->error || bl->b->refused;
}

static bool in_set(const struct builder *bl, const struct pci_device *d)
{
        for (size_t i = 0; i < bl->n_set; i++)
                if (bl->set[i] == d)
                        return true;
        return false;
}

static void add(struct builder *bl, struct pci_device *d)
{
        struct pci_device **v;

        if (stopped(bl) || in_set(bl, d))
                return;
        v = reallocarray(bl->set, bl->n_set + 1, sizeof(*v));
        if (!v) {
                bl->error = -ENOMEM;
                return;
        }
        bl->set = v;
        v[bl->n_set++] = d;
}

static const struct gpu *gpu_of(const struct host *h, const struct pci_device *d)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d)
                        return &h->gpus[i];
        return NULL;
}

/* The IOMMU is off in the running kernel (or the platform has none): no device has a group.
 * Setup is what turns it on, so the groups are not known yet. */
static bool iommu_off(const struct host *h)
{
        return !h->groups || h->groups->n_groups == 0;
}

/* The device the user named, checked as attach checks it (handoff/plan.c resolve_name()). */
static struct pci_device *resolve_name(struct builder *bl, const char *name)
{
        char buf[PCI_ADDR_STRLEN], q[QUOTE_BUF];
        struct pci_addr a;
        struct pci_device *d;

        if (pci_addr_parse_user(name, &a) < 0) {
                refuse(bl, "\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F, as gpu-handoff list shows)",
                       quote(name, q));
                return NULL;
        }
        d = pci_list_find(bl->h->pci, &a);
        if (!d) {
                refuse(bl, "there is no PCI device %s on this host (gpu-handoff list shows them)",
                       pci_addr_format(&a, buf));
                return NULL;
        }
        if (pci_device_is_bridge(d)) {
                refuse(bl, "%s is a PCI bridge; bridges stay with the host", d->address);
                return NULL;
        }
        return d;
}

/* The device and the other functions of its card (attach's add_card()). */
static void add_card(struct builder *bl, struct pci_device *d)
{
        const struct gpu *g = gpu_of(bl->h, d);

        if (d->iommu_group < 0 && !iommu_off(bl->h)) {
                refuse(bl, "%s has no IOMMU group: passthrough needs the IOMMU enabled (gpu-handoff doctor says how)",
                       d->address);
                return;
        }
        if (g && g->isolation == GROUP_UNKNOWN) {
                refuse(bl,
                       "%s links to IOMMU group %d, but the kernel's list of that group does not hold it: which "
                       "devices VFIO would take is unknown (gpu-handoff doctor)",
                       d->address, d->iommu_group);
                return;
        }
        add(bl, d);
        for (size_t i = 0; g && i < g->n_companions && !stopped(bl); i++) {
                if (g->companions[i]->iommu_group < 0 && !iommu_off(bl->h)) {
                        refuse(bl, "%s, a function of %s, has no IOMMU group", g->companions[i]->address, d->address);
                        return;
                }
                add(bl, g->companions[i]);
        }
}

/* What VFIO takes with the device: the rest of its group, bridges excepted (they stay with
 * pcieport, which VFIO accepts). */
static void add_group_of(struct builder *bl, const struct pci_device *d)
{
        const struct iommu_group *group = iommu_group_find(bl->h->groups, d->iommu_group);

        for (size_t i = 0; group && i < group->n_members; i++)
                if (!pci_device_is_bridge(group->members[i]))
                        add(bl, group->members[i]);
}

static bool was_named(struct pci_device *const *named, size_t n, const struct pci_device *d)
{
        for (size_t i = 0; i < n; i++)
                if (named[i] == d)
                        return true;
        return false;
}

/* Nothing in the set may hold what the host runs on (attach's check_host_uses(), its words). */
static void check_host_uses(struct builder *bl, struct pci_device *const *named, size_t n_named)
{
        _cleanup_free_ char *held = NULL;
        bool all_named = true;
        size_t len = 0;
        FILE *f = open_memstream(&held, &len);

        if (!f) {
                bl->error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < bl->n_set; i++) {
                struct pci_device *d = bl->set[i];
                struct strv uses = {0};

                if (gpu_of(bl->h, d))
                        continue;
                if (pci_device_host_uses(bl->h->sr, d, &uses) < 0) {
                        strv_done(&uses);
                        fclose(f);
                        bl->error = -ENOMEM;
                        return;
                }
                if (uses.n > 0)
                        fprintf(f, "%s%s (", ftell(f) ? "; " : "", d->address);
                for (size_t j = 0; j < uses.n; j++)
                        fprintf(f, "%s%s%s", j ? ", " : "", uses.v[j], j + 1 == uses.n ? ")" : "");
                all_named &= uses.n == 0 || was_named(named, n_named, d);
                strv_done(&uses);
        }
        if (fclose(f) != 0) {
                bl->error = -ENOMEM;
                return;
        }
        if (held && *held && all_named)
                refuse(bl, "the host runs on %s: lending %s would pull that from under it; leave %s out", held,
                       strchr(held, ';') ? "them" : "it", strchr(held, ';') ? "them" : "it");
        else if (held && *held)
                refuse(bl,
                       "the IOMMU group to lend holds what the host runs on, %s: the group cannot go to a VM as a "
                       "whole (gpu-handoff doctor says what would split it)",
                       held);
}

/* A GPU that can show the host's desktop: not a 3D controller (no outputs). One on vfio-pci
 * is the VMs' (host/display.h), not the host's. */
static bool can_display(const struct gpu *g)
{
        return pci_sub_class(g->dev) != PCI_CLASS_DISPLAY_3D;
}

/* How to boot once without arg, on this bootloader. */
static char *way_back(const struct builder *bl, const char *arg)
{
        char *s = NULL;
        int r;

        switch (bl->req->bootloader) {
        case BOOTLOADER_GRUB:
                r = asprintf(&s,
                             "to boot once without it, press e on the entry at the GRUB menu, delete %s from the "
                             "line that starts with linux and boot with Ctrl-x, or pick the recovery entry (Advanced "
                             "options), which never gets it; " LIVE_USB_RESCUE,
                             arg);
                break;
        case BOOTLOADER_RPM_OSTREE:
                r = asprintf(&s,
                             "to boot once without it, pick the previous deployment at the boot menu (ostree keeps "
                             "it), or press e on the entry and delete %s; " LIVE_USB_RESCUE,
                             arg);
                break;
        case BOOTLOADER_UKI:
                r = asprintf(&s,
                             "to boot once without it, press e on the entry at the boot menu and delete %s (with "
                             "Secure Boot on, a unified kernel image ignores edits: then only the way below "
                             "helps); " LIVE_USB_RESCUE,
                             arg);
                break;
        case BOOTLOADER_REFIND:
                r = asprintf(&s,
                             "to boot once without it, press F2 (or Insert) on the entry at the rEFInd menu and "
                             "delete %s from its options; " LIVE_USB_RESCUE,
                             arg);
                break;
        default:
                r = asprintf(&s,
                             "to boot once without it, press e on the entry at the boot menu and delete %s from the "
                             "kernel command line; " LIVE_USB_RESCUE,
                             arg);
                break;
        }
        return r < 0 ? NULL : s;
}

/* The host's display GPU in the set needs another display device left to the host, or the
 * caller's yes (research-setup.md §2: a black screen and a live-USB chroot otherwise). */
static void check_display(struct builder *bl, const char *arg)
{
        const struct pci_device *display = NULL, *other = NULL;
        char why[128];

        for (size_t i = 0; i < bl->h->n_gpus; i++) {
                const struct gpu *g = &bl->h->gpus[i];
                if (!in_set(bl, g->dev)) {
                        if (can_display(g) && !gpu_on_vfio(g) && !other)
                                other = g->dev;
                } else if (!display && (gpu_drives_display(g) || g->dev->boot_vga == YES))
                        display = g->dev;
        }
        if (!display)
                return;
        const struct gpu *g = gpu_of(bl->h, display);
        if (other) {
                note(bl, "%s is the host's display now (%s); from the next boot on the host's display is on %s",
                     display->address, gpu_display_reason(g, why, sizeof(why)), other->address);
                return;
        }
        _cleanup_free_ char *back = way_back(bl, arg);
        if (!back) {
                bl->error = -ENOMEM;
                return;
        }
        if (!bl->req->single_gpu) {
                refuse(bl,
                       "%s is the host's display GPU (%s) and no other display device stays with the host: bound "
                       "to vfio-pci at boot, the screen stays black after the boot menu; %s; run again with --yes "
                       "if that is what you want",
                       display->address, gpu_display_reason(g, why, sizeof(why)), back);
                return;
        }
        note(bl,
             "%s is the host's only display GPU: from the next boot on the host has no display after the boot menu "
             "(reach it over the network, or from a VM given the card)",
             display->address);
}

static int compare_devices(const void *a, const void *b)
{
        return pci_addr_compare(&(*(struct pci_device *const *)a)->addr, &(*(struct pci_device *const *)b)->addr);
}

static bool is_hd_audio(const struct pci_device *d)
{
        return !(d->problems & PCI_PROBLEM_CLASS) && pci_sub_class(d) == PCI_CLASS_MULTIMEDIA_HD_AUDIO;
}

/* The GPU drivers a display device of this vendor may be claimed by, whichever is installed
 * (the host's current one is added from sys/module as well). */
static const struct {
        uint16_t vendor, device; /* device 0: any */
        const char *modules[2];
} gpu_modules[] = {
        {0x10de, 0, {"nvidia", "nouveau"}},
        {0x1002, 0, {"amdgpu", "radeon"}},
        {0x8086, 0, {"i915", "xe"}},
        {0x1234, 0x1111, {"bochs", NULL}}, /* QEMU's standard VGA (the testbed) */
};

static int add_module(struct strv *mods, const char *m)
{
        char name[64];
        size_t i;

        /* sys/module and modprobe spell names with underscores; one spelling, one line */
        for (i = 0; m[i] && i + 1 < sizeof(name); i++)
                name[i] = m[i] == '-' ? '_' : m[i];
        name[i] = '\0';
        for (size_t j = 0; j < mods->n; j++)
                if (strcmp(mods->v[j], name) == 0)
                        return 0;
        return strv_addf(mods, "%s", name);
}

/* Every driver module that could claim a device of the set before vfio-pci: the one that has it
 * now, and the vendor's GPU or the HD-audio driver. */
static void driver_modules(struct builder *bl, struct strv *mods)
{
        for (size_t i = 0; i < bl->n_set && !bl->error; i++) {
                const struct pci_device *d = bl->set[i];
                _cleanup_free_ char *module = NULL;

                if (d->driver && !driver_is_vfio_compatible(d->driver)) {
                        int r = module_of_driver(bl->h->sr, d->driver, &module);
                        if (r == -ENOMEM)
                                bl->error = r;
                        else if (r == -ENOENT)
                                note(bl,
                                     "%s is on %s, which is built into the kernel and takes it before any module "
                                     "loads: from the next boot on, gpu-handoff attach moves it to vfio-pci when a VM "
                                     "starts",
                                     d->address, d->driver);
                        else if (r >= 0 && add_module(mods, module) < 0)
                                bl->error = -ENOMEM;
                }
                if (d->problems & PCI_PROBLEM_IDS)
                        continue;
                if (pci_device_is_gpu(d))
                        for (size_t k = 0; k < ELEMENTSOF(gpu_modules); k++) {
                                if (gpu_modules[k].vendor != d->vendor ||
                                    (gpu_modules[k].device && gpu_modules[k].device != d->device))
                                        continue;
                                for (size_t m = 0; m < 2 && gpu_modules[k].modules[m]; m++)
                                        if (add_module(mods, gpu_modules[k].modules[m]) < 0)
                                                bl->error = -ENOMEM;
                        }
                if (is_hd_audio(d) && add_module(mods, "snd_hda_intel") < 0)
                        bl->error = -ENOMEM;
        }
        if (!bl->error && mods->n > 1)
                qsort(mods->v, mods->n, sizeof(char *), strv_compare);
}

/* Our modprobe.d file. Every address in it is a canonical one of the snapshot, checked again
 * here: nothing the user typed reaches the file. */
static char *modprobe_conf(struct builder *bl)
{
        struct strv mods = {0};
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        driver_modules(bl, &mods);
        if (bl->error || !(f = open_memstream(&text, &len))) {
                strv_done(&mods);
                bl->error = -ENOMEM;
                return NULL;
        }
        fputs("# Written by gpu-handoff setup: binds these PCI devices to vfio-pci from early boot.\n"
              "# Undo with `gpu-handoff setup undo` (it removes this file and rebuilds the initramfs);\n"
              "# edits here are reported as drift.\n"
              "#\n"
              "# By address (driver_override), never by vendor:device ID, so that an identical card the\n"
              "# host keeps stays with the host. Only when the kernel command line holds " VFIO_BIND_GATE_ARG ":\n"
              "# delete it at the boot menu to boot once without the binding. The softdep lines load\n"
              "# vfio-pci, and so run this install command, before any driver that could claim them.\n"
              "install vfio_pci read -r c < /proc/cmdline; case \" $c \" in *\" " VFIO_BIND_GATE_ARG " \"*) for d in",
              f);
        for (size_t i = 0; i < bl->n_set; i++) {
                struct pci_addr a;
                char buf[PCI_ADDR_STRLEN];
                if (pci_addr_parse(bl->set[i]->address, &a) < 0 ||
                    strcmp(pci_addr_format(&a, buf), bl->set[i]->address) != 0) {
                        fclose(f);
                        free(text);
                        strv_done(&mods);
                        refuse(bl, "the kernel names a device \"%s\", which is not a PCI address",
                               bl->set[i]->address);
                        return NULL;
                }
                fprintf(f, " %s", buf);
        }
        fputs("; do [ -e \"/sys/bus/pci/devices/$d/driver_override\" ] && echo vfio-pci > "
              "\"/sys/bus/pci/devices/$d/driver_override\"; done;; esac; exec modprobe -i vfio_pci $CMDLINE_OPTS\n",
              f);
        for (size_t i = 0; i < mods.n; i++)
                fprintf(f, "softdep %s pre: vfio_pci\n", mods.v[i]);
        strv_done(&mods);
        if (fclose(f) != 0) {
                free(text);
                bl->error = -ENOMEM;
                return NULL;
        }
        return text;
}

static bool listed(char *const *devices, const char *address)
{
        for (size_t k = 0; devices && devices[k]; k++)
                if (strcmp(devices[k], address) == 0)
                        return true;
        return false;
}

int vfio_ids_for(const struct host *h, char *const *devices, char **ret_ids, char **ret_error)
{
        struct strv ids = {0};
        int r = 0;

        for (size_t i = 0; devices && devices[i] && r == 0; i++) {
                struct pci_addr a;
                const struct pci_device *d = pci_addr_parse(devices[i], &a) < 0 ? NULL : pci_list_find(h->pci, &a);
                char id[sizeof("vvvv:dddd")];
                bool seen = false;

                if (!d || (d->problems & PCI_PROBLEM_IDS)) {
                        r = error_setf(ret_error, -ENODATA, "the vendor and device IDs of %s cannot be read",
                                       devices[i]);
                        break;
                }
                snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
                for (size_t k = 0; k < ids.n && !seen; k++)
                        seen = strcmp(ids.v[k], id) == 0;
                if (seen)
                        continue;
                if (strv_addf(&ids, "%s", id) < 0)
                        r = -ENOMEM;
                for (size_t j = 0; j < h->pci->n_devices && r == 0; j++) {
                        const struct pci_device *o = &h->pci->devices[j];
                        if (o->problems & PCI_PROBLEM_IDS)
                                r = error_setf(ret_error, -ENODATA,
                                               "the vendor and device IDs of %s cannot be read, so %s may match it",
                                               o->address, id);
                        else if (o->vendor == d->vendor && o->device == d->device && !listed(devices, o->address))
                                r = error_setf(ret_error, -EEXIST, "%s also matches %s, which the host keeps", id,
                                               o->address);
                }
        }
        _cleanup_free_ char *joined = r == 0 ? strv_join(ids.v, ",") : NULL;
        strv_done(&ids);
        if (r < 0)
                return r;
        if (!joined)
                return -ENOMEM;
        if (ret_ids)
                *ret_ids = TAKE_PTR(joined);
        return 0;
}

/* Binding by ID (vfio-pci.ids= on the kernel command line), where modprobe.d cannot act: the
 * argument, or the refusal. */
static void bind_by_ids(struct builder *bl, const char *why_ids)
{
        _cleanup_free_ char *ids = NULL, *err = NULL;
        int r = vfio_ids_for(bl->h, bl->b->devices.v, &ids, &err);

        if (r == -ENOMEM) {
                bl->error = r;
                return;
        }
        if (r < 0) {
                refuse(bl,
                       "%s, so the only way to bind at boot is vfio-pci.ids= on the kernel command line, and %s: "
                       "binding by ID would take it too; bind by address when the VM starts instead (gpu-handoff "
                       "attach, or libvirt's managed hostdev), or after boot with driverctl set-override ADDRESS "
                       "vfio-pci (it runs after the initramfs and takes the device from a driver that already "
                       "has it)",
                       why_ids, err ? err : "the IDs cannot be read");
                return;
        }
        if (strv_addf(&bl->b->args, "vfio-pci.ids=%s", ids) < 0) {
                bl->error = -ENOMEM;
                return;
        }
        note(bl, "%s, so the devices are bound by ID (vfio-pci.ids=%s): no other device of this host has those IDs",
             why_ids, ids);
}

/* Not named, and not a function of a named card: in the set for its group alone. */
static bool group_mate(const struct builder *bl, struct pci_device *const *named, size_t n_named,
                       const struct pci_device *d)
{
        if (was_named(named, n_named, d))
                return false;
        for (size_t i = 0; i < n_named; i++) {
                const struct gpu *g = gpu_of(bl->h, named[i]);
                if (g && gpu_has_companion(g, d))
                        return false;
        }
        return true;
}

int vfio_bind_plan(const struct host *h, const struct boot_facts *facts, const struct vfio_bind_request *req,
                   struct vfio_binding *ret)
{
        struct vfio_binding b = {0};
        struct builder bl = {.h = h, .req = req, .b = &b};
        size_t n_names = strv_length(req->names);
        _cleanup_free_ struct pci_device **named = calloc(n_names ? n_names : 1, sizeof(*named));
        size_t n_named = 0;
        bool by_ids = facts->vfio_pci_builtin || req->initramfs == INITRAMFS_BOOSTER;

        if (!named)
                return -ENOMEM;
        if (n_names == 0)
                refuse(&bl, "name the devices to bind at boot (--vfio ADDRESS; gpu-handoff list shows them)");
        for (size_t i = 0; i < n_names && !stopped(&bl); i++) {
                struct pci_device *d = resolve_name(&bl, req->names[i]);
                if (d && !was_named(named, n_named, d))
                        named[n_named++] = d;
        }
        for (size_t i = 0; i < n_named && !stopped(&bl); i++)
                add_card(&bl, named[i]);
        /* What the host runs on is refused before a group is: named, it is in the set by now. */
        if (!stopped(&bl))
                check_host_uses(&bl, named, n_named);
        for (size_t i = 0; i < n_named && !stopped(&bl); i++) {
                const struct gpu *g = gpu_of(h, named[i]);
                add_group_of(&bl, named[i]);
                for (size_t j = 0; g && j < g->n_companions; j++)
                        add_group_of(&bl, g->companions[j]);
        }
        if (!stopped(&bl))
                check_host_uses(&bl, named, n_named);
        if (!stopped(&bl) && bl.n_set > 1)
                qsort(bl.set, bl.n_set, sizeof(*bl.set), compare_devices);
        for (size_t i = 0; i < bl.n_set && !stopped(&bl); i++)
                if (strv_addf(&b.devices, "%s", bl.set[i]->address) < 0)
                        bl.error = -ENOMEM;

        if (!stopped(&bl) && by_ids)
                bind_by_ids(&bl, facts->vfio_pci_builtin
                                         ? "vfio-pci is built into this kernel (modprobe.d install and softdep lines "
                                           "do nothing there)"
                                         : "booster reads only the options lines of modprobe.d, not install or "
                                           "softdep");
        else if (!stopped(&bl) && strv_addf(&b.args, "%s", VFIO_BIND_GATE_ARG) < 0)
                bl.error = -ENOMEM;
        /* the argument that arms the binding: the way back deletes it */
        const char *arm = b.args.n > 0 ? b.args.v[0] : VFIO_BIND_GATE_ARG;
        if (!stopped(&bl))
                check_display(&bl, arm);
        for (size_t i = 0; i < bl.n_set && !stopped(&bl); i++)
                if (group_mate(&bl, named, n_named, bl.set[i]))
                        note(&bl, "%s shares an IOMMU group with the devices named: it is bound to vfio-pci at boot too",
                             bl.set[i]->address);
        if (!stopped(&bl) && iommu_off(h))
                note(&bl,
                     "the IOMMU is off in the running kernel, so its groups are unknown: after the reboot, "
                     "gpu-handoff setup status shows whether a group holds more, and setup --vfio again binds it");
        if (!stopped(&bl) && !by_ids)
                b.modprobe_conf = modprobe_conf(&bl);
        if (!stopped(&bl) && b.modprobe_conf) {
                struct strv shadowed = {0};
                if (vfio_bind_shadowed(h->sr, b.modprobe_conf, &shadowed) < 0)
                        bl.error = -ENOMEM;
                for (size_t i = 0; i < shadowed.n; i++)
                        note(&bl, "%s; the binding may not happen at boot", shadowed.v[i]);
                strv_done(&shadowed);
        }
        if (!stopped(&bl)) {
                _cleanup_free_ char *list = strv_join(b.devices.v, " ");
                if (!list)
                        bl.error = -ENOMEM;
                else
                        note(&bl, "from the next boot on, vfio-pci takes %s before any other driver can", list);
        }
        if (!stopped(&bl)) {
                _cleanup_free_ char *back = way_back(&bl, arm);
                if (!back)
                        bl.error = -ENOMEM;
                else
                        note(&bl, "%s", back);
        }

        free(bl.set);
        if (bl.error) {
                vfio_binding_done(&b);
                return bl.error;
        }
        if (b.refused) { /* a refusal sets nothing else */
                char *refused = TAKE_PTR(b.refused);
                vfio_binding_done(&b);
                b.refused = refused;
        }
        *ret = b;
        return 0;
}

void vfio_binding_done(struct vfio_binding *b)
{
        strv_done(&b->devices);
        free(b->modprobe_conf);
        strv_done(&b->args);
        strv_done(&b->notes);
        free(b->refused);
        *b = (struct vfio_binding){0};
}

/* "install vfio_pci ..." / "softdep nvidia pre: ..." -> "install vfio_pci" / "softdep nvidia",
 * names with underscores; NULL for any other line. */
static char *directive_of(const char *line, size_t len)
{
        char cmd[16], name[64];
        size_t i = 0, n;

        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        for (n = 0; i < len && line[i] != ' ' && line[i] != '\t' && n + 1 < sizeof(cmd); i++)
                cmd[n++] = line[i];
        cmd[n] = '\0';
        if (strcmp(cmd, "install") != 0 && strcmp(cmd, "softdep") != 0)
                return NULL;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        for (n = 0; i < len && line[i] != ' ' && line[i] != '\t' && n + 1 < sizeof(name); i++)
                name[n++] = line[i] == '-' ? '_' : line[i];
        name[n] = '\0';
        if (n == 0)
                return NULL;
        char *s = NULL;
        return asprintf(&s, "%s %s", cmd, name) < 0 ? NULL : s;
}

int vfio_bind_shadowed(const struct sysroot *sr, const char *conf, struct strv *ret)
{
        /* kmod's directories, the first holding a name winning it */
        static const char *const dirs[] = {"etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d",
                                           "lib/modprobe.d", "usr/lib/modprobe.d"};
        const char *ours = strrchr(SETUP_MODPROBE_PATH, '/') + 1;
        struct strv names = {0}, paths = {0};
        int r = 0;

        for (size_t d = 0; d < ELEMENTSOF(dirs) && r >= 0; d++) {
                _cleanup_closedir_ DIR *dir = NULL;
                struct dirent *de;
                if (sysroot_opendir(sr, dirs[d], &dir) < 0)
                        continue;
                while ((de = readdir(dir)) && r >= 0) {
                        size_t n = strlen(de->d_name);
                        bool seen = false;
                        if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0 ||
                            strcmp(de->d_name, ours) >= 0)
                                continue;
                        for (size_t k = 0; k < names.n && !seen; k++)
                                seen = strcmp(names.v[k], de->d_name) == 0;
                        if (!seen && (strv_addf(&names, "%s", de->d_name) < 0 ||
                                      strv_addf(&paths, "/%s/%s", dirs[d], de->d_name) < 0))
                                r = -ENOMEM;
                }
        }
        /* earlier names first, as kmod reads them */
        for (size_t i = 0; i < names.n && r >= 0; i++)
                for (size_t j = i + 1; j < names.n; j++)
                        if (strcmp(names.v[j], names.v[i]) < 0) {
                                char *t = names.v[i];
                                names.v[i] = names.v[j], names.v[j] = t;
                                t = paths.v[i];
                                paths.v[i] = paths.v[j], paths.v[j] = t;
                        }
        for (const char *line = conf; r >= 0 && line && *line;) {
                const char *eol = strchrnul(line, '\n');
                _cleanup_free_ char *want = directive_of(line, (size_t)(eol - line));
                for (size_t i = 0; want && i < paths.n && r >= 0; i++) {
                        _cleanup_free_ char *text = NULL;
                        size_t len = 0;
                        bool hit = false;
                        if (sysroot_read_file(sr, paths.v[i], 1 << 20, &text, &len) < 0)
                                continue;
                        for (const char *l = text; l && *l && !hit;) {
                                const char *e = strchrnul(l, '\n');
                                _cleanup_free_ char *have = directive_of(l, (size_t)(e - l));
                                hit = have && strcmp(have, want) == 0;
                                l = *e ? e + 1 : NULL;
                        }
                        if (hit) {
                                r = strv_addf(ret,
                                              "%s in %s comes before %s: modprobe uses only the first, so ours does "
                                              "nothing",
                                              want, paths.v[i], SETUP_MODPROBE_PATH);
                                break;
                        }
                }
                line = *eol ? eol + 1 : NULL;
        }
        strv_done(&names);
        strv_done(&paths);
        return r < 0 ? -ENOMEM : 0;
}
