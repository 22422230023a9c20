/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff release and recover: give back what the journal says was taken. */
#include <errno.h>
#include <string.h>

#include "cli/handoff.h"

/* release --dry-run: the steps the journal says are applied, in the order release undoes them. */
static int print_pending(struct cli *cli)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ size_t *pending = NULL;
        struct step *steps = NULL;
        size_t n_steps = 0, n_pending = 0;
        int r = journal_check(cli, &st);

        if (r == 0) {
                printf("Nothing is lent: there is nothing to release.\n");
                return EXIT_OK;
        }
        if (r != 1)
                return r;
        if (steps_from_journal(st, &steps, &n_steps) < 0 ||
            journal_state_pending_reverts(st, &pending, &n_pending) < 0) {
                steps_free(steps, n_steps);
                return cli_error("the journal names a step this version does not know");
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

int verb_release(struct cli *cli, int argc, char **argv)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        struct handoff_session s;
        int r;

        if (cli->dry_run)
                return print_pending(cli);
        if (cli_load_config(cli, &c) != EXIT_OK)
                return EXIT_ERROR;
        r = session_begin(cli, "release", c, &s);
        if (r != EXIT_OK)
                return r;
        r = journal_check(cli, &st);
        if (r == 0) {
                printf("Nothing is lent: there is nothing to release.\n");
                r = EXIT_OK;
        } else if (r == 1)
                r = revert_journal(cli, &s, "release", true);
        session_end(&s);
        return r;
}

int verb_recover(struct cli *cli, int argc, char **argv)
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
        r = session_begin(cli, "recover", c, &s);
        if (r != EXIT_OK)
                return r;
        if (cli->discard) {
                r = journal_remove(cli->sr);
                if (r < 0 && r != -ENOENT)
                        r = cli_error("cannot remove the journal: %s", strerror(-r));
                else {
                        printf(r == -ENOENT ? "There is no journal to discard.\n"
                                            : "Journal discarded: the host stays as it is now.\n");
                        r = EXIT_OK;
                }
                session_end(&s);
                return r;
        }
        r = journal_check(cli, &st);
        if (r == 0) {
                printf("Nothing to recover: no hand-over was interrupted.\n");
                r = EXIT_OK;
        } else if (r == 1 && journal_state_outcome(st) == JOURNAL_OUTCOME_ATTACHED) {
                printf("Nothing to recover: the GPU is lent (gpu-handoff status); gpu-handoff release gives it back.\n");
                r = EXIT_OK;
        } else if (r == 1)
                r = revert_journal(cli, &s, "recover", true);
        session_end(&s);
        return r;
}
