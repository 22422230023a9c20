/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "host/pci.h"

#define PCI_DEVICES_DIR "sys/bus/pci/devices"

/* Config-space offsets (PCI Local Bus / PCIe base spec). */
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_HEADER_TYPE 0x0e
#define CFG_CAP_PTR 0x34
#define CFG_CAP_ID_EXP 0x10
#define CFG_EXP_DEVCAP 0x04
#define CFG_EXP_DEVCAP_FLR (1u << 28)

bool pci_device_is_bridge(const struct pci_device *d)
{
        if (d->problems & PCI_PROBLEM_CLASS)
                return false;
        switch (pci_sub_class(d)) {
        case PCI_CLASS_BRIDGE_HOST:
        case PCI_CLASS_BRIDGE_PCI:
        case PCI_CLASS_BRIDGE_PCI_SEMI:
                return true;
        default:
                return false;
        }
}

bool pci_device_is_gpu(const struct pci_device *d)
{
        return !(d->problems & PCI_PROBLEM_CLASS) && pci_base_class(d) == PCI_BASE_CLASS_DISPLAY;
}

static int read_hex_attr(int dfd, const char *name, uint32_t max, uint32_t *ret)
{
        char buf[64];
        ssize_t n = read_attr_at(dfd, name, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        return sysfs_parse_hex(buf, max, ret);
}

static int strdup_attr(int dfd, const char *name, char **ret)
{
        char buf[256];
        ssize_t n = read_attr_at(dfd, name, buf, sizeof(buf));
        char *s;

        if (n < 0)
                return (int)n;
        s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int read_ids(struct pci_device *d, int dfd)
{
        uint32_t vendor, device, v;
        char buf[64];

        if (read_hex_attr(dfd, "vendor", 0xffff, &vendor) < 0 || read_hex_attr(dfd, "device", 0xffff, &device) < 0)
                d->problems |= PCI_PROBLEM_IDS;
        else {
                d->vendor = (uint16_t)vendor;
                d->device = (uint16_t)device;
        }
        /* The kernel writes "0x%06x": anything shorter ("0x03") is not a class it wrote. */
        if (read_attr_at(dfd, "class", buf, sizeof(buf)) != 8 || sysfs_parse_hex(buf, 0xffffff, &v) < 0)
                d->problems |= PCI_PROBLEM_CLASS;
        else
                d->class = v;
        return 0;
}

static int read_driver(const struct sysroot *sr, const char *path, struct pci_device *d, int dfd)
{
        char name[256], link[sizeof(PCI_DEVICES_DIR) + 256 + sizeof("/driver")];
        int r = read_link_basename_at(dfd, "driver", name, sizeof(name));

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                d->problems |= PCI_PROBLEM_DRIVER;
                return 0;
        }
        /* A link whose target is gone is not a bound driver. Followed through the root: in a
         * fake tree an absolute link must not reach this machine's /sys. */
        snprintf(link, sizeof(link), "%s/driver", path);
        if (!sysroot_exists(sr, link)) {
                d->problems |= PCI_PROBLEM_DRIVER;
                return 0;
        }
        d->driver = strdup(name);
        return d->driver ? 0 : -ENOMEM;
}

static int read_group(struct pci_device *d, int dfd)
{
        char name[64];
        uint32_t g;
        int r = read_link_basename_at(dfd, "iommu_group", name, sizeof(name));

        d->iommu_group = -1;
        if (r == -ENOENT)
                return 0;
        if (r < 0 || sysfs_parse_uint(name, INT32_MAX, &g) < 0) {
                d->problems |= PCI_PROBLEM_GROUP;
                return 0;
        }
        d->iommu_group = (int)g;
        return 0;
}

/* Header type and the FLR bit; lspci's "FLReset+" comes from the same bit. Only the first
 * 256 bytes are needed; a truncated file leaves what it does not cover unknown. */
static void read_config(struct pci_device *d, int dfd)
{
        uint8_t cfg[256];
        ssize_t n = read_binary_at(dfd, "config", cfg, sizeof(cfg));
        unsigned pos, guard = 0;

        d->flr = UNKNOWN;
        d->multifunction = UNKNOWN;
        if (n < CFG_HEADER_TYPE + 1) {
                d->problems |= PCI_PROBLEM_CONFIG;
                return;
        }
        d->multifunction = cfg[CFG_HEADER_TYPE] & 0x80 ? YES : NO;
        if (n < 64) {
                d->problems |= PCI_PROBLEM_CONFIG;
                return;
        }
        if (!(cfg[CFG_STATUS] & CFG_STATUS_CAP_LIST)) {
                d->flr = NO;
                return;
        }
        /* Walk the capability list; the guard stops a looping list in a hostile file. */
        for (pos = cfg[CFG_CAP_PTR] & ~3u; pos >= 0x40 && pos + 8 <= (unsigned)n && guard < 48; guard++) {
                if (cfg[pos] == CFG_CAP_ID_EXP) {
                        uint32_t devcap;
                        memcpy(&devcap, cfg + pos + CFG_EXP_DEVCAP, sizeof(devcap));
                        d->flr = le32toh(devcap) & CFG_EXP_DEVCAP_FLR ? YES : NO;
                        return;
                }
                pos = cfg[pos + 1] & ~3u;
        }
        d->flr = (n < 256 && pos != 0) ? UNKNOWN : NO;
}

/* What every command needs: identity, class, driver, group, place in the topology. */
static int read_device(const struct sysroot *sr, int devices_fd, const char *name, struct pci_device *d)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *target = NULL;
        char path[sizeof(PCI_DEVICES_DIR) + 256]; /* a d_name is at most 255 bytes */
        const char *p;
        int r;

        r = pci_addr_parse(name, &d->addr);
        if (r < 0)
                return r;
        pci_addr_format(&d->addr, d->address);
        d->iommu_group = -1;
        d->revision = -1;
        d->boot_vga = UNKNOWN;
        d->flr = UNKNOWN;
        d->multifunction = UNKNOWN;

        /* "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0": keep "sys/devices/..." */
        if (read_link_at(devices_fd, name, &target) >= 0 && (p = strstr(target, "devices/"))) {
                if (asprintf(&d->syspath, "sys/%s", p) < 0)
                        return -ENOMEM;
        }
        /* The device link is followed through the root, never from devices_fd: an absolute link
         * in a fake tree resolves inside it. */
        snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s", name);
        dfd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
        if (dfd < 0) {
                d->problems |= PCI_PROBLEM_LINK | PCI_PROBLEM_IDS | PCI_PROBLEM_CLASS;
                return 0;
        }
        read_ids(d, dfd);
        r = read_driver(sr, path, d, dfd);
        if (r < 0)
                return r;
        read_group(d, dfd);
        return 0;
}

int pci_device_read_details(const struct sysroot *sr, struct pci_device *d)
{
        _cleanup_close_ int dfd = -1;
        char buf[256];
        uint32_t v;

        if (d->details)
                return 0;
        snprintf(buf, sizeof(buf), PCI_DEVICES_DIR "/%s", d->address);
        dfd = sysroot_openat(sr, buf, O_PATH | O_DIRECTORY);
        if (dfd < 0)
                return dfd == -ENOENT ? -ENODEV : dfd;
        if (read_hex_attr(dfd, "subsystem_vendor", 0xffff, &v) >= 0)
                d->subsys_vendor = (uint16_t)v;
        if (read_hex_attr(dfd, "subsystem_device", 0xffff, &v) >= 0)
                d->subsys_device = (uint16_t)v;
        d->revision = read_hex_attr(dfd, "revision", 0xff, &v) < 0 ? -1 : (int)v;
        if (read_attr_at(dfd, "boot_vga", buf, sizeof(buf)) >= 0) {
                bool b;
                if (sysfs_parse_bool(buf, &b) >= 0)
                        d->boot_vga = b ? YES : NO;
        }
        if (strdup_attr(dfd, "reset_method", &d->reset_method) == -ENOMEM ||
            strdup_attr(dfd, "power_state", &d->power_state) == -ENOMEM)
                return -ENOMEM;
        if (read_link_basename_at(dfd, "physfn", buf, sizeof(buf)) >= 0 && pci_addr_parse(buf, &d->physfn_addr) >= 0)
                d->is_virtfn = true;
        read_config(d, dfd);
        d->details = true;
        return 0;
}

static int compare_devices(const void *a, const void *b)
{
        return pci_addr_compare(&((const struct pci_device *)a)->addr, &((const struct pci_device *)b)->addr);
}

struct pci_device *pci_list_find(const struct pci_list *l, const struct pci_addr *a)
{
        struct pci_device key = {.addr = *a};
        return bsearch(&key, l->devices, l->n_devices, sizeof(struct pci_device), compare_devices);
}

/* The parent bridge is the path component before the device's own in its sysfs path. */
static void link_parent(struct pci_list *l, struct pci_device *d)
{
        const char *end, *start;
        char comp[PCI_ADDR_STRLEN];
        struct pci_addr a;

        if (!d->syspath || !(end = strrchr(d->syspath, '/')))
                return;
        for (start = end; start > d->syspath && start[-1] != '/'; start--)
                ;
        if ((size_t)(end - start) != PCI_ADDR_STRLEN - 1)
                return;
        memcpy(comp, start, PCI_ADDR_STRLEN - 1);
        comp[PCI_ADDR_STRLEN - 1] = '\0';
        if (pci_addr_parse(comp, &a) >= 0)
                d->parent = pci_list_find(l, &a);
}

/* GPUs and the other functions of their slots get every attribute; the rest of the bus only what
 * list shows. Reading everything for thousands of devices would cost a dozen syscalls each. */
static int read_gpu_slot_details(const struct sysroot *sr, struct pci_list *l)
{
        for (size_t i = 0; i < l->n_devices; i++) {
                struct pci_device *d = &l->devices[i];
                size_t lo = i, hi = i;
                int r;

                if (!pci_device_is_gpu(d))
                        continue;
                while (lo > 0 && pci_addr_same_slot(&l->devices[lo - 1].addr, &d->addr))
                        lo--;
                while (hi + 1 < l->n_devices && pci_addr_same_slot(&l->devices[hi + 1].addr, &d->addr))
                        hi++;
                for (size_t j = lo; j <= hi; j++) {
                        r = pci_device_read_details(sr, &l->devices[j]);
                        if (r == -ENOMEM)
                                return r;
                        if (l->devices[j].is_virtfn)
                                l->devices[j].physfn = pci_list_find(l, &l->devices[j].physfn_addr);
                }
        }
        return 0;
}

static void pci_device_done(struct pci_device *d)
{
        free(d->driver);
        free(d->reset_method);
        free(d->power_state);
        free(d->syspath);
}

void pci_list_free(struct pci_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_devices; i++)
                pci_device_done(&l->devices[i]);
        free(l->devices);
        strv_done(&l->strays);
        free(l);
}

int pci_scan(const struct sysroot *sr, struct pci_list **ret)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct pci_list *l;
        struct dirent *de;
        size_t cap = 0;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        r = sysroot_opendir(sr, PCI_DEVICES_DIR, &dir);
        if (r == -ENOENT) {
                *ret = l;
                return 0;
        }
        if (r < 0) {
                free(l);
                return r;
        }
        while ((de = readdir(dir))) {
                struct pci_device d = {0};
                if (de->d_name[0] == '.')
                        continue;
                r = read_device(sr, dirfd(dir), de->d_name, &d);
                if (r == -EINVAL || r == -ERANGE || (r >= 0 && strcmp(d.address, de->d_name) != 0)) {
                        /* Not a name the kernel gives ("0000:0A:00.0" next to "0000:0a:00.0"):
                         * kept out of the list, and said. */
                        pci_device_done(&d);
                        r = strv_addf(&l->strays, "%s", de->d_name);
                        if (r < 0) {
                                pci_list_free(l);
                                return r;
                        }
                        continue;
                }
                if (r < 0) {
                        pci_device_done(&d);
                        pci_list_free(l);
                        return r;
                }
                if (l->n_devices == cap) {
                        struct pci_device *p;
                        cap = cap ? cap * 2 : 64;
                        p = realloc(l->devices, cap * sizeof(*p));
                        if (!p) {
                                pci_device_done(&d);
                                pci_list_free(l);
                                return -ENOMEM;
                        }
                        l->devices = p;
                }
                l->devices[l->n_devices++] = d;
        }
        if (l->n_devices)
                qsort(l->devices, l->n_devices, sizeof(*l->devices), compare_devices);
        for (size_t i = 0; i < l->n_devices; i++)
                link_parent(l, &l->devices[i]);
        r = read_gpu_slot_details(sr, l);
        if (r < 0) {
                pci_list_free(l);
                return r;
        }
        *ret = l;
        return 0;
}
