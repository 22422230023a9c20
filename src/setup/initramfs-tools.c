/* SPDX-License-Identifier: GPL-2.0-or-later */
/* initramfs-tools (Debian, Ubuntu; research-setup.md §3): mkinitramfs copies every
 * /etc/modprobe.d/NAME.conf into the image, so our modprobe.d file gets there by itself; what we
 * add is vfio-pci, through a hook of our own (undo removes it). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "setup/backend.h"
#include "setup/initramfs.h"

#define HOOK_PATH "/etc/initramfs-tools/hooks/gpu-handoff"

/* Why a hook and not /etc/initramfs-tools/modules: that list is read by load_modules after
 * udev's coldplug (scripts/init-top/udev) has already loaded the GPU drivers, so it cannot
 * order anything, and it is the user's file. The ordering comes from the softdep lines and the
 * install command of our modprobe.d file; the hook only puts vfio-pci into the image, and
 * force_load loads it there even when no softdep fires (a device no GPU driver claims). The
 * name must be [alnum._-] and the file executable, or mkinitramfs skips it silently. */
static const char hook[] =
        "#!/bin/sh\n"
        "# Written by gpu-handoff setup: puts vfio-pci into the initramfs for the binding of\n"
        "# " SETUP_MODPROBE_PATH ". Undo with `gpu-handoff setup undo`.\n"
        "#\n"
        "# The binding itself is that modprobe.d file, which mkinitramfs copies into the image: its\n"
        "# softdep lines load vfio-pci, and its install command sets driver_override, before udev's\n"
        "# coldplug loads a GPU driver. /etc/initramfs-tools/modules is read only after the coldplug,\n"
        "# so it could not order anything; force_load here makes sure vfio-pci is in the image and\n"
        "# loaded there even when no softdep fires.\n"
        "PREREQ=\"\"\n"
        "prereqs() { echo \"$PREREQ\"; }\n"
        "case \"$1\" in\n"
        "prereqs) prereqs; exit 0 ;;\n"
        "esac\n"
        ". /usr/share/initramfs-tools/hook-functions\n"
        "force_load vfio_pci\n"
        "manual_add_modules vfio vfio_iommu_type1\n";

int initramfs_tools_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        static const char *const regenerate[] = {"update-initramfs", "-u", "-k", "all", NULL};
        static const char *const tokens[] = {INITRAMFS_VFIO_TOKEN, INITRAMFS_CONF_TOKEN, NULL};
        static const char *const ls[] = {"lsinitramfs", NULL};
        size_t n_images = 0;
        int r;

        if (!in->modprobe_conf)
                return 0;
        r = setup_plan_write(p, in->sr, HOOK_PATH, hook, strlen(hook), 0755, ret_error);
        if (r < 0)
                return r;
        if (!initramfs_inputs_changed(p, r))
                return 0;
        /* -u -k all updates every kernel that has an image, and only those: the others would
         * fail their check, and a host with none has nothing to update. */
        for (size_t i = 0; in->facts->kernels && in->facts->kernels[i]; i++) {
                _cleanup_free_ char *image = NULL;
                if (asprintf(&image, "/boot/initrd.img-%s", in->facts->kernels[i]) < 0)
                        return error_setf(ret_error, -ENOMEM, "out of memory");
                if (!initramfs_image_exists(in->sr, image))
                        continue;
                r = initramfs_check_image(p, "initramfs-tools", ls, image, tokens, ret_error);
                if (r < 0)
                        return r;
                n_images++;
        }
        if (n_images == 0)
                return setup_plan_refuse(p,
                                         "no installed kernel has an initramfs (/boot/initrd.img-VERSION), so "
                                         "update-initramfs -u has none to put vfio-pci into; create them with "
                                         "update-initramfs -c -k all, then run setup again") < 0
                               ? error_setf(ret_error, -ENOMEM, "out of memory")
                               : 0;
        r = setup_plan_command(p, SETUP_COMMAND_REGENERATE, regenerate, NULL);
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 0;
}
