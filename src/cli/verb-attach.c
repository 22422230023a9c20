/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff attach: lend a GPU, its companions and its IOMMU group to vfio-pci. */
#include <errno.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/session.h"
#include "handoff/transition.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "handoff/lend-once.h"
#include "handoff/plan.h"
#include "host/host.h"

/* The options (attach --help) */
static bool arg_dry_run, arg_yes, arg_with_group, arg_force, arg_terminate;

static void print_human(const struct plan *p, struct pci_names *names)
{
        char name[256], q[QUOTE_BUF_SIZE(sizeof(name))];

        printf("Lend %zu device%s to vfio-pci:\n", p->n_devices, p->n_devices == 1 ? "" : "s");
        for (size_t i = 0; i < p->n_devices; i++) {
                const struct pci_device *d = p->devices[i];
                printf("  %s  %s", d->address,
                       d->problems & PCI_PROBLEM_IDS
                               ? "unknown device"
                               : quote_n(pci_names_device(names, name, sizeof(name), d->vendor, d->device, true),
                                         SIZE_MAX, sizeof(name), q));
                printf(" (%s)\n", d->driver ? quote_n(d->driver, SIZE_MAX, sizeof(name), q) : "no driver");
        }
        printf("\nSteps:\n");
        for (size_t i = 0, number = 0; i < p->n_steps; i++) {
                const struct step *s = &p->steps[i];
                _cleanup_free_ char *raw = step_describe(s), *text = raw ? quote_dup(raw, SIZE_MAX) : NULL;
                char num[24] = " -"; /* a skipped step is not journaled, so it has no number */
                if (!s->skip)
                        snprintf(num, sizeof(num), "%2zu", ++number);
                printf("  %s  %-18s %s\n", num, step_kind_to_string(s->kind), text ? text : "?");
                if (s->skip)
                        printf("  %2s  %-18s skipped: %s\n", "", "", s->skip);
        }
        if (p->notes.n > 0) {
                printf("\nNotes:\n");
                for (size_t i = 0; i < p->notes.n; i++) {
                        _cleanup_free_ char *note = quote_dup(p->notes.v[i], SIZE_MAX); /* they name drivers */
                        printf("  - %s\n", note ? note : "?");
                }
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
        for (size_t i = 0, number = 0; i < p->n_steps; i++) {
                const struct step *s = &p->steps[i];
                json_object *o = json_plan_step(s, s->skip ? 0 : ++number);
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "skipped", json_string_or_null(s->skip));
                json_object_array_add(steps, o);
        }
        for (size_t i = 0; i < p->notes.n; i++)
                json_object_array_add(notes, json_object_new_string(p->notes.v[i]));
        return json_print(doc);
}

/* A journal left by an earlier run: refuse when a GPU is lent, finish what a crashed run left. */
static int settle_journal(struct cli *cli, struct handoff_session *s)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *error = NULL;
        struct transition_settlement old;
        int r = journal_check(cli, &st);

        if (r != 1)
                return r;
        r = transition_settle(&s->ctx, st, NULL, &old, &error);
        if (r < 0)
                return cli_error("%s", error ? error : strerror(-r));
        switch (old.outcome) {
        case TRANSITION_SETTLE_LENT:
        case TRANSITION_SETTLE_OWN:
                cli_error("attach: %s is already lent (gpu-handoff status); release it first",
                          old.devices ? old.devices : "a GPU");
                return EXIT_NOT_READY;
        case TRANSITION_SETTLE_INTERRUPTED:
                if (!cli->json)
                        printf("An interrupted hand-over (pid %d) left changes behind; undoing them first.\n",
                               (int)old.owner);
                r = revert_journal(cli, s, "recover", !cli->json);
                return r == EXIT_OK ? 0 : r;
        default:
                return 0;
        }
}

static int apply_plan(struct cli *cli, struct handoff_session *s, const struct plan *p)
{
        _cleanup_(engine_run_freep) struct engine_run *run = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = transition_attach(&s->ctx, &s->self, s->command, p, &run, &error);
        if (!run && journal_out_of_space(r))
                return cli_error("attach: %s; nothing was changed: free space in %s/run, then try again",
                                 error ? error : strerror(-r), strcmp(cli->root, "/") == 0 ? "" : cli->root);
        if (!run)
                return cli_error("attach: cannot start the journal, nothing was changed: %s",
                                 error ? error : strerror(-r));
        print_run(cli, "attach", run, r);
        if (r == 0) {
                if (!cli->json)
                        printf("attach: lent to vfio-pci; gpu-handoff release gives it back.\n");
                return EXIT_OK;
        }
        /* A rollback the journal could not record leaves it for recover to clear. */
        return run->host_intact && !sysroot_exists(cli->sr, HANDOFF_JOURNAL_PATH) ? EXIT_ROLLED_BACK : EXIT_NEEDS_RECOVER;
}

/* The GPU's steps, then the room for the guest; *ret_n_gpu_steps says where the second part starts. */
static int make_plan(struct host *h, char *const *devices, size_t n_devices, const struct plan_options *opts,
                     const struct handoff_ctx *ctx, const struct config *c, const struct process_id *self,
                     struct plan **ret, size_t *ret_n_gpu_steps, char **ret_error)
{
        _cleanup_(plan_freep) struct plan *p = NULL;
        int r = plan_attach(h, devices, n_devices, opts, &p, ret_error);

        if (r >= 0 && !opts->force)
                r = lend_once_check(h->sr, p->gpu, "--force", ret_error);
        if (r < 0)
                return r;
        *ret_n_gpu_steps = p->n_steps;
        r = plan_room_read(h, c, self);
        if (r >= 0)
                r = plan_room(h, ctx, c, p, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* The GPU steps go when the devices are on vfio-pci already; the room for the guest (CPUs,
 * memory, frozen processes) is still made. False when nothing is left to do. */
static bool keep_room_only(struct plan *p, size_t n_gpu_steps)
{
        for (size_t i = 0; i < n_gpu_steps; i++)
                step_done(&p->steps[i]);
        memmove(p->steps, p->steps + n_gpu_steps, (p->n_steps - n_gpu_steps) * sizeof(*p->steps));
        p->n_steps -= n_gpu_steps;
        return p->n_steps > 0;
}

static int verb_attach(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(pci_names_freep) struct pci_names *names = NULL;
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_free_ char *error = NULL;
        struct plan_options opts;
        struct handoff_session s = {0};
        struct handoff_ctx dry = {.sr = cli->sr};
        char **devices = argv;
        size_t n_gpu_steps;
        int r;

        if (cli_load_quirks(cli, &quirks) < 0 || cli_load_config(cli, &c) != EXIT_OK)
                return EXIT_ERROR;
        /* The command line adds to the configuration; devices named there replace GPU=. */
        opts = (struct plan_options){
                .with_group = arg_with_group || c->with_group,
                .force = arg_force,
                .yes = arg_yes || c->single_gpu,
                .terminate = arg_terminate || c->holders == HOLDER_POLICY_TERMINATE,
        };
        if (argc == 0 && c->gpus)
                for (devices = c->gpus; devices[argc]; argc++)
                        ;
        if (arg_dry_run)
                (void)process_id_self(cli->sr, &s.self, NULL, 0); /* whom the plan must not stop */
        else if ((r = session_detach()) >= 0)
                return r;
        else {
                r = session_begin(cli, "attach", c, &s);
                if (r == EXIT_OK)
                        r = settle_journal(cli, &s);
                if (r != 0) {
                        session_end(&s);
                        return r;
                }
        }
        /* Read after the lock and any recovery: the snapshot must be the host as it is now. */
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                r = cli_error("cannot read the host below %s: %s", cli->root, strerror(-r));
        else if ((r = make_plan(h, devices, (size_t)argc, &opts, arg_dry_run ? &dry : &s.ctx, c, &s.self, &p,
                                &n_gpu_steps, &error)) < 0)
                r = cli_plan_failed("attach", r, error);
        else if (arg_dry_run) {
                r = pci_names_new(cli->pci_ids, &names);
                if (r >= 0 && cli->json)
                        r = print_json(p, names);
                else if (r >= 0)
                        print_human(p, names);
                r = r < 0 ? cli_error("cannot print the plan: %s", strerror(-r)) : EXIT_OK;
        } else if (plan_already_lent(p) && !keep_room_only(p, n_gpu_steps)) {
                r = print_nothing_to_do(cli, "attach",
                                        "attach: already on vfio-pci (bound at boot or by hand); nothing to do.");
        } else
                r = apply_plan(cli, &s, p);
        session_end(&s);
        return r;
}

const struct verb attach_verb = {
        .name = "attach",
        .args = "[DEVICE...]",
        .max_args = 16,
        .run = verb_attach,
        .summary = "Lend a GPU with its companion functions to vfio-pci",
        .description =
                "Takes the GPU from the host (display manager, consoles, boot framebuffer, drivers and\n"
                "modules) and binds it, its companion functions (HDMI audio, USB-C) and the rest of its\n"
                "IOMMU group to vfio-pci, so a VM can use it.\n"
                "\n"
                "DEVICE is an address (0000:01:00.0 or 01:00.0). Without one: GPU= from the configuration,\n"
                "else the only GPU that drives no display of the host (one on vfio-pci first); on a\n"
                "single-GPU host its GPU, with --yes. Which GPU drives the display is read from connected\n"
                "monitors, the console and DRM masters; the boot GPU counts only when none shows one.\n"
                "A device the host runs on (a mounted file system, swap, the default route) is never lent.\n"
                "\n"
                "Then it makes room for the guest as /etc/gpu-handoff/gpu-handoff.conf asks (see\n"
                "gpu-handoff config): freezes units and stops processes, keeps the host on its\n"
                "housekeeping CPUs, drops caches, compacts memory and reserves hugepages. Release undoes\n"
                "all of it. When the GPU is on vfio-pci already, only that part runs.\n",
        .options = (const struct verb_option[]){
                {"dry-run", .help = "print the plan, change nothing", .flag = &arg_dry_run},
                {"yes", .help = "lend the GPU that drives the host's display (ends the desktop session)",
                 .flag = &arg_yes},
                {"with-group", .help = "also lend the other devices of the IOMMU group (USB, SATA, NIC...)",
                 .flag = &arg_with_group},
                {"force", .help = "lend a device that is not a GPU, or a card that cannot reset\n"
                                  "a second time in one boot",
                 .flag = &arg_force},
                {"terminate",
                 .help = "stop the processes that hold the GPU (SIGTERM, then SIGKILL after 5 s)\n"
                         "instead of refusing and naming them",
                 .flag = &arg_terminate},
                {"vm", "NAME", "also apply the VM's settings in /etc/gpu-handoff/vm.d/NAME.conf",
                 .parse = cli_parse_vm},
                {},
        },
        .column = 17,
        .epilog = "The options add to the configuration (SingleGPU=, WithGroup=, Policy=terminate).\n"
                  "Every step is journaled in /run/gpu-handoff before it is applied; a failing step rolls\n"
                  "back what was done. A hand-over interrupted by a crash is undone by the next attach,\n"
                  "release or recover.\n"
                  "\n"
                  "Exit status: 0 done, 1 refused (the message says why), 2 usage or runtime error,\n"
                  "3 a step failed and everything was rolled back, 4 the host needs gpu-handoff recover.\n",
};
