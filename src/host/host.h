/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/macro.h"

/* A read-only snapshot of everything passthrough depends on, taken once per command. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/bitmap.h"
#include "basic/parse.h"
#include "basic/sysroot.h"
#include "host/cgroup.h"
#include "host/cpu.h"
#include "host/gpu.h"
#include "host/iommu.h"
#include "host/irq.h"
#include "host/memory.h"
#include "host/modules.h"
#include "host/pci.h"
#include "host/processes.h"
#include "host/quirks.h"

enum host_part {
        HOST_PCI = 0,            /* devices, groups, GPUs: always read */
        HOST_PLATFORM = 1u << 0, /* CPU, KVM, IOMMU, kernel command line, modules, memory */
};

/* The modules doctor reports on, in this order. */
enum host_module {
        HOST_MODULE_VFIO,
        HOST_MODULE_VFIO_PCI,
        HOST_MODULE_VFIO_IOMMU_TYPE1,
        HOST_MODULE_VENDOR_RESET,
        _HOST_MODULE_MAX,
};

/* The facts making room for a guest is planned from (plan_room()). Not part of host_read(): listing
 * every process and IRQ costs what list and doctor need not pay, so host_read_room() reads them,
 * and only those a plan asks for. */
struct host_room_request {
        pid_t self;            /* the process whose ancestors (with their cgroups) are read */
        bool processes;        /* the process table (freezing processes by name) */
        char *const *cpu_units; /* NULL-terminated: the cgroups of these units and their parents, where
                                 * systemd runs the cgroup it gives the unit (systemd_unit_cgroup()),
                                 * else the unit taken as a cgroup path below sys/fs/cgroup */
        bool irqs;             /* every IRQ's affinity */
};

struct host_room {
        struct process_ancestor *ancestors; /* the request's self first */
        size_t n_ancestors;
        struct process_table processes;
        int processes_error; /* 0, or why proc could not be listed */
        struct cgroup_facts cgroups;
        struct irq_list irqs;
        int irqs_error;          /* 0, or why proc/irq could not be listed (-ENOENT: there is none) */
        char *writeback_cpumask; /* NULL: this kernel has no writeback workqueue cpumask */
};

struct host {
        const struct sysroot *sr;
        unsigned parts;
        struct pci_list *pci;
        struct iommu_group_list *groups;
        struct gpu *gpus;
        size_t n_gpus;
        bool systemd;           /* systemd runs the host (systemd_booted()) */
        char *display_manager;  /* the unit display-manager.service names; NULL: none is installed */
        bool have_online_cpus; /* sys/devices/system/cpu/online was readable and a CPU list */
        uint64_t online_cpus[BITMAP_WORDS(CPULIST_BITS)];

        /* HOST_PLATFORM only */
        bool have_cpu; /* /proc/cpuinfo was readable */
        struct cpu_info cpu;
        bool kvm_device;
        bool laptop; /* SMBIOS says portable: its GPUs are soldered, there is no slot to move them to */
        struct iommu_platform iommu;
        char *cmdline;
        char *kernel_release;
        enum module_state modules[_HOST_MODULE_MAX];
        struct host_memory memory; /* also read by host_read_room() */

        struct host_room *room; /* host_read_room() only */
};

int host_read(const struct sysroot *sr, const struct quirk_db *quirks, unsigned parts, struct host **ret);
/* Adds the room facts req asks for (and the memory facts and kernel release when HOST_PLATFORM was
 * not read), replacing any read before. -ENOMEM only: what cannot be read is recorded as such. */
int host_read_room(struct host *h, const struct host_room_request *req);
void host_free(struct host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free)
const char *host_module_name(enum host_module m);

/* True if the kernel command line has the argument "key" or "key=value" (value NULL: any). */
bool host_cmdline_has(const struct host *h, const char *key, const char *value);
