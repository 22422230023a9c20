/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The directory a domain's journal and lock live in (run/gpu-handoff, var/lib/gpu-handoff/...):
 * whoever can write there could forge the record of what to undo as root, or swap the lock, so
 * it is ours and only ours wherever it is. */

#include <stdbool.h>

#include "basic/sysroot.h"

/* Opens dir (relative, below the root) as a directory fd. With create, makes what is missing: its
 * parents 0755 whatever the umask (a fake root may lack run/), itself 0700, and fsyncs the parent
 * of each directory it made.
 * -ELOOP when dir is a symlink, -ENOTDIR when it is something else that is not a directory,
 * -EPERM when it is owned by another user or writable by group or others; with a message in
 * *ret_error (may be NULL) naming dir. */
int change_dir_open(const struct sysroot *sr, const char *dir, bool create, char **ret_error);
