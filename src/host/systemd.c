/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd as the host's init: its presence, its display manager, and its naming of unit cgroups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/systemd.h"

bool systemd_booted(const struct sysroot *sr)
{
        return sysroot_exists(sr, "run/systemd/system");
}

int systemd_display_manager(const struct sysroot *sr, char **ret)
{
        _cleanup_close_ int fd = sysroot_openat(sr, "etc/systemd/system", O_PATH | O_DIRECTORY);
        char dm[256];
        int r;

        if (fd < 0)
                return fd;
        r = read_link_basename_at(fd, "display-manager.service", dm, sizeof(dm));
        if (r < 0)
                return r;
        *ret = strdup(dm);
        return *ret ? 0 : -ENOMEM;
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
