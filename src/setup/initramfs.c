/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/initramfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"

int initramfs_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        switch (in->initramfs) {
        case INITRAMFS_NONE:
                return 0;
        case INITRAMFS_TOOLS:
                return initramfs_tools_plan(in, p, ret_error);
        case INITRAMFS_DRACUT:
                return initramfs_dracut_plan(in, p, ret_error);
        case INITRAMFS_MKINITCPIO:
                return initramfs_mkinitcpio_plan(in, p, ret_error);
        case INITRAMFS_BOOSTER:
                return initramfs_booster_plan(in, p, ret_error);
        default:
                return error_setf(ret_error, -EINVAL, "unknown initramfs generator %d", (int)in->initramfs);
        }
}

bool initramfs_inputs_changed(struct setup_plan *p, int changed)
{
        const struct setup_file *f = setup_plan_find_file(p, SETUP_MODPROBE_PATH);

        return changed > 0 || (f && f->action != SETUP_FILE_REMOVE);
}

int initramfs_check_image(struct setup_plan *p, const char *generator, const char *const *ls, const char *image,
                          const char *const *tokens, char **ret_error)
{
        const char *argv[4] = {0};
        _cleanup_free_ char *what = NULL;
        size_t n = 0;

        while (ls[n] && n < ELEMENTSOF(argv) - 2) {
                argv[n] = ls[n];
                n++;
        }
        argv[n] = image;

        if (asprintf(&what, "the initramfs %s (%s)", image, generator) < 0) {
                what = NULL;
                return error_setf(ret_error, -ENOMEM, "out of memory");
        }
        int r = setup_plan_check_output(p, what, argv, tokens);
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 0;
}

bool initramfs_image_exists(const struct sysroot *sr, const char *path)
{
        struct stat st;
        int fd = sysroot_openat(sr, path, O_PATH | O_CLOEXEC);

        if (fd < 0)
                return false;
        bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        return regular;
}
