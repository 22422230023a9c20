/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/iommu.h"

static int compare_groups(const void *a, const void *b)
{
        int x = ((const struct iommu_group *)a)->number, y = ((const struct iommu_group *)b)->number;
        return (x > y) - (x < y);
}

void iommu_group_list_free(struct iommu_group_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_groups; i++)
                free(l->groups[i].members);
        free(l->groups);
        free(l->ungrouped);
        free(l);
}

const struct iommu_group *iommu_group_find(const struct iommu_group_list *l, int number)
{
        struct iommu_group key = {.number = number};
        return bsearch(&key, l->groups, l->n_groups, sizeof(*l->groups), compare_groups);
}

/* Devices arrive sorted by address, so members stay sorted; groups are sorted at the end. */
int iommu_groups_build(const struct pci_list *pci, struct iommu_group_list **ret)
{
        _cleanup_free_ int *index = NULL; /* group number -> slot, for the common dense case */
        struct iommu_group_list *l;
        int max = -1;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < pci->n_devices; i++)
                if (pci->devices[i].iommu_group > max)
                        max = pci->devices[i].iommu_group;
        index = malloc(((size_t)max + 1) * sizeof(int));
        l->groups = calloc(pci->n_devices ? pci->n_devices : 1, sizeof(*l->groups));
        l->ungrouped = calloc(pci->n_devices ? pci->n_devices : 1, sizeof(*l->ungrouped));
        if (!index || !l->groups || !l->ungrouped)
                goto oom;
        for (int g = 0; g <= max; g++)
                index[g] = -1;
        for (size_t i = 0; i < pci->n_devices; i++) {
                struct pci_device *d = &pci->devices[i];
                struct iommu_group *g;
                struct pci_device **p;

                if (d->iommu_group < 0) {
                        l->ungrouped[l->n_ungrouped++] = d;
                        continue;
                }
                if (index[d->iommu_group] < 0) {
                        index[d->iommu_group] = (int)l->n_groups;
                        l->groups[l->n_groups++].number = d->iommu_group;
                }
                g = &l->groups[index[d->iommu_group]];
                p = realloc(g->members, (g->n_members + 1) * sizeof(*p));
                if (!p)
                        goto oom;
                g->members = p;
                g->members[g->n_members++] = d;
        }
        qsort(l->groups, l->n_groups, sizeof(*l->groups), compare_groups);
        *ret = l;
        return 0;
oom:
        iommu_group_list_free(l);
        return -ENOMEM;
}

bool driver_is_vfio_compatible(const char *driver)
{
        return !driver || strcmp(driver, "pci-stub") == 0 || strcmp(driver, "pcieport") == 0 ||
               strncmp(driver, "vfio-pci", 8) == 0 || strstr(driver, "-vfio-pci") != NULL;
}

bool iommu_group_viable(const struct iommu_group *g, const struct pci_device **ret_blocker)
{
        for (size_t i = 0; i < g->n_members; i++) {
                const struct pci_device *d = g->members[i];
                if (pci_device_is_bridge(d) || driver_is_vfio_compatible(d->driver))
                        continue;
                if (ret_blocker)
                        *ret_blocker = d;
                return false;
        }
        return true;
}

const char *iommu_firmware_to_string(enum iommu_firmware f)
{
        switch (f) {
        case IOMMU_FIRMWARE_DMAR:
                return "Intel VT-d (ACPI DMAR)";
        case IOMMU_FIRMWARE_IVRS:
                return "AMD-Vi (ACPI IVRS)";
        default:
                return "none";
        }
}

static size_t count_entries(const struct sysroot *sr, const char *path)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        if (sysroot_opendir(sr, path, &d) < 0)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

/* Interrupt remapping shows as "IR-PCI-MSI" / "IR-IO-APIC" chip names in /proc/interrupts. */
static enum tristate read_irq_remapping(const struct sysroot *sr)
{
        _cleanup_free_ char *text = NULL;

        if (sysroot_read_file(sr, "proc/interrupts", 4 << 20, &text, NULL) < 0)
                return UNKNOWN;
        if (strstr(text, "IR-"))
                return YES;
        return strstr(text, "MSI") || strstr(text, "IO-APIC") ? NO : UNKNOWN;
}

int iommu_platform_read(const struct sysroot *sr, size_t n_groups, struct iommu_platform *ret)
{
        struct iommu_platform p = {0};

        if (sysroot_exists(sr, "sys/firmware/acpi/tables/DMAR"))
                p.firmware = IOMMU_FIRMWARE_DMAR;
        else if (sysroot_exists(sr, "sys/firmware/acpi/tables/IVRS"))
                p.firmware = IOMMU_FIRMWARE_IVRS;
        p.n_units = count_entries(sr, "sys/class/iommu");
        /* Groups without IOMMU units exist too (vfio no-IOMMU mode); they are not isolation. */
        p.enabled = p.n_units > 0 && n_groups > 0;
        p.irq_remapping = p.enabled ? read_irq_remapping(sr) : UNKNOWN;
        *ret = p;
        return 0;
}
