/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* setup --vendor-reset: the udev rule that makes the kernel use vendor-reset for the cards it
 * supports. On Linux 5.15 and later the kernel resets a device by the first method of its
 * reset_method, and vendor-reset's hook runs only for device_specific, which must be written
 * there at boot, before the card is used. The rule is generated from the quirks database (the
 * entries with flag vendor-reset), one line per device ID, all in lower case as sysfs prints
 * them: upstream's rule writes a third of them in upper case, which udev never matches
 * (vendor-reset#84). Its RUN loads the module first, so the write finds device_specific
 * supported. vendor-reset covers Polaris, Vega, Navi 10/12/14 and Arcturus: not the RX 6000,
 * 7000 or 9000 series. */

#include "host/quirks.h"
#include "setup/plan.h"

#define VENDOR_RESET_RULE_PATH "/etc/udev/rules.d/60-gpu-handoff-vendor-reset.rules"

/* The rule file's content, malloc'd; NULL when out of memory. A database without vendor-reset
 * entries gives a file of comments only. */
char *vendor_reset_udev_rule(const struct quirk_db *db);
/* Adds the rule file to the plan, and a note on what else the cards need. 0 or -errno. */
int vendor_reset_plan(const struct sysroot *sr, const struct quirk_db *db, struct setup_plan *p, char **ret_error);
