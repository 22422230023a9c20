/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff attach: lend a GPU, its companions and its IOMMU group to vfio-pci. This version
 * plans and prints (--dry-run); the engine that applies, journals and rolls back comes next. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "handoff/plan.h"
#include "host/host.h"

static void print_human(const struct plan *p, struct pci_names *names)
{
        char name[256];

        printf("Lend %zu device%s to vfio-pci:\n", p->n_devices, p->n_devices == 1 ? "" : "s");
        for (size_t i = 0; i < p->n_devices; i++) {
                const struct pci_device *d = p->devices[i];
                printf("  %s  %s (%s)\n", d->address,
                       d->problems & PCI_PROBLEM_IDS ? "unknown device"
                                                    : pci_names_device(names, name, sizeof(name), d->vendor, d->device, true),
                       d->driver ? d->driver : "no driver");
        }
        printf("\nSteps:\n");
        for (size_t i = 0; i < p->n_steps; i++) {
                const struct step *s = &p->steps[i];
                _cleanup_free_ char *text = step_describe(s);
                printf("  %2zu  %-18s %s\n", i + 1, step_kind_to_string(s->kind), text ? text : "?");
                if (s->skip)
                        printf("  %2s  %-18s skipped: %s\n", "", "", s->skip);
        }
        if (p->n_notes > 0) {
                printf("\nNotes:\n");
                for (size_t i = 0; i < p->n_notes; i++)
                        printf("  - %s\n", p->notes[i]);
        }
        printf("\nDry run: nothing was changed.\n");
}

static int print_json(const struct plan *p, struct pci_names *names)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *devices = json_object_new_array(), *steps = json_object_new_array(),
                    *notes = json_object_new_array();

        if (!doc || !devices || !steps || !notes) {
                json_object_put(devices);
                json_object_put(steps);
                json_object_put(notes);
                return -ENOMEM;
        }
        json_object_object_add(doc, "dry_run", json_object_new_boolean(true));
        json_object_object_add(doc, "devices", devices);
        json_object_object_add(doc, "steps", steps);
        json_object_object_add(doc, "notes", notes);
        for (size_t i = 0; i < p->n_devices; i++)
                json_object_array_add(devices, json_pci_device(p->devices[i], names));
        for (size_t i = 0; i < p->n_steps; i++) {
                const struct step *s = &p->steps[i];
                _cleanup_free_ char *text = step_describe(s);
                json_object *o = json_object_new_object(), *args = json_object_new_array();
                if (!o || !args) {
                        json_object_put(o);
                        json_object_put(args);
                        return -ENOMEM;
                }
                for (size_t j = 0; j < s->n_args; j++)
                        json_object_array_add(args, json_object_new_string(s->args[j]));
                json_object_object_add(o, "index", json_object_new_int((int)i + 1));
                json_object_object_add(o, "kind", json_object_new_string(step_kind_to_string(s->kind)));
                json_object_object_add(o, "args", args);
                json_object_object_add(o, "description", json_string_or_null(text));
                json_object_object_add(o, "skipped", json_string_or_null(s->skip));
                json_object_array_add(steps, o);
        }
        for (size_t i = 0; i < p->n_notes; i++)
                json_object_array_add(notes, json_object_new_string(p->notes[i]));
        return json_print(doc);
}

int verb_attach(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(pci_names_freep) struct pci_names *names = NULL;
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_free_ char *error = NULL;
        struct plan_options opts = {.with_group = cli->with_group, .force = cli->force, .yes = cli->yes};
        int r;

        if (!cli->dry_run)
                return cli_error("attach: this version only plans; run \"gpu-handoff attach --dry-run\" to see "
                                 "what the hand-over will do (the engine that applies it comes next)");
        if (cli_load_quirks(cli, &quirks) < 0)
                return EXIT_ERROR;
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                return cli_error("cannot read the host below %s: %s", cli->root, strerror(-r));
        r = plan_attach(h, argv, (size_t)argc, &opts, &p, &error);
        if (r == -ENOMEM)
                return cli_error("out of memory");
        if (r < 0) {
                cli_error("attach: %s", error ? error : strerror(-r));
                return r == -EINVAL || r == -ENODEV ? EXIT_ERROR : EXIT_NOT_READY;
        }
        r = pci_names_new(cli->pci_ids, &names);
        if (r < 0)
                return cli_error("cannot set up device names: %s", strerror(-r));
        if (cli->json)
                r = print_json(p, names);
        else
                print_human(p, names);
        if (r < 0)
                return cli_error("cannot print the plan: %s", strerror(-r));
        return EXIT_OK;
}
