/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dracut (Fedora, Debian's dracut package, EndeavourOS; research-setup.md §3): a drop-in of our
 * own in /etc/dracut.conf.d (the .conf ending matters: dracut ignores any other). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "setup/backend.h"
#include "setup/initramfs.h"

/* force_drivers, unlike add_drivers, becomes rd.driver.pre= in the image: modprobe loads them
 * before udev starts, and loading vfio_pci runs the install command of our modprobe.d file.
 * install_items carries that file: Debian's dracut copies /etc/modprobe.d only in host-only
 * mode (modules.d/90kernel-modules). The spaces inside the quotes keep the lists apart from
 * what other drop-ins append. */
static const char dropin[] =
        "# Written by gpu-handoff setup: vfio-pci and its binding (" SETUP_MODPROBE_PATH ")\n"
        "# in the initramfs, loaded before udev. Undo with `gpu-handoff setup undo`.\n"
        "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"
        "install_items+=\" " SETUP_MODPROBE_PATH " \"\n";

/* Where dracut writes a kernel's image: the first of its own choices (dracut's outfile, Debian
 * and upstream) that exists below the root; else where it would write one on this layout. */
static char *image_of(const struct setup_inputs *in, const char *machine_id, const char *kver)
{
        const char *esp_dirs[] = {"/efi", "/boot", "/boot/efi"};
        char *path = NULL;

        for (size_t i = 0; machine_id && i < ELEMENTSOF(esp_dirs); i++) {
                if (asprintf(&path, "%s/%s/%s/initrd", esp_dirs[i], machine_id, kver) < 0)
                        return NULL;
                if (initramfs_image_exists(in->sr, path))
                        return path;
                free(path);
        }
        const struct {
                const char *before, *after;
        } forms[] = {{"/lib/modules/", "/initrd"}, {"/boot/initrd.img-", ""}, {"/boot/initramfs-", ".img"}};
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                if (asprintf(&path, "%s%s%s", forms[i].before, kver, forms[i].after) < 0)
                        return NULL;
                if (initramfs_image_exists(in->sr, path))
                        return path;
                free(path);
        }
        /* none yet: Debian's dracut writes initrd.img-VERSION, upstream initramfs-VERSION.img */
        size_t k = in->facts->dpkg_initramfs ? 1 : 2;
        return asprintf(&path, "%s%s%s", forms[k].before, kver, forms[k].after) < 0 ? NULL : path;
}

/* /etc/machine-id's 32 hex digits, or NULL. */
static char *machine_id(const struct sysroot *sr)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (sysroot_read_file(sr, "etc/machine-id", 64, &text, &len) < 0 || len < 32)
                return NULL;
        for (size_t i = 0; i < 32; i++)
                if (!strchr("0123456789abcdef", text[i]))
                        return NULL;
        if (len > 32 && text[32] != '\n')
                return NULL;
        text[32] = '\0';
        return TAKE_PTR(text);
}

int initramfs_dracut_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        static const char *const regenerate[] = {"dracut", "-f", "--regenerate-all", NULL};
        static const char *const tokens[] = {INITRAMFS_VFIO_TOKEN, INITRAMFS_CONF_TOKEN, NULL};
        static const char *const ls[] = {"lsinitrd", NULL};
        int r;

        if (!in->modprobe_conf)
                return 0;
        r = setup_plan_write(p, in->sr, SETUP_DRACUT_DROPIN_PATH, dropin, strlen(dropin), 0644, ret_error);
        if (r < 0)
                return r;
        if (!initramfs_inputs_changed(p, r))
                return 0;
        if (!in->facts->kernels || !in->facts->kernels[0])
                return setup_plan_refuse(p, "no installed kernel was found (/lib/modules/VERSION with its vmlinuz), "
                                            "so there is no initramfs to put vfio-pci into") < 0
                               ? error_setf(ret_error, -ENOMEM, "out of memory")
                               : 0;
        _cleanup_free_ char *mid = machine_id(in->sr);
        for (size_t i = 0; in->facts->kernels[i]; i++) {
                _cleanup_free_ char *image = image_of(in, mid, in->facts->kernels[i]);
                if (!image)
                        return error_setf(ret_error, -ENOMEM, "out of memory");
                r = initramfs_check_image(p, "dracut", ls, image, tokens, ret_error);
                if (r < 0)
                        return r;
        }
        r = setup_plan_command(p, SETUP_COMMAND_REGENERATE, regenerate, NULL);
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 0;
}
