/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The writeback workqueue's cpumask, read below the root. */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "host/writeback.h"

int writeback_cpumask_read(const struct sysroot *sr, char **ret)
{
        char buf[4096];
        ssize_t n = sysroot_read_attr(sr, "sys/bus/workqueue/devices/writeback/cpumask", buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}
