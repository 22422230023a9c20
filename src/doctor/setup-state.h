/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor's view of host setup: whether `gpu-handoff setup` is applied, waits for a reboot, took
 * effect on the running kernel, was interrupted, or had a file changed under it since. */

#include "basic/sysroot.h"
#include "doctor/doctor.h"

/* Adds the setup findings; nothing when setup was never applied. 0 or -ENOMEM. */
int setup_doctor(const struct sysroot *sr, struct doctor_report *rep);
