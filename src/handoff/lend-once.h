/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Cards that cannot reset (quirk flags reset-once-per-boot, reset-broken) are lent once per host
 * boot: a second VM run finds them hung, or hangs the host. The lends of this boot are recorded
 * in run/gpu-handoff/lends, one line "BOOT_ID ADDRESS VENDOR:DEVICE QUIRK_ID"; lines of another
 * boot (a run directory that outlived its boot) do not count. */

#include "basic/sysroot.h"
#include "host/gpu.h"

#define LEND_ONCE_PATH "run/gpu-handoff/lends"

/* -EPERM with *ret_error (the reason and the remedy) when g is such a card and was lent already
 * in this boot; 0 otherwise (also when the record cannot be read: it only ever refuses on
 * evidence). force_word: how the caller overrides it ("--force"), or NULL when it cannot. */
int lend_once_check(const struct sysroot *sr, const struct gpu *g, const char *force_word, char **ret_error);
/* Records that g was lent in this boot, when its quirks make it a once-per-boot card; 0, or
 * -errno (the lend itself stands: the caller warns). */
int lend_once_record(const struct sysroot *sr, const struct gpu *g);
