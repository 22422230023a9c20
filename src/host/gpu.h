/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* GPUs (PCI class 0x03xx), the functions that belong to the same card (HDMI/DP audio, USB-C
 * xHCI and UCSI), how well their IOMMU group isolates them, and the host's GPU layout. */

#include <stddef.h>

#include "host/iommu.h"
#include "host/pci.h"
#include "host/display.h"
#include "host/quirks.h"

enum gpu_kind {
        GPU_DISCRETE,
        GPU_INTEGRATED, /* in the CPU package: Intel iGPU, AMD APU */
        GPU_ONBOARD,    /* a server board's BMC display (ASPEED, Matrox G200e) */
};

enum group_isolation {
        GROUP_NO_IOMMU,     /* no IOMMU group: cannot be passed through */
        GROUP_ISOLATED,     /* only the card's own functions */
        GROUP_WITH_BRIDGES, /* plus PCI bridges, which VFIO accepts */
        GROUP_SHARED,       /* other endpoints too: they would go to the VM with it */
        GROUP_UNKNOWN,      /* the kernel's group directory does not list the GPU: sysfs disagrees */
};

/* Where a shared group's boundary comes from: what would have to change to split it. */
enum group_boundary {
        BOUNDARY_CPU_ROOT_PORT, /* a root port of the CPU without ACS: its other slots share the group */
        BOUNDARY_CHIPSET,       /* behind the chipset (or a switch on the board) without ACS */
        BOUNDARY_SOLDERED,      /* a laptop's GPU: soldered, no slot to move it to */
};

#define GPU_MAX_QUIRKS 8

struct gpu {
        struct pci_device *dev;
        enum gpu_kind kind;
        const struct iommu_group *group; /* NULL without IOMMU */
        enum group_isolation isolation;
        struct pci_device **companions; /* other functions of the card, by address */
        size_t n_companions;
        struct pci_device **foreign; /* other endpoints in the group */
        size_t n_foreign;
        const struct quirk *quirks[GPU_MAX_QUIRKS];
        size_t n_quirks;
        unsigned display;          /* enum display_evidence (host/display.h); 0: drives no display */
        int display_card;          /* its DRM card's minor, -1 when none */
        char display_connector[32]; /* the first connected connector, "HDMI-A-1" */
};

enum gpu_layout {
        LAYOUT_NO_GPU,
        LAYOUT_SINGLE_GPU,
        LAYOUT_IGPU_DGPU, /* integrated or onboard display for the host, discrete for guests */
        LAYOUT_DUAL_DGPU, /* two or more discrete GPUs */
};

/* Finds every GPU; quirks may be NULL. */
int gpus_find(const struct pci_list *pci, const struct iommu_group_list *groups, const struct quirk_db *quirks,
              struct gpu **ret, size_t *ret_n);
void gpus_free(struct gpu *gpus, size_t n);
/* Marks GROUP_UNKNOWN every GPU whose group directory (sys/kernel/iommu_groups/N/devices) does
 * not list it although its iommu_group link names N: the groups were built from the links. */
void gpus_check_groups(const struct sysroot *sr, struct gpu *gpus, size_t n);
/* Where the group boundary of a GPU with a shared group comes from. */
enum group_boundary gpu_group_boundary(const struct gpu *g, bool laptop);
/* The GPU's own PCIe switch (Intel Arc): its upstream port, NULL when the card has none. */
const struct pci_device *gpu_own_switch(const struct gpu *g);
unsigned gpu_quirk_flags(const struct gpu *g);
bool gpu_has_companion(const struct gpu *g, const struct pci_device *d);

enum gpu_layout gpu_layout(const struct gpu *gpus, size_t n);
const char *gpu_layout_to_string(enum gpu_layout l);
const char *gpu_kind_to_string(enum gpu_kind k);
const char *group_isolation_to_string(enum group_isolation i);
