/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The grubby backend (Fedora, RHEL: GRUB reading BLS entries through grubby; research-setup.md
 * §1.2). grubby owns the entries' options: `grubby --update-kernel=ALL --args=…` adds the
 * arguments some entry lacks, and its revert removes exactly those. Two more places hold the
 * command line that later kernels get, and are kept consistent with it, as ComplianceAsCode's
 * remediation and cockpit do: /etc/kernel/cmdline (kernel-install's source for new entries) and
 * GRUB_CMDLINE_LINUX in /etc/default/grub (what grub2-mkconfig writes into the entries). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "setup/backend.h"
#include "setup/boot-args.h"
#include "setup/cmdline.h"
#include "setup/grub-default.h"

#define GRUB_DEFAULT_PATH "/etc/default/grub"
#define GRUBENV_PATH "/boot/grub2/grubenv"
#define LINUX "GRUB_CMDLINE_LINUX"

/* RHEL 8's entries say `options $kernelopts`; the value is kernelopts= in the GRUB environment
 * block. What an entry boots with, then: "" when grubenv cannot tell (grubby still adds). */
static int expand_kernelopts(struct setup_plan *p, const struct sysroot *sr, char **options,
                             char **ret_error)
{
        _cleanup_free_ char *env = NULL, *value = NULL;
        const char *line;
        char *expanded;
        int r;

        if (!strstr(*options, "$kernelopts"))
                return 0;
        r = setup_plan_read(p, sr, GRUBENV_PATH, &env, NULL, ret_error);
        if (r < 0 && r != -ENOENT)
                return r;
        line = env ? strstr(env, "\nkernelopts=") : NULL;
        value = line ? strndup(line + strlen("\nkernelopts="), strcspn(line + strlen("\nkernelopts="), "\n"))
                     : strdup("");
        if (!value)
                return -ENOMEM;
        expanded = strdup(value);
        if (!expanded)
                return -ENOMEM;
        free(*options);
        *options = expanded;
        return 0;
}

/* GRUB_CMDLINE_LINUX: the arguments it and _DEFAULT lack added, those it holds of remove taken
 * off. 1 when the file changes; -ECANCELED when refused. */
static int plan_grub_default(const struct setup_inputs *in, struct setup_plan *p, struct strv *added_all,
                             char **ret_error)
{
        _cleanup_strv_free_null_ char **missing = NULL, **added = NULL, **gone = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL, *out = NULL, *error = NULL;
        struct grub_value v = {0}, d = {0};
        size_t len = 0, out_len = 0;
        int r;

        r = setup_plan_read(p, in->sr, GRUB_DEFAULT_PATH, &text, &len, ret_error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* what _DEFAULT already gives the normal entries is not added again */
        r = grub_default_find(text, len, LINUX, &v, &error);
        if (r >= 0)
                r = grub_default_find(text, len, LINUX "_DEFAULT", &d, &error);
        if (r >= 0 && asprintf(&line, "%s %s", v.value ?: "", d.value ?: "") < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = boot_args_missing(line, strlen(line), (const char *const *)in->args_add,
                                      (const char *const *)in->args_remove, &missing,
                                      &error);
        if (r >= 0)
                r = boot_args_present(v.value ?: "", v.value ? strlen(v.value) : 0,
                                      (const char *const *)in->args_remove, &gone, &error);
        grub_value_done(&v);
        grub_value_done(&d);
        if (r >= 0)
                r = grub_default_edit(text, len, LINUX, (const char *const *)missing,
                                      (const char *const *)gone, &out, &out_len, &added, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, GRUB_DEFAULT_PATH, &error);
                return r < 0 ? r : -ECANCELED;
        }
        r = boot_file_write(p, in->sr, GRUB_DEFAULT_PATH, out, out_len, 0644, ret_error);
        if (r < 0)
                return r;
        if (boot_args_record(added_all, added) < 0 || boot_args_record(&p->args_remove, gone) < 0)
                return -ENOMEM;
        return r;
}

int boot_grubby_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_free_ char *add_joined = NULL, *remove_joined = NULL, *args = NULL, *remove_args = NULL,
                            *escape = NULL;
        struct strv missing = {0}, present = {0}, added = {0};
        size_t n_entries = 0;
        int r = 0;

        for (size_t i = 0; f->entries_dir && f->entries && f->entries[i]; i++) {
                _cleanup_strv_free_null_ char **lacks = NULL, **holds = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL, *options = NULL, *error = NULL;
                size_t len = 0;

                if (asprintf(&path, "%s/%s", f->entries_dir, f->entries[i]) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_read(p, in->sr, path, &text, &len, ret_error);
                if (r == -ENOENT)
                        continue;
                if (r >= 0)
                        r = bls_options_get(text, len, &options);
                if (r >= 0)
                        r = expand_kernelopts(p, in->sr, &options, ret_error);
                if (r < 0)
                        goto out;
                n_entries++;
                r = boot_args_missing(options, strlen(options), (const char *const *)in->args_add,
                                      (const char *const *)in->args_remove, &lacks,
                                      &error);
                if (r >= 0)
                        r = boot_args_present(options, strlen(options), (const char *const *)in->args_remove,
                                              &holds, &error);
                if (r < 0) {
                        r = boot_refuse_or(p, r, path, &error);
                        goto out;
                }
                if (boot_args_record(&missing, lacks) < 0 || boot_args_record(&present, holds) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (n_entries == 0) {
                r = setup_plan_refuse(p,
                                      "no boot entries in %s for grubby to edit: is grubby what boots this "
                                      "system?",
                                      f->entries_dir ?: "/boot/loader/entries");
                goto out;
        }

        /* the places later kernels take their command line from, first: files are written
         * before the commands run */
        r = boot_plan_cmdline_file(in, p, KERNEL_CMDLINE_PATH, false, &added, ret_error);
        if (r >= 0)
                r = plan_grub_default(in, p, &added, ret_error);
        if (r == -ECANCELED) {
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;

        /* in the order asked, each exactly once: what the revert takes away again */
        add_joined = strv_join(missing.v, " ");
        remove_joined = strv_join(present.v, " ");
        if (!add_joined || !remove_joined) {
                r = -ENOMEM;
                goto out;
        }
        if (missing.n > 0) {
                if (asprintf(&args, "--args=%s", add_joined) < 0 ||
                    asprintf(&remove_args, "--remove-args=%s", add_joined) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_command(
                    p, SETUP_COMMAND_TOOL,
                    (const char *const[]){"grubby", "--update-kernel=ALL", args, NULL},
                    (const char *const[]){"grubby", "--update-kernel=ALL", remove_args, NULL});
                if (r >= 0)
                        r = setup_plan_check_output(p, "the boot entries (grubby --info=ALL)",
                                                    (const char *const[]){"grubby", "--info=ALL", NULL},
                                                    (const char *const *)in->args_add);
                if (r < 0)
                        goto out;
        }
        if (present.n > 0) {
                free(args);
                free(remove_args);
                args = remove_args = NULL;
                if (asprintf(&remove_args, "--remove-args=%s", remove_joined) < 0 ||
                    asprintf(&args, "--args=%s", remove_joined) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_command(
                    p, SETUP_COMMAND_TOOL,
                    (const char *const[]){"grubby", "--update-kernel=ALL", remove_args, NULL},
                    (const char *const[]){"grubby", "--update-kernel=ALL", args, NULL});
                if (r < 0)
                        goto out;
        }
        if (boot_args_record(&added, missing.v) < 0 || boot_args_record(&p->args_add, added.v) < 0 ||
            boot_args_record(&p->args_remove, present.v) < 0) {
                r = -ENOMEM;
                goto out;
        }
        if (added.n > 0) {
                escape = strv_join(added.v, " ");
                if (!escape) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_note(
                    p,
                    "if the next boot fails: at the GRUB menu press e, delete %s from the line "
                    "starting with linux (or options), then press Ctrl-X to boot once without them",
                    escape);
        }
out:
        strv_done(&missing);
        strv_done(&present);
        strv_done(&added);
        return r;
}
