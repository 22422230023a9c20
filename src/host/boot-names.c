/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "host/boot.h"

/* The names --bootloader / --initramfs take and the setup plan's JSON carries. */
static const char *const bootloader_names[_BOOTLOADER_MAX] = {
        [BOOTLOADER_GRUB] = "grub",
        [BOOTLOADER_GRUB_BLS] = "grub-bls",
        [BOOTLOADER_GRUBBY] = "grubby",
        [BOOTLOADER_SYSTEMD_BOOT] = "systemd-boot",
        [BOOTLOADER_UKI] = "uki",
        [BOOTLOADER_KERNELSTUB] = "kernelstub",
        [BOOTLOADER_RPM_OSTREE] = "rpm-ostree",
        [BOOTLOADER_PROXMOX] = "proxmox",
        [BOOTLOADER_REFIND] = "refind",
        [BOOTLOADER_LIMINE] = "limine",
};

static const char *const initramfs_names[_INITRAMFS_MAX] = {
        [INITRAMFS_TOOLS] = "initramfs-tools",
        [INITRAMFS_DRACUT] = "dracut",
        [INITRAMFS_MKINITCPIO] = "mkinitcpio",
        [INITRAMFS_BOOSTER] = "booster",
};

const char *bootloader_to_string(enum bootloader_id b)
{
        return b > BOOTLOADER_NONE && b < _BOOTLOADER_MAX ? bootloader_names[b] : NULL;
}

int bootloader_from_string(const char *s)
{
        for (int i = BOOTLOADER_NONE + 1; i < _BOOTLOADER_MAX; i++)
                if (strcmp(bootloader_names[i], s) == 0)
                        return i;
        return -EINVAL;
}

const char *initramfs_to_string(enum initramfs_id i)
{
        return i > INITRAMFS_NONE && i < _INITRAMFS_MAX ? initramfs_names[i] : NULL;
}

int initramfs_from_string(const char *s)
{
        for (int i = INITRAMFS_NONE + 1; i < _INITRAMFS_MAX; i++)
                if (strcmp(initramfs_names[i], s) == 0)
                        return i;
        return -EINVAL;
}
