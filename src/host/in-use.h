/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the host itself runs on a PCI device: a block device below it that is mounted (the root
 * file system among them), used as swap, or under a device-mapper/md device that is; a network
 * interface below it that carries a default route, directly or as a port of a bridge, bond or
 * VLAN. Lending such a device would pull the disk or the network from under the host. */

#include "basic/strv.h"
#include "basic/sysroot.h"
#include "host/pci.h"

/* Appends one line per use found ("nvme0n1p2 mounted on /", "swap on /dev/nvme0n1p3",
 * "enp5s0, which carries the default route (via br0)"). Reads sys/block, sys/class/net,
 * proc/self/mountinfo (else proc/mounts), proc/swaps, proc/net/route and proc/net/ipv6_route
 * through the sysroot; what cannot be read is no use. 0 or -ENOMEM. */
int pci_device_host_uses(const struct sysroot *sr, const struct pci_device *d, struct strv *ret);
