/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor --vm for a domain that uses Looking Glass (kvmfr in <qemu:commandline>, or the
 * looking-glass <shmem>): its size against the resolution setup --looking-glass was given (or
 * at least 1080p), /dev/kvmfrN a character device (not the plain file QEMU leaves when a VM
 * starts before kvmfr is loaded), the device in qemu.conf's cgroup_device_acl and in AppArmor's
 * libvirt-qemu abstraction, and no memory balloon. Finding ids "vm-looking-glass*"
 * (docs/json.md). Reads below the root; nothing for a domain without Looking Glass. */

#include "basic/sysroot.h"
#include "doctor/doctor.h"
#include "libvirt/domain.h"

/* 0 or -ENOMEM. */
int doctor_check_looking_glass(const struct sysroot *sr, const struct domain *d, struct doctor_report *rep);
