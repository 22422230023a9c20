/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The CPUs the kernel's writeback workqueue may run on, in the kernel's cpumask format. */

#include "basic/sysroot.h"

/* sys/bus/workqueue/devices/writeback/cpumask, malloc'd into *ret; -errno (-ENOENT: this kernel
 * has no such file). */
int writeback_cpumask_read(const struct sysroot *sr, char **ret);
