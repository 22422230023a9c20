/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The text "gpu-handoff xml" prints: the <hostdev> elements that give a GPU and its companion
 * functions to a libvirt domain, or the Proxmox VE hostpci line that does the same. Pure: the
 * functions and the choices in, text out; nothing here reads the host or prints.
 *
 * The functions become one multifunction guest slot, the GPU function 0 and the companions
 * 1, 2, ... in order (the guest's audio driver expects the HDMI function next to the GPU).
 * Returns 0 or -errno: -EINVAL for a spec this cannot express, -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/parse.h"

#define HOSTDEV_MAX_FUNCTIONS 8     /* one guest slot */
#define HOSTDEV_DEFAULT_GUEST_BUS 0x06
/* Hyper-V vendor ID for --nvidia-legacy: anything but KVM's; 12 characters at most, letters
 * and digits only (Proxmox's hv-vendor-id accepts nothing else). */
#define HOSTDEV_HYPERV_VENDOR_ID "0123456789ab"
/* Where Proxmox VE looks for romfile= (qemu-server prefixes it). */
#define HOSTDEV_PROXMOX_ROM_DIR "/usr/share/kvm/"

struct hostdev_spec {
        struct pci_addr host[HOSTDEV_MAX_FUNCTIONS]; /* the GPU first, then its companions */
        size_t n_functions;
        bool whole_slot;    /* these are all the functions of the host's slot, in address order */
        bool vga;           /* VGA-compatible class (0x0300): can be the guest's primary display */
        uint8_t guest_bus;  /* 1..255; slot 0x00 of it */
        bool managed;       /* managed='yes': libvirt binds vfio-pci itself */
        const char *rom;    /* absolute path of a ROM image for the GPU, or NULL */
        bool nvidia_legacy; /* also the <features> that old NVIDIA drivers need against Code 43 */
};

/* Why path cannot be a ROM file for the generated text, or NULL when it can: an absolute path,
 * valid UTF-8, without quotes, angle brackets or control characters (and, for Proxmox, without
 * ',' or ';'). The reason does not quote the path, which may be hostile. */
const char *hostdev_rom_problem(const char *path, bool proxmox);

/* The libvirt snippet: a leading comment saying what to check, one <hostdev> per function and,
 * with nvidia_legacy, a <features> element with its own comment. *ret is malloc'd. */
int hostdev_format_xml(const struct hostdev_spec *s, char **ret);

/* The Proxmox VE lines: "hostpci0: ..." (the slot alone when whole_slot, else the functions
 * joined with ';'), pcie=1, romfile= (see hostdev_proxmox_romfile()), x-vga=1 for a VGA GPU; with
 * nvidia_legacy also a "cpu: ..." line. managed and guest_bus do not apply. */
int hostdev_format_proxmox(const struct hostdev_spec *s, char **ret);

/* The romfile= value for a ROM path: the name below /usr/share/kvm/, or the base name when the
 * file lies elsewhere (*ret_elsewhere then true: the user must copy it there). NULL for a path
 * that names no file ("/", a trailing '/'). Points into path. */
const char *hostdev_proxmox_romfile(const char *path, bool *ret_elsewhere);
