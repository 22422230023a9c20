/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor --vm: a libvirt domain checked against this host (vm.c). Finding ids start with "vm-"
 * and are listed in docs/json.md. */

#include <stdbool.h>
#include <stdint.h>

#include "doctor/doctor.h"
#include "libvirt/domain.h"

/* What the hugepage check needs to know about memory now, for the domain's page size. */
struct vm_memory {
        uint64_t default_hugepage_size; /* the host's default (Hugepagesize in /proc/meminfo), bytes */
        bool pool_exists;               /* the kernel has a pool of the domain's page size */
        uint64_t free_pages;            /* free (and not reserved) pages in it */
        uint64_t available_bytes;       /* MemAvailable */
};

/* Appends the findings about d to rep: q35, UEFI, hostdevs this host has, every function of each
 * passed GPU with one managed mode, hugepages available (Looking Glass: doctor/looking-glass.h). 0 or -ENOMEM. */
int doctor_check_vm(const struct host *h, const struct domain *d, const struct vm_memory *m,
                    struct doctor_report *rep);
