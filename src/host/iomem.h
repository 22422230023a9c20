/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* /proc/iomem, for one question: does a boot framebuffer (the firmware's, kept by efifb,
 * simplefb or simpledrm) sit inside a GPU's BAR? Then vfio-pci cannot claim that BAR until the
 * framebuffer lets go ("BAR 0: can't reserve"). */

#include <stdint.h>

#include "basic/sysroot.h"
#include "host/pci.h"

struct iomem_range {
        uint64_t start, end;
        char name[64]; /* "BOOTFB", "efifb", "simple-framebuffer.0" */
};

/* 1 with *ret when a framebuffer range lies inside one of the device's memory BARs
 * (sys/bus/pci/devices/ADDR/resource), 0 when none does, -errno when the files cannot be read.
 * A /proc/iomem read without privileges shows only zeros: that is 0. */
int iomem_bootfb_in_bar(const struct sysroot *sr, const struct pci_device *d, struct iomem_range *ret);
