/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor's findings about the libvirt hook. */

#include "basic/sysroot.h"
#include "doctor/doctor.h"

/* Appends doctor's hook findings to rep (ids in docs/json.md: hook-installed,
 * hook-not-installed, hook-stale, hook-not-run, hook-restart-needed, hook-runs-twice,
 * hook-vm-scripts, hook-unreadable); binary is the gpu-handoff the hook should run. No libvirt:
 * none. Only -ENOMEM is an error. */
int hook_doctor(const struct sysroot *sr, const char *binary, struct doctor_report *rep);
