/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/handoff.h"
#include "cli/json.h"
#include "handoff/transition.h"

int session_begin(struct cli *cli, const char *what, const struct config *c, struct handoff_session *s)
{
        struct process_id holder = {0};
        char holder_what[64] = "";
        int r;

        *s = (struct handoff_session){0};
        r = process_id_self(cli->sr, &s->self, NULL, 0);
        if (r < 0)
                return cli_error("cannot read this process's identity below %s/proc: %s", cli->root, strerror(-r));
        r = handoff_lock_take(cli->sr, NULL, c->lock_usec, what, &s->lock, &holder, holder_what,
                              sizeof(holder_what));
        if (r == -EBUSY && holder.pid == 0) {
                /* Only a write child of an earlier run holds it: blocked in the kernel. */
                cli_error("an earlier gpu-handoff's write to the kernel has not returned yet: a VM or another "
                          "process still holds the GPU. Stop it, then run gpu-handoff recover");
                return EXIT_NEEDS_RECOVER;
        }
        if (r == -EBUSY)
                return cli_error("another gpu-handoff (pid %d, %s) is still running; try again when it is done",
                                 (int)holder.pid, holder_what[0] ? holder_what : "unknown verb");
        if (r < 0)
                return cli_error("cannot take the lock %s/run/gpu-handoff/lock: %s", cli->root, strerror(-r));
        s->kernel = (struct kernel){.ops = &kernel_ops_real, .sr = cli->sr, .write_timeout_usec = c->write_usec};
        s->kernel.userdata = &s->kernel;
        s->ctx = (struct handoff_ctx){.sr = cli->sr, .kernel = &s->kernel, .settle_usec = c->settle_usec,
                                      .hugepages_usec = c->hugepages_usec};
        s->command = strdup(what);
        if (!s->command)
                return cli_error("out of memory");
        /* units seam: the system bus is this machine's, so only for the real root; without it
         * (no D-Bus) ctx.units stays NULL and a unit step the plan did not skip says so. */
        if (strcmp(cli->sr->path, "/") == 0 && units_open_system(&s->ctx.units) < 0)
                s->ctx.units = NULL;
        if (s->ctx.units) {
                s->ctx.units->job_timeout_usec = c->unit_job_usec;
                s->ctx.units->session_timeout_usec = c->sessions_usec;
        }
        return EXIT_OK;
}

void session_end(struct handoff_session *s)
{
        handoff_lock_release(s->lock);
        units_free(s->ctx.units); /* units seam */
        free(s->command);
        *s = (struct handoff_session){0};
}

void print_timeline(FILE *f, const char *verb, const struct engine_run *run)
{
        uint64_t total = 0;

        /* In the order the steps ran: release and recover go from the last step back. */
        bool backwards = strcmp(verb, "attach") != 0;

        for (size_t k = 0; k < run->n_steps; k++) {
                size_t i = backwards ? run->n_steps - 1 - k : k;
                const struct step *s = &run->steps[i];
                const struct step_outcome *o = &run->outcomes[i];
                _cleanup_free_ char *raw = step_describe(s), *text = raw ? quote_dup(raw, SIZE_MAX) : NULL;

                if (o->state == OUTCOME_PENDING)
                        continue;
                total += o->usec;
                if (o->state == OUTCOME_SKIPPED)
                        fprintf(f, "  %2zu  %-13s %8s  %s (%s)\n", i + 1, "skipped", "", text ? text : "?", s->skip);
                else
                        fprintf(f, "  %2zu  %-13s %5llu ms  %s\n", i + 1, outcome_to_string(o->state),
                                (unsigned long long)(o->usec / 1000), text ? text : "?");
                if (o->message && o->state != OUTCOME_DONE && o->state != OUTCOME_REVERTED)
                        fprintf(f, "  %2s  %-13s %8s  %s\n", "", "", "", o->message);
        }
        fprintf(f, "  total %llu ms\n", (unsigned long long)(total / 1000));
}

static void print_human(const char *verb, const struct engine_run *run, int error)
{
        size_t reverted = 0;

        print_timeline(stdout, verb, run);
        if (!error)
                return;
        for (size_t i = 0; i < run->n_steps; i++)
                reverted += run->outcomes[i].state == OUTCOME_REVERTED;
        fprintf(stderr, "gpu-handoff: %s failed at step %ld: %s\n", verb, run->failed + 1,
                run->failed >= 0 && run->outcomes[run->failed].message ? run->outcomes[run->failed].message
                                                                        : strerror(-error));
        if (run->host_intact)
                fprintf(stderr, "gpu-handoff: restored what was done (%zu step%s); the host is as before.\n", reverted,
                        reverted == 1 ? "" : "s");
        else
                fprintf(stderr, "gpu-handoff: the host could not be fully restored; fix the cause above, then run "
                                "\"gpu-handoff recover\".\n");
}

static int print_json(const char *verb, const struct engine_run *run, int error)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *steps = json_object_new_array();

        if (!doc || !steps) {
                json_object_put(steps);
                return -ENOMEM;
        }
        json_object_object_add(doc, "verb", json_object_new_string(verb));
        json_object_object_add(doc, "ok", json_object_new_boolean(!error));
        json_object_object_add(doc, "failed_step", run->failed >= 0 ? json_object_new_int((int)run->failed + 1) : NULL);
        json_object_object_add(doc, "host_intact", json_object_new_boolean(run->host_intact));
        json_object_object_add(doc, "steps", steps);
        for (size_t i = 0; i < run->n_steps; i++) {
                const struct step *s = &run->steps[i];
                const struct step_outcome *o = &run->outcomes[i];
                json_object *e = json_object_new_object(), *args = json_object_new_array();
                if (!e || !args) {
                        json_object_put(e);
                        json_object_put(args);
                        return -ENOMEM;
                }
                for (size_t a = 0; a < s->n_args; a++)
                        json_object_array_add(args, json_object_new_string(s->args[a]));
                json_object_object_add(e, "index", json_object_new_int((int)i + 1));
                json_object_object_add(e, "kind", json_object_new_string(step_kind_to_string(s->kind)));
                json_object_object_add(e, "args", args);
                json_object_object_add(e, "state", json_object_new_string(outcome_to_string(o->state)));
                char ms[32];
                snprintf(ms, sizeof(ms), "%.3f", (double)o->usec / 1000.0);
                json_object_object_add(e, "ms", json_object_new_double_s((double)o->usec / 1000.0, ms));
                json_object_object_add(e, "message", json_string_or_null(o->message));
                json_object_array_add(steps, e);
        }
        return json_print(doc);
}

int print_run(const struct cli *cli, const char *verb, const struct engine_run *run, int error)
{
        if (cli->json)
                return print_json(verb, run, error);
        print_human(verb, run, error);
        return 0;
}

int revert_journal(struct cli *cli, struct handoff_session *s, const char *phase, bool report)
{
        _cleanup_free_ char *error = NULL;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n_steps = 0;
        int r, status;

        r = transition_undo(&s->ctx, &s->self, s->command, phase, &run, &steps, &n_steps, &error);
        if (run && report)
                print_run(cli, phase, run, r);
        else if (run && r < 0 && run->failed >= 0 && run->outcomes[run->failed].message)
                cli_error("%s: %s", phase, run->outcomes[run->failed].message);
        if (r == -ENOMEM)
                status = cli_error("out of memory");
        else if (r < 0 && !run) {
                cli_error("%s: %s", phase, error ? error : strerror(-r));
                cli_error("check the host (gpu-handoff list), then run \"gpu-handoff recover --discard\" to drop "
                          "the journal");
                status = EXIT_NEEDS_RECOVER;
        } else if (r < 0)
                status = EXIT_NEEDS_RECOVER;
        else {
                if (!report)
                        fprintf(stderr, "gpu-handoff: %s: undid what an interrupted hand-over left behind.\n", phase);
                else if (!cli->json)
                        printf("%s: the GPU is back with the host.\n", phase);
                status = EXIT_OK;
        }
        engine_run_free(run); /* before the steps it borrows */
        steps_free(steps, n_steps);
        return status;
}

/* The journal as it stands, for deciding what to do; reports a damaged one. */
int journal_check(struct cli *cli, struct journal_state **ret)
{
        _cleanup_free_ char *error = NULL;
        int r = journal_load(cli->sr, ret, &error);

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                cli_error("%s", error ? error : strerror(-r));
                cli_error("the journal cannot be trusted: check the host (gpu-handoff list), then run \"gpu-handoff "
                          "recover --discard\" to drop it");
                return EXIT_NEEDS_RECOVER;
        }
        return 1;
}

