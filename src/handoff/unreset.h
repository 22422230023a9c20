/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Cards that did not come back from their reset on the way back to the host (release, recover):
 * recorded in run/gpu-handoff/unreset, one line "BOOT_ID ADDRESS PROBLEM", so that the rest of
 * the undo leaves them on vfio-pci (a host driver probing a card that does not answer can hang
 * the host), and status and doctor say that the host needs a reboot for them. Lines of another
 * boot do not count. */

#include <stdbool.h>

#include "basic/strv.h"
#include "basic/sysroot.h"
#include "change/step.h"

#define UNRESET_PATH "run/gpu-handoff/unreset"

/* 0 or -errno. problem: what is wrong, for people (reset_health_problem()). */
int unreset_record(const struct sysroot *sr, const char *address, const char *problem);
/* Whether address is recorded in this boot. */
bool unreset_recorded(const struct sysroot *sr, const char *address);
/* This boot's records as "ADDRESS: PROBLEM" lines. 0 or -ENOMEM. */
int unreset_list(const struct sysroot *sr, struct strv *ret);
/* For release, recover and the hook after an undo of steps: one line naming each card of a
 * return-reset step that is recorded ("0000:0b:00.0 did not come back after its reset (its config
 * space reads ffff ...): it stays on vfio-pci; the host needs a reboot before this card works
 * again"), malloc'd; NULL when none is (or out of memory). */
char *unreset_report(const struct sysroot *sr, const struct step *steps, size_t n);
