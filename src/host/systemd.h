/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the host's init tells: whether systemd runs it, its display manager, and where systemd puts
 * a unit's cgroup. */

#include <stdbool.h>

#include "basic/sysroot.h"

/* run/systemd/system exists (sd_booted()'s test). */
bool systemd_booted(const struct sysroot *sr);
/* The unit etc/systemd/system/display-manager.service links to ("gdm.service"), malloc'd into
 * *ret; -errno (-ENOENT: no display manager is installed). */
int systemd_display_manager(const struct sysroot *sr, char **ret);
/* Where a slice's cgroup is: "a-b.slice" lives in "a.slice/a-b.slice"; anything else is taken to
 * sit at the top (system.slice, user.slice, init.scope). malloc'd, NULL: out of memory. */
char *systemd_unit_cgroup(const char *unit);
