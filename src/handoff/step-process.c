/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Heavy processes are stopped (SIGSTOP) while the guest runs: their memory stays where it is,
 * but they stop competing for CPU and memory bandwidth. A process is named by pid and start
 * time, so a pid that was reused meanwhile is never signalled. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/context.h"

static int process_of(const struct step *s, struct process_id *ret)
{
        char *end;
        long pid;
        unsigned long long start;

        if (s->n_args < 2)
                return -EINVAL;
        errno = 0;
        pid = strtol(s->args[0], &end, 10);
        if (errno || *end || pid <= 0 || pid > INT32_MAX)
                return -EINVAL;
        start = strtoull(s->args[1], &end, 10);
        if (errno || *end || !*s->args[1])
                return -EINVAL;
        *ret = (struct process_id){.pid = (pid_t)pid, .start_time = start};
        return 0;
}

/* A process that ended since the plan was made needs neither; SIGCONT to a running process does
 * nothing, so the revert is idempotent. */
static int send(const struct handoff_ctx *ctx, const struct step *s, int sig, const char *verb, char **message)
{
        struct process_id id;
        int r;

        if (process_of(s, &id) < 0)
                return step_fail(message, -EINVAL, "malformed stop-process step");
        r = kernel_signal_process(ctx->kernel, &id, sig);
        if (r < 0 && r != -ESRCH)
                return step_fail(message, r, "cannot %s pid %s (%s): %s", verb, s->args[0],
                                 s->n_args > 2 ? s->args[2] : "?", strerror(-r));
        return 0;
}

static int stop_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return send(ctx, s, SIGSTOP, "stop", message);
}

static int stop_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return send(ctx, s, SIGCONT, "continue", message);
}

const struct step_ops step_stop_process_ops = {stop_apply, stop_revert};
