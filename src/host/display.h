/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Which GPUs drive the host's display now. The firmware's boot GPU (boot_vga) is only where the
 * machine started: a user may have reserved it for VMs (vfio-pci at boot) and run the desktop on
 * another card. What counts is what the kernel shows now: connected DRM connectors, fbcon on the
 * card's framebuffer, a DRM master (debugfs, when mounted). boot_vga decides only when no GPU
 * shows any of these; a GPU on vfio-pci is the VMs', never the host's display. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"

struct gpu;

enum display_evidence {
        DISPLAY_CONNECTOR = 1u << 0, /* a DRM connector of its card reports "connected" */
        DISPLAY_FBCON = 1u << 1,     /* fbcon is bound and the card has a framebuffer device */
        DISPLAY_MASTER = 1u << 2,    /* a process holds DRM master on its card (debugfs clients) */
        DISPLAY_BOOT_VGA = 1u << 3,  /* no GPU shows evidence: the firmware's boot GPU */
        DISPLAY_LEFT_ON_HOST = 1u << 4, /* no evidence, the boot GPU is on vfio-pci: a GPU still on a host driver */
};

/* Sets display (enum display_evidence) and display_connector of every GPU. 0 or -ENOMEM;
 * attributes that cannot be read are no evidence. */
int gpus_read_display(const struct sysroot *sr, struct gpu *gpus, size_t n);
bool gpu_on_vfio(const struct gpu *g);
bool gpu_drives_display(const struct gpu *g);
/* "a connected display on HDMI-A-1", "fbcon", "the boot GPU"...: why g counts as the display. */
const char *gpu_display_reason(const struct gpu *g, char *buf, size_t size);
