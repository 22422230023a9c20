/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host snapshot: what host_read() and host_read_room() gather from the other readers here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "host/host.h"
#include "host/systemd.h"
#include "host/writeback.h"

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
        r = host_memory_read(h->sr, &h->memory);
        if (r < 0)
                return r;
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
        h->parts = parts;
        h->have_online_cpus = cpu_online_read(sr, h->online_cpus) >= 0;
        h->systemd = systemd_booted(sr);
        r = systemd_display_manager(sr, &h->display_manager) == -ENOMEM ? -ENOMEM : 0;
        if (r >= 0)
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

static void room_free(struct host_room *rm)
{
        if (!rm)
                return;
        process_ancestors_free(rm->ancestors, rm->n_ancestors);
        process_table_done(&rm->processes);
        cgroup_facts_done(&rm->cgroups);
        irq_list_done(&rm->irqs);
        free(rm->writeback_cpumask);
        free(rm);
}

/* The cgroups of the units, as host_room_request says. */
static int unit_cgroups(bool systemd, char *const *units, struct strv *ret)
{
        for (char *const *u = units; u && *u; u++) {
                _cleanup_free_ char *cg = systemd ? systemd_unit_cgroup(*u) : strdup(*u);
                if (!cg || strv_addf(ret, "%s", cg) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int read_room(const struct host *h, const struct host_room_request *req, struct host_room *rm)
{
        const struct sysroot *sr = h->sr;
        struct strv cgroups = {0};
        int r;

        r = process_ancestors_read(sr, req->self, &rm->ancestors, &rm->n_ancestors);
        if (r >= 0 && req->processes) {
                rm->processes_error = process_table_read(sr, &rm->processes);
                r = rm->processes_error == -ENOMEM ? -ENOMEM : 0;
        }
        if (r >= 0)
                r = unit_cgroups(h->systemd, req->cpu_units, &cgroups);
        if (r >= 0)
                r = cgroup_facts_read(sr, cgroups.v, &rm->cgroups);
        strv_done(&cgroups);
        if (r >= 0 && req->irqs) {
                rm->irqs_error = irqs_read(sr, &rm->irqs);
                r = rm->irqs_error == -ENOMEM ? -ENOMEM : 0;
        }
        if (r >= 0 && writeback_cpumask_read(sr, &rm->writeback_cpumask) == -ENOMEM)
                r = -ENOMEM;
        return r;
}

int host_read_room(struct host *h, const struct host_room_request *req)
{
        struct host_room *rm = calloc(1, sizeof(*rm));
        int r;

        if (!rm)
                return -ENOMEM;
        r = read_room(h, req, rm);
        if (r >= 0 && !(h->parts & HOST_PLATFORM)) {
                host_memory_done(&h->memory);
                free(h->kernel_release);
                h->kernel_release = read_text(h->sr, "proc/sys/kernel/osrelease");
                r = host_memory_read(h->sr, &h->memory);
        }
        if (r < 0) {
                room_free(rm);
                return r;
        }
        room_free(h->room);
        h->room = rm;
        return 0;
}

void host_free(struct host *h)
{
        if (!h)
                return;
        room_free(h->room);
        host_memory_done(&h->memory);
        free(h->display_manager);
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
