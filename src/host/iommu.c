/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* By group number, then by address (the devices array is sorted by address). */
static int compare_by_group(const void *a, const void *b)
{
        const struct pci_device *x = *(struct pci_device *const *)a, *y = *(struct pci_device *const *)b;

        if (x->iommu_group != y->iommu_group)
                return (x->iommu_group > y->iommu_group) - (x->iommu_group < y->iommu_group);
        return (x > y) - (x < y);
}

/* The grouped devices sorted by group: each run is one group, its members in address order. A
 * table indexed by group number would cost 4 bytes per possible group, and a group numbered
 * 500,000,000 (a hostile tree, or a huge machine) gigabytes; this costs what the host has. */
int iommu_groups_build(const struct pci_list *pci, struct iommu_group_list **ret)
{
        _cleanup_free_ struct pci_device **grouped = NULL;
        struct iommu_group_list *l;
        size_t n = 0;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        grouped = calloc(pci->n_devices ? pci->n_devices : 1, sizeof(*grouped));
        l->groups = calloc(pci->n_devices ? pci->n_devices : 1, sizeof(*l->groups));
        l->ungrouped = calloc(pci->n_devices ? pci->n_devices : 1, sizeof(*l->ungrouped));
        if (!grouped || !l->groups || !l->ungrouped)
                goto oom;
        for (size_t i = 0; i < pci->n_devices; i++) {
                struct pci_device *d = &pci->devices[i];
                if (d->iommu_group < 0)
                        l->ungrouped[l->n_ungrouped++] = d;
                else
                        grouped[n++] = d;
        }
        if (n > 1)
                qsort(grouped, n, sizeof(*grouped), compare_by_group);
        for (size_t i = 0, end; i < n; i = end) {
                struct iommu_group *g = &l->groups[l->n_groups++];

                for (end = i + 1; end < n && grouped[end]->iommu_group == grouped[i]->iommu_group; end++)
                        ;
                g->number = grouped[i]->iommu_group;
                g->members = malloc((end - i) * sizeof(*g->members));
                if (!g->members)
                        goto oom;
                memcpy(g->members, grouped + i, (end - i) * sizeof(*g->members));
                g->n_members = end - i;
        }
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

/* Interrupt remapping shows as "IR-PCI-MSI" / "IR-IO-APIC" chip names in /proc/interrupts. The
 * file is read in pieces, never whole: 256 CPUs and 2,000 interrupts make it over 4 MiB on
 * exactly the servers that have remapping. Each piece keeps the last bytes of the one before,
 * so a name cut between two reads is still found. */
static enum tristate read_irq_remapping(const struct sysroot *sr)
{
        static const char *const plain[] = {"MSI", "IO-APIC"};
        enum { KEEP = sizeof("IO-APIC") - 2, PIECE = 64 << 10 };
        _cleanup_close_ int fd = sysroot_open_regular(sr, "proc/interrupts");
        _cleanup_free_ char *buf = NULL;
        bool any_plain = false;
        size_t kept = 0;

        if (fd < 0 || !(buf = malloc(KEEP + PIECE)))
                return UNKNOWN;
        for (;;) {
                ssize_t k = read(fd, buf + kept, PIECE);
                size_t n;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return UNKNOWN;
                if (k == 0)
                        break;
                n = kept + (size_t)k;
                if (memmem(buf, n, "IR-", 3))
                        return YES;
                for (size_t i = 0; i < ELEMENTSOF(plain) && !any_plain; i++)
                        any_plain = memmem(buf, n, plain[i], strlen(plain[i])) != NULL;
                kept = n < KEEP ? n : KEEP;
                memmove(buf, buf + n - kept, kept);
        }
        return any_plain ? NO : UNKNOWN;
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
