/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/backend.h"

#include <errno.h>

#include "basic/error.h"

int bootloader_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        switch (in->bootloader) {
        case BOOTLOADER_GRUB:
        case BOOTLOADER_GRUB_BLS:
                return boot_grub_plan(in, p, ret_error);
        case BOOTLOADER_GRUBBY:
                return boot_grubby_plan(in, p, ret_error);
        case BOOTLOADER_SYSTEMD_BOOT:
                return boot_systemd_boot_plan(in, p, ret_error);
        case BOOTLOADER_UKI:
                return boot_uki_plan(in, p, ret_error);
        case BOOTLOADER_KERNELSTUB:
                return boot_kernelstub_plan(in, p, ret_error);
        case BOOTLOADER_RPM_OSTREE:
                return boot_rpm_ostree_plan(in, p, ret_error);
        case BOOTLOADER_PROXMOX:
                return boot_proxmox_plan(in, p, ret_error);
        case BOOTLOADER_REFIND:
                return boot_refind_plan(in, p, ret_error);
        case BOOTLOADER_LIMINE:
                return boot_limine_plan(in, p, ret_error);
        default:
                return error_setf(ret_error, -EINVAL, "no bootloader to plan for");
        }
}
