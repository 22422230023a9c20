/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The engine runs steps (step.h) of one domain: each one is journaled before it is applied and
 * marked done after; a failure reverts every done step in reverse order, so the machine ends as
 * it began. Undoing (release, recover, uninstall) reverts what a journal says was applied. The
 * engine never prints: it returns what happened to each step, with times, for the verb to
 * report. It knows no step kind: the domain's table (struct change_domain) names them and runs
 * them, in the caller's context (struct change_ctx). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "change/journal.h"
#include "change/step.h"

enum outcome {
        OUTCOME_PENDING,       /* not reached */
        OUTCOME_SKIPPED,       /* nothing to do on this host (plan said why) */
        OUTCOME_DONE,
        OUTCOME_FAILED,        /* apply failed: the reason is in message */
        OUTCOME_REVERTED,      /* applied, then put back */
        OUTCOME_REVERT_FAILED, /* could not be put back: the host needs recover */
};

struct step_outcome {
        enum outcome state;
        int error;
        uint64_t usec; /* apply, or revert for reverted steps */
        char *message;
};

struct engine_run {
        const struct step *steps; /* borrowed */
        size_t n_steps;
        struct step_outcome *outcomes;
        long failed;      /* index of the step that failed, -1 when none */
        bool host_intact; /* after a failure: everything done was put back */
        int interrupted;  /* SIGINT or SIGTERM that stopped apply between two steps; 0 */
        /* The first record that could not be written (-errno; 0 when all were): a full /run, the
         * journal's size limit. Reverts run all the same (they are idempotent), so the journal
         * may say more is applied than is; recover, once it can write, clears it. */
        int journal_error;
};

/* Applies the steps in order. 0 when all are done and the journal says APPLIED; otherwise
 * the failed step's -errno, after the rollback (run->host_intact says whether it put everything
 * back). -EIO-class journal errors stop the run before the change they would have announced. A
 * SIGINT or SIGTERM (interrupt.h) stops it after the step under way: -EINTR, with
 * run->interrupted, after the rollback. */
int engine_apply(const struct change_ctx *ctx, const struct change_domain *d, struct journal *j,
                 const struct step *steps, size_t n, struct engine_run **ret);

/* Reverts the steps at indices (journal order), last first: release, recover, uninstall. Stops
 * at the first revert that fails, because what comes after it (reloading a driver) could make
 * things worse; returns its -errno. Signals do not stop it: putting things back (giving the GPU
 * back) is what they want. */
int engine_revert(const struct change_ctx *ctx, const struct change_domain *d, struct journal *j,
                  const struct step *steps, size_t n, const size_t *indices, size_t n_indices,
                  struct engine_run **ret);

void engine_run_free(struct engine_run *run);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct engine_run *, engine_run_free)
const char *outcome_to_string(enum outcome o);

/* The steps a journal recorded (kind and arguments), in journal order, for release and recover.
 * -EBADMSG when a kind is unknown to this version (or to the domain d). */
int steps_from_journal(const struct change_domain *d, const struct journal_state *st, struct step **ret,
                       size_t *ret_n);
void steps_free(struct step *steps, size_t n);
