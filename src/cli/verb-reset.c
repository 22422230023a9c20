/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff reset: reset a PCI device nobody uses, and say whether it came back. */
#include <errno.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/session.h"
#include "cli/verbs.h"
#include "handoff/reset.h"
#include "host/host.h"

/* The options (reset --help) */
static bool arg_dry_run, arg_remove_rescan, arg_force;
static const char *arg_method;

static void print_plan(const struct reset_plan *p)
{
        printf("Reset %s by %s:\n", p->device->address,
               strcmp(p->method, "bus") == 0 && p->bridge[0] ? "a secondary bus reset of its bridge" : p->method);
        for (size_t i = 0; i < p->n_steps; i++) {
                _cleanup_free_ char *raw = step_describe(&p->steps[i]), *text = raw ? quote_dup(raw, SIZE_MAX) : NULL;

                printf("  %2zu  %-18s %s\n", i + 1, step_kind_to_string(p->steps[i].kind), text ? text : "?");
        }
        if (p->notes.n > 0) {
                printf("\nNotes:\n");
                for (size_t i = 0; i < p->notes.n; i++) {
                        _cleanup_free_ char *note = quote_dup(p->notes.v[i], SIZE_MAX);
                        printf("  - %s\n", note ? note : "?");
                }
        }
}

static int print_json_plan(const struct reset_plan *p, const struct reset_health *health)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *steps = json_object_new_array(), *notes = json_object_new_array();

        if (!doc || !steps || !notes) {
                json_object_put(steps);
                json_object_put(notes);
                return cli_error("out of memory");
        }
        json_object_object_add(doc, "verb", json_object_new_string("reset"));
        json_object_object_add(doc, "device", json_object_new_string(p->device->address));
        json_object_object_add(doc, "method", json_object_new_string(p->method));
        json_object_object_add(doc, "bridge", p->bridge[0] ? json_object_new_string(p->bridge) : NULL);
        for (size_t i = 0; i < p->n_steps; i++) {
                _cleanup_free_ char *text = step_describe(&p->steps[i]);
                json_object *o = json_object_new_object(), *args = json_object_new_array();

                if (!o || !args) {
                        json_object_put(o);
                        json_object_put(args);
                        continue;
                }
                for (size_t j = 0; j < p->steps[i].n_args; j++)
                        json_object_array_add(args, json_object_new_string(p->steps[i].args[j]));
                json_object_object_add(o, "kind", json_object_new_string(step_kind_to_string(p->steps[i].kind)));
                json_object_object_add(o, "args", args);
                json_object_object_add(o, "description", json_object_new_string(text ? text : "?"));
                json_object_array_add(steps, o);
        }
        json_object_object_add(doc, "steps", steps);
        for (size_t i = 0; i < p->notes.n; i++)
                json_object_array_add(notes, json_object_new_string(p->notes.v[i]));
        json_object_object_add(doc, "notes", notes);
        json_object_object_add(doc, "dry_run", json_object_new_boolean(!health));
        if (health) {
                const char *problem = reset_health_problem(health);

                json_object_object_add(doc, "came_back", json_object_new_boolean(!problem));
                json_object_object_add(doc, "problem", problem ? json_object_new_string(problem) : NULL);
                json_object_object_add(doc, "power_state", health->power_state[0]
                                                                   ? json_object_new_string(health->power_state)
                                                                   : NULL);
        }
        return json_print(doc) < 0 ? EXIT_ERROR : EXIT_OK;
}

static int report_health(const struct cli *cli, const struct reset_plan *p)
{
        struct reset_health health;
        const char *problem;

        reset_health_read(cli->sr, p->device->address, &health);
        problem = reset_health_problem(&health);
        if (cli->json)
                (void)print_json_plan(p, &health);
        else if (!problem)
                printf("reset: %s came back (config space answers, power state %s).\n", p->device->address,
                       health.power_state[0] ? health.power_state : "not shown");
        if (problem)
                cli_error("reset: %s did not come back: %s; the host needs a reboot before this device works again",
                          p->device->address, problem);
        return problem ? EXIT_NOT_READY : EXIT_OK;
}

static int run_reset(struct cli *cli, struct handoff_session *s, const struct reset_plan *p)
{
        _cleanup_(engine_run_freep) struct engine_run *run = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = reset_run(&s->ctx, &s->self, s->command, p, &run, &error);
        if (!run)
                return cli_error("reset: cannot start the journal, nothing was changed: %s", error ? error : strerror(-r));
        if (!cli->json)
                print_timeline(stdout, "reset", run);
        if (r == -EUCLEAN)
                return cli_error("reset: the reset ran, but the reset method of %s could not be restored: %s; "
                                 "gpu-handoff reset %s --dry-run tries again",
                                 p->device->address, error ? error : "?", p->device->address),
                       EXIT_NEEDS_RECOVER;
        if (r < 0) {
                const char *m = run->failed >= 0 ? run->outcomes[run->failed].message : NULL;

                cli_error("reset: %s", m ? m : strerror(-r));
                return run->host_intact ? EXIT_ROLLED_BACK : EXIT_NEEDS_RECOVER;
        }
        return report_health(cli, p);
}

static int verb_reset(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(reset_plan_freep) struct reset_plan *p = NULL;
        _cleanup_free_ char *error = NULL;
        struct reset_options opts = {.method = arg_method, .remove_rescan = arg_remove_rescan, .force = arg_force};
        struct handoff_session s = {0};
        int r;

        if (cli_load_quirks(cli, &quirks) < 0 || cli_load_config(cli, &c) != EXIT_OK)
                return EXIT_ERROR;
        if (!arg_dry_run) {
                bool found;

                r = session_begin(cli, "reset", c, &s);
                if (r != EXIT_OK) {
                        session_end(&s);
                        return r;
                }
                r = reset_settle(&s.ctx, &s.self, s.command, &found, &error);
                if (r < 0) {
                        session_end(&s);
                        return cli_error("reset: an interrupted reset could not be finished: %s",
                                         error ? error : strerror(-r)),
                               EXIT_NEEDS_RECOVER;
                }
                if (found && !cli->json)
                        printf("reset: finished an interrupted reset (reset method restored).\n");
        }
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                r = cli_error("cannot read the host below %s: %s", cli->root, strerror(-r));
        else if ((r = reset_plan_make(h, argv[0], &opts, &p, &error)) < 0)
                r = cli_plan_failed("reset", r, error);
        else if (arg_dry_run) {
                if (cli->json)
                        r = print_json_plan(p, NULL);
                else {
                        print_plan(p);
                        printf("\nDry run: nothing was changed.\n");
                        r = EXIT_OK;
                }
        } else {
                if (!cli->json) {
                        print_plan(p);
                        printf("\n");
                }
                r = run_reset(cli, &s, p);
        }
        session_end(&s);
        return r;
}

const struct verb reset_verb = {
        .name = "reset",
        .args = "DEVICE",
        .min_args = 1,
        .max_args = 1,
        .run = verb_reset,
        .summary = "Reset a PCI device nobody uses, and say whether it came back",
        .description =
                "Resets DEVICE (0000:01:00.0 or 01:00.0) through the kernel, when no driver uses it: it has\n"
                "no driver, or it is on vfio-pci and no VM holds it. Afterwards it says whether the device\n"
                "came back: its config space answers, the vendor ID there is not ffff, its power state is D0.\n"
                "\n"
                "The method: --method, else device_specific for a card of the vendor-reset family with the\n"
                "vendor-reset module loaded, else the kernel's own first choice (reset_method). A method other\n"
                "than the kernel's first is set in reset_method for the reset only, and the list is put back\n"
                "exactly afterwards (\"default\" where it was the kernel's default).\n"
                "\n"
                "A bus reset hits every device behind the same bridge. When the kernel offers no bus reset of\n"
                "the device alone, it goes through the bridge's reset_subordinate (Linux 6.13 or later), and\n"
                "is refused while another device behind that bridge is in use (the GPU's HDMI audio function\n"
                "on snd_hda_intel is the usual one); each is named with who uses it.\n",
        .options = (const struct verb_option[]){
                {"method", "METHOD", "flr, pm, bus or device_specific instead of the choice above",
                 .string = &arg_method},
                {"remove-rescan", .help = "after the reset, remove the device and rescan its bridge\n"
                                          "(a last resort: the kernel probes the device anew)",
                 .flag = &arg_remove_rescan},
                {"force", .help = "reset a card whose quirks say resets hang it", .flag = &arg_force},
                {"dry-run", .help = "print the plan, change nothing", .flag = &arg_dry_run},
                {"json", .help = "the plan and the outcome as JSON (docs/json.md)"},
                {},
        },
        .column = 19,
        .epilog = "vendor-reset covers AMD Polaris, Vega, Navi 10/12/14 and Arcturus only: not the RX 6000,\n"
                  "RX 7000 or RX 9000 series. The reset is journaled in /run/gpu-handoff/reset; a reset a crash\n"
                  "interrupted is finished (its reset method restored) by the next reset.\n"
                  "\n"
                  "Exit status: 0 done and the device came back, 1 refused or the device did not come back,\n"
                  "2 usage or runtime error, 3 the reset failed and the reset method was restored,\n"
                  "4 the reset method could not be restored.\n",
};
