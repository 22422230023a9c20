/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* How this machine boots, read from the running boot and the files that configure it, never
 * from which programs happen to be installed (research-setup.md §1.3, §3 "Detecting the
 * generator"). Read-only like the rest of host/: boot_facts_read() gathers the evidence,
 * boot_detect_*() decide from it, and say what they found when it does not decide. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"
#include "host/cpu.h"
#include "host/iommu.h"

/* The names are the setup plan's JSON values ("grub", "systemd-boot"...). */
enum bootloader_id {
        BOOTLOADER_NONE = 0,
        BOOTLOADER_GRUB,         /* GRUB with grub-mkconfig/update-grub; Debian's grub.d or not */
        BOOTLOADER_GRUB_BLS,     /* GRUB reading BLS entries (GRUB_ENABLE_BLSCFG=true), no grubby */
        BOOTLOADER_GRUBBY,       /* GRUB + BLS driven through grubby (Fedora, RHEL) */
        BOOTLOADER_SYSTEMD_BOOT, /* systemd-boot: kernel-install entries, or entries written by hand */
        BOOTLOADER_UKI,          /* unified kernel images (EFI/Linux/NAME.efi) */
        BOOTLOADER_KERNELSTUB,   /* Pop!_OS */
        BOOTLOADER_RPM_OSTREE,   /* /run/ostree-booted: rpm-ostree kargs */
        BOOTLOADER_PROXMOX,      /* proxmox-boot-tool (systemd-boot mode; GRUB mode is BOOTLOADER_GRUB) */
        BOOTLOADER_REFIND,
        BOOTLOADER_LIMINE,
        _BOOTLOADER_MAX,
};

enum initramfs_id {
        INITRAMFS_NONE = 0, /* none in use (rpm-ostree's own, or a kernel without initramfs) */
        INITRAMFS_TOOLS,    /* "initramfs-tools" */
        INITRAMFS_DRACUT,
        INITRAMFS_MKINITCPIO,
        INITRAMFS_BOOSTER,
        _INITRAMFS_MAX,
};

const char *bootloader_to_string(enum bootloader_id b); /* NULL for NONE */
int bootloader_from_string(const char *s);              /* -EINVAL when unknown */
const char *initramfs_to_string(enum initramfs_id i);   /* NULL for NONE */
int initramfs_from_string(const char *s);

/* Every piece of evidence, as found. Paths are absolute as seen inside the root ("/boot/efi").
 * Strings are malloc'd or NULL (absent). */
struct boot_facts {
        /* the running boot */
        char *cmdline;           /* /proc/cmdline, trailing newline dropped */
        char *running_kernel;    /* /proc/sys/kernel/osrelease */
        bool efi;                /* /sys/firmware/efi exists */
        char *loader_info;       /* EFI variable LoaderInfo (systemd-boot; GRUB >= 2.12 with bli), UTF-8 */
        char *loader_entry;      /* EFI variable LoaderEntrySelected: the booted entry's id */
        bool ostree_booted;      /* /run/ostree-booted */

        /* configuration files */
        bool proxmox;            /* /etc/kernel/proxmox-boot-uuids has at least one UUID line */
        bool kernelstub;         /* /etc/kernelstub/configuration */
        bool kernel_cmdline;     /* /etc/kernel/cmdline exists */
        char *install_layout;    /* layout= of /etc/kernel/install.conf (else /usr/lib/kernel/install.conf) */
        char *initrd_generator;  /* initrd_generator= of the same file */
        char *uki_generator;     /* uki_generator= of the same file */
        char *grub_cfg;          /* "/boot/grub/grub.cfg" or "/boot/grub2/grub.cfg", the one that exists */
        bool grub_default;       /* /etc/default/grub exists */
        bool grub_default_d;     /* /etc/default/grub.d is a directory: Debian's patched grub-mkconfig */
        bool grub_bls;           /* GRUB_ENABLE_BLSCFG=true in /etc/default/grub */
        bool grubby;             /* /usr/sbin/grubby or /usr/bin/grubby: BLS entries are grubby's */
        char *esp;               /* the ESP or XBOOTLDR mount: "/efi", "/boot/efi" or "/boot",
                                  * the first holding loader/ or EFI/ */
        char *entries_dir;       /* ESP/loader/entries (or /boot/loader/entries) when it holds *.conf */
        char **entries;          /* the *.conf file names there, sorted; NULL-terminated or NULL */
        bool entries_by_kernel_install; /* an entry carries a "machine-id" line or is named
                                          * MACHINE-ID-VERSION.conf (/etc/machine-id): written
                                          * by kernel-install, not by hand */
        char **ukis;             /* ESP/EFI/Linux/NAME.efi, absolute paths, sorted; NULL-terminated or NULL */
        bool ukify;              /* /usr/bin/ukify or /usr/lib/systemd/ukify exists */
        char *refind_conf;       /* "/boot/refind_linux.conf" when it exists */
        bool refind_on_esp;      /* ESP/EFI/refind/ exists */
        char *limine_conf;       /* the first of Limine's search paths that exists */
        bool limine_entry_tool;  /* /etc/default/limine exists */

        /* initramfs */
        char *dpkg_initramfs;    /* the installed dpkg package that Provides linux-initramfs-tool
                                  * (from /var/lib/dpkg/status: Status "install ok installed") */
        bool mkinitcpio_presets; /* /etc/mkinitcpio.d/NAME.preset */
        bool booster;            /* /etc/booster.yaml or /usr/lib/booster/regenerate_images */
        bool dracut;             /* /usr/bin/dracut or /usr/sbin/dracut (with dracut_conf_d: evidence only together with another clue) */

        /* kernels */
        char **kernels;          /* installed kernel versions: /lib/modules/V with /boot/vmlinuz-V
                                  * or /lib/modules/V/vmlinuz; sorted; NULL-terminated or NULL */
        bool vfio_pci_builtin;   /* vfio_pci in /lib/modules/RUNNING/modules.builtin (Ubuntu) */
        bool intel_iommu_default_on; /* CONFIG_INTEL_IOMMU_DEFAULT_ON=y in /boot/config-RUNNING */
        bool acs_override_patch; /* the running kernel printed "PCIe ACS overrides enabled"
                                  * (readable /dev/kmsg is not needed: false when unknown) */
        struct cpu_info cpu;
        enum iommu_firmware iommu_firmware; /* the firmware's ACPI table: DMAR (VT-d), IVRS (AMD-Vi) */
};

/* Reads every fact it can; a missing file is an absent fact, not an error. -errno only for an
 * unreadable root or out of memory, with one line in *ret_error. */
int boot_facts_read(const struct sysroot *sr, struct boot_facts *ret, char **ret_error);
void boot_facts_done(struct boot_facts *f);

/* Which bootloader the running boot used. -EADDRNOTAVAIL when there is no evidence of any,
 * -ENOTUNIQ when the evidence names more than one: *ret_error then says what was found and which
 * --bootloader values would decide ("found GRUB (BOOT_IMAGE= on the command line) and
 * systemd-boot (LoaderInfo "systemd-boot 252"); say --bootloader grub or --bootloader
 * systemd-boot"). */
int boot_detect_bootloader(const struct boot_facts *f, enum bootloader_id *ret, char **ret_error);
/* The same for the initramfs generator; INITRAMFS_NONE (0) is a valid answer for rpm-ostree. */
int boot_detect_initramfs(const struct boot_facts *f, enum bootloader_id loader, enum initramfs_id *ret,
                          char **ret_error);
