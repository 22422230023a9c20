/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernelstub backend (Pop!_OS; research-setup.md §1.2). kernelstub owns the command line:
 * the "user" section of /etc/kernelstub/configuration (JSON; "kernel_options" a list from
 * config_rev 3, a string before) is what it writes into the ESP's Pop_OS-current.conf and
 * Pop_OS-oldkern.conf. `kernelstub -a "A B"` adds the options it lacks, `kernelstub -d "A B"`
 * of exactly those is the revert; both check each option on its own. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "basic/error.h"
#include "setup/backend.h"
#include "setup/boot-args.h"

#define KERNELSTUB_CONFIG_PATH "/etc/kernelstub/configuration"

/* The user's kernel options as one command line. -EINVAL with a line when the file is not what
 * kernelstub writes (kernelstub itself stops with 169, "Malformed configuration found"). */
static int user_options(const char *text, size_t len, char **ret, char **ret_error)
{
        json_tokener *tok = json_tokener_new();
        json_object *root, *user, *options;
        struct strv list = {0};
        char *joined;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, text, (int)len);
        if (!root || json_tokener_get_error(tok) != json_tokener_success) {
                r = error_setf(ret_error, -EINVAL, "%s is not valid JSON: %s", KERNELSTUB_CONFIG_PATH,
                               json_tokener_error_desc(json_tokener_get_error(tok)));
                goto out;
        }
        if (!json_object_object_get_ex(root, "user", &user) ||
            !json_object_is_type(user, json_type_object) ||
            !json_object_object_get_ex(user, "kernel_options", &options)) {
                r = error_setf(ret_error, -EINVAL, "%s has no \"user\" \"kernel_options\"",
                               KERNELSTUB_CONFIG_PATH);
                goto out;
        }
        if (json_object_is_type(options, json_type_string)) { /* before config_rev 3 */
                joined = strdup(json_object_get_string(options));
        } else if (json_object_is_type(options, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(options); i++) {
                        json_object *o = json_object_array_get_idx(options, i);
                        if (!json_object_is_type(o, json_type_string)) {
                                r = error_setf(ret_error, -EINVAL,
                                               "%s: \"kernel_options\" holds a non-string",
                                               KERNELSTUB_CONFIG_PATH);
                                goto out;
                        }
                        if (strv_addf(&list, "%s", json_object_get_string(o)) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                joined = strv_join(list.v, " ");
        } else {
                r = error_setf(ret_error, -EINVAL, "%s: \"kernel_options\" is neither a list nor a string",
                               KERNELSTUB_CONFIG_PATH);
                goto out;
        }
        if (!joined) {
                r = -ENOMEM;
                goto out;
        }
        *ret = joined;
out:
        strv_done(&list);
        json_object_put(root);
        json_tokener_free(tok);
        return r;
}

int boot_kernelstub_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_strv_free_null_ char **missing = NULL, **present = NULL;
        _cleanup_free_ char *text = NULL, *options = NULL, *error = NULL, *add = NULL, *del = NULL,
                            *entry = NULL, *what = NULL;
        size_t len = 0;
        int r;

        r = setup_plan_read(p, in->sr, KERNELSTUB_CONFIG_PATH, &text, &len, ret_error);
        if (r == -ENOENT)
                return setup_plan_refuse(p, "%s does not exist: is kernelstub what boots this system?",
                                         KERNELSTUB_CONFIG_PATH);
        if (r < 0)
                return r;
        r = user_options(text, len, &options, &error);
        if (r >= 0)
                r = boot_args_missing(options, strlen(options), (const char *const *)in->args_add,
                                      (const char *const *)in->args_remove, &missing,
                                      &error);
        if (r >= 0)
                r = boot_args_present(options, strlen(options), (const char *const *)in->args_remove,
                                      &present, &error);
        if (r < 0)
                return boot_refuse_or(p, r, NULL, &error);

        add = strv_join(missing, " ");
        del = strv_join(present, " ");
        if (!add || !del)
                return -ENOMEM;
        if (missing[0]) {
                r = setup_plan_command(p, SETUP_COMMAND_TOOL,
                                       (const char *const[]){"kernelstub", "-a", add, NULL},
                                       (const char *const[]){"kernelstub", "-d", add, NULL});
                if (r < 0)
                        return r;
                if (asprintf(&entry, "%s/loader/entries/Pop_OS-current.conf", f->esp ?: "/boot/efi") < 0 ||
                    asprintf(&what, "the boot entry %s", entry) < 0)
                        return -ENOMEM;
                r = setup_plan_check_lines(p, what, entry, "options", (const char *const *)in->args_add);
                if (r < 0)
                        return r;
        }
        if (present[0]) {
                r = setup_plan_command(p, SETUP_COMMAND_TOOL,
                                       (const char *const[]){"kernelstub", "-d", del, NULL},
                                       (const char *const[]){"kernelstub", "-a", del, NULL});
                if (r < 0)
                        return r;
        }
        if (boot_args_record(&p->args_add, missing) < 0 || boot_args_record(&p->args_remove, present) < 0)
                return -ENOMEM;
        if (missing[0]) {
                r = setup_plan_note(
                    p,
                    "if the next boot fails: at the systemd-boot menu press e, delete %s and press "
                    "Enter to boot once without them (kernelstub gives Pop_OS-oldkern the same "
                    "options: it is no way back)",
                    add);
                if (r < 0)
                        return r;
        }
        return 0;
}
