/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/macro.h"

/* What stands between this host and a working GPU passthrough: a list of findings, each with a
 * stable id, a severity, a one-line message and a concrete fix. Pure analysis of a host
 * snapshot; the caller prints. */

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"
#include "host/names.h"

enum severity {
        SEVERITY_INFO,
        SEVERITY_WARNING,
        SEVERITY_ERROR,
};

struct finding {
        char *id;      /* "iommu-disabled"; stable, listed in docs/json.md */
        enum severity severity;
        char *subject; /* the device it is about, or NULL for the host */
        char *message;
        char *fix;     /* NULL when there is nothing to do */
};

struct doctor_report {
        bool ready;          /* at least one GPU can be passed through now */
        bool virtualization; /* CPU flag and /dev/kvm */
        bool iommu_enabled;
        enum gpu_layout layout;
        struct finding *findings;
        size_t n_findings;
};

int doctor_run(const struct host *h, struct pci_names *names, struct doctor_report **ret);
void doctor_report_free(struct doctor_report *r);
/* Appends a finding, for checks beyond doctor_run() (a VM, the libvirt hook). 0 or -ENOMEM. */
int doctor_report_add(struct doctor_report *r, const char *id, enum severity sev, const char *subject, const char *fix,
                      const char *fmt, ...) _printf_(6, 7);
/* The finding for a quirks database that could not be loaded from path. 0 or -ENOMEM. */
int doctor_quirks_missing(struct doctor_report *r, const char *path);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct doctor_report *, doctor_report_free)
const char *severity_to_string(enum severity s);
/* "Intel VT-d" hosts need intel_iommu=on; AMD enables its IOMMU by default (only iommu=pt). */
const char *doctor_iommu_kernel_args(const struct host *h);
