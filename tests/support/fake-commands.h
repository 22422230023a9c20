/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The commands seam for unit tests: runs nothing, records every argv, answers what it is told
 * (an output, a failure at the k-th call). Put &f->commands where a struct commands goes. A
 * watched run tells its watch the group FAKE_COMMANDS_PGID + the number of calls before it
 * (start time 1, boot "fa4e"), which no process has: stopping a group signals nothing and
 * records its number in stopped. */

#include <stddef.h>

#include "basic/strv.h"
#include "change/commands.h"

struct fake_commands {
        struct commands commands;
        struct strv calls;  /* each call's argv, joined by single spaces */
        struct strv stopped; /* each group command_stop_group() was asked to stop, its number */
        unsigned fail_at;   /* this call (1, 2, ...) fails; 0: none */
        int fail_error;     /* with this -errno (-EPROTO: "exit status 1") */
        char *output;       /* what every call prints */
};

#define FAKE_COMMANDS_PGID 900000

struct fake_commands *fake_commands_new(void);
void fake_commands_free(struct fake_commands *f);
/* Call k (counted from 1 since the fake was made) fails with error. */
void fake_commands_fail(struct fake_commands *f, unsigned k, int error);
void fake_commands_set_output(struct fake_commands *f, const char *output);
