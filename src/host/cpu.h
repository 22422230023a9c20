/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The CPU facts passthrough depends on: vendor (decides the IOMMU kernel arguments) and the
 * hardware virtualization flag. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/sysroot.h"
#include "host/pci.h"

enum cpu_vendor {
        CPU_VENDOR_UNKNOWN,
        CPU_VENDOR_INTEL,
        CPU_VENDOR_AMD,
};

struct cpu_info {
        enum cpu_vendor vendor;
        char model[128];
        enum tristate virtualization; /* vmx / svm in the flags */
        unsigned n_cpus;
};

/* -ENOENT when /proc/cpuinfo is missing; a cpuinfo without the fields gives UNKNOWN values. */
int cpu_info_read(const struct sysroot *sr, struct cpu_info *ret);
const char *cpu_vendor_to_string(enum cpu_vendor v);
/* "VT-x" / "AMD-V" */
const char *cpu_virtualization_name(enum cpu_vendor v);

/* The online CPUs (sys/devices/system/cpu/online) into set (BITMAP_WORDS(CPULIST_BITS) words).
 * -errno when it cannot be read, -EINVAL when it is not a CPU list; set is then empty. */
int cpu_online_read(const struct sysroot *sr, uint64_t *set);
