/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff config: the configuration in effect, every key with its value and origin, as a
 * configuration file (or --json). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/strv.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "config/config.h"

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

static int verb_config(struct cli *cli, int argc, char **argv)
{
        _cleanup_(config_freep) struct config *c = NULL;
        char **warnings = NULL;
        int r;

        if (cli_load_config_warnings(cli, &c, &warnings) != EXIT_OK)
                return EXIT_ERROR;
        for (char **p = warnings; p && *p; p++)
                cli_warning("%s", *p);
        r = cli->json ? print_json(cli, c, warnings) : print_text(cli, c);
        strv_free_null(warnings);
        return r;
}

const struct verb config_verb = {
        .name = "config",
        .args = "",
        .run = verb_config,
        .summary = "Show the configuration in effect, and where each value comes from",
        .description =
                "Reads /etc/gpu-handoff/gpu-handoff.conf and, with --vm NAME, the per-VM overrides in\n"
                "/etc/gpu-handoff/vm.d/NAME.conf, and prints every key of every section with its value,\n"
                "each preceded by a comment that says where the value comes from: \"# default\" or\n"
                "\"# FILE:LINE\". The output is itself a valid configuration file. Every key, its type\n"
                "and default: man gpu-handoff.conf (docs/man/gpu-handoff.conf.5).\n",
        .options = (const struct verb_option[]){
                {"vm", "NAME",
                 "also apply /etc/gpu-handoff/vm.d/NAME.conf, NAME being the libvirt\n"
                 "domain name (a missing file overrides nothing)",
                 .parse = cli_parse_vm},
                {"json", .help = "the same as a JSON document (docs/json.md)"},
                {},
        },
        .column = 17,
        .epilog = "An unknown key is a warning (the rest of the file applies). A malformed line or value,\n"
                  "a key given twice in one file, or a file or directory that anyone but root can change\n"
                  "is an error: one line naming the file and line, exit status 2.\n"
                  "\n"
                  "Exit status: 0, or 2 when the configuration cannot be used.\n",
};
