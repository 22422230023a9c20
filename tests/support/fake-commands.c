/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recording commands seam (see fake-commands.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "fake-commands.h"

static int fake_run(void *userdata, const char *const *argv, const struct command_watch *watch,
                    uint64_t deadline_usec, char **ret_output, char **ret_error)
{
        struct fake_commands *f = userdata;
        char *joined = NULL;
        size_t len = 0;
        int r;

        /* A group no process has, told as the real seam tells it; nothing runs when it fails. */
        if (watch && watch->started) {
                struct command_group g = {.pgid = FAKE_COMMANDS_PGID + (pid_t)f->calls.n, .start_time = 1,
                                          .boot_id = "fa4e"};
                r = watch->started(watch->userdata, &g, ret_error);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; argv[i]; i++)
                len += strlen(argv[i]) + 1;
        joined = calloc(1, len + 1);
        if (!joined)
                return -ENOMEM;
        for (size_t i = 0; argv[i]; i++) {
                if (i)
                        strcat(joined, " ");
                strcat(joined, argv[i]);
        }
        r = strv_addf(&f->calls, "%s", joined);
        free(joined);
        if (r < 0)
                return r;
        if (f->fail_at == f->calls.n) {
                r = f->fail_error;
                if (r == -EPROTO)
                        error_setf(ret_error, r, "%s failed (exit status 1)", argv[0]);
                else
                        error_setf(ret_error, r, "cannot run %s: %s", argv[0], strerror(-r));
                if (r != -EPROTO)
                        return r;
        }
        if (ret_output && !(*ret_output = strdup(f->output ? f->output : "")))
                return -ENOMEM;
        return r;
}

static int fake_stop_group(void *userdata, const struct command_group *g, char **ret_error)
{
        struct fake_commands *f = userdata;

        return strv_addf(&f->stopped, "%d", (int)g->pgid);
}

static const struct commands_ops fake_ops = {.run = fake_run, .stop_group = fake_stop_group};

struct fake_commands *fake_commands_new(void)
{
        struct fake_commands *f = calloc(1, sizeof(*f));

        if (f)
                f->commands = (struct commands){.ops = &fake_ops, .userdata = f};
        return f;
}

void fake_commands_free(struct fake_commands *f)
{
        if (!f)
                return;
        strv_done(&f->calls);
        strv_done(&f->stopped);
        free(f->output);
        free(f);
}

void fake_commands_fail(struct fake_commands *f, unsigned k, int error)
{
        f->fail_at = k;
        f->fail_error = error;
}

void fake_commands_set_output(struct fake_commands *f, const char *output)
{
        free(f->output);
        f->output = output ? strdup(output) : NULL;
}
