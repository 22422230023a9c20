/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* doctor's view of resets: cards that did not come back from a reset in this boot (they need a
 * reboot), cards that cannot reset and were lent once already in this boot. (vendor-reset's own
 * findings are doctor.c's check_quirks(), which asks vendor_reset_installed().) */

#include "doctor/doctor.h"

/* Adds the findings gpu-unreset and gpu-lent-this-boot. 0 or -ENOMEM. */
int resets_doctor(const struct host *h, struct doctor_report *rep);
/* Whether vendor-reset.ko is installed for the running kernel: lib/modules/RELEASE/ below
 * updates/dkms (DKMS), updates, extra or misc, compressed or not. */
bool vendor_reset_installed(const struct host *h);
