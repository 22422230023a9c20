/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The backends of host setup: one file per bootloader (boot-NAME.c) and per initramfs generator
 * (initramfs-NAME.c), each appending to a plan (setup/plan.h) what it takes on this machine to
 * put the kernel arguments on every boot entry, or to get the boot-time vfio-pci binding into
 * every initramfs. They read the files below the root and the boot facts; they never write,
 * never run a command (they plan them), and are pure enough to test with fake roots.
 *
 * A backend plans nothing for what is already in place: running setup twice plans nothing the
 * second time. Each adds its REGENERATE commands only when it changed one of their inputs, and
 * a check that proves the result (the generated grub.cfg's linux lines, each loader entry's
 * options, the initramfs's file list) whenever it adds a command. A situation it cannot handle
 * safely is setup_plan_refuse()d with one line that says what was found and what to do. */

#include "host/boot.h"
#include "setup/plan.h"

/* Our own files. */
#define SETUP_MODPROBE_PATH "/etc/modprobe.d/gpu-handoff.conf"
#define SETUP_GRUB_DROPIN_PATH "/etc/default/grub.d/90-gpu-handoff.cfg"
#define SETUP_DRACUT_DROPIN_PATH "/etc/dracut.conf.d/90-gpu-handoff.conf"
#define SETUP_MKINITCPIO_DROPIN_PATH "/etc/mkinitcpio.conf.d/90-gpu-handoff.conf"
/* The modules the binding needs early, in load order (vfio_virqfd is folded into vfio from 6.2). */
#define SETUP_VFIO_MODULES "vfio_pci", "vfio", "vfio_iommu_type1"

struct setup_inputs {
        const struct sysroot *sr;
        const struct boot_facts *facts;
        enum bootloader_id bootloader;
        enum initramfs_id initramfs;
        char **args_add;    /* kernel arguments wanted on every entry, NULL-terminated */
        char **args_remove; /* kernel arguments to take off, NULL-terminated (may be empty) */
        char **vfio;        /* addresses bound at boot, sorted; empty: no binding */
        /* Whether our modprobe.d file (SETUP_MODPROBE_PATH) is part of the plan, created or kept:
         * then the initramfs must carry it and vfio-pci (and the generator must be re-run when
         * the file changes: the plan has it among its files). */
        bool modprobe_conf;
};

/* Dispatch on in->bootloader / in->initramfs to the functions below. */
int bootloader_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int initramfs_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);

/* Bootloaders (research-setup.md §1.2). Each edits only the kernel arguments in in->args_add /
 * in->args_remove and keeps every other byte. */
int boot_grub_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);     /* grub, grub-bls */
int boot_grubby_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_systemd_boot_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_uki_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_kernelstub_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_rpm_ostree_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_proxmox_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_refind_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int boot_limine_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);

/* Initramfs generators (research-setup.md §3). */
int initramfs_tools_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int initramfs_dracut_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int initramfs_mkinitcpio_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
int initramfs_booster_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);
