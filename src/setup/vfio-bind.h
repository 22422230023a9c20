/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The boot-time vfio-pci binding of `setup --vfio` (research-setup.md §2): from the devices the
 * user named, the host model and the boot facts, which devices vfio-pci takes from early boot
 * and how. Pure: it reads the snapshot (and sys/module for the drivers' modules), never writes.
 *
 * The set: each named device, the other functions of its card (host/gpu.h companions) and the
 * rest of its IOMMU group except bridges, sorted. Refused, in attach's words: an address that is
 * not one, a device that does not exist, a bridge, a group the kernel's list disagrees with, a
 * device the host runs on (its disk, its network).
 *
 * How: by PCI address wherever modprobe runs the binding. Our modprobe.d file
 * (SETUP_MODPROBE_PATH) has an `install vfio_pci` command that writes driver_override for each
 * address and then loads vfio-pci itself, and a `softdep DRIVER pre: vfio-pci` for every driver
 * that could claim those devices, so vfio-pci (and the overrides) come first. It acts only when
 * the kernel command line holds VFIO_BIND_GATE_ARG: deleting that at the boot menu is the
 * one-boot escape, and GRUB's recovery entries (which never get our arguments) stay clean.
 * Where modprobe.d cannot act — vfio-pci built into the kernel (Ubuntu), or booster (which reads
 * only `options` lines) — the only way is vfio-pci.ids= on the kernel command line, used only
 * when every device on the host with those IDs is in the set: two identical cards, or two AMD
 * cards whose HDMI audio both are 1002:ab28, are never bound by ID; that is refused with what
 * would work instead.
 *
 * The host's display GPU is refused unless another display device stays with the host or the
 * caller says yes to a single-GPU boot binding; the refusal and the notes name the way back. */

#include <stdbool.h>

#include "basic/strv.h"
#include "host/boot.h"
#include "host/host.h"

/* The kernel argument that arms the by-address binding. Dotted, so the kernel takes it for a
 * module's parameter and neither complains nor hands it to init (init/main.c
 * unknown_bootoption()); no module is called gpu_handoff. */
#define VFIO_BIND_GATE_ARG "gpu_handoff.vfio=1"

struct vfio_bind_request {
        char *const *names;     /* as the user wrote them (--vfio), NULL-terminated */
        enum bootloader_id bootloader; /* for the way back in the notes (BOOTLOADER_NONE: said generally) */
        enum initramfs_id initramfs;   /* booster cannot bind by address */
        bool single_gpu;        /* the user said --yes to binding the host's only display GPU at boot */
};

struct vfio_binding {
        struct strv devices;  /* canonical addresses, sorted */
        char *modprobe_conf;  /* the whole content of SETUP_MODPROBE_PATH; NULL: the binding needs none */
        struct strv args;     /* kernel arguments it needs: VFIO_BIND_GATE_ARG, or "vfio-pci.ids=..." */
        struct strv notes;    /* for people: what the next boot does, the way back */
        char *refused;        /* one line why it may not be done, or NULL (then nothing else is set) */
};

/* 0 with *ret filled (ret->refused set when refused), -ENOMEM. h must hold HOST_PCI (GPUs, their
 * display evidence and groups); facts only vfio_pci_builtin is read. */
int vfio_bind_plan(const struct host *h, const struct boot_facts *facts, const struct vfio_bind_request *req,
                   struct vfio_binding *ret);
void vfio_binding_done(struct vfio_binding *b);

/* The vendor:device IDs of devices (canonical addresses), "10de:2204,10de:1aef" in the order of
 * first appearance. 0 when binding by them takes no other device of the host; -EEXIST when it
 * would, with *ret_error naming that device ("1002:ab28 also matches 0000:0d:00.1, which the host
 * keeps"); -ENODATA when a device's IDs cannot be read (then nothing can be sure); -ENOMEM. For
 * doctor's lint of an existing vfio-pci.ids= too. */
int vfio_ids_for(const struct host *h, char *const *devices, char **ret_ids, char **ret_error);

/* modprobe uses only the first install command of a module and only its first softdep line
 * (libkmod kmod_module_get_install_commands(), kmod_module_get_softdeps(): "as modprobe from
 * module-init-tools does"), first in the order of the configuration files' names across
 * /etc, /run and /lib|/usr/lib modprobe.d. Appends to ret one line for each line of conf (our
 * file's content) that a file sorting before SETUP_MODPROBE_PATH shadows ("softdep nvidia in
 * /usr/lib/modprobe.d/00-nvidia.conf comes first: ..."). 0 or -ENOMEM; unreadable files are no
 * evidence. For setup's notes and doctor. */
int vfio_bind_shadowed(const struct sysroot *sr, const char *conf, struct strv *ret);
