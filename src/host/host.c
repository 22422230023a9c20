/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "host/host.h"

const char *host_module_name(enum host_module m)
{
        static const char *const names[] = {
                [HOST_MODULE_VFIO] = "vfio",
                [HOST_MODULE_VFIO_PCI] = "vfio_pci",
                [HOST_MODULE_VFIO_IOMMU_TYPE1] = "vfio_iommu_type1",
                [HOST_MODULE_VENDOR_RESET] = "vendor_reset",
        };
        return names[m];
}

static char *read_text(const struct sysroot *sr, const char *path)
{
        char *s = NULL;
        if (sysroot_read_file(sr, path, 64 << 10, &s, NULL) < 0)
                return NULL;
        return strip_trailing(s);
}

/* SMBIOS chassis types of portable machines (DMTF DSP0134: portable, laptop, notebook, hand
 * held, sub notebook, tablet, convertible, detachable), whose GPUs are soldered. */
static bool read_laptop(const struct sysroot *sr)
{
        static const unsigned portable[] = {8, 9, 10, 11, 14, 30, 31, 32};
        char buf[16];
        uint32_t type;

        if (sysroot_read_attr(sr, "sys/class/dmi/id/chassis_type", buf, sizeof(buf)) < 0 ||
            sysfs_parse_uint(buf, 255, &type) < 0)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(portable); i++)
                if (type == portable[i])
                        return true;
        return false;
}

static int read_platform(struct host *h)
{
        struct module_index *mi = NULL;
        int r;

        h->have_cpu = cpu_info_read(h->sr, &h->cpu) >= 0;
        h->kvm_device = sysroot_exists(h->sr, "dev/kvm");
        r = iommu_platform_read(h->sr, h->groups->n_groups, &h->iommu);
        if (r < 0)
                return r;
        h->laptop = read_laptop(h->sr);
        h->cmdline = read_text(h->sr, "proc/cmdline");
        h->kernel_release = read_text(h->sr, "proc/sys/kernel/osrelease");
        r = module_index_open(h->sr, h->kernel_release, &mi);
        if (r < 0)
                return r;
        for (int m = 0; m < _HOST_MODULE_MAX; m++)
                h->modules[m] = module_state_get(h->sr, mi, host_module_name(m));
        module_index_free(mi);
        return 0;
}

int host_read(const struct sysroot *sr, const struct quirk_db *quirks, unsigned parts, struct host **ret)
{
        struct host *h = calloc(1, sizeof(*h));
        int r;

        if (!h)
                return -ENOMEM;
        h->sr = sr;
        r = pci_scan(sr, &h->pci);
        if (r >= 0)
                r = iommu_groups_build(h->pci, &h->groups);
        if (r >= 0)
                r = gpus_find(h->pci, h->groups, quirks, &h->gpus, &h->n_gpus);
        if (r >= 0) {
                gpus_check_groups(sr, h->gpus, h->n_gpus);
                r = gpus_read_display(sr, h->gpus, h->n_gpus);
        }
        if (r >= 0 && (parts & HOST_PLATFORM))
                r = read_platform(h);
        if (r < 0) {
                host_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

void host_free(struct host *h)
{
        if (!h)
                return;
        gpus_free(h->gpus, h->n_gpus);
        iommu_group_list_free(h->groups);
        pci_list_free(h->pci);
        free(h->cmdline);
        free(h->kernel_release);
        free(h);
}

bool host_cmdline_has(const struct host *h, const char *key, const char *value)
{
        size_t klen = strlen(key);
        const char *p;

        if (!h->cmdline)
                return false;
        for (p = h->cmdline; *p;) {
                size_t n = strcspn(p, " \t");
                if (n >= klen && strncmp(p, key, klen) == 0) {
                        if (n == klen && !value)
                                return true;
                        if (p[klen] == '=' &&
                            (!value || (n - klen - 1 == strlen(value) && strncmp(p + klen + 1, value, n - klen - 1) == 0)))
                                return true;
                }
                p += n;
                p += strspn(p, " \t");
        }
        return false;
}
