/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "host/in-use.h"

#define MAX_DEPTH 8 /* stacked block devices or network uppers: dm on md on a partition... */

/* True when a sysfs link (sys/block/X, sys/class/net/X) resolves below the PCI device. */
static bool link_below(int dirfd, const char *name, const char *address)
{
        _cleanup_free_ char *target = NULL;
        char component[PCI_ADDR_STRLEN + 2];

        if (read_link_at(dirfd, name, &target) < 0)
                return false;
        snprintf(component, sizeof(component), "/%s/", address);
        return strstr(target, component) != NULL;
}

struct block_dev {
        char name[64];    /* "nvme0n1p2", "dm-0" */
        char number[32];  /* "259:2" */
        char mapped[128]; /* device-mapper name, "vg-root"; "" when none */
};

struct blocks {
        struct block_dev *v;
        size_t n;
};

static int blocks_add(const struct sysroot *sr, struct blocks *b, const char *dir, const char *name)
{
        char path[PATH_MAX];
        struct block_dev *p, *e;

        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->v[i].name, name) == 0)
                        return 0;
        p = realloc(b->v, (b->n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        b->v = p;
        e = &p[b->n];
        *e = (struct block_dev){0};
        snprintf(e->name, sizeof(e->name), "%s", name);
        if (snprintf(path, sizeof(path), "%s/dev", dir) >= (int)sizeof(path) ||
            sysroot_read_attr(sr, path, e->number, sizeof(e->number)) < 0)
                return 0; /* no number: nothing can refer to it */
        if (snprintf(path, sizeof(path), "%s/dm/name", dir) < (int)sizeof(path))
                (void)sysroot_read_attr(sr, path, e->mapped, sizeof(e->mapped));
        b->n++;
        return 0;
}

/* The block device dir (sys/block/NAME or one of its partitions), then what is stacked on it. */
static int collect_block(const struct sysroot *sr, struct blocks *b, const char *dir, const char *name, int depth)
{
        _cleanup_closedir_ DIR *holders = NULL;
        struct dirent *de;
        char path[PATH_MAX];
        int r;

        if (depth > MAX_DEPTH)
                return 0;
        r = blocks_add(sr, b, dir, name);
        if (r < 0)
                return r;
        if (snprintf(path, sizeof(path), "%s/holders", dir) >= (int)sizeof(path) ||
            sysroot_opendir(sr, path, &holders) < 0)
                return 0;
        while ((de = readdir(holders))) {
                if (de->d_name[0] == '.')
                        continue;
                if (snprintf(path, sizeof(path), "sys/block/%s", de->d_name) >= (int)sizeof(path))
                        continue;
                r = collect_block(sr, b, path, de->d_name, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A whole disk below the device, its partitions (subdirectories with a "partition" file). */
static int collect_disk(const struct sysroot *sr, struct blocks *b, const char *name)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        char path[PATH_MAX], part[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "sys/block/%s", name);
        r = collect_block(sr, b, path, name, 0);
        if (r < 0 || sysroot_opendir(sr, path, &dir) < 0)
                return r;
        while ((de = readdir(dir))) {
                if (strncmp(de->d_name, name, strlen(name)) != 0 ||
                    snprintf(part, sizeof(part), "%s/%s/partition", path, de->d_name) >= (int)sizeof(part) ||
                    !sysroot_exists(sr, part))
                        continue;
                if (snprintf(part, sizeof(part), "%s/%s", path, de->d_name) >= (int)sizeof(part))
                        continue;
                r = collect_block(sr, b, part, de->d_name, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct block_dev *block_by_number(const struct blocks *b, const char *number)
{
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->v[i].number, number) == 0)
                        return &b->v[i];
        return NULL;
}

/* "/dev/nvme0n1p3", "/dev/dm-1", "/dev/mapper/vg-swap" */
static const struct block_dev *block_by_path(const struct blocks *b, const char *path)
{
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        if (strncmp(path, "/dev/", 5) != 0)
                return NULL;
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->v[i].name, base) == 0 ||
                    (b->v[i].mapped[0] && strncmp(path, "/dev/mapper/", 12) == 0 && strcmp(b->v[i].mapped, base) == 0))
                        return &b->v[i];
        return NULL;
}

static int uses_of_mounts(const struct sysroot *sr, const struct blocks *b, struct strv *ret)
{
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        bool mountinfo = sysroot_read_file(sr, "proc/self/mountinfo", 16 << 20, &text, NULL) >= 0;

        if (!mountinfo && sysroot_read_file(sr, "proc/mounts", 16 << 20, &text, NULL) < 0)
                return 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char a[4096], c[4096], d[4096];
                const struct block_dev *dev;

                /* mountinfo: "36 35 259:2 / / rw,..."; mounts: "/dev/nvme0n1p2 / ext4 rw 0 0" */
                if (mountinfo ? sscanf(line, "%*s %*s %4095s %4095s %4095s", a, c, d) != 3
                              : sscanf(line, "%4095s %4095s", a, d) != 2)
                        continue;
                dev = mountinfo ? block_by_number(b, a) : block_by_path(b, a);
                if (dev && strv_addf(ret, "%s mounted on %s", dev->name, d) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int uses_of_swaps(const struct sysroot *sr, const struct blocks *b, struct strv *ret)
{
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;

        if (sysroot_read_file(sr, "proc/swaps", 1 << 20, &text, NULL) < 0)
                return 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char path[4096];
                const struct block_dev *dev;

                if (sscanf(line, "%4095s", path) != 1 || !(dev = block_by_path(b, path)))
                        continue;
                if (strv_addf(ret, "%s used as swap", dev->name) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int block_uses(const struct sysroot *sr, const struct pci_device *d, struct strv *ret)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct blocks b = {0};
        struct dirent *de;
        int r = 0;

        if (sysroot_opendir(sr, "sys/block", &dir) < 0)
                return 0;
        while ((de = readdir(dir)) && r >= 0)
                if (de->d_name[0] != '.' && link_below(dirfd(dir), de->d_name, d->address))
                        r = collect_disk(sr, &b, de->d_name);
        if (r >= 0 && b.n > 0)
                r = uses_of_mounts(sr, &b, ret);
        if (r >= 0 && b.n > 0)
                r = uses_of_swaps(sr, &b, ret);
        free(b.v);
        return r;
}

/* The interfaces that carry a default route (IPv4 or IPv6). */
static int default_route_interfaces(const struct sysroot *sr, struct strv *ret)
{
        _cleanup_free_ char *v4 = NULL, *v6 = NULL;
        char *line, *save = NULL;

        if (sysroot_read_file(sr, "proc/net/route", 1 << 20, &v4, NULL) >= 0)
                for (line = strtok_r(v4, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char iface[64], dest[16], mask[16];
                        unsigned flags;
                        /* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
                        if (sscanf(line, "%63s %15s %*s %x %*s %*s %*s %15s", iface, dest, &flags, mask) == 4 &&
                            strcmp(dest, "00000000") == 0 && strcmp(mask, "00000000") == 0 && (flags & 1) &&
                            strv_addf(ret, "%s", iface) < 0)
                                return -ENOMEM;
                }
        save = NULL;
        if (sysroot_read_file(sr, "proc/net/ipv6_route", 1 << 20, &v6, NULL) >= 0)
                for (line = strtok_r(v6, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char dest[40], plen[4], iface[64];
                        unsigned flags;
                        /* dest plen src splen nexthop metric refcnt use flags iface */
                        if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %x %63s", dest, plen, &flags, iface) == 4 &&
                            strspn(dest, "0") == 32 && strcmp(plen, "00") == 0 && (flags & 1) &&
                            strcmp(iface, "lo") != 0 && strv_addf(ret, "%s", iface) < 0)
                                return -ENOMEM;
                }
        return 0;
}

/* Whether iface is below the PCI device, itself or as a lower device (bridge port, bond slave,
 * VLAN's parent); *ret_lower names that lower device. */
static bool interface_below(const struct sysroot *sr, const char *iface, const char *address, int depth,
                            char *ret_lower, size_t size)
{
        _cleanup_closedir_ DIR *dir = NULL;
        _cleanup_close_ int net = -1;
        struct dirent *de;
        char path[PATH_MAX];

        if (depth > MAX_DEPTH || strchr(iface, '/') || iface[0] == '.')
                return false;
        net = sysroot_openat(sr, "sys/class/net", O_PATH | O_DIRECTORY);
        if (net < 0)
                return false;
        if (link_below(net, iface, address)) {
                snprintf(ret_lower, size, "%s", iface);
                return true;
        }
        snprintf(path, sizeof(path), "sys/class/net/%s", iface);
        if (sysroot_opendir(sr, path, &dir) < 0)
                return false;
        while ((de = readdir(dir)))
                if (strncmp(de->d_name, "lower_", 6) == 0 &&
                    interface_below(sr, de->d_name + 6, address, depth + 1, ret_lower, size))
                        return true;
        return false;
}

static int network_uses(const struct sysroot *sr, const struct pci_device *d, struct strv *ret)
{
        struct strv ifaces = {0};
        char lower[64];
        int r = default_route_interfaces(sr, &ifaces);

        for (size_t i = 0; r >= 0 && i < ifaces.n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen |= strcmp(ifaces.v[j], ifaces.v[i]) == 0;
                if (seen || !interface_below(sr, ifaces.v[i], d->address, 0, lower, sizeof(lower)))
                        continue;
                if (strcmp(lower, ifaces.v[i]) == 0)
                        r = strv_addf(ret, "%s, which carries the default route", lower);
                else
                        r = strv_addf(ret, "%s, which carries the default route (via %s)", lower, ifaces.v[i]);
        }
        strv_done(&ifaces);
        return r;
}

int pci_device_host_uses(const struct sysroot *sr, const struct pci_device *d, struct strv *ret)
{
        int r = block_uses(sr, d, ret);

        if (r >= 0)
                r = network_uses(sr, d, ret);
        return r;
}
