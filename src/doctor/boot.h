/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor's findings about what is already configured for boot (boot.c): the modprobe.d files
 * and the running kernel's command line, linted for what the kernel ignores or what binds the
 * wrong device (research-setup.md §1.1, §2). Finding ids, listed in docs/json.md:
 *
 *   modprobe-param-dotted   an options line hands "kvm.ignore_msrs=1" to another module
 *   module-param-unknown    a parameter the module does not have (options line, MODULE.PARAM=)
 *   vfio-ids-host-device    vfio-pci ids= also match a device the host keeps
 *   vfio-config-stale       ids=, an install command or a driverctl override for no device here
 *   kernel-arg-noop         amd_iommu=on, video=efifb:off under simpledrm, rd.driver.pre without dracut
 *   acs-override-unpatched  pcie_acs_override= on a kernel without the ACS override patch
 *
 * Each message names the file and line (or the kernel command line) where the mistake is. */

#include "doctor/doctor.h"

/* Appends the findings to rep, reading the files below h's root (h must have HOST_PLATFORM).
 * What cannot be read is no finding. 0 or -ENOMEM. */
int boot_doctor(const struct host *h, struct doctor_report *rep);
