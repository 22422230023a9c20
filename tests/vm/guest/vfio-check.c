/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-check BDF [HOLD_SECONDS]: exercise the VFIO userspace API the way QEMU does.
 * Opens the container and the device's IOMMU group, checks viability,
 * sets the type1 IOMMU, gets the device fd, lists regions/IRQs, reads
 * config space, maps one page of DMA through the (emulated) IOMMU,
 * and tries a device reset. Exit 0 on success. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define DIE(...) do { fprintf(stderr, "vfio-check: " __VA_ARGS__); fprintf(stderr, " (%s)\n", strerror(errno)); return 1; } while (0)

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: vfio-check 0000:bb:dd.f\n"); return 2; }
    const char *bdf = argv[1];
    char p[PATH_MAX], link[PATH_MAX];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", bdf);
    ssize_t n = readlink(p, link, sizeof link - 1);
    if (n < 0) DIE("no iommu_group for %s", bdf);
    link[n] = 0;
    const char *grp = basename(link);

    int container = open("/dev/vfio/vfio", O_RDWR);
    if (container < 0) DIE("open /dev/vfio/vfio");
    printf("api_version=%d type1=%d type1v2=%d\n", ioctl(container, VFIO_GET_API_VERSION),
           ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU),
           ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));

    snprintf(p, sizeof p, "/dev/vfio/%s", grp);
    int group = open(p, O_RDWR);
    if (group < 0) DIE("open %s", p);
    struct vfio_group_status gs = { .argsz = sizeof gs };
    if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs)) DIE("GROUP_GET_STATUS");
    printf("group=%s viable=%d\n", grp, !!(gs.flags & VFIO_GROUP_FLAGS_VIABLE));
    if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) { errno = EBUSY; DIE("group %s not viable (a device in it is bound to a non-vfio driver)", grp); }
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) DIE("GROUP_SET_CONTAINER");
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) DIE("SET_IOMMU");

    int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
    if (dev < 0) DIE("GROUP_GET_DEVICE_FD %s", bdf);
    struct vfio_device_info di = { .argsz = sizeof di };
    if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di)) DIE("DEVICE_GET_INFO");
    printf("device=%s flags=0x%x (pci=%d reset=%d) regions=%u irqs=%u\n", bdf, di.flags,
           !!(di.flags & VFIO_DEVICE_FLAGS_PCI), !!(di.flags & VFIO_DEVICE_FLAGS_RESET),
           di.num_regions, di.num_irqs);
    uint64_t cfg_off = 0;
    for (unsigned i = 0; i < di.num_regions; i++) {
        struct vfio_region_info ri = { .argsz = sizeof ri, .index = i };
        if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri)) continue;
        if (ri.size)
            printf("  region %u size=0x%llx flags=0x%x%s\n", i, (unsigned long long)ri.size, ri.flags,
                   i == VFIO_PCI_CONFIG_REGION_INDEX ? " (config)" : i == VFIO_PCI_VGA_REGION_INDEX ? " (legacy VGA)" : "");
        if (i == VFIO_PCI_CONFIG_REGION_INDEX) cfg_off = ri.offset;
    }
    uint16_t ids[2];
    if (pread(dev, ids, 4, cfg_off) != 4) DIE("config read");
    printf("config: vendor=%04x device=%04x\n", ids[0], ids[1]);

    /* DMA map one page through the IOMMU */
    void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vfio_iommu_type1_dma_map dm = { .argsz = sizeof dm, .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
                                           .vaddr = (uintptr_t)buf, .iova = 0x100000, .size = 4096 };
    if (ioctl(container, VFIO_IOMMU_MAP_DMA, &dm)) DIE("IOMMU_MAP_DMA");
    struct vfio_iommu_type1_dma_unmap du = { .argsz = sizeof du, .iova = 0x100000, .size = 4096 };
    if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &du)) DIE("IOMMU_UNMAP_DMA");
    printf("dma map/unmap ok\n");
    if (di.flags & VFIO_DEVICE_FLAGS_RESET)
        printf("reset: %s\n", ioctl(dev, VFIO_DEVICE_RESET) ? strerror(errno) : "ok");
    if (argc > 2) { /* keep the device open, like a running VM would */
        printf("holding %s open for %s s\n", bdf, argv[2]);
        fflush(stdout);
        sleep(atoi(argv[2]));
    }
    close(dev); close(group); close(container);
    printf("vfio-check: OK\n");
    return 0;
}
