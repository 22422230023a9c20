/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* IOMMU groups (the unit VFIO hands to a VM) and whether the platform has an IOMMU at all. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"
#include "host/pci.h"

struct iommu_group {
        int number;
        struct pci_device **members; /* sorted by address */
        size_t n_members;
};

struct iommu_group_list {
        struct iommu_group *groups; /* sorted by number */
        size_t n_groups;
        struct pci_device **ungrouped; /* devices without an iommu_group link */
        size_t n_ungrouped;
};

/* Groups the scanned devices by their iommu_group link. */
int iommu_groups_build(const struct pci_list *pci, struct iommu_group_list **ret);
void iommu_group_list_free(struct iommu_group_list *l);
const struct iommu_group *iommu_group_find(const struct iommu_group_list *l, int number);

/* VFIO accepts a group only when every non-bridge member is on a vfio driver, pci-stub or no
 * driver at all (the kernel's vfio_group viability rule). Names the first offender. */
bool iommu_group_viable(const struct iommu_group *g, const struct pci_device **ret_blocker);
/* A driver a VFIO group may contain: vfio-pci and its variants, pci-stub, pcieport. */
bool driver_is_vfio_compatible(const char *driver);

enum iommu_firmware {
        IOMMU_FIRMWARE_NONE,
        IOMMU_FIRMWARE_DMAR, /* Intel VT-d */
        IOMMU_FIRMWARE_IVRS, /* AMD-Vi */
};

struct iommu_platform {
        enum iommu_firmware firmware; /* ACPI table present: enabled in the firmware setup */
        bool enabled;                 /* the kernel runs it: /sys/class/iommu has units */
        size_t n_units;
        enum tristate irq_remapping;  /* "IR-" interrupt chips in /proc/interrupts */
};

int iommu_platform_read(const struct sysroot *sr, size_t n_groups, struct iommu_platform *ret);
const char *iommu_firmware_to_string(enum iommu_firmware f);
