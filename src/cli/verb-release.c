/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff release and recover: give back what the journal says was taken. */
#include <errno.h>
#include <string.h>

#include "cli/handoff.h"

int verb_release(struct cli *cli, int argc, char **argv)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        struct handoff_session s;
        int r;

        r = session_begin(cli, "release", &s);
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
        struct handoff_session s;
        int r;

        r = session_begin(cli, "recover", &s);
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
