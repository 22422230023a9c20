/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkinitcpio (Arch; research-setup.md §3): a drop-in of our own in /etc/mkinitcpio.conf.d
 * (mkinitcpio >= 36), which appends to the user's lists and never replaces them. The images to
 * check are the presets' (/etc/mkinitcpio.d/NAME.preset: PRESETS=(...), P_image= or P_uki=). */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/quote.h"
#include "basic/strv.h"
#include "setup/backend.h"
#include "setup/initramfs.h"

/* MODULES are loaded (modprobe -qab, or systemd-modules-load in a systemd image) before udev's
 * coldplug, and loading vfio_pci runs the install command of our modprobe.d file, before the GPU
 * drivers the kms hook puts into the image. The modconf hook copies /etc/modprobe.d already;
 * FILES makes the image carry our file even without it. */
static const char dropin[] =
        "# Written by gpu-handoff setup: vfio-pci and its binding (" SETUP_MODPROBE_PATH ")\n"
        "# in the initramfs, loaded before udev. Undo with `gpu-handoff setup undo`.\n"
        "# Appended (+=): the lists of /etc/mkinitcpio.conf stay as they are.\n"
        "MODULES+=(vfio_pci vfio vfio_iommu_type1)\n"
        "FILES+=(" SETUP_MODPROBE_PATH ")\n";

#define PRESET_DIR "etc/mkinitcpio.d"

/* One shell word of a preset, its quotes removed: 'x', "x" or x. NULL when it is not a plain
 * literal (an expansion, an escape, an open quote): where the image goes is then unknown. */
static char *word(const char **s)
{
        const char *p = *s;
        char quote = 0, *out;
        size_t len = 0;

        if (*p == '\'' || *p == '"')
                quote = *p++;
        const char *start = p;
        while (*p && (quote ? *p != quote : !isspace((unsigned char)*p) && *p != ')' && *p != '#'))
                if (*p == '$' || *p == '`' || *p == '\\' || (!quote && (*p == '\'' || *p == '"')))
                        return NULL;
                else
                        p++, len++;
        if (quote && *p != quote)
                return NULL;
        out = strndup(start, len);
        *s = p + (quote ? 1 : 0);
        return out;
}

/* The value of NAME= (a word) or of NAME=( words ) in text, the last assignment at the start of
 * a line; -ENOENT when there is none, -EINVAL when it is no plain literal. */
static int preset_value(const char *text, const char *name, struct strv *ret)
{
        size_t n = strlen(name);
        int r = -ENOENT;

        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (strncmp(p, name, n) != 0 || p[n] != '=')
                        continue;
                p += n + 1;
                strv_done(ret);
                r = 0;
                bool array = *p == '(';
                if (array)
                        p++;
                for (;;) {
                        while (*p == ' ' || *p == '\t')
                                p++;
                        if (!*p || *p == '\n' || *p == '#' || (array && *p == ')'))
                                break;
                        _cleanup_free_ char *w = word(&p);
                        if (!w || strv_addf(ret, "%s", w) < 0)
                                return w ? -ENOMEM : -EINVAL;
                        if (!array)
                                break;
                }
                if (array && *p != ')')
                        return -EINVAL; /* an array over several lines: not read */
        }
        return r;
}

/* The images of one preset file, appended to images. */
static int preset_images(const struct setup_inputs *in, const char *name, struct strv *images, char **ret_error)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        struct strv presets = {0};
        size_t len = 0;
        int r;

        if (asprintf(&path, "/" PRESET_DIR "/%s", name) < 0)
                return -ENOMEM;
        r = sysroot_read_file(in->sr, path, 1 << 20, &text, &len);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (strlen(text) != len)
                return error_setf(ret_error, -EINVAL, "%s holds a NUL byte", path);
        r = preset_value(text, "PRESETS", &presets);
        if (r == -ENOENT)
                r = strv_addf(&presets, "default"); /* mkinitcpio's own default */
        if (r < 0) {
                strv_done(&presets);
                return r == -ENOMEM ? r
                                    : error_setf(ret_error, r, "%s: PRESETS is not a plain list, so which images "
                                                               "mkinitcpio -P builds is unknown", path);
        }
        for (size_t i = 0; i < presets.n && r >= 0; i++) {
                struct strv v = {0};
                char key[128];
                char q[QUOTE_BUF];
                const char *kinds[] = {"uki", "image"};
                bool found = false;

                for (size_t k = 0; k < ELEMENTSOF(kinds) && !found && r >= 0; k++) {
                        snprintf(key, sizeof(key), "%s_%s", presets.v[i], kinds[k]);
                        r = preset_value(text, key, &v);
                        if (r == -ENOENT) {
                                r = 0;
                                continue;
                        }
                        if (r == 0 && v.n == 1 && !v.v[0][0]) /* P_uki="": not set */
                                ;
                        else if (r == -EINVAL || (r == 0 && (v.n != 1 || v.v[0][0] != '/')))
                                r = error_setf(ret_error, -EINVAL,
                                               "%s: %s is not a plain absolute path, so where mkinitcpio -P "
                                               "writes the image is unknown",
                                               path, quote(key, q));
                        else if (r == 0) {
                                found = true;
                                r = strv_addf(images, "%s", v.v[0]);
                        }
                        strv_done(&v);
                }
        }
        strv_done(&presets);
        return r < 0 ? r : 0;
}

int initramfs_mkinitcpio_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        static const char *const regenerate[] = {"mkinitcpio", "-P", NULL};
        static const char *const tokens[] = {INITRAMFS_VFIO_TOKEN, INITRAMFS_CONF_TOKEN, NULL};
        static const char *const ls[] = {"lsinitcpio", NULL};
        _cleanup_closedir_ DIR *dir = NULL;
        struct strv names = {0}, images = {0};
        struct dirent *de;
        int r;

        if (!in->modprobe_conf)
                return 0;
        r = setup_plan_write(p, in->sr, SETUP_MKINITCPIO_DROPIN_PATH, dropin, strlen(dropin), 0644, ret_error);
        if (r < 0)
                return r;
        if (!initramfs_inputs_changed(p, r))
                return 0;

        r = sysroot_opendir(in->sr, PRESET_DIR, &dir);
        while (r >= 0 && (de = readdir(dir))) {
                size_t n = strlen(de->d_name);
                if (de->d_name[0] != '.' && n > 7 && strcmp(de->d_name + n - 7, ".preset") == 0)
                        r = strv_addf(&names, "%s", de->d_name);
        }
        if (r >= 0 && names.n > 1)
                qsort(names.v, names.n, sizeof(char *), strv_compare);
        _cleanup_free_ char *why = NULL;
        for (size_t i = 0; r >= 0 && i < names.n; i++)
                r = preset_images(in, names.v[i], &images, &why);
        if (r == -EINVAL) { /* a preset not written as plain literals: the user's, refused */
                r = setup_plan_refuse(p, "%s", why);
                strv_done(&names);
                strv_done(&images);
                return r < 0 ? error_setf(ret_error, r, "out of memory") : 0;
        }
        if (r < 0 && why)
                r = error_setf(ret_error, r, "%s", why);
        if (r >= 0 && images.n == 0)
                r = setup_plan_refuse(p, "mkinitcpio has no preset with an image (/" PRESET_DIR
                                         "/NAME.preset), so mkinitcpio -P builds none to put vfio-pci into");
        for (size_t i = 0; r >= 0 && i < images.n; i++)
                r = initramfs_check_image(p, "mkinitcpio", ls, images.v[i], tokens, ret_error);
        /* mkinitcpio -P exits 1 when a build had errors but installs the image all the same: the
         * checks, not the exit status, prove the result. */
        if (r >= 0 && images.n > 0)
                r = setup_plan_command(p, SETUP_COMMAND_REGENERATE, regenerate, NULL);
        strv_done(&names);
        strv_done(&images);
        if (r == -ENOENT)
                return error_setf(ret_error, r, "/" PRESET_DIR " does not exist: mkinitcpio has no presets");
        return r < 0 ? error_setf(ret_error, r, "cannot list /" PRESET_DIR ": %s", strerror(-r)) : 0;
}
