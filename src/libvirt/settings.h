/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The room a domain asks for, as the hook applies it: <memoryBacking><hugepages> with <memory>
 * become Hugepages= (all of the guest's memory, in its page size, on its node), <cputune>
 * <vcpupin> becomes Housekeeping= (the online CPUs the vCPUs are not pinned to). Only where the
 * configuration (gpu-handoff.conf, vm.d/NAME.conf) leaves the default: a file wins. */

#include <stdint.h>

#include "config/config.h"
#include "libvirt/domain.h"

/* online: the online CPUs (CPULIST_BITS bits, cpu_online_read()), needed for the pinning; NULL or
 * empty when unknown (then a pinned domain is an error). -EINVAL with *ret_error for what cannot
 * be applied. */
int domain_settings_apply(const struct domain *d, const uint64_t *online, struct config *c, char **ret_error);
