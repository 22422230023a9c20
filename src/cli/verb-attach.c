/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff attach: lend a GPU, its companions and its IOMMU group to vfio-pci. */
#include <errno.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/handoff.h"
#include "handoff/transition.h"
#include "cli/json.h"
#include "handoff/plan.h"
#include "host/host.h"

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
        if (p->n_notes > 0) {
                printf("\nNotes:\n");
                for (size_t i = 0; i < p->n_notes; i++) {
                        _cleanup_free_ char *note = quote_dup(p->notes[i], SIZE_MAX); /* they name drivers */
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
        for (size_t i = 0; i < p->n_notes; i++)
                json_object_array_add(notes, json_object_new_string(p->notes[i]));
        return json_print(doc);
}

/* A journal left by an earlier run: refuse when a GPU is lent, finish what a crashed run left. */
static int settle_journal(struct cli *cli, struct handoff_session *s)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        const struct process_id *owner;
        int r = journal_check(cli, &st);

        if (r != 1)
                return r;
        if (st->n_phases == 0) /* an attach that stopped before its first record: nothing was done */
                return journal_remove(cli->sr) < 0 ? cli_error("cannot remove the old journal") : 0;
        switch (journal_state_outcome(st)) {
        case JOURNAL_OUTCOME_ATTACHED:
                cli_error("attach: %s is already lent (gpu-handoff status); release it first",
                          st->n_phases && st->phases[0].devices ? st->phases[0].devices : "a GPU");
                return EXIT_NOT_READY;
        case JOURNAL_OUTCOME_ROLLED_BACK:
        case JOURNAL_OUTCOME_RELEASED:
                return journal_remove(cli->sr) < 0 ? cli_error("cannot remove the old journal") : 0;
        default:
                owner = journal_state_owner(st);
                if (!cli->json)
                        printf("An interrupted hand-over (pid %d) left changes behind; undoing them first.\n",
                               owner ? (int)owner->pid : 0);
                r = revert_journal(cli, s, "recover", !cli->json);
                return r == EXIT_OK ? 0 : r;
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
        return run->host_intact && !sysroot_exists(cli->sr, JOURNAL_PATH) ? EXIT_ROLLED_BACK : EXIT_NEEDS_RECOVER;
}

/* The GPU's steps, then the room for the guest; *ret_n_gpu_steps says where the second part starts. */
static int make_plan(struct host *h, char *const *devices, size_t n_devices, const struct plan_options *opts,
                     const struct handoff_ctx *ctx, const struct config *c, const struct process_id *self,
                     struct plan **ret, size_t *ret_n_gpu_steps, char **ret_error)
{
        _cleanup_(plan_freep) struct plan *p = NULL;
        int r = plan_attach(h, devices, n_devices, opts, &p, ret_error);

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

int verb_attach(struct cli *cli, int argc, char **argv)
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
                .with_group = cli->with_group || c->with_group,
                .force = cli->force,
                .yes = cli->yes || c->single_gpu,
                .terminate = cli->terminate || c->holders == HOLDER_POLICY_TERMINATE,
        };
        if (argc == 0 && c->gpus)
                for (devices = c->gpus; devices[argc]; argc++)
                        ;
        if (cli->dry_run)
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
        else if ((r = make_plan(h, devices, (size_t)argc, &opts, cli->dry_run ? &dry : &s.ctx, c, &s.self, &p,
                                &n_gpu_steps, &error)) < 0) {
                cli_error("attach: %s", r == -ENOMEM ? "out of memory" : error ? error : strerror(-r));
                r = r == -EINVAL || r == -ENODEV || r == -ENOMEM ? EXIT_ERROR : EXIT_NOT_READY;
        } else if (cli->dry_run) {
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
