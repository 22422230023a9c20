/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff config: the configuration in effect, every key with its value and origin, as a
 * configuration file (or --json). Also cli_load_config(), which every verb that reads the
 * configuration goes through. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/parse.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "config/config.h"
#include "host/cpu.h"

static void strv_free_all(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

/* Loads with the command line's --vm; warnings are returned, not printed. */
static int load(const struct cli *cli, struct config **ret, char ***ret_warnings)
{
        _cleanup_free_ char *error = NULL;
        uint64_t online[BITMAP_WORDS(CPULIST_BITS)];
        int r;

        /* CPU lists are checked against the online CPUs where they can be read */
        r = config_load(cli->sr, cli->vm, cpu_online_read(cli->sr, online) >= 0 ? online : NULL, ret, ret_warnings,
                        &error);
        if (r < 0) {
                /* the hook never passes a name config_vm_name_problem() refuses: this one is --vm's */
                bool vm_name = r == -EINVAL && cli->vm && config_vm_name_problem(cli->vm);
                cli_error("%s%s", vm_name ? "--vm: " : "", error ? error : strerror(-r));
                return EXIT_ERROR;
        }
        return EXIT_OK;
}

int cli_load_config(const struct cli *cli, struct config **ret)
{
        char **warnings = NULL;

        *ret = NULL;
        if (load(cli, ret, &warnings) != EXIT_OK)
                return EXIT_ERROR;
        for (char **p = warnings; p && *p; p++)
                cli_warning("%s", *p);
        strv_free_all(warnings);
        return EXIT_OK;
}

static json_object *json_origin(struct config_origin o)
{
        json_object *obj;

        if (!o.file)
                return NULL;
        obj = json_object_new_object();
        if (obj) {
                json_object_object_add(obj, "file", json_object_new_string(o.file));
                json_object_object_add(obj, "line", json_object_new_int((int)o.line));
        }
        return obj;
}

static int print_json(const struct cli *cli, const struct config *c, char **warnings)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *files = json_object_new_array(), *settings = json_object_new_array(),
                    *warns = json_object_new_array();

        if (!doc || !files || !settings || !warns) {
                json_object_put(files);
                json_object_put(settings);
                json_object_put(warns);
                return cli_error("out of memory");
        }
        json_object_object_add(doc, "vm", json_string_or_null(cli->vm));
        json_object_object_add(doc, "files", files);
        json_object_object_add(doc, "settings", settings);
        json_object_object_add(doc, "warnings", warns);
        for (char **p = c->files; p && *p; p++)
                json_object_array_add(files, json_object_new_string(*p));
        for (size_t i = 0; i < config_n_keys(); i++) {
                const struct config_key_info *k = config_key(i);
                _cleanup_free_ char *value = config_value_string(c, i);
                json_object *o = json_object_new_object();

                if (!value || !o) {
                        json_object_put(o);
                        return cli_error("out of memory");
                }
                json_object_object_add(o, "section", json_object_new_string(k->section));
                json_object_object_add(o, "key", json_object_new_string(k->key));
                json_object_object_add(o, "type", json_object_new_string(k->type));
                json_object_object_add(o, "value", json_object_new_string(value));
                json_object_object_add(o, "origin", json_origin(config_value_origin(c, i)));
                json_object_array_add(settings, o);
        }
        for (char **p = warnings; p && *p; p++)
                json_object_array_add(warns, json_object_new_string(*p));
        return json_print(doc) < 0 ? EXIT_ERROR : EXIT_OK;
}

/* A configuration file: "# origin" above each key, so that the output parses as it is. */
static int print_text(const struct cli *cli, const struct config *c)
{
        _cleanup_free_ char *vm_file = NULL;
        const char *section = NULL;
        bool vm_read = false;

        if (cli->vm && asprintf(&vm_file, "/%s/%s.conf", CONFIG_VM_DIR, cli->vm) < 0)
                return cli_error("out of memory");
        if (cli->vm)
                printf("# The configuration gpu-handoff uses for VM %s; see gpu-handoff.conf(5).\n",
                       cli->vm);
        else
                printf("# The configuration gpu-handoff uses; see gpu-handoff.conf(5).\n");
        if (c->files[0]) {
                printf("# Read:");
                for (char **p = c->files; *p; p++) {
                        printf(" %s", *p);
                        vm_read |= vm_file && strcmp(*p, vm_file) == 0;
                }
                printf("\n");
        } else
                printf("# Read: nothing (no /%s): built-in defaults\n", CONFIG_PATH);
        if (vm_file && !vm_read)
                printf("# Not present: %s\n", vm_file);

        for (size_t i = 0; i < config_n_keys(); i++) {
                const struct config_key_info *k = config_key(i);
                _cleanup_free_ char *value = config_value_string(c, i);
                struct config_origin o = config_value_origin(c, i);

                if (!value)
                        return cli_error("out of memory");
                if (!section || strcmp(section, k->section) != 0) {
                        section = k->section;
                        printf("\n[%s]\n", section);
                }
                if (o.file)
                        printf("# %s:%u\n", o.file, o.line);
                else
                        printf("# default\n");
                printf("%s=%s\n", k->key, value);
        }
        return EXIT_OK;
}

int verb_config(struct cli *cli, int argc, char **argv)
{
        _cleanup_(config_freep) struct config *c = NULL;
        char **warnings = NULL;
        int r;

        if (load(cli, &c, &warnings) != EXIT_OK)
                return EXIT_ERROR;
        for (char **p = warnings; p && *p; p++)
                cli_warning("%s", *p);
        r = cli->json ? print_json(cli, c, warnings) : print_text(cli, c);
        strv_free_all(warnings);
        return r;
}
