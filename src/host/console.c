/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "host/console.h"

/* The platform devices firmware framebuffers appear as (drivers/firmware/sysfb.c). */
static const char *const framebuffer_devices[] = {
        "efi-framebuffer.0",
        "simple-framebuffer.0",
        "vesa-framebuffer.0",
};

static int compare_vtcons(const void *a, const void *b)
{
        unsigned x = ((const struct vtconsole *)a)->index, y = ((const struct vtconsole *)b)->index;
        return (x > y) - (x < y);
}

int vtconsoles_read(const struct sysroot *sr, struct vtconsole **ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *dir = NULL;
        _cleanup_free_ struct vtconsole *list = NULL;
        struct dirent *de;
        size_t n = 0, cap = 0;
        int r;

        r = sysroot_opendir(sr, "sys/class/vtconsole", &dir);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                _cleanup_close_ int fd = -1;
                struct vtconsole v = {0};
                uint32_t index;
                char buf[16];
                bool bound;

                if (strncmp(de->d_name, "vtcon", 5) != 0 || sysfs_parse_uint(de->d_name + 5, 63, &index) < 0)
                        continue;
                fd = sysroot_openat_entry(sr, "sys/class/vtconsole", de->d_name, O_PATH | O_DIRECTORY);
                if (fd < 0 || read_attr_at(fd, "name", v.name, sizeof(v.name)) < 0 ||
                    read_attr_at(fd, "bind", buf, sizeof(buf)) < 0 || sysfs_parse_bool(buf, &bound) < 0)
                        continue; /* a console we cannot read is one we will not touch */
                v.index = index;
                v.bound = bound;
                v.framebuffer = strstr(v.name, "frame buffer") != NULL;
                if (n == cap) {
                        struct vtconsole *p = realloc(list, (cap = cap ? cap * 2 : 4) * sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        list = p;
                }
                list[n++] = v;
        }
        if (n > 0)
                qsort(list, n, sizeof(*list), compare_vtcons);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int boot_framebuffers_read(const struct sysroot *sr, struct boot_framebuffer **ret, size_t *ret_n)
{
        struct boot_framebuffer *list = calloc(ELEMENTSOF(framebuffer_devices), sizeof(*list));
        size_t n = 0;

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(framebuffer_devices); i++) {
                _cleanup_close_ int fd = -1;
                char path[128], link[136];
                struct boot_framebuffer *f = &list[n];

                snprintf(path, sizeof(path), "sys/bus/platform/devices/%s", framebuffer_devices[i]);
                fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
                if (fd < 0)
                        continue;
                snprintf(f->device, sizeof(f->device), "%s", framebuffer_devices[i]);
                snprintf(link, sizeof(link), "%s/driver", path); /* followed inside the root */
                if (read_link_basename_at(fd, "driver", f->driver, sizeof(f->driver)) < 0 ||
                    !sysroot_exists(sr, link))
                        f->driver[0] = '\0';
                n++;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}
