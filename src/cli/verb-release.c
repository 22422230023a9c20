/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff release and recover: give back what the journal says was taken. */
#include <errno.h>
#include <string.h>

#include "cli/session.h"
#include "cli/json.h"
#include "cli/verbs.h"

static bool arg_dry_run; /* release --dry-run */
static bool arg_discard; /* recover --discard */

#define NOTHING_LENT "Nothing is lent: there is nothing to release."

/* A journal that holds no phase (a crash while attach created it) records nothing done. */
static bool journal_empty(const struct journal_state *st)
{
        return st->n_phases == 0;
}

static int print_pending_json(const struct step *steps, const size_t *pending, size_t n_pending)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *list = json_object_new_array();

        if (!doc || !list) {
                json_object_put(list);
                return -ENOMEM;
        }
        json_object_object_add(doc, "verb", json_object_new_string("release"));
        json_object_object_add(doc, "dry_run", json_object_new_boolean(true));
        json_object_object_add(doc, "nothing_to_do", n_pending ? NULL : json_object_new_string(NOTHING_LENT));
        json_object_object_add(doc, "steps", list);
        for (size_t k = 0; k < n_pending; k++) {
                json_object *o = json_plan_step(&steps[pending[k]], pending[k] + 1);
                if (!o)
                        return -ENOMEM;
                json_object_array_add(list, o);
        }
        return json_print(doc);
}

/* release --dry-run: the steps the journal says are applied, in the order release undoes them. */
static int print_pending(struct cli *cli)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ size_t *pending = NULL;
        struct step *steps = NULL;
        size_t n_steps = 0, n_pending = 0;
        int r = journal_check(cli, &st);

        if (r == 0 || (r == 1 && journal_empty(st)))
                return cli->json ? (print_pending_json(NULL, NULL, 0) < 0 ? EXIT_ERROR : EXIT_OK)
                                 : print_nothing_to_do(cli, "release", NOTHING_LENT);
        if (r != 1)
                return r;
        if (steps_from_journal(&handoff_domain, st, &steps, &n_steps) < 0 ||
            journal_state_pending_reverts(st, &pending, &n_pending) < 0) {
                steps_free(steps, n_steps);
                return cli_error("the journal names a step this version does not know");
        }
        if (cli->json) {
                r = print_pending_json(steps, pending, n_pending) < 0 ? EXIT_ERROR : EXIT_OK;
                steps_free(steps, n_steps);
                return r;
        }
        printf("Release would undo, in this order:\n");
        for (size_t k = 0; k < n_pending; k++) {
                _cleanup_free_ char *text = step_describe(&steps[pending[k]]);
                printf("  %2zu  %-18s undo: %s\n", pending[k] + 1, step_kind_to_string(steps[pending[k]].kind),
                       text ? text : "?");
        }
        printf("\nDry run: nothing was changed.\n");
        steps_free(steps, n_steps);
        return EXIT_OK;
}

static int verb_release(struct cli *cli, int argc, char **argv)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        struct handoff_session s;
        int r;

        if (arg_dry_run)
                return print_pending(cli);
        if (cli_load_config(cli, &c) != EXIT_OK)
                return EXIT_ERROR;
        if ((r = session_detach()) >= 0)
                return r;
        r = session_begin(cli, "release", c, &s);
        if (r != EXIT_OK)
                return r;
        r = journal_check(cli, &st);
        if (r == 1 && journal_empty(st))
                (void)journal_remove(&handoff_journal, cli->sr);
        if (r == 0 || (r == 1 && journal_empty(st)))
                r = print_nothing_to_do(cli, "release", NOTHING_LENT);
        else if (r == 1 && (r = give_back_after_hook(&s, st, "release")) == EXIT_OK)
                r = revert_journal(cli, &s, "release", true);
        session_end(&s);
        return r;
}

static int discard(struct cli *cli)
{
        char path[PATH_MAX];
        int r = journal_remove(&handoff_journal, cli->sr);

        snprintf(path, sizeof(path), "%s/" HANDOFF_JOURNAL_PATH, strcmp(cli->root, "/") == 0 ? "" : cli->root);
        if (r == -EISDIR || r == -ENOTEMPTY)
                return cli_error("%s is a directory, not a journal this tool wrote: look at what is in it, move it "
                                 "away (mv %s %s.bad), then run the command again",
                                 path, path, path);
        if (r < 0 && r != -ENOENT)
                return cli_error("cannot remove the journal %s: %s", path, strerror(-r));
        return print_nothing_to_do(cli, "recover",
                                   r == -ENOENT ? "There is no journal to discard."
                                                : "Journal discarded: the host stays as it is now.");
}

static int verb_recover(struct cli *cli, int argc, char **argv)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        struct handoff_session s;
        int r;

        /* A configuration that cannot be read must not keep a host from being recovered. */
        if (cli_load_config(cli, &c) != EXIT_OK) {
                if (config_new_default(&c) < 0)
                        return cli_error("out of memory");
                cli_warning("recovering with the default settings");
        }
        if ((r = session_detach()) >= 0)
                return r;
        r = session_begin(cli, "recover", c, &s);
        if (r != EXIT_OK)
                return r;
        if (arg_discard) {
                r = discard(cli);
                session_end(&s);
                return r;
        }
        r = journal_check(cli, &st);
        if (r == 1 && journal_empty(st))
                (void)journal_remove(&handoff_journal, cli->sr); /* nothing was done under it */
        if (r == 0 || (r == 1 && journal_empty(st)))
                r = print_nothing_to_do(cli, "recover", "Nothing to recover: no hand-over was interrupted.");
        else if (r == 1 && journal_state_outcome(st) == JOURNAL_OUTCOME_APPLIED)
                r = print_nothing_to_do(cli, "recover",
                                        "Nothing to recover: the GPU is lent (gpu-handoff status); gpu-handoff release "
                                        "gives it back.");
        else if (r == 1 && (r = give_back_after_hook(&s, st, "recover")) == EXIT_OK)
                r = revert_journal(cli, &s, "recover", true);
        /* Host setup shares the lock: a setup killed while editing boot files is settled here too. */
        if (r == EXIT_OK)
                r = setup_settle(cli);
        session_end(&s);
        return r;
}

const struct verb release_verb = {
        .name = "release",
        .args = "",
        .run = verb_release,
        .summary = "Give the lent GPU back to the host",
        .description =
                "Undoes, in reverse order, every step the last attach journaled: vfio-pci lets go, the\n"
                "host's drivers and modules come back, then the framebuffer, the consoles, the services\n"
                "and the display manager. Nothing lent: says so and exits 0.\n",
        .options = (const struct verb_option[]){
                {"dry-run", .help = "print what would be undone, in order, and change nothing", .flag = &arg_dry_run},
                {"vm", "NAME", "take the deadlines from /etc/gpu-handoff/vm.d/NAME.conf too", .parse = cli_parse_vm},
                {},
        },
        .column = 17,
        .epilog = "Exit status: 0 done, 4 a step could not be undone (fix the cause, then recover).\n",
};

const struct verb recover_verb = {
        .name = "recover",
        .args = "",
        .run = verb_recover,
        .summary = "Undo what an interrupted attach or release left behind",
        .description =
                "Reverts every step the journal says may be applied (an attach is rolled back, a release\n"
                "is finished). A GPU that is properly lent is left alone: use release for that. An\n"
                "interrupted gpu-handoff setup (or setup undo) is undone too.\n",
        .options = (const struct verb_option[]){
                {"discard",
                 .help = "drop a damaged journal without touching the host (check the host\n"
                         "with gpu-handoff list first)",
                 .flag = &arg_discard},
                {"vm", "NAME", "take the deadlines from /etc/gpu-handoff/vm.d/NAME.conf too", .parse = cli_parse_vm},
                {},
        },
        .column = 17,
};
