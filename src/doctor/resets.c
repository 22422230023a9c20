/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "doctor/resets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "handoff/lend-once.h"
#include "handoff/unreset.h"

/* Where DKMS and distribution packages put the module for a kernel release. */
bool vendor_reset_installed(const struct host *h)
{
        static const char *const dirs[] = {"updates/dkms", "updates", "extra", "kernel/drivers/misc", "misc"};
        static const char *const exts[] = {"", ".xz", ".zst", ".gz"};
        char path[256];

        if (!h->kernel_release)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                for (size_t j = 0; j < ELEMENTSOF(exts); j++) {
                        snprintf(path, sizeof(path), "lib/modules/%s/%s/vendor-reset.ko%s", h->kernel_release, dirs[i],
                                 exts[j]);
                        if (sysroot_exists(h->sr, path))
                                return true;
                }
        return false;
}

/* Whether a non-comment line of the file below the root names the module. */
static bool file_names_module(const struct sysroot *sr, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (sysroot_read_file(sr, path, 1024 * 1024, &text, &len) < 0)
                return false;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line += strspn(line, " \t");
                if (*line != '#' && (strstr(line, "vendor-reset") || strstr(line, "vendor_reset")))
                        return true;
        }
        return false;
}

static bool dir_names_module(const struct sysroot *sr, const char *dir)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char path[512];

        if (sysroot_opendir(sr, dir, &d) < 0)
                return false;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (file_names_module(sr, path))
                        return true;
        }
        return false;
}

bool vendor_reset_early(const struct host *h)
{
        static const char *const files[] = {"etc/initramfs-tools/modules", "etc/mkinitcpio.conf", "etc/booster.yaml"};
        static const char *const dirs[] = {"etc/initramfs-tools/hooks", "etc/dracut.conf.d", "etc/mkinitcpio.conf.d"};

        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (file_names_module(h->sr, files[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (dir_names_module(h->sr, dirs[i]))
                        return true;
        return false;
}

int resets_doctor(const struct host *h, struct doctor_report *rep)
{
        struct strv unreset = {};
        int r;

        r = unreset_list(h->sr, &unreset);
        for (size_t i = 0; r >= 0 && i < unreset.n; i++) {
                char *problem = strstr(unreset.v[i], ": "); /* "ADDRESS: PROBLEM" */

                if (problem) {
                        *problem = 0;
                        problem += 2;
                }
                r = doctor_report_add(rep, "gpu-unreset", SEVERITY_ERROR, unreset.v[i],
                                      "reboot the host before using this card again (it stays on vfio-pci until then)",
                                      "%s did not come back from its reset in this boot: %s", unreset.v[i],
                                      problem ? problem : "?");
        }
        strv_done(&unreset);
        for (size_t i = 0; r >= 0 && i < h->n_gpus; i++) {
                const struct gpu *g = &h->gpus[i];
                unsigned flags = gpu_quirk_flags(g);

                if ((flags & (QUIRK_RESET_ONCE_PER_BOOT | QUIRK_RESET_BROKEN)) && lend_once_check(h->sr, g, NULL, NULL) == -EPERM)
                        r = doctor_report_add(rep, "gpu-lent-this-boot", SEVERITY_INFO, g->dev->address,
                                              "reboot the host before lending it again (or attach --force)",
                                              "this card cannot reset and was lent already in this boot: attach "
                                              "refuses it until the host reboots");
        }
        return r;
}
