/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/gpu.h"

#define VENDOR_INTEL 0x8086
#define VENDOR_AMD_CPU 0x1022
#define VENDOR_ASPEED 0x1a03
#define VENDOR_MATROX 0x102b

static bool class_is_companion(const struct pci_device *d)
{
        switch (pci_sub_class(d)) {
        case PCI_CLASS_MULTIMEDIA_HD_AUDIO:
        case PCI_CLASS_SERIAL_USB:
        case PCI_CLASS_SERIAL_UNKNOWN:
                return true;
        default:
                return false;
        }
}

/* Another function of the card's slot, of a class cards carry. On a card every such function is
 * the card's, whatever its vendor ID says (emulated and OEM cards mix vendors). An AMD APU's slot
 * also holds the platform's own audio and USB, from vendor 1022: for integrated GPUs only
 * functions of the GPU's own vendor travel. */
static bool is_companion_of(const struct gpu *g, const struct pci_device *d)
{
        if (d == g->dev || !pci_addr_same_slot(&g->dev->addr, &d->addr) || (d->problems & PCI_PROBLEM_CLASS) ||
            !class_is_companion(d))
                return false;
        if (g->kind == GPU_INTEGRATED)
                return !(d->problems & PCI_PROBLEM_IDS) && d->vendor == g->dev->vendor;
        return true;
}

static enum gpu_kind classify(const struct pci_list *pci, const struct pci_device *d)
{
        if (d->vendor == VENDOR_ASPEED || d->vendor == VENDOR_MATROX)
                return GPU_ONBOARD;
        /* Intel's iGPU is an integrated endpoint on the root bus (00:02.0). */
        if (d->vendor == VENDOR_INTEL && !d->parent)
                return GPU_INTEGRATED;
        /* An AMD APU's GPU shares its slot with AMD CPU functions (PSP, USB, audio). */
        for (size_t i = 0; i < pci->n_devices; i++) {
                const struct pci_device *o = &pci->devices[i];
                if (o != d && pci_addr_same_slot(&o->addr, &d->addr) && !(o->problems & PCI_PROBLEM_IDS) &&
                    o->vendor == VENDOR_AMD_CPU)
                        return GPU_INTEGRATED;
        }
        return GPU_DISCRETE;
}

static int fill_group(struct gpu *g)
{
        bool bridges = false;

        if (!g->group) {
                g->isolation = GROUP_NO_IOMMU;
                return 0;
        }
        g->foreign = calloc(g->group->n_members, sizeof(*g->foreign));
        if (!g->foreign)
                return -ENOMEM;
        for (size_t i = 0; i < g->group->n_members; i++) {
                struct pci_device *m = g->group->members[i];
                if (m == g->dev || gpu_has_companion(g, m))
                        continue;
                if (pci_device_is_bridge(m))
                        bridges = true;
                else
                        g->foreign[g->n_foreign++] = m;
        }
        g->isolation = g->n_foreign ? GROUP_SHARED : bridges ? GROUP_WITH_BRIDGES : GROUP_ISOLATED;
        return 0;
}

const struct pci_device *gpu_own_switch(const struct gpu *g)
{
        const struct pci_device *down = g->dev->parent;

        if (!(gpu_quirk_flags(g) & QUIRK_SWITCH_COMPANIONS) || !down || !pci_device_is_bridge(down) || !down->parent ||
            !pci_device_is_bridge(down->parent) || !down->parent->parent)
                return NULL;
        /* The card's switch is the GPU's vendor's; a board's switch (a chipset's) is not. */
        if ((down->problems | down->parent->problems) & PCI_PROBLEM_IDS || down->vendor != g->dev->vendor ||
            down->parent->vendor != g->dev->vendor)
                return NULL;
        return down->parent; /* below a root or downstream port of the board: the card's upstream port */
}

/* A function of the card behind another downstream port of its own switch (Intel Arc's HDMI/DP
 * audio): a direct child of a sibling port, of a class cards carry. */
static bool is_switch_companion(const struct gpu *g, const struct pci_device *up, const struct pci_device *d)
{
        return d != g->dev && d->parent && d->parent != g->dev->parent && d->parent->parent == up &&
               !(d->problems & PCI_PROBLEM_CLASS) && !pci_device_is_bridge(d) && class_is_companion(d);
}

/* Companions are the card's slot siblings (adjacent: the device list is sorted) and, on a card
 * with its own switch, the functions behind its other ports. */
static int fill_companions(const struct pci_list *pci, struct gpu *g)
{
        size_t self = (size_t)(g->dev - pci->devices);
        size_t lo = self, hi = self, n = 0;
        const struct pci_device *up = gpu_own_switch(g);

        while (lo > 0 && pci_addr_same_slot(&pci->devices[lo - 1].addr, &g->dev->addr))
                lo--;
        while (hi + 1 < pci->n_devices && pci_addr_same_slot(&pci->devices[hi + 1].addr, &g->dev->addr))
                hi++;
        for (size_t i = 0; up && i < pci->n_devices; i++)
                n += is_switch_companion(g, up, &pci->devices[i]);
        g->companions = calloc(hi - lo + 1 + n, sizeof(*g->companions));
        if (!g->companions)
                return -ENOMEM;
        for (size_t i = lo; i <= hi; i++)
                if (is_companion_of(g, &pci->devices[i]))
                        g->companions[g->n_companions++] = &pci->devices[i];
        for (size_t i = 0; up && i < pci->n_devices; i++)
                if (is_switch_companion(g, up, &pci->devices[i]))
                        g->companions[g->n_companions++] = &pci->devices[i];
        return 0;
}

void gpus_check_groups(const struct sysroot *sr, struct gpu *gpus, size_t n)
{
        char path[128];

        for (size_t i = 0; i < n; i++) {
                struct gpu *g = &gpus[i];
                if (!g->group)
                        continue;
                snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d/devices/%s", g->group->number,
                         g->dev->address);
                if (!sysroot_exists(sr, path))
                        g->isolation = GROUP_UNKNOWN;
        }
}

/* Intel's chipset (PCH) root ports sit on the root bus next to the CPU's, at these device
 * numbers (00:1b, 00:1c, 00:1d); the CPU's own are 00:01, 00:06 (PEG) and similar. */
static bool is_intel_pch_root_port(const struct pci_device *d)
{
        return !(d->problems & PCI_PROBLEM_IDS) && d->vendor == VENDOR_INTEL &&
               (d->addr.slot == 0x1b || d->addr.slot == 0x1c || d->addr.slot == 0x1d);
}

enum group_boundary gpu_group_boundary(const struct gpu *g, bool laptop)
{
        const struct pci_device *up = gpu_own_switch(g);
        const struct pci_device *port = up ? up->parent : g->dev->parent;

        if (laptop)
                return BOUNDARY_SOLDERED;
        /* The card hangs off a root port (a bridge on a root bus): the CPU's, or Intel's PCH's.
         * Anything deeper is behind the chipset or a switch on the board. */
        if (port && !port->parent && !is_intel_pch_root_port(port))
                return BOUNDARY_CPU_ROOT_PORT;
        return BOUNDARY_CHIPSET;
}

bool gpu_has_companion(const struct gpu *g, const struct pci_device *d)
{
        for (size_t i = 0; i < g->n_companions; i++)
                if (g->companions[i] == d)
                        return true;
        return false;
}

unsigned gpu_quirk_flags(const struct gpu *g)
{
        unsigned flags = 0;
        for (size_t i = 0; i < g->n_quirks; i++)
                flags |= g->quirks[i]->flags;
        return flags;
}

void gpus_free(struct gpu *gpus, size_t n)
{
        if (!gpus)
                return;
        for (size_t i = 0; i < n; i++) {
                free(gpus[i].companions);
                free(gpus[i].foreign);
        }
        free(gpus);
}

int gpus_find(const struct pci_list *pci, const struct iommu_group_list *groups, const struct quirk_db *quirks,
              struct gpu **ret, size_t *ret_n)
{
        struct gpu *gpus = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < pci->n_devices; i++)
                if (pci_device_is_gpu(&pci->devices[i]))
                        n++;
        if (n > 0) {
                gpus = calloc(n, sizeof(*gpus));
                if (!gpus)
                        return -ENOMEM;
        }
        n = 0;
        for (size_t i = 0; i < pci->n_devices; i++) {
                struct pci_device *d = &pci->devices[i];
                struct gpu *g;

                if (!pci_device_is_gpu(d))
                        continue;
                g = &gpus[n++];
                g->dev = d;
                g->kind = classify(pci, d);
                g->group = d->iommu_group >= 0 ? iommu_group_find(groups, d->iommu_group) : NULL;
                g->display_card = -1;
                if (quirks && !(d->problems & PCI_PROBLEM_IDS)) {
                        size_t m = quirk_db_match(quirks, d->vendor, d->device, g->quirks, GPU_MAX_QUIRKS);
                        g->n_quirks = m < GPU_MAX_QUIRKS ? m : GPU_MAX_QUIRKS;
                }
                r = fill_companions(pci, g); /* after the quirks: they say whether the card has a switch */
                if (r >= 0)
                        r = fill_group(g);
                if (r < 0) {
                        gpus_free(gpus, n);
                        return r;
                }
        }
        *ret = gpus;
        *ret_n = n;
        return 0;
}

enum gpu_layout gpu_layout(const struct gpu *gpus, size_t n)
{
        size_t discrete = 0;

        if (n == 0)
                return LAYOUT_NO_GPU;
        if (n == 1)
                return LAYOUT_SINGLE_GPU;
        for (size_t i = 0; i < n; i++)
                if (gpus[i].kind == GPU_DISCRETE)
                        discrete++;
        if (discrete == 0)
                return LAYOUT_SINGLE_GPU; /* nothing a guest can take without the host display */
        if (discrete < n)
                return LAYOUT_IGPU_DGPU;
        return LAYOUT_DUAL_DGPU;
}

const char *gpu_layout_to_string(enum gpu_layout l)
{
        static const char *const names[] = {
                [LAYOUT_NO_GPU] = "no-gpu",
                [LAYOUT_SINGLE_GPU] = "single-gpu",
                [LAYOUT_IGPU_DGPU] = "igpu-dgpu",
                [LAYOUT_DUAL_DGPU] = "dual-dgpu",
        };
        return names[l];
}

const char *gpu_kind_to_string(enum gpu_kind k)
{
        static const char *const names[] = {
                [GPU_DISCRETE] = "discrete",
                [GPU_INTEGRATED] = "integrated",
                [GPU_ONBOARD] = "onboard",
        };
        return names[k];
}

const char *group_isolation_to_string(enum group_isolation i)
{
        static const char *const names[] = {
                [GROUP_NO_IOMMU] = "no-iommu",
                [GROUP_ISOLATED] = "isolated",
                [GROUP_WITH_BRIDGES] = "with-bridges",
                [GROUP_SHARED] = "shared",
                [GROUP_UNKNOWN] = "unknown",
        };
        return names[i];
}
