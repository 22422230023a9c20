/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd as the host's init: its presence, and its naming of unit cgroups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/systemd.h"

bool systemd_booted(const struct sysroot *sr)
{
        return sysroot_exists(sr, "run/systemd/system");
}

char *systemd_unit_cgroup(const char *unit)
{
        size_t len = strlen(unit);
        char *path = NULL, *prefix;
        FILE *f;

        if (len < 6 || strcmp(unit + len - 6, ".slice") != 0 || !strchr(unit, '-'))
                return strdup(unit);
        f = open_memstream(&path, &len);
        if (!f)
                return NULL;
        for (const char *dash = strchr(unit, '-'); dash; dash = strchr(dash + 1, '-')) {
                prefix = strndup(unit, (size_t)(dash - unit));
                if (prefix)
                        fprintf(f, "%s.slice/", prefix);
                free(prefix);
        }
        fputs(unit, f);
        return fclose(f) == 0 ? path : NULL;
}
