/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/macro.h"

/* A read-only snapshot of everything passthrough depends on, taken once per command. */

#include <stdbool.h>

#include "basic/sysroot.h"
#include "host/cpu.h"
#include "host/gpu.h"
#include "host/iommu.h"
#include "host/modules.h"
#include "host/pci.h"
#include "host/quirks.h"

enum host_part {
        HOST_PCI = 0,            /* devices, groups, GPUs: always read */
        HOST_PLATFORM = 1u << 0, /* CPU, KVM, IOMMU, kernel command line, modules */
};

/* The modules doctor reports on, in this order. */
enum host_module {
        HOST_MODULE_VFIO,
        HOST_MODULE_VFIO_PCI,
        HOST_MODULE_VFIO_IOMMU_TYPE1,
        HOST_MODULE_VENDOR_RESET,
        _HOST_MODULE_MAX,
};

struct host {
        const struct sysroot *sr;
        struct pci_list *pci;
        struct iommu_group_list *groups;
        struct gpu *gpus;
        size_t n_gpus;

        /* HOST_PLATFORM only */
        bool have_cpu; /* /proc/cpuinfo was readable */
        struct cpu_info cpu;
        bool kvm_device;
        bool laptop; /* SMBIOS says portable: its GPUs are soldered, there is no slot to move them to */
        struct iommu_platform iommu;
        char *cmdline;
        char *kernel_release;
        enum module_state modules[_HOST_MODULE_MAX];
};

int host_read(const struct sysroot *sr, const struct quirk_db *quirks, unsigned parts, struct host **ret);
void host_free(struct host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free)
const char *host_module_name(enum host_module m);

/* True if the kernel command line has the argument "key" or "key=value" (value NULL: any). */
bool host_cmdline_has(const struct host *h, const char *key, const char *value);
