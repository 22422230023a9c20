/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "libvirt/settings.h"


int domain_settings_apply(const struct domain *d, const uint64_t *online, struct config *c, char **ret_error)
{
        if (d->hugepages && d->memory_bytes && config_is_default(c, "Memory", "Hugepages")) {
                uint64_t size = d->hugepage_size ? d->hugepage_size : c->hugepage_size;

                if (size != UINT64_C(2) << 20 && size != UINT64_C(1) << 30)
                        return error_setf(ret_error, -EINVAL, "hugepages of %llu KiB: expected 2 MiB or 1 GiB pages",
                                    (unsigned long long)(size >> 10));
                c->hugepage_size = size;
                c->hugepages = (d->memory_bytes + size - 1) / size * size;
                if (d->hugepage_node >= 0 && config_is_default(c, "Memory", "HugepageNode"))
                        c->hugepage_node = d->hugepage_node;
        }
        if (d->vcpu_cpus && config_is_default(c, "CPU", "Housekeeping")) {
                uint64_t host[BITMAP_WORDS(CPULIST_BITS)] = {0}, guest[BITMAP_WORDS(CPULIST_BITS)] = {0};
                char *keep;

                if (!online || bitmap_count(online, CPULIST_BITS) == 0 ||
                    cpulist_parse(d->vcpu_cpus, guest, CPULIST_BITS) < 0)
                        return error_setf(ret_error, -EINVAL, "cannot tell which CPUs the host keeps besides the vCPUs' %s",
                                    d->vcpu_cpus);
                for (size_t i = 0; i < ELEMENTSOF(host); i++)
                        host[i] = online[i] & ~guest[i];
                keep = cpulist_format(host, CPULIST_BITS);
                if (!keep)
                        return -ENOMEM;
                free(c->housekeeping);
                c->housekeeping = NULL;
                if (*keep) /* every CPU pinned: nothing left to confine the host to, so no isolation */
                        c->housekeeping = keep;
                else
                        free(keep);
        }
        return 0;
}
