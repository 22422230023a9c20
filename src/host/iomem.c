/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/iomem.h"

#define IORESOURCE_MEM 0x00000200 /* include/linux/ioport.h */

static bool framebuffer_name(const char *name)
{
        static const char *const names[] = {"BOOTFB", "efifb", "simplefb", "vesafb", "simple-framebuffer", "simpledrm"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strncmp(name, names[i], strlen(names[i])) == 0)
                        return true;
        return false;
}

/* "  e0000000-e07e8fff : BOOTFB" */
static bool parse_iomem_line(const char *line, struct iomem_range *ret)
{
        char name[64];
        uint64_t start, end;

        if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %63[^\n]", &start, &end, name) != 3 || end < start)
                return false;
        ret->start = start;
        ret->end = end;
        snprintf(ret->name, sizeof(ret->name), "%s", name);
        return true;
}

int iomem_bootfb_in_bar(const struct sysroot *sr, const struct pci_device *d, struct iomem_range *ret)
{
        _cleanup_free_ char *iomem = NULL, *resource = NULL;
        char path[96], *save = NULL, *line;
        struct { uint64_t start, end; } bars[6];
        size_t n_bars = 0;
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/resource", d->address);
        r = sysroot_read_file(sr, path, 64 << 10, &resource, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        /* One line per resource: start end flags; the first six are the BARs. */
        for (line = strtok_r(resource, "\n", &save); line && n_bars < ELEMENTSOF(bars); line = strtok_r(NULL, "\n", &save)) {
                uint64_t start, end, flags;
                if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) == 3 &&
                    (flags & IORESOURCE_MEM) && end > start) {
                        bars[n_bars].start = start;
                        bars[n_bars++].end = end;
                }
        }
        if (n_bars == 0)
                return 0;
        r = sysroot_read_file(sr, "proc/iomem", 4 << 20, &iomem, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        save = NULL;
        for (line = strtok_r(iomem, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct iomem_range range;
                if (!parse_iomem_line(line, &range) || !framebuffer_name(range.name) || range.start == 0)
                        continue;
                for (size_t i = 0; i < n_bars; i++)
                        if (range.start >= bars[i].start && range.end <= bars[i].end) {
                                *ret = range;
                                return 1;
                        }
        }
        return 0;
}
