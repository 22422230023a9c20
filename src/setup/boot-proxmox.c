/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Proxmox backend in systemd-boot mode (proxmox-boot-tool; research-setup.md §1.2; GRUB
 * mode is the GRUB backend's). proxmox-boot-tool builds every kernel's entry on every ESP it
 * manages from the FIRST line of /etc/kernel/cmdline, and aborts a refresh when that line has no
 * root=; so that line is edited token by token and `proxmox-boot-tool refresh` writes the
 * entries. The ESPs are mounted only while it runs: the entries can be checked only where one
 * is mounted (facts->entries_dir). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "setup/backend.h"
#include "setup/boot-args.h"
#include "setup/cmdline.h"

/* The root= of the running command line, for the message that asks for the file. */
static char *running_root(const struct boot_facts *f)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        const char *root;

        if (!f->cmdline || cmdline_parse(f->cmdline, strlen(f->cmdline), &c, NULL) < 0)
                return NULL;
        root = cmdline_get(c, "root");
        return root ? strdup(root) : NULL;
}

int boot_proxmox_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        _cleanup_free_ char *text = NULL, *root = NULL, *error = NULL, *escape = NULL;
        struct strv added = {0};
        size_t len = 0;
        int r;

        r = setup_plan_read(p, in->sr, KERNEL_CMDLINE_PATH, &text, &len, ret_error);
        /* proxmox-boot-tool would fall back to /proc/cmdline, and a one-off edit made at the boot
         * menu would stay for good; the user writes the file, from what they know boots */
        if (r == -ENOENT) {
                root = running_root(f);
                return setup_plan_refuse(
                    p,
                    "%s does not exist (proxmox-boot-tool then takes /proc/cmdline); create "
                    "it with the arguments this system boots with (root=%s and the others of "
                    "/proc/cmdline, without BOOT_IMAGE= and initrd=), then run setup again",
                    KERNEL_CMDLINE_PATH, root ?: "…");
        }
        if (r < 0)
                return r;
        r = cmdline_parse(text, strcspn(text, "\n"), &c, &error);
        if (r < 0)
                return boot_refuse_or(p, r, KERNEL_CMDLINE_PATH, &error);
        if (!cmdline_get(c, "root"))
                return setup_plan_refuse(
                    p,
                    "the first line of %s has no root=, so proxmox-boot-tool refresh would "
                    "abort; add it (as in /proc/cmdline), then run setup again",
                    KERNEL_CMDLINE_PATH);

        r = boot_plan_cmdline_file(in, p, KERNEL_CMDLINE_PATH, true, &added, ret_error);
        if (r == -ECANCELED)
                r = 0;
        else if (r > 0) {
                r = setup_plan_command(p, SETUP_COMMAND_REGENERATE,
                                       (const char *const[]){"proxmox-boot-tool", "refresh", NULL}, NULL);
                for (size_t i = 0; r >= 0 && in->args_add && in->args_add[0] && f->entries_dir &&
                                   f->entries && f->entries[i];
                     i++) {
                        _cleanup_free_ char *path = NULL, *what = NULL;
                        if (asprintf(&path, "%s/%s", f->entries_dir, f->entries[i]) < 0 ||
                            asprintf(&what, "the boot entry %s", path) < 0)
                                r = -ENOMEM;
                        else
                                r = setup_plan_check_lines(p, what, path, "options",
                                                           (const char *const *)in->args_add);
                }
                if (r >= 0 && boot_args_record(&p->args_add, added.v) < 0)
                        r = -ENOMEM;
                if (r >= 0 && added.n > 0) {
                        escape = strv_join(added.v, " ");
                        r = escape ? setup_plan_note(
                                         p,
                                         "if the next boot fails: at the systemd-boot menu press e, "
                                         "delete %s and press Enter to boot once without them "
                                         "(every kernel's entry gets them, so pinning an older "
                                         "kernel with proxmox-boot-tool kernel pin does not help)",
                                         escape)
                                   : -ENOMEM;
                }
        }
        strv_done(&added);
        return r;
}
