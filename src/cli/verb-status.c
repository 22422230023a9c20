/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff status: what is lent, since when, by which transition, each step's state. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/session.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "change/journal.h"
#include "handoff/transition.h"
#include "handoff/unreset.h"

/* "2026-11-21 06:49:18" in local time; "?" when it cannot be formatted. */
static const char *format_time(uint64_t realtime_usec, char *buf, size_t size)
{
        time_t t = (time_t)(realtime_usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "?");
        return buf;
}

static const char *describe_outcome(const struct journal_state *st, bool owner_alive)
{
        switch (journal_state_outcome(st)) {
        case JOURNAL_OUTCOME_APPLIED:
                return "lent to vfio-pci";
        case JOURNAL_OUTCOME_ROLLED_BACK:
        case JOURNAL_OUTCOME_UNDONE:
                return "given back (the journal was not removed)";
        default:
                return owner_alive ? "a transition is running" : "interrupted: run gpu-handoff recover";
        }
}

/* --json "state": how the last phase ended, or "running" / "interrupted" when it did not. */
static const char *state_name(const struct journal_state *st, bool owner_alive)
{
        enum journal_outcome o = journal_state_outcome(st);

        if (o != JOURNAL_OUTCOME_NONE)
                return journal_outcome_to_string(&handoff_journal, o);
        return owner_alive ? "running" : "interrupted";
}

/* Cards that did not come back from a reset in this boot: they stay on vfio-pci until a reboot. */
static void print_unreset(const struct cli *cli)
{
        struct strv lines = {};

        (void)unreset_list(cli->sr, &lines);
        for (size_t i = 0; i < lines.n; i++) {
                char *problem = strstr(lines.v[i], ": "); /* "ADDRESS: PROBLEM" */
                _cleanup_free_ char *q = NULL;

                if (problem) {
                        *problem = 0;
                        problem += 2;
                }
                q = quote_dup(problem ? problem : "?", SIZE_MAX);
                printf("%s did not come back from its reset in this boot (%s): it stays on vfio-pci, and the host "
                       "needs a reboot for this card.\n",
                       lines.v[i], q ? q : "?");
        }
        strv_done(&lines);
}

static void add_unreset_json(const struct cli *cli, json_object *doc)
{
        struct strv lines = {};
        json_object *a = json_object_new_array();

        if (!a)
                return;
        (void)unreset_list(cli->sr, &lines);
        for (size_t i = 0; i < lines.n; i++)
                json_object_array_add(a, json_object_new_string(lines.v[i]));
        strv_done(&lines);
        json_object_object_add(doc, "unreset", a);
}

static int print_idle(struct cli *cli, const char *text)
{
        _cleanup_json_ json_object *doc = NULL;

        if (!cli->json) {
                printf("%s\n", text);
                print_unreset(cli);
                return EXIT_OK;
        }
        doc = json_new_document();
        if (!doc)
                return cli_error("out of memory");
        json_object_object_add(doc, "state", json_object_new_string("idle"));
        add_unreset_json(cli, doc);
        return json_print(doc) < 0 ? EXIT_ERROR : EXIT_OK;
}

static int verb_status(struct cli *cli, int argc, char **argv)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *error = NULL;
        const struct process_id *owner;
        bool alive;
        int r;

        r = journal_load(&handoff_journal, cli->sr, &st, &error);
        if (r == -ENOENT)
                return print_idle(cli, "Nothing is lent.");
        /* A journal without a phase (a crash while attach created it) records nothing done;
         * the next attach or recover removes it. */
        if (r >= 0 && st->n_phases == 0)
                return print_idle(cli, "Nothing is lent (an empty journal is left; the next attach or recover "
                                       "removes it).");
        if (r < 0) {
                /* What recover --discard cannot remove gets its fix named. */
                if (!((r == -ENOTDIR || r == -EPERM || r == -ELOOP || r == -EBADFD) &&
                      (journal_is_directory(cli) ? report_unusable(cli, HANDOFF_JOURNAL_PATH)
                                                 : report_unusable(cli, HANDOFF_RUN_DIR))))
                        cli_error("%s", error ? error : strerror(-r));
                return EXIT_NEEDS_RECOVER;
        }
        owner = journal_state_owner(st);
        alive = owner && process_id_alive(cli->sr, owner);
        if (cli->json) {
                _cleanup_json_ json_object *doc = json_new_document();
                json_object *phases = json_object_new_array(), *steps = json_object_new_array();
                if (!doc || !phases || !steps) {
                        json_object_put(phases);
                        json_object_put(steps);
                        return cli_error("out of memory");
                }
                json_object_object_add(doc, "state", json_object_new_string(state_name(st, alive)));
                json_object_object_add(doc, "needs_recovery",
                                       json_object_new_boolean(journal_state_needs_recovery(st, alive)));
                json_object_object_add(doc, "phases", phases);
                json_object_object_add(doc, "steps", steps);
                for (size_t i = 0; i < st->n_phases; i++) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "phase", json_object_new_string(st->phases[i].name));
                        json_object_object_add(o, "pid", json_object_new_int(st->phases[i].owner.pid));
                        json_object_object_add(o, "started_usec",
                                               json_object_new_int64((int64_t)st->phases[i].realtime_usec));
                        json_object_object_add(o, "devices", json_string_or_null(st->phases[i].devices));
                        json_object_object_add(o, "outcome",
                                               json_object_new_string(journal_outcome_to_string(&handoff_journal, st->phases[i].outcome)));
                        json_object_array_add(phases, o);
                }
                for (size_t i = 0; i < st->n_steps; i++) {
                        json_object *o = json_object_new_object(), *args = json_object_new_array();
                        for (size_t a = 0; a < st->steps[i].n_args; a++)
                                json_object_array_add(args, json_object_new_string(st->steps[i].args[a]));
                        json_object_object_add(o, "index", json_object_new_int((int)i + 1));
                        json_object_object_add(o, "kind", json_object_new_string(st->steps[i].kind));
                        json_object_object_add(o, "args", args);
                        json_object_object_add(o, "state",
                                               json_object_new_string(journal_step_state_to_string(st->steps[i].state)));
                        json_object_array_add(steps, o);
                }
                add_unreset_json(cli, doc);
                if (json_print(doc) < 0)
                        return EXIT_ERROR;
                return journal_state_needs_recovery(st, alive) ? EXIT_NEEDS_RECOVER : EXIT_OK;
        }
        printf("State: %s\n", describe_outcome(st, alive));
        for (size_t i = 0; i < st->n_phases; i++) {
                char when[32];
                printf("  %-8s since %s, pid %d%s, devices %s: %s\n", st->phases[i].name,
                       format_time(st->phases[i].realtime_usec, when, sizeof(when)), (int)st->phases[i].owner.pid,
                       i + 1 == st->n_phases && alive ? " (running)" : "",
                       st->phases[i].devices ? st->phases[i].devices : "-",
                       journal_outcome_to_string(&handoff_journal, st->phases[i].outcome));
        }
        for (size_t i = 0; i < st->n_steps; i++) {
                printf("  %2zu  %-10s %s", i + 1, journal_step_state_to_string(st->steps[i].state), st->steps[i].kind);
                for (size_t a = 0; a < st->steps[i].n_args; a++) {
                        _cleanup_free_ char *q = quote_dup(st->steps[i].args[a], SIZE_MAX); /* driver names */
                        printf(" %s", q ? q : "?");
                }
                printf("\n");
        }
        print_unreset(cli);
        return journal_state_needs_recovery(st, alive) ? EXIT_NEEDS_RECOVER : EXIT_OK;
}

const struct verb status_verb = {
        .name = "status",
        .args = "",
        .run = verb_status,
        .summary = "Show what is lent, by which transition, and each step's state",
        .description = "Reads the journal in /run/gpu-handoff. Exit status 0, or 4 when an interrupted\n"
                       "hand-over needs gpu-handoff recover.\n",
};
