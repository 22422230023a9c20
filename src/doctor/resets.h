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
/* Whether the initramfs configuration loads vendor-reset early: a non-comment line naming it in
 * etc/initramfs-tools/modules or hooks/, etc/dracut.conf.d/, etc/mkinitcpio.conf(.d/) or
 * etc/booster.yaml. */
bool vendor_reset_early(const struct host *h);
